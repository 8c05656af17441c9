"""Builds the aiohttp application: routes, start-up, shut-down. Nothing happens at import time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

from aiohttp import web
from sqlalchemy import text

from bot.app.processing import Processing
from bot.app.worker_process import WorkerProcess
from bot.clock import Clock, system_clock
from bot.config import Settings
from bot.notifiers.registry import check_channel_urls
from bot.pipeline.inbox import InboxWriter
from bot.pipeline.processor import Pipeline
from bot.platforms.base import WebhookPlatform
from bot.platforms.registry import webhook_platforms
from bot.store.db import Database, inbox_url
from bot.store.writing import writing_flag
from bot.web.badges import badge_routes
from bot.web.dashboard.api import dashboard_routes
from bot.web.dashboard.pages import page_routes
from bot.web.digest import digest_routes
from bot.web.no_store import no_store
from bot.web.request_limits import request_limits
from bot.web.slack import slack_route
from bot.webhooks.body import BodyReader
from bot.webhooks.endpoint import webhook_endpoint

log = logging.getLogger("cobot")
MAX_REQUEST_BYTES = 64 * 1024  # any route but the webhooks' (which read their own bodies: server.max_body_bytes)


@dataclass
class Cobot:
    """Everything one running cobot holds; built by `create_app`, reachable as `app[COBOT]`."""

    settings: Settings
    clock: Clock
    db: Database
    platforms: dict[str, WebhookPlatform]
    pipeline: Pipeline
    writer: InboxWriter | None = None
    bodies: BodyReader | None = None  # the webhook bodies being read, within their shared budget
    worker: Processing | WorkerProcess | None = None  # the inbox worker and the outbox dispatcher
    executors: list[ThreadPoolExecutor] = field(default_factory=list)
    receivers: dict[str, Callable[[web.Request], Awaitable[web.Response]]] = field(default_factory=dict)
    disposables: list[Database] = field(default_factory=list)


COBOT = web.AppKey("cobot", Cobot)


def create_app(settings: Settings, clock: Clock = system_clock, *, run_workers: bool = True) -> web.Application:
    """A fresh application. `run_workers=False` stores deliveries but leaves them unprocessed (tests, CLI)."""
    db = Database(settings.database.url)
    platforms = webhook_platforms(settings)
    cobot = Cobot(settings=settings, clock=clock, db=db, platforms=platforms,
                  pipeline=Pipeline(db, settings, clock, platforms))
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    app[COBOT] = cobot
    app.middlewares.append(no_store)  # outermost: JSON answers and /api/, /login, /logout are never cached
    app.middlewares.append(request_limits(settings.server.body_timeout_seconds))  # bodies: read in time, plain

    async def start(app: web.Application) -> None:
        if settings.database.auto_migrate:
            await asyncio.to_thread(db.upgrade)
        writer_pool = ThreadPoolExecutor(1, thread_name_prefix="inbox-writer")
        cobot.executors.append(writer_pool)
        # Its own connection that never sleeps on SQLite's lock (it retries every half millisecond instead) and
        # leaves WAL checkpoints to the processing side, so that acknowledging never waits for one.
        writer_db = Database(inbox_url(settings.database.url), wait_for_lock=False, checkpoints=not run_workers)
        cobot.disposables.append(writer_db)
        nonce_lifetime = timedelta(seconds=settings.gitee.timestamp_tolerance_seconds
                                   + settings.gitee.future_skew_seconds)
        cobot.writer = InboxWriter(writer_db, clock, writer_pool, writing_flag(), nonce_lifetime)
        cobot.writer.start()
        server = settings.server
        cobot.bodies = BodyReader(budget_bytes=server.webhook_body_budget_bytes,
                                  per_client_bytes=server.body_bytes_per_client, max_bytes=server.max_body_bytes,
                                  seconds=server.body_timeout_seconds, idle_seconds=server.body_idle_seconds)
        cobot.receivers = {name: webhook_endpoint(platform, cobot.writer, clock, cobot.bodies, stored)
                           for name, platform in platforms.items()}
        if not run_workers:
            return
        await check_channel_urls(settings.notify)
        if settings.inbox.worker == "process":
            cobot.worker = WorkerProcess(settings.model_dump(), cobot.writer.writing)
        else:
            cobot.worker = Processing(settings, db, clock, cobot.writer.writing, cobot.pipeline)
        cobot.worker.start()
        if isinstance(cobot.worker, WorkerProcess):
            await cobot.worker.until_ready()

    async def stop(app: web.Application) -> None:
        for component in (cobot.worker, cobot.writer):
            if component is not None:
                await component.stop()
        for pool in cobot.executors:
            pool.shutdown(wait=True)
        cobot.pipeline.close()
        for database in (*cobot.disposables, db):
            database.dispose()

    def stored() -> None:
        if cobot.worker is not None:
            cobot.worker.wake()

    def endpoint(name: str) -> web.RouteDef:
        async def handle(request: web.Request) -> web.StreamResponse:
            return await cobot.receivers[name](request)
        return web.post(f"/webhooks/{name}", handle)

    async def healthz(request: web.Request) -> web.Response:
        try:
            await asyncio.to_thread(_ping_database, db)
        except Exception as error:
            return web.json_response({"status": "unhealthy", "database": type(error).__name__}, status=503)
        return web.json_response({"status": "ok"})

    slack = slack_route(settings, db, clock, app)  # its clean-up (answers on their way) before `stop`
    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    app.add_routes([endpoint("github"), endpoint("gitee"), web.get("/healthz", healthz), slack,
                    *digest_routes(settings, db, clock)])
    app.add_routes(badge_routes(settings, db))

    def wake_outbox() -> None:  # after a retry from the dashboard, to send it at once
        if isinstance(cobot.worker, Processing):
            cobot.worker.dispatcher.wake()

    app.add_routes(dashboard_routes(app, settings, db, clock, cobot.pipeline, wake_outbox))
    app.add_routes(page_routes(app, settings))
    return app


def _ping_database(db: Database) -> None:
    with db.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
