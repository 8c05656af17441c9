"""The threads and milestones of a batch (`Book`), one for a batch of deliveries or of imported history: what its
handlers need is read once (in a few statements when the batch says ahead what it holds, else each thing when first
asked for), changed in memory by the pure functions of `bot.store.threads` (`merge_thread`, `note_response`), and
written together."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import Connection

from bot.events import Actor, Thread
from bot.store.deferred import fetch_plain, run_many
from bot.store.records import KEYS, Statements, statements
from bot.store.threads import (
    KEY,
    THREAD_COLUMNS,
    StoredThread,
    ThreadKey,
    inserted_values,
    merge_thread,
    new_thread,
    note_response,
)

CHUNK = 500  # values in one IN (…)


def _sql(conn: Connection) -> Statements:
    return statements(conn.dialect.name)


def _chunks(values: list[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


Change = Callable[[StoredThread], bool]


@dataclass
class Book:
    """The threads and milestones of a batch: read from the store once, changed in memory, written by `flush` (at
    the end of the batch, and before a handler reads the store itself: see `HandlerContext.conn`). `forget`
    drops it all (what it read or did was rolled back)."""

    _threads: dict[ThreadKey, StoredThread | None] = field(default_factory=dict)  # None: not stored
    _by_author: dict[tuple[str, bool], list[StoredThread]] = field(default_factory=dict)  # (person, is_pr)
    _changed: dict[ThreadKey, StoredThread] = field(default_factory=dict)  # to write
    _changes: dict[ThreadKey, list[Change]] = field(default_factory=dict)  # the new threads', in order
    _earliest: dict[str, dict[tuple[bool, str, str], datetime]] = field(default_factory=dict)  # as stored
    _reached: dict[str, set[tuple[str, str]]] = field(default_factory=dict)  # person → {(scope, kind)}
    _milestones: list[dict[str, Any]] = field(default_factory=list)  # reached now, to write

    def forget(self) -> None:
        for kept in (self._threads, self._by_author, self._changed, self._changes, self._earliest, self._reached):
            kept.clear()
        self._milestones.clear()

    # -- reading ------------------------------------------------------------------------------------------------

    def load_threads(self, conn: Connection, keys: Iterable[ThreadKey]) -> None:
        """Read these threads (those not read yet) in a few statements."""
        wanted = list(dict.fromkeys(key for key in keys if key not in self._threads))
        sql = _sql(conn)
        for part in _chunks(wanted, KEYS):
            params: dict[str, Any] = {}
            for n, (platform, repo, is_pr, number) in enumerate(part + [part[0]] * (KEYS - len(part))):
                params.update({f"platform{n}": platform, f"repo{n}": repo, f"is_pr{n}": is_pr, f"number{n}": number})
            ids = sorted({found for found, in fetch_plain(conn, sql.find_threads, params)})  # (the padding: again)
            if ids:
                for found in conn.execute(sql.select_threads, {"ids": ids}):
                    self._keep(StoredThread(*found))
        for key in wanted:
            self._threads.setdefault(key, None)

    def thread(self, conn: Connection, key: ThreadKey) -> StoredThread | None:
        """The stored issue/PR, as the batch left it so far."""
        try:
            return self._threads[key]
        except KeyError:
            platform, repo, is_pr, number = key
            found = conn.execute(_sql(conn).select_thread, {
                "platform": platform, "repo": repo, "is_pr": is_pr, "number": number}).first()
            if found is None:
                self._threads[key] = None
                return None
            return self._keep(StoredThread(*found))

    def _keep(self, row: StoredThread) -> StoredThread:
        self._threads[row.key] = row
        self._by_author.setdefault((row.author_person, row.is_pr), []).append(row)
        return row

    def load_people(self, conn: Connection, persons: Iterable[str]) -> None:
        """Read what decides these people's firsts (those not read yet): when each first opened an issue and a
        PR in each repo, and the milestones they reached."""
        wanted = list(dict.fromkeys(person for person in persons if person not in self._reached))
        sql = _sql(conn)
        for part in _chunks(wanted):
            for person in part:
                self._earliest[person], self._reached[person] = {}, set()
            for person, is_pr, platform, repo, created_at in conn.execute(sql.earliest_threads, {"persons": part}):
                self._earliest[person][(is_pr, platform, repo)] = created_at
            for person, scope, kind in conn.execute(sql.milestones, {"persons": part}):
                self._reached[person].add((scope, kind))

    # -- changing -----------------------------------------------------------------------------------------------

    def apply(self, conn: Connection, platform: str, repo: str, seen: Thread, author_person: str,
              when: datetime) -> StoredThread:
        """Merge what one delivery saw of an issue/PR into the stored thread (a new one if it is not stored)."""
        key = (platform, repo, seen.is_pr, seen.number)
        row = self.thread(conn, key)
        if row is None:
            row = self._keep(new_thread(platform, repo, seen, author_person, when))
            self._changes[key] = []
        self._change(row, partial(merge_thread, seen=seen, when=when))
        return row

    def respond(self, row: StoredThread, responder: Actor, person: str, is_bot: bool, when: datetime) -> None:
        """A reply on a thread of this book (see `note_response`)."""
        self._change(row, partial(note_response, responder=responder.login, person=person, is_bot=is_bot,
                                  when=when))

    def _change(self, row: StoredThread, change: Change) -> None:
        kept = self._changes.get(row.key)
        if kept is not None:  # a new thread's: kept, should another transaction store it first (see `flush`)
            kept.append(change)
        if change(row) or kept is not None:
            self._changed[row.key] = row

    def earlier(self, conn: Connection, row: StoredThread, person: str) -> tuple[bool, bool]:
        """Whether this person opened an issue (or a PR, like `row`) created before `row`: in the community, and
        in its repo. From the threads as first read (their creation times only ever go back) and the threads of
        this book as they are now."""
        if person not in self._reached:
            self.load_people(conn, (person,))
        before = row.created_at
        everywhere = in_repo = False
        for (is_pr, platform, repo), created_at in self._earliest[person].items():
            if is_pr == row.is_pr and created_at < before:
                everywhere = True
                in_repo = in_repo or (platform == row.platform and repo == row.repo)
        for other in self._by_author.get((person, row.is_pr), ()):
            if other is not row and other.created_at < before:
                everywhere = True
                in_repo = in_repo or (other.platform == row.platform and other.repo == row.repo)
        return everywhere, in_repo

    def reach(self, conn: Connection, scopes: dict[str, str], *, person: str, kind: str, platform: str,
              repo: str, number: str, when: datetime) -> set[str]:
        """Record a first in several scopes; the names of the scopes where it is new (never again after)."""
        if person not in self._reached:
            self.load_people(conn, (person,))
        reached = self._reached[person]
        new: set[str] = set()
        for name, scope in scopes.items():
            if (scope, kind) not in reached:
                reached.add((scope, kind))
                new.add(name)
                self._milestones.append({"person": person, "scope": scope, "kind": kind, "platform": platform,
                                         "repo": repo, "number": number, "reached_at": when})
        return new

    # -- writing ------------------------------------------------------------------------------------------------

    def flush(self, conn: Connection) -> None:
        """Write what changed since the last flush."""
        if not self._changed and not self._milestones:
            return
        sql = _sql(conn)
        changed = list(self._changed.values())
        self._changed.clear()
        stored = [row for row in changed if row.key not in self._changes]
        new = [row for row in changed if row.key in self._changes]
        if new:
            changes = [self._changes.pop(row.key) for row in new]
            written = run_many(conn, sql.insert_thread, [
                dict(zip(THREAD_COLUMNS[1:], inserted_values(row), strict=True)) for row in new])
            if written != len(new):  # another transaction stored some first (PostgreSQL): these changes, to them
                for row, made in zip(new, changes, strict=True):
                    raced = conn.execute(sql.select_thread, dict(zip(KEY, row.key, strict=True))).one()
                    row.__dict__.update(StoredThread(*raced).__dict__)
                    for change in made:  # (each is idempotent: those of a thread stored here change nothing)
                        change(row)
                    stored.append(row)
        if stored:
            run_many(conn, sql.update_thread, [{**{f"thread_{name}": value for name, value in zip(KEY, row.key,
                                                                                               strict=True)},
                                                **row.values()} for row in stored])
        if self._milestones:
            run_many(conn, sql.reach_milestone, self._milestones)
            self._milestones = []
