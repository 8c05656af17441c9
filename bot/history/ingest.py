"""Storing history: batches of items from a source of history, through the handlers, quietly, once.

An `Item` is one thing that happened as a source of history tells it (a GH Archive record, an issue or a comment
read from a forge's API): a key that names it for ever, and its Events. `Ingest.store` stores a batch of items as
the pipeline stores a batch of deliveries: every handler in order (`bot.pipeline.dispatch.ROUTERS`) in one transaction,
their blind writes (`Deferred`) gathered and run together at the end; but quiet (`HandlerContext.quiet`: repos,
contributors, threads and activity tracked, first-timers' milestones and badges recorded, nobody told), and
whatever a handler decides all the same is dropped: nothing reaches the outbox. If a handler fails, the batch runs
again item by item, each in a savepoint of its own; the items that fail are left out, counted, and tried again by
the next import that offers them (if every item fails, the store is at fault: the batch fails whole).

Once, however often the same history is offered:
- each item has a delivery in the inbox (its platform and key, status "processed", no body: `bot.history.ledger`),
  written before its batch and kept: the delivery's id is the item's `delivery_id` in the activity log, the same
  on every run;
- an item whose delivery has rows in the activity log was stored before: a duplicate, skipped;
- an event the activity log holds already from elsewhere (a webhook delivery, another source: the same platform,
  repo, kind, actor, number and time, from a delivery whose key does not start with this source's `prefix`, or
  from none) is skipped too: history that overlaps what webhooks stored is not counted twice.

A `Checkpoint` (`ImportState`: source, cursor, done) is written in the batch's transaction, so that an import that
was interrupted resumes after its last committed batch.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, bindparam, select
from sqlalchemy import event as orm_events
from sqlalchemy.orm import Session

from bot.clock import Clock, system_clock
from bot.config import Settings
from bot.events import Event
from bot.history.ledger import DeliveryLedger, Ledger, chunks
from bot.pipeline.dispatch import ROUTERS
from bot.routing.context import HandlerContext
from bot.routing.router import Route, Router
from bot.store.book import Book
from bot.store.community_tables import Activity
from bot.store.db import Database, dialect_insert
from bot.store.deferred import Deferred
from bot.store.tables import Delivery, ImportState
from handlers.tracking import activity_kind

log = logging.getLogger("cobot.history")

DELIVERY = Delivery.__table__  # type: ignore[attr-defined]
ACTIVITY = Activity.__table__  # type: ignore[attr-defined]
IMPORT_STATE = ImportState.__table__  # type: ignore[attr-defined]
MAX_ERRORS = 20  # the errors a tally keeps, to say what went wrong

NaturalKey = tuple[str, str, str, str | None, str | None, datetime]  # platform, repo, kind, actor, number, time


@dataclass(frozen=True, slots=True)
class Item:
    """One thing that happened, as a source of history tells it."""

    key: str  # unique on its platform for ever, starting with its source's prefix: "gharchive-2489582589"
    event: str  # what the source calls it (`IssuesEvent`, `issue`), kept with its delivery
    action: str | None
    events: tuple[Event, ...]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Where an import got to: written with the batch that got it there."""

    source: str  # e.g. gharchive:<sha256>, backfill:github:owner/repo:issues
    cursor: dict[str, Any]
    done: bool = False


@dataclass
class Tally:
    """What batches of items came to."""

    items: int = 0  # offered
    imported: int = 0  # stored now
    duplicates: int = 0  # stored before (or offered twice): skipped
    failed: int = 0  # a handler failed on them: left out, for the next import to try again
    events: int = 0  # events stored now
    overlapping: int = 0  # events the activity log held already from elsewhere: skipped
    kinds: Counter[str] = field(default_factory=Counter)  # events stored now, by activity kind
    silenced: int = 0  # actions the handlers decided all the same, dropped
    errors: list[str] = field(default_factory=list)  # the first failures: "key: handler: error"

    def add(self, other: Tally) -> None:
        for name in ("items", "imported", "duplicates", "failed", "events", "overlapping", "silenced"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.kinds.update(other.kinds)
        self.errors.extend(other.errors[:MAX_ERRORS - len(self.errors)])

    def as_dict(self) -> dict[str, Any]:
        return {"items": self.items, "imported": self.imported, "duplicates": self.duplicates,
                "failed": self.failed, "events": self.events, "overlapping": self.overlapping,
                "kinds": dict(sorted(self.kinds.items())), "silenced": self.silenced, "errors": list(self.errors)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tally:
        counts = {name: int(data.get(name, 0)) for name in ("items", "imported", "duplicates", "failed", "events",
                                                             "overlapping", "silenced")}
        return cls(**counts, kinds=Counter(data.get("kinds") or {}), errors=list(data.get("errors") or []))


@dataclass(slots=True)
class _Work:
    item: Item
    delivery_id: int
    events: list[Event]
    keys: list[NaturalKey]  # the events' own


class _Added:
    """Whether handlers added ORM objects to the session since it was flushed: told by the session as they do,
    rather than asked of it after each handler (`Session.new` makes a set)."""

    def __init__(self, session: Session) -> None:
        self.any = False
        orm_events.listen(session, "transient_to_pending", self._added)

    def _added(self, *_: object) -> None:
        self.any = True


class HandlerFailed(Exception):
    def __init__(self, route: str, error: Exception) -> None:
        super().__init__(f"{route}: {type(error).__name__}: {error}")


@cache
def _statements(dialect: str) -> dict[str, Any]:
    insert = dialect_insert(dialect)
    state = insert(IMPORT_STATE).values(source=bindparam("source"), cursor=bindparam("cursor"),
                                        done=bindparam("done"), updated_at=bindparam("updated_at"))
    return {
        "logged": select(ACTIVITY.c.delivery_id).distinct().where(
            ACTIVITY.c.delivery_id.in_(bindparam("ids", expanding=True))),
        "at_times": select(ACTIVITY.c.delivery_id, ACTIVITY.c.platform, ACTIVITY.c.repo, ACTIVITY.c.kind,
                           ACTIVITY.c.actor, ACTIVITY.c.number, ACTIVITY.c.occurred_at).where(
            ACTIVITY.c.occurred_at.in_(bindparam("times", expanding=True))),
        "save_state": state.on_conflict_do_update(index_elements=["source"], set_={
            "cursor": state.excluded.cursor, "done": state.excluded.done, "updated_at": state.excluded.updated_at}),
        "state": select(IMPORT_STATE.c.cursor, IMPORT_STATE.c.done).where(IMPORT_STATE.c.source == bindparam("source")),
    }


# Events a history source may credit to someone else than the webhook did (a forge's lists do not say who closed,
# merged or reopened): their actor is no part of what tells them apart.
ACTOR_UNCERTAIN = frozenset({"issue.closed", "issue.reopened", "pr.closed", "pr.merged", "pr.reopened"})


def natural_key(event: Event) -> NaturalKey:
    """What tells an event apart in the activity log whichever way it came."""
    kind = activity_kind(event)
    actor = None if kind in ACTOR_UNCERTAIN else event.actor.login
    return (event.platform, event.repo.full_name, kind, actor, event.thread.number if event.thread else None,
            event.occurred_at)


class Ingest:
    """Stores batches of one source's items (keys starting with `prefix`) on one platform."""

    def __init__(self, db: Database, settings: Settings, clock: Clock = system_clock, *, prefix: str,
                 platform: str = "github", routers: tuple[Router, ...] = ROUTERS) -> None:
        self._db = db
        self._settings = settings
        self._clock = clock
        self.prefix = prefix
        self.platform = platform
        self.ledger = DeliveryLedger(db.inbox, platform=platform, prefix=prefix, clock=clock)
        self._routers = routers
        self._routes: dict[str, list[Route]] = {}
        self._unfiltered: set[str] = set()  # kinds none of whose routes has a filter

    # -- checkpoints ---------------------------------------------------------------------------------------------

    def checkpoint(self, source: str) -> Checkpoint | None:
        """Where an import of `source` got to, if it began."""
        with self._db.reading() as conn:
            row = conn.execute(_statements(self._db.dialect)["state"], {"source": source}).first()
        return Checkpoint(source, dict(row.cursor), bool(row.done)) if row is not None else None

    def save(self, checkpoint: Checkpoint) -> None:
        """Write a checkpoint on its own (an import that stored nothing more, or is over)."""
        with self._db.session() as session:
            self._save(session.connection(), checkpoint)

    def _save(self, conn: Connection, checkpoint: Checkpoint) -> None:
        conn.execute(_statements(self._db.dialect)["save_state"], {
            "source": checkpoint.source, "cursor": checkpoint.cursor, "done": checkpoint.done,
            "updated_at": self._clock()})

    # -- storing -------------------------------------------------------------------------------------------------

    def store(self, items: Sequence[Item], checkpoint: Checkpoint | Callable[[Tally], Checkpoint] | None = None,
              before_commit: Callable[[], None] | None = None, ledger: Ledger | None = None) -> Tally:
        """Store a batch of items (and the checkpoint it reaches) in one transaction; what it came to.
        `checkpoint`: or a function of what the batch came to, that makes it (for counts kept in the cursor);
        `before_commit`: called in the transaction, its work done (a test's way to interrupt an import);
        `ledger`: the items' ledger, written already (by default it is written now: `self.ledger`)."""
        tally = Tally(items=len(items))
        if ledger is None:
            ledger = self.ledger.write([(item.key, item.event, item.action) for item in items])
        with self._db.session() as session:
            conn = session.connection()
            work = self._new(conn, items, ledger.ids, tally, ledger.all_new)
            self._run(session, work, tally)
            if checkpoint is not None:
                self._save(conn, checkpoint(tally) if callable(checkpoint) else checkpoint)
            if before_commit is not None:
                before_commit()
        return tally

    def _new(self, conn: Connection, items: Sequence[Item], ids: dict[str, int], tally: Tally, all_new: bool
             ) -> list[_Work]:
        """The items to store: neither stored before nor offered twice; each with its events not logged elsewhere."""
        sql = _statements(self._db.dialect)
        logged: set[int] = set()
        for part in chunks([] if all_new else sorted(set(ids.values()))):
            logged.update(conn.execute(sql["logged"], {"ids": list(part)}).scalars())
        work: list[_Work] = []
        seen: set[int] = set()
        for item in items:
            delivery_id = ids[item.key]
            if delivery_id in logged or delivery_id in seen:
                tally.duplicates += 1
                continue
            seen.add(delivery_id)
            work.append(_Work(item, delivery_id, list(item.events), [natural_key(event) for event in item.events]))
        elsewhere = self._logged_elsewhere(conn, {key for entry in work for key in entry.keys})
        if elsewhere:
            kept: list[_Work] = []
            for entry in work:
                fresh = [(event, key) for event, key in zip(entry.events, entry.keys, strict=True)
                         if key not in elsewhere]
                tally.overlapping += len(entry.events) - len(fresh)
                if fresh:
                    kept.append(replace(entry, events=[event for event, _ in fresh], keys=[key for _, key in fresh]))
                else:
                    tally.duplicates += 1
            work = kept
        return work

    def _logged_elsewhere(self, conn: Connection, wanted: set[NaturalKey]) -> set[NaturalKey]:
        """Which of these events the activity log holds already, from another source or a webhook."""
        if not wanted:
            return set()
        sql = _statements(self._db.dialect)
        found: dict[NaturalKey, set[int | None]] = {}
        for part in chunks(sorted({key[5] for key in wanted})):
            for row in conn.execute(sql["at_times"], {"times": list(part)}):
                actor = None if row.kind in ACTOR_UNCERTAIN else row.actor
                key = (row.platform, row.repo, row.kind, actor, row.number, row.occurred_at)
                if key in wanted:
                    found.setdefault(key, set()).add(row.delivery_id)
        if not found:
            return set()
        ours = self._own_deliveries({delivery_id for ids in found.values() for delivery_id in ids if delivery_id})
        return {key for key, ids in found.items() if any(delivery_id not in ours for delivery_id in ids)}

    def _own_deliveries(self, ids: Iterable[int]) -> set[int]:
        """Those of these deliveries that are this source's items."""
        mine: set[int] = set()
        ordered = sorted(ids)
        with self._db.inbox.reading() as conn:
            for part in chunks(ordered):
                mine.update(conn.execute(select(DELIVERY.c.id).where(
                    DELIVERY.c.id.in_(list(part)), DELIVERY.c.key.startswith(self.prefix, autoescape=True)))
                    .scalars())
        return mine

    def _run(self, session: Session, work: list[_Work], tally: Tally) -> None:
        """Every handler on every event of the batch, straight through; item by item if one fails."""
        later, book, added = Deferred(self._db.dialect), Book(), _Added(session)
        try:
            with session.begin_nested():
                conn = session.connection()  # asked inside: that is what emits the SAVEPOINT
                ctx = self._context(session, conn, later, book)
                events = [event for entry in work for event in entry.events]
                for router in self._routers:
                    for ahead in router.aheads:
                        ahead(events, ctx)
                silenced = sum(self._handle(ctx, entry, added) for entry in work)
                book.flush(conn)
                later.flush(conn)
        except Exception as error:
            log.warning("a handler failed in a batch of %d items (%s); running them again one by one",
                        len(work), error)
            first = error
        else:
            self._count(work, tally)
            tally.silenced += silenced
            return
        failed = 0
        book.forget()
        for entry in work:
            mine = Deferred(self._db.dialect)
            try:
                with session.begin_nested():
                    conn = session.connection()  # the item's SAVEPOINT
                    silenced = self._handle(self._context(session, conn, mine, book), entry, added)
                    book.flush(conn)
                    mine.flush(conn)
            except Exception as error:
                log.error("item %s failed: %s", entry.item.key, error)
                book.forget()
                failed += 1
                if len(tally.errors) < MAX_ERRORS:
                    tally.errors.append(f"{entry.item.key}: {error}")
            else:
                self._count([entry], tally)
                tally.silenced += silenced
        if failed > 1 and failed == len(work):  # not these items: the store (the batch is not committed)
            raise first
        tally.failed += failed

    def _context(self, session: Session, conn: Connection, later: Deferred, book: Book) -> HandlerContext:
        ctx = HandlerContext(session=session, db=self._db, settings=self._settings, clock=self._clock,
                             later=later, quiet=True, threads=book)
        ctx.connection = conn  # the batch's connection (what the cached property would find, without asking)
        return ctx

    @staticmethod
    def _count(stored: list[_Work], tally: Tally) -> None:
        tally.imported += len(stored)
        kinds = [key[2] for entry in stored for key in entry.keys]
        tally.events += len(kinds)
        tally.kinds.update(kinds)

    def _handle(self, ctx: HandlerContext, entry: _Work, added: _Added) -> int:
        """Run the handlers on an item's events, quiet; how many actions they decided all the same (dropped)."""
        silenced = 0
        session = ctx.session
        ctx.delivery_id = entry.delivery_id
        for event in entry.events:
            for route in self._routes_for(event):
                try:
                    decided = route.fn(event, ctx)
                    if decided is not None:
                        decided = list(decided)
                    if added.any or (session.identity_map and session.dirty):  # ORM objects: as the pipeline
                        session.flush()
                        added.any = False
                except Exception as error:
                    raise HandlerFailed(route.name, error) from error
                if decided:
                    silenced += len(decided)
                    log.debug("quiet: dropped %d actions of %s on %s", len(decided), route.name, entry.item.key)
        return silenced

    def _routes_for(self, event: Event) -> list[Route]:
        """`bot.pipeline.dispatch.routes_for`, with the routes of each kind found once."""
        candidates = self._routes.get(event.kind)
        if candidates is None:
            candidates = self._routes[event.kind] = [
                route for router in self._routers for route in router.routes
                if replace(route, filter=None).matches(event)]
            if all(route.filter is None for route in candidates):
                self._unfiltered.add(event.kind)
        if event.kind in self._unfiltered:
            return candidates
        return [route for route in candidates if route.filter is None or route.matches(event)]
