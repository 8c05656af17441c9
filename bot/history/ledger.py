"""The ledger of a source of history: each item it offers is a delivery in the inbox (its platform and key, status
"processed", no body), written once and kept. The delivery's id is the item's `delivery_id` in the activity log,
the same however often the item is offered; that is how `bot.history.ingest` tells an item stored before.

    DeliveryLedger(db.inbox, platform="github", prefix="gharchive-").write([("gharchive-1", "PushEvent", None)])
    -> Ledger(ids={"gharchive-1": 7}, all_new=True)

The ledger is written in a transaction of its own, committed before the items are stored: a delivery with nothing
logged is an item not stored yet, which the next import that offers it stores. That is what lets a GH Archive
import write it in its reader process, ahead of the batches (`bot.history.gharchive_reader`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Executable, bindparam, literal_column, select

from bot.clock import Clock, system_clock
from bot.store.db import Database, dialect_insert
from bot.store.deferred import fetch_plain
from bot.store.tables import Delivery

DELIVERY = Delivery.__table__  # type: ignore[attr-defined]
CHUNK = 500  # values in one IN (…), rows in one VALUES
STEP = 50  # the sizes of the statements that write deliveries: 50, 100, … CHUNK
NAMES = [(f"key{n}", f"event{n}", f"action{n}") for n in range(CHUNK)]  # their parameters, row by row

Entry = tuple[str, str, str | None]  # an item as the ledger has it: its key, event and action


@dataclass(frozen=True, slots=True)
class Ledger:
    """A batch's items in the inbox: each one's delivery id by its key; and whether all of them were new (then none
    has been stored: the usual case, a first import)."""

    ids: dict[str, int]
    all_new: bool


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


@cache
def _insert(dialect: str, size: int) -> Executable:
    """The deliveries of `size` items in one statement, which returns the key and id of each one that is new."""
    now = bindparam("now", type_=DELIVERY.c.received_at.type)
    rows = [{"platform": bindparam("platform", type_=DELIVERY.c.platform.type), "key": bindparam(f"key{n}"),
             "event": bindparam(f"event{n}"), "action": bindparam(f"action{n}"),
             "status": bindparam("status", type_=DELIVERY.c.status.type), "received_at": now, "processed_at": now,
             "body": bindparam("body", type_=DELIVERY.c.body.type), "attempts": literal_column("0"),
             "headers": literal_column("'{}'")} for n in range(size)]
    return dialect_insert(dialect)(DELIVERY).values(rows).on_conflict_do_nothing().returning(DELIVERY.c.key,
                                                                                              DELIVERY.c.id)


_IDS = select(DELIVERY.c.key, DELIVERY.c.id).where(  # the ids of a list of CHUNK keys
    DELIVERY.c.platform == bindparam("platform"), DELIVERY.c.key.in_([bindparam(f"key{n}") for n in range(CHUNK)]))


class DeliveryLedger:
    """The ledger of one source's items (keys starting with `prefix`) on one platform, in `inbox`."""

    def __init__(self, inbox: Database, *, platform: str, prefix: str, clock: Clock = system_clock) -> None:
        self._inbox = inbox
        self._platform = platform
        self._prefix = prefix
        self._clock = clock

    def write(self, entries: Sequence[Entry]) -> Ledger:
        """The items' deliveries, written now if they are new (waiting for SQLite's write lock if it is taken)."""
        if not entries:
            return Ledger({}, True)
        rows: dict[str, Entry] = {}
        for entry in entries:
            if not entry[0].startswith(self._prefix):
                raise ValueError(f"item {entry[0]!r} is not of this source (keys start with {self._prefix!r})")
            rows.setdefault(entry[0], entry)
        keys = list(rows)
        now = self._clock()
        dialect = self._inbox.dialect

        def write() -> Ledger:
            ids: dict[str, int] = {}
            with self._inbox.engine.begin() as conn:
                for part in chunks(keys):  # those that are new, and their ids
                    given: dict[str, Any] = {"platform": self._platform, "status": "processed", "now": now,
                                             "body": b""}
                    size = -(-len(part) // STEP) * STEP  # a few sizes of statement, each compiled once
                    for (key_n, event_n, action_n), key in zip(NAMES, itertools.chain(
                            part, itertools.repeat(part[0], size - len(part))), strict=False):
                        _, event, action = rows[key]  # (the padding: the first again, not inserted twice)
                        given[key_n], given[event_n] = key, event[:64]
                        given[action_n] = action[:64] if action else None
                    ids.update(fetch_plain(conn, _insert(dialect, size), given))
                new = len(ids)
                for part in chunks([key for key in keys if key not in ids]):  # and the ids of those that are not
                    given = {f"key{n}": key for n, key in enumerate(part)}
                    given.update({f"key{n}": part[0] for n in range(len(part), CHUNK)})  # (the rest: the first)
                    ids.update(fetch_plain(conn, _IDS, {"platform": self._platform, **given}))
            return Ledger(ids, new == len(keys))

        return self._inbox.retry_when_locked(write)
