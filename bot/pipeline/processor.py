"""The pipeline that processes stored deliveries: translate → run the handlers in order, each isolated → store
their actions in the outbox, all in the delivery's transaction. A failing handler is retried with backoff (only the
handlers that failed run again), then the delivery is marked failed with its error. The deliveries are stored by
`bot.pipeline.inbox.InboxWriter`; `bot.pipeline.worker.Worker` keeps the pipeline running.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import Connection, Executable, bindparam, delete, or_, select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.config import Settings
from bot.events import Action, Event, event_identity
from bot.outbox.storing import store_actions
from bot.pipeline.dispatch import ROUTERS, routes_for
from bot.platforms import registry
from bot.platforms.actions import ForgeRoles
from bot.platforms.base import WebhookPlatform, load_json_object
from bot.routing.context import HandlerContext
from bot.routing.router import Router
from bot.store import event_claims
from bot.store.book import Book
from bot.store.db import Database
from bot.store.deferred import Deferred
from bot.store.tables import Delivery, HandlerRun

log = logging.getLogger("cobot.inbox")


class NotReplayable(LookupError):
    """A delivery that holds no payload (imported history records what it did, not what it received)."""


DELIVERY = Delivery.__table__  # type: ignore[attr-defined]
WORK_COLUMNS = ("id", "platform", "key", "event", "action", "body", "received_at", "attempts")
RESULT_COLUMNS = ("status", "error", "attempts", "processed_at", "next_attempt_at")


@dataclass(frozen=True)
class PipelineStatements:
    """The pipeline's statements, built for one SQL dialect."""

    due: Executable
    one: Executable
    save: Executable


@cache
def _sql(dialect: str) -> PipelineStatements:
    due = (select(*(DELIVERY.c[name] for name in WORK_COLUMNS))
           .where(DELIVERY.c.status == "received",
                  or_(DELIVERY.c.next_attempt_at.is_(None), DELIVERY.c.next_attempt_at <= bindparam("now")))
           .order_by(DELIVERY.c.id).limit(bindparam("limit")))
    if dialect == "postgresql":
        due = due.with_for_update(skip_locked=True)
    return PipelineStatements(
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


def _outcome(taken: list[Work]) -> Outcome:
    return Outcome(len(taken), sum(work.actions for work in taken))


class Pipeline:
    """Processes stored deliveries through the handlers."""

    def __init__(self, db: Database, settings: Settings, clock: Clock,
                 platforms: Mapping[str, WebhookPlatform], routers: tuple[Router, ...] = ROUTERS,
                 forge_roles: Mapping[str, ForgeRoles | None] | None = None) -> None:
        """`forge_roles`: how commands ask a forge for someone's permission (default: a reader per forge with a
        token, see `bot.platforms.registry.forge_roles`; `close()` releases them)."""
        self._db = db
        self._forge_roles = forge_roles if forge_roles is not None else registry.forge_roles(settings)
        self._settings = settings
        self._clock = clock
        self._platforms = platforms
        self._routers = routers

    def close(self) -> None:
        for reader in self._forge_roles.values():
            if reader is not None:
                reader.close()

    def process_due(self, limit: int | None = None, budget_seconds: float = 0.02,
                    make_way: Callable[[], None] = lambda: None) -> Outcome:
        """Process the deliveries that are due, oldest first, for about `budget_seconds` in one transaction.

        The usual case runs every handler of the batch straight through, under one savepoint; if a handler
        fails, the batch is rolled back to it and run again with each handler of each delivery in a savepoint
        of its own, so that one handler's failure costs nothing to the others.

        PostgreSQL: the deliveries are claimed (`FOR UPDATE SKIP LOCKED`) and their statuses saved in the same
        transaction as their effects. SQLite: the deliveries are in a file of their own (see
        `bot.store.db.inbox_url`); they are read first, and their statuses saved once the effects are committed,
        after `make_way()` (the inbox writer goes first). A crash in between runs them again, which the handlers
        and the outbox's idempotency keys make harmless.
        """
        now = self._clock()
        limit = limit or self._settings.inbox.batch_size
        sql = _sql(self._db.dialect)
        inbox = self._db.inbox
        if inbox is self._db:
            with self._db.session() as session:
                candidates = self._due(session.connection(), now, limit)
                taken = self._run_batch(session, candidates, now, budget_seconds)
                if taken:
                    session.connection().execute(sql.save, [work.result() for work in taken])
            return _outcome(taken)
        with inbox.reading() as connection:
            candidates = self._due(connection, now, limit)
        if not candidates:
            return Outcome(0, 0)
        with self._db.session() as session:
            taken = self._run_batch(session, candidates, now, budget_seconds)
        self._save_in_inbox(taken, make_way)
        return _outcome(taken)

    def _due(self, connection: Connection, now: datetime, limit: int) -> list[Work]:
        rows = connection.execute(_sql(self._db.dialect).due, {"now": now, "limit": limit})
        return [Work(**row) for row in rows.mappings().all()]

    def _run_batch(self, session: Session, candidates: list[Work], now: datetime, budget_seconds: float
                   ) -> list[Work]:
        connection = session.connection()
        taken: list[Work] = []
        later = Deferred(self._db.dialect)
        book = Book()
        started = time.monotonic()
        try:
            with session.begin_nested():
                for work in candidates:
                    taken.append(work)
                    self._process(session, work, now, later, book, isolate=False)
                    if time.monotonic() - started > budget_seconds:
                        break
                book.flush(connection)
                later.flush(connection)
        except Exception:
            log.warning("a handler failed in a batch of %d; running them again one by one", len(taken))
            later = Deferred(self._db.dialect)
            book.forget()
            for work in taken:
                work.reset()
                self._process(session, work, now, later, book, isolate=True)
            later.flush(connection)
        return taken

    def _save_in_inbox(self, taken: list[Work], make_way: Callable[[], None] = lambda: None) -> None:
        inbox = self._db.inbox
        save = _sql(inbox.dialect).save
        results = [work.result() for work in taken]

        def write() -> None:
            make_way()
            with inbox.engine.begin() as connection:
                connection.execute(save, results)

        inbox.retry_when_locked(write)

    def replay(self, delivery_id: int) -> Delivery:
        """Run one delivery through every handler again (they are idempotent), whatever its status was."""
        now = self._clock()
        sql = _sql(self._db.dialect)
        inbox = self._db.inbox
        with inbox.reading() as connection:
            row = connection.execute(sql.one, {"delivery_id": delivery_id}).mappings().one_or_none()
        if row is None:
            raise LookupError(f"no delivery with id {delivery_id}")
        if not row["body"]:
            raise NotReplayable(f"delivery {delivery_id} is imported history ({row['key']}): it keeps no payload to "
                                "replay; import it again instead")
        work = Work(**{**row, "attempts": 0})
        with self._db.session() as session:
            session.execute(delete(HandlerRun).where(HandlerRun.delivery_id == delivery_id))
            later = Deferred(self._db.dialect)
            self._process(session, work, now, later, Book(), isolate=True)
            later.flush(session.connection())
        self._save_in_inbox([work])
        with inbox.session() as session:
            delivery = session.get(Delivery, delivery_id)
            assert delivery is not None
            return delivery

    def _process(self, session: Session, delivery: Work, now: datetime, later: Deferred, book: Book,
                 isolate: bool) -> None:
        """The handlers on a delivery's events. `isolate`: each in a savepoint of its own, `book` written in it."""
        platform = self._platforms.get(delivery.platform)
        try:
            if platform is None:
                raise ValueError(f"unknown platform {delivery.platform!r}")
            payload = load_json_object(delivery.body)
            events = platform.translate(delivery.event, payload, delivery.received_at)
        except Exception as error:  # the payload itself is broken: retrying cannot help
            log.warning("delivery %s: cannot translate %s: %r", delivery.id, delivery.event, error)
            self._finish(delivery, now, "failed", f"cannot read the payload: {type(error).__name__}: {error}")
            self._announce_failure(later, delivery, now)
            return
        if not events:
            what = delivery.event + (f"/{delivery.action}" if delivery.action else "")
            self._finish(delivery, now, "ignored", f"not tracked: {what}")
            return
        mine = self._claim(session, delivery, events, now)
        if not mine:
            return
        done: set[str] = set()
        if delivery.attempts:
            done.update(session.execute(select(HandlerRun.handler).where(HandlerRun.delivery_id == delivery.id))
                        .scalars())
        completed: list[str] = []
        errors: list[str] = []
        for index, event in mine:
            ctx = HandlerContext(session=session, db=self._db, settings=self._settings, clock=self._clock,
                                 delivery_id=delivery.id, later=Deferred(self._db.dialect), threads=book,
                                 forge_roles=self._forge_roles)
            for route in routes_for(event, self._routers):
                run_name = f"{index}:{route.name}"
                if run_name in done:
                    continue
                try:
                    with session.begin_nested() if isolate else contextlib.nullcontext():
                        if isolate:  # the SAVEPOINT is emitted when the connection is asked for: before the handler
                            session.connection()  # writes through the one it keeps (ctx.conn)
                        actions = list(route.fn(event, ctx) or ())
                        delivery.actions += store_actions(ctx.later, actions, delivery.id, now, self._settings.notify,
                                                          self._settings.community.language)
                        if session.new or session.dirty:
                            session.flush()
                        if isolate:
                            book.flush(ctx.connection)
                except Exception as error:
                    if not isolate:
                        raise
                    log.exception("handler %s failed on delivery %s (%s)", route.name, delivery.id, event.kind)
                    errors.append(f"{route.name}: {type(error).__name__}: {error}")
                    book.forget()  # what it read or changed was rolled back with it
                    ctx.later = Deferred(self._db.dialect)  # and what it wrote is not written
                else:
                    completed.append(run_name)
                    later.extend(ctx.later)
                    ctx.later = Deferred(self._db.dialect)
        if errors:  # remember what succeeded, so that the retry runs only what failed
            session.add_all(HandlerRun(delivery_id=delivery.id, handler=name) for name in completed)
            self._failed_attempt(delivery, now, errors)
            if delivery.status == "failed":
                self._announce_failure(later, delivery, now)
        else:
            self._finish(delivery, now, "processed", None)

    def _claim(self, session: Session, delivery: Work, events: list[Event], now: datetime) -> list[tuple[int, Event]]:
        """The events this delivery takes, with their places in it: not those another delivery took before (the same
        event under another delivery id counts once and acts once), nor one this delivery carries twice. None: the
        delivery is finished as ignored, naming the deliveries that took them.

        PostgreSQL: a claim that another replica's batch holds waits for that batch. Two batches holding copies of
        each other's events in opposite orders deadlock: PostgreSQL ends one, which is run again isolated (see
        `_run_batch`) once the other's claims are committed or gone."""
        first: dict[str, int] = {}
        for index, event in enumerate(events):
            first.setdefault(event_identity(event), index)
        holders = event_claims.claim(session.connection(), delivery.id, sorted(first), now)
        mine = [(index, events[index]) for identity, index in first.items() if holders[identity] == delivery.id]
        if not mine:
            others = ", ".join(str(holder) for holder in sorted(set(holders.values())))
            log.info("delivery %s carries only events that delivery %s took already", delivery.id, others)
            self._finish(delivery, now, "ignored", f"the same events as delivery {others}")
        return sorted(mine, key=lambda found: found[0])

    def _announce_failure(self, later: Deferred, delivery: Work, now: datetime) -> None:
        """A notification (topic `failure`) for the channels routed for failures: this delivery failed for good."""
        what = f"{delivery.platform} {delivery.event}" + (f"/{delivery.action}" if delivery.action else "")
        values = {"source": "inbox", "id": delivery.id, "what": what, "error": (delivery.error or "")[:500]}
        notice = Action(kind="notify", key=f"failure:inbox:{delivery.id}:{delivery.attempts}", topic="failure",
                        template="failure_notice", values=tuple(values.items()), platform=delivery.platform)
        store_actions(later, [notice], delivery.id, now, self._settings.notify, self._settings.community.language)

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
