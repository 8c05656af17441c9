"""Builds the aiohttp application: routes, start-up, shut-down. Nothing happens at import time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from aiohttp import web
from sqlalchemy import text

from bot.clock import Clock, system_clock
from bot.config import Settings
from bot.inbox import InboxWriter, Pipeline, Worker, writing_flag
from bot.outbox import Dispatcher, WriteRate
from bot.platforms.actions import ForgeClient
from bot.platforms.base import WebhookPlatform
from bot.platforms.gitee import GiteeWebhooks
from bot.platforms.github import GitHubWebhooks
from bot.store.db import Database
from bot.webhooks import webhook_endpoint
from bot.worker_process import WorkerProcess

log = logging.getLogger("cobot")


def webhook_platforms(settings: Settings) -> dict[str, WebhookPlatform]:
    return {
        "github": GitHubWebhooks(settings.github.webhook_secret),
        "gitee": GiteeWebhooks(settings.gitee.webhook_secret, settings.gitee.timestamp_tolerance_seconds),
    }


def forge_clients(settings: Settings) -> dict[str, ForgeClient | None]:
    """An API client per forge that has a token; None (dry run) for the others. Imported only when used."""
    timeout = settings.outbox.request_timeout_seconds
    clients: dict[str, ForgeClient | None] = {"github": None, "gitee": None}
    if settings.github.token:
        from bot.platforms.github_api import GitHubClient

        clients["github"] = GitHubClient(settings.github.token, settings.github.api_url, timeout)
    if settings.gitee.token:
        from bot.platforms.gitee_api import GiteeClient

        clients["gitee"] = GiteeClient(settings.gitee.token, settings.gitee.api_url, timeout)
    return clients


@dataclass
class Cobot:
    """Everything one running cobot holds; built by `create_app`, reachable as `app[COBOT]`."""

    settings: Settings
    clock: Clock
    db: Database
    platforms: dict[str, WebhookPlatform]
    pipeline: Pipeline
    clients: dict[str, ForgeClient | None] = field(default_factory=dict)
    writer: InboxWriter | None = None
    worker: Worker | WorkerProcess | None = None
    dispatcher: Dispatcher | None = None
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
    app = web.Application(client_max_size=settings.server.max_body_bytes + 1)
    app[COBOT] = cobot

    async def start(app: web.Application) -> None:
        if settings.database.auto_migrate:
            await asyncio.to_thread(db.upgrade)
        writer_pool = ThreadPoolExecutor(1, thread_name_prefix="inbox-writer")
        worker_pool = ThreadPoolExecutor(1, thread_name_prefix="inbox-worker")
        cobot.executors += [writer_pool, worker_pool]
        # Its own connection that never sleeps on SQLite's lock: it retries every half millisecond instead.
        writer_db = Database(settings.database.url, wait_for_lock=False)
        cobot.disposables.append(writer_db)
        cobot.writer = InboxWriter(writer_db, clock, writer_pool, writing_flag())
        cobot.writer.start()
        cobot.receivers = {name: webhook_endpoint(platform, cobot.writer, clock, settings.server.max_body_bytes,
                                                  stored)
                           for name, platform in platforms.items()}
        if not run_workers:
            return
        cobot.clients = forge_clients(settings)
        for name, client in cobot.clients.items():
            if client is None:
                log.warning("no %s token: outbox actions on %s are a dry run (logged, not performed)", name, name)
        rate = WriteRate({name: settings.forge(name).writes_per_second for name in cobot.clients})
        cobot.dispatcher = Dispatcher(db, settings.outbox, clock, cobot.clients, rate)
        if settings.inbox.worker == "process":
            cobot.worker = WorkerProcess(settings.model_dump(), cobot.dispatcher.wake, cobot.writer.writing)
        else:
            cobot.worker = Worker(cobot.pipeline, worker_pool, cobot.dispatcher.wake, cobot.writer.writing)
        cobot.worker.start()
        cobot.dispatcher.start()

    async def stop(app: web.Application) -> None:
        for component in (cobot.dispatcher, cobot.worker, cobot.writer):
            if component is not None:
                await component.stop()
        for client in cobot.clients.values():
            if client is not None:
                await client.close()
        for pool in cobot.executors:
            pool.shutdown(wait=True)
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

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    app.add_routes([endpoint("github"), endpoint("gitee"), web.get("/healthz", healthz)])
    return app


def _ping_database(db: Database) -> None:
    with db.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
