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
import multiprocessing
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Protocol

from sqlalchemy import Executable, bindparam, delete, or_, select
from sqlalchemy.orm import Session

from bot.background import BackgroundLoop
from bot.clock import Clock
from bot.config import Settings
from bot.context import HandlerContext
from bot.dispatch import ROUTERS, routes_for
from bot.outbox import store_actions
from bot.platforms.base import Received, WebhookPlatform
from bot.routing import Router
from bot.store.db import Database, dialect_insert
from bot.store.deferred import Deferred
from bot.store.tables import Delivery, HandlerRun

log = logging.getLogger("cobot.inbox")


@dataclass(frozen=True, slots=True)
class Incoming:
    platform: str
    received: Received
    status: str = "received"
    error: str | None = None


class WritingFlag(Protocol):
    """How many batches the inbox writer is storing now: shared memory when the worker is another process."""

    value: int


def writing_flag() -> WritingFlag:
    return multiprocessing.get_context("spawn").RawValue("i", 0)


def make_way(writing: WritingFlag, longest: float = 0.05) -> None:
    """Let the inbox writer have the database first (SQLite has one writer at a time)."""
    deadline = time.monotonic() + longest
    while writing.value > 0 and time.monotonic() < deadline:
        time.sleep(0.0005)


class InboxWriter:
    """Stores deliveries with group commit; `store` returns the new id, or None for a delivery already seen."""

    def __init__(self, db: Database, clock: Clock, executor: Executor, writing: WritingFlag | None = None) -> None:
        self._db = db
        self.writing = writing or writing_flag()
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
            self.writing.value += 1  # the worker makes way (see Pipeline.process_due)
            try:
                ids = await loop.run_in_executor(self._executor, self.write, [item for item, _ in batch])
            except Exception as error:  # the database is unavailable: each request is answered 503
                log.exception("could not store %d deliveries", len(batch))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            finally:
                self.writing.value -= 1
            for (_, future), new_id in zip(batch, ids, strict=True):
                if not future.done():
                    future.set_result(new_id)

    def write(self, items: list[Incoming]) -> list[int | None]:
        """Store a batch in one statement; each item's new id, or None when that delivery was seen before."""
        now = self._clock()
        rows, first_of_key = [], {}
        for index, item in enumerate(items):
            identity = (item.platform, item.received.key)
            if identity in first_of_key:
                continue  # the same delivery twice in one batch: the second is a duplicate
            first_of_key[identity] = index
            received = item.received
            rows.append({"platform": item.platform, "key": received.key, "event": received.event,
                         "action": received.action, "status": item.status, "error": item.error, "received_at": now,
                         "processed_at": now if item.status != "received" else None, "headers": received.headers,
                         "body": received.body})
        def insert() -> list[Any]:
            with self._db.session() as session:
                return list(session.connection().execute(_sql(self._db.dialect).insert, rows).all())
        stored = self._db.retry_when_locked(insert)
        ids: list[int | None] = [None] * len(items)
        for new_id, platform, key in stored:  # rows already stored are not returned: those are duplicates
            ids[first_of_key[(platform, key)]] = new_id
        return ids


DELIVERY = Delivery.__table__  # type: ignore[attr-defined]
WORK_COLUMNS = ("id", "platform", "key", "event", "action", "body", "received_at", "attempts")
RESULT_COLUMNS = ("status", "error", "attempts", "processed_at", "next_attempt_at")


@dataclass(frozen=True)
class DeliveryStatements:
    insert: Executable
    due: Executable
    one: Executable
    save: Executable


@cache
def _sql(dialect: str) -> DeliveryStatements:
    columns = ("platform", "key", "event", "action", "status", "error", "received_at", "processed_at", "headers",
               "body")
    due = (select(*(DELIVERY.c[name] for name in WORK_COLUMNS))
           .where(DELIVERY.c.status == "received",
                  or_(DELIVERY.c.next_attempt_at.is_(None), DELIVERY.c.next_attempt_at <= bindparam("now")))
           .order_by(DELIVERY.c.id).limit(bindparam("limit")))
    if dialect == "postgresql":
        due = due.with_for_update(skip_locked=True)
    return DeliveryStatements(
        insert=dialect_insert(dialect)(DELIVERY).values(**{c: bindparam(c) for c in columns}, attempts=0)
        .on_conflict_do_nothing().returning(DELIVERY.c.id, DELIVERY.c.platform, DELIVERY.c.key),
        due=due,
        one=select(*(DELIVERY.c[name] for name in WORK_COLUMNS)).where(DELIVERY.c.id == bindparam("delivery_id")),
        save=DELIVERY.update().where(DELIVERY.c.id == bindparam("delivery_id"))
        .values(**{c: bindparam(c) for c in RESULT_COLUMNS}),
    )


@dataclass(slots=True)
class Work:
    """A stored delivery being processed, and what became of it."""

    id: int
    platform: str
    key: str
    event: str
    action: str | None
    body: bytes
    received_at: datetime
    attempts: int
    status: str = "received"
    error: str | None = None
    processed_at: datetime | None = None
    next_attempt_at: datetime | None = None
    actions: int = 0

    def reset(self) -> None:
        """Forget what a rolled-back run decided."""
        self.status, self.error, self.processed_at, self.next_attempt_at, self.actions = (
            "received", None, None, None, 0)

    def result(self) -> dict[str, object]:
        return {"delivery_id": self.id, **{name: getattr(self, name) for name in RESULT_COLUMNS}}


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

    def process_due(self, limit: int | None = None, budget_seconds: float = 0.02,
                    make_way: Callable[[], bool] = lambda: False, least_seconds: float = 0.005) -> Outcome:
        """Process the deliveries that are due, oldest first, for about `budget_seconds` in one transaction.

        The usual case runs every handler of the batch straight through, under one savepoint; if a handler
        fails, the batch is rolled back to it and run again with each handler of each delivery in a savepoint
        of its own, so that one handler's failure costs nothing to the others. On SQLite there is one writer
        at a time: after `least_seconds` of work the batch ends as soon as `make_way()` says deliveries are
        waiting to be stored, so acknowledging a delivery never waits long for processing.
        """
        now = self._clock()
        sql = _sql(self._db.dialect)
        with self._db.session() as session:
            connection = session.connection()
            rows = connection.execute(sql.due, {"now": now, "limit": limit or self._settings.inbox.batch_size})
            candidates = [Work(**row) for row in rows.mappings().all()]
            taken: list[Work] = []
            later = Deferred(self._db.dialect)
            started = time.monotonic()
            try:
                with session.begin_nested():
                    for work in candidates:
                        taken.append(work)
                        self._process(session, work, now, later, isolate=False)
                        spent = time.monotonic() - started
                        if spent > budget_seconds or (spent > least_seconds and make_way()):
                            break
                    later.flush(connection)
            except Exception:
                log.warning("a handler failed in a batch of %d; running them again one by one", len(taken))
                later = Deferred(self._db.dialect)
                for work in taken:
                    work.reset()
                    self._process(session, work, now, later, isolate=True)
                later.flush(connection)
            if taken:
                connection.execute(sql.save, [work.result() for work in taken])
        return Outcome(len(taken), sum(work.actions for work in taken))

    def replay(self, delivery_id: int) -> Delivery:
        """Run one delivery through every handler again (they are idempotent), whatever its status was."""
        now = self._clock()
        sql = _sql(self._db.dialect)
        with self._db.session() as session:
            row = session.connection().execute(sql.one, {"delivery_id": delivery_id}).mappings().one_or_none()
            if row is None:
                raise LookupError(f"no delivery with id {delivery_id}")
            session.execute(delete(HandlerRun).where(HandlerRun.delivery_id == delivery_id))
            work = Work(**{**row, "attempts": 0})
            later = Deferred(self._db.dialect)
            self._process(session, work, now, later, isolate=True)
            later.flush(session.connection())
            session.connection().execute(sql.save, work.result())
            delivery = session.get(Delivery, delivery_id, populate_existing=True)
            assert delivery is not None
            return delivery

    def _process(self, session: Session, delivery: Work, now: datetime, later: Deferred, isolate: bool) -> None:
        platform = self._platforms.get(delivery.platform)
        try:
            if platform is None:
                raise ValueError(f"unknown platform {delivery.platform!r}")
            payload = json.loads(delivery.body)
            events = platform.translate(delivery.event, payload, delivery.received_at)
        except Exception as error:  # the payload itself is broken: retrying cannot help
            log.warning("delivery %s: cannot translate %s: %r", delivery.id, delivery.event, error)
            self._finish(delivery, now, "failed", f"cannot read the payload: {type(error).__name__}: {error}")
            return
        if not events:
            what = delivery.event + (f"/{delivery.action}" if delivery.action else "")
            self._finish(delivery, now, "ignored", f"not tracked: {what}")
            return
        done: set[str] = set()
        if delivery.attempts:
            done.update(session.execute(select(HandlerRun.handler).where(HandlerRun.delivery_id == delivery.id))
                        .scalars())
        completed: list[str] = []
        errors: list[str] = []
        for index, event in enumerate(events):
            ctx = HandlerContext(session=session, db=self._db, settings=self._settings, clock=self._clock,
                                 delivery_id=delivery.id, later=Deferred(self._db.dialect))
            for route in routes_for(event, self._routers):
                run_name = f"{index}:{route.name}"
                if run_name in done:
                    continue
                try:
                    with session.begin_nested() if isolate else contextlib.nullcontext():
                        actions = list(route.fn(event, ctx) or ())
                        delivery.actions += store_actions(ctx.later, actions, delivery.id, now)
                        if session.new or session.dirty:
                            session.flush()
                except Exception as error:
                    if not isolate:
                        raise
                    log.exception("handler %s failed on delivery %s (%s)", route.name, delivery.id, event.kind)
                    errors.append(f"{route.name}: {type(error).__name__}: {error}")
                    ctx.threads.clear()  # what it read was rolled back with it
                    ctx.later = Deferred(self._db.dialect)  # and what it wrote is not written
                else:
                    completed.append(run_name)
                    later.extend(ctx.later)
                    ctx.later = Deferred(self._db.dialect)
        if errors:  # remember what succeeded, so that the retry runs only what failed
            session.add_all(HandlerRun(delivery_id=delivery.id, handler=name) for name in completed)
            self._failed_attempt(delivery, now, errors)
        else:
            self._finish(delivery, now, "processed", None)

    def _finish(self, delivery: Work, now: datetime, status: str, error: str | None) -> None:
        delivery.status, delivery.error, delivery.processed_at, delivery.next_attempt_at = status, error, now, None

    def _failed_attempt(self, delivery: Work, now: datetime, errors: list[str]) -> None:
        inbox = self._settings.inbox
        delivery.attempts += 1
        delivery.error = "; ".join(errors)
        if delivery.attempts >= inbox.max_attempts:
            delivery.status, delivery.processed_at, delivery.next_attempt_at = "failed", now, None
            log.error("delivery %s failed after %d attempts: %s", delivery.id, delivery.attempts, delivery.error)
            return
        delay = min(inbox.retry_base_seconds * 2 ** (delivery.attempts - 1), inbox.retry_max_seconds)
        delivery.status, delivery.next_attempt_at = "received", now + timedelta(seconds=delay)


class Worker(BackgroundLoop):
    """Keeps the pipeline running: processes what is due, sleeps until woken or until a retry is due."""

    name = "inbox-worker"

    def __init__(self, pipeline: Pipeline, executor: Executor, on_actions: Callable[[], None],
                 writing: WritingFlag) -> None:
        super().__init__()
        self._pipeline = pipeline
        self._executor = executor
        self._on_actions = on_actions
        self._writing = writing

    def _process(self) -> Outcome:
        outcome = self._pipeline.process_due(make_way=lambda: self._writing.value > 0)
        make_way(self._writing)
        return outcome

    async def step(self) -> int:
        outcome = await asyncio.get_running_loop().run_in_executor(self._executor, self._process)
        if outcome.actions:
            self._on_actions()
        return outcome.processed
