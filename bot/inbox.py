"""The durable inbox: deliveries are committed before they are acknowledged, then processed by a worker.

- `InboxWriter` stores deliveries. Requests that arrive together are committed together (one transaction per
  batch), and each request is answered only once its batch is committed.
- `Pipeline` processes stored deliveries: translate → run the handlers in order, each isolated → store their
  actions in the outbox, all in the delivery's transaction. A failing handler is retried with backoff (only the
  handlers that failed run again), then the delivery is marked failed with its error.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.config import Settings
from bot.context import HandlerContext
from bot.dispatch import ROUTERS, routes_for
from bot.outbox import store_actions
from bot.platforms.base import Received, WebhookPlatform
from bot.routing import Router
from bot.store.db import Database
from bot.store.tables import Delivery, HandlerRun

log = logging.getLogger("cobot.inbox")


@dataclass(frozen=True, slots=True)
class Incoming:
    platform: str
    received: Received
    status: str = "received"
    error: str | None = None


class InboxWriter:
    """Stores deliveries with group commit; `store` returns the new id, or None for a delivery already seen."""

    def __init__(self, db: Database, clock: Clock, executor: Executor) -> None:
        self._db = db
        self._clock = clock
        self._executor = executor
        self._pending: list[tuple[Incoming, asyncio.Future[int | None]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="inbox-writer")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def store(self, item: Incoming) -> int | None:
        future: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        self._wake.set()
        return await future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, []
            if not batch:
                continue
            try:
                ids = await loop.run_in_executor(self._executor, self.write, [item for item, _ in batch])
            except Exception as error:  # the database is unavailable: each request is answered 503
                log.exception("could not store %d deliveries", len(batch))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            for (_, future), new_id in zip(batch, ids, strict=True):
                if not future.done():
                    future.set_result(new_id)

    def write(self, items: list[Incoming]) -> list[int | None]:
        now = self._clock()
        with self._db.session() as session:
            return [self._insert(session, item, now) for item in items]

    def _insert(self, session: Session, item: Incoming, now: datetime) -> int | None:
        received = item.received
        statement = self._db.insert(Delivery).values(
            platform=item.platform, key=received.key, event=received.event, action=received.action,
            status=item.status, error=item.error, attempts=0, received_at=now,
            processed_at=now if item.status != "received" else None, headers=received.headers, body=received.body,
        ).on_conflict_do_nothing().returning(Delivery.id)
        return session.execute(statement).scalar_one_or_none()


@dataclass(frozen=True, slots=True)
class Outcome:
    processed: int
    actions: int


class Pipeline:
    """Processes stored deliveries through the handlers."""

    def __init__(self, db: Database, settings: Settings, clock: Clock,
                 platforms: Mapping[str, WebhookPlatform], routers: tuple[Router, ...] = ROUTERS) -> None:
        self._db = db
        self._settings = settings
        self._clock = clock
        self._platforms = platforms
        self._routers = routers

    def process_due(self, limit: int | None = None, budget_seconds: float = 0.05) -> Outcome:
        """Process the deliveries that are due, oldest first, for about `budget_seconds` in one transaction."""
        now = self._clock()
        started = time.monotonic()
        processed = actions = 0
        with self._db.session() as session:
            query = (select(Delivery).where(Delivery.status == "received",
                                            or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now))
                     .order_by(Delivery.id).limit(limit or self._settings.inbox.batch_size))
            if self._db.is_postgres:
                query = query.with_for_update(skip_locked=True)
            for delivery in session.execute(query).scalars():
                actions += self._process(session, delivery, now)
                processed += 1
                if time.monotonic() - started > budget_seconds:
                    break
        return Outcome(processed, actions)

    def replay(self, delivery_id: int) -> Delivery:
        """Run one delivery through every handler again (they are idempotent), whatever its status was."""
        now = self._clock()
        with self._db.session() as session:
            delivery = session.get(Delivery, delivery_id)
            if delivery is None:
                raise LookupError(f"no delivery with id {delivery_id}")
            session.execute(delete(HandlerRun).where(HandlerRun.delivery_id == delivery_id))
            delivery.attempts, delivery.error, delivery.next_attempt_at = 0, None, None
            self._process(session, delivery, now)
            session.flush()
            return delivery

    def _process(self, session: Session, delivery: Delivery, now: datetime) -> int:
        try:
            with session.begin_nested():
                return self._run_handlers(session, delivery, now)
        except Exception as error:  # a store error outside any one handler: retry the whole delivery
            log.exception("delivery %s (%s %s) could not be processed", delivery.id, delivery.platform,
                          delivery.key)
            self._failed_attempt(delivery, now, [f"{type(error).__name__}: {error}"])
            return 0

    def _run_handlers(self, session: Session, delivery: Delivery, now: datetime) -> int:
        platform = self._platforms.get(delivery.platform)
        try:
            if platform is None:
                raise ValueError(f"unknown platform {delivery.platform!r}")
            payload = json.loads(delivery.body)
            events = platform.translate(delivery.event, payload, delivery.received_at)
        except Exception as error:  # the payload itself is broken: retrying cannot help
            log.warning("delivery %s: cannot translate %s: %r", delivery.id, delivery.event, error)
            self._finish(delivery, now, "failed", f"cannot read the payload: {type(error).__name__}: {error}")
            return 0
        if not events:
            what = delivery.event + (f"/{delivery.action}" if delivery.action else "")
            self._finish(delivery, now, "ignored", f"not tracked: {what}")
            return 0
        done = set(session.execute(select(HandlerRun.handler).where(HandlerRun.delivery_id == delivery.id)).scalars())
        errors: list[str] = []
        stored = 0
        for index, event in enumerate(events):
            ctx = HandlerContext(session=session, db=self._db, settings=self._settings, clock=self._clock,
                                 delivery_id=delivery.id)
            for route in routes_for(event, self._routers):
                run_name = f"{index}:{route.name}"
                if run_name in done:
                    continue
                try:
                    with session.begin_nested():
                        actions = list(route.fn(event, ctx) or ())
                        stored += store_actions(self._db, session, actions, delivery.id, now)
                        session.add(HandlerRun(delivery_id=delivery.id, handler=run_name))
                        session.flush()
                except Exception as error:
                    log.exception("handler %s failed on delivery %s (%s)", route.name, delivery.id, event.kind)
                    errors.append(f"{route.name}: {type(error).__name__}: {error}")
        if errors:
            self._failed_attempt(delivery, now, errors)
        else:
            self._finish(delivery, now, "processed", None)
        return stored

    def _finish(self, delivery: Delivery, now: datetime, status: str, error: str | None) -> None:
        delivery.status, delivery.error, delivery.processed_at, delivery.next_attempt_at = status, error, now, None

    def _failed_attempt(self, delivery: Delivery, now: datetime, errors: list[str]) -> None:
        inbox = self._settings.inbox
        delivery.attempts += 1
        delivery.error = "; ".join(errors)
        if delivery.attempts >= inbox.max_attempts:
            delivery.status, delivery.processed_at, delivery.next_attempt_at = "failed", now, None
            log.error("delivery %s failed after %d attempts: %s", delivery.id, delivery.attempts, delivery.error)
            return
        delay = min(inbox.retry_base_seconds * 2 ** (delivery.attempts - 1), inbox.retry_max_seconds)
        delivery.status, delivery.next_attempt_at = "received", now + timedelta(seconds=delay)


class Worker:
    """Keeps the pipeline running: processes what is due, sleeps until woken or until a retry is due."""

    def __init__(self, pipeline: Pipeline, executor: Executor, on_actions: Callable[[], None],
                 idle_seconds: float = 1.0) -> None:
        self._pipeline = pipeline
        self._executor = executor
        self._on_actions = on_actions
        self._idle = idle_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="inbox-worker")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self._wake.clear()
            try:
                outcome = await loop.run_in_executor(self._executor, self._pipeline.process_due)
            except Exception:
                log.exception("the inbox worker could not read the store; trying again")
                outcome = Outcome(0, 0)
            if outcome.actions:
                self._on_actions()
            if outcome.processed == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._idle)
