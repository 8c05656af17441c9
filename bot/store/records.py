"""Writes and reads of community state (repos, contributors, threads, activity, milestones).

Every write is idempotent, so a delivery processed again changes nothing, and thread state converges whatever
order its deliveries arrive in. The statements are built once per SQL dialect and reused with parameters: this
is the pipeline's hot path.

Repos, contributors and activity are blind writes, gathered over a batch (`Deferred`; a repo or a contributor seen
again in the batch is folded into its row). Threads and milestones are read and written through a `Book`, one for
a batch of deliveries or of imported history: what its handlers need is read once (in a few statements when the
batch says ahead what it holds, else each thing when first asked for), changed in memory by the same pure
functions (`merge_thread`, `note_response`), and written together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import cache, partial
from operator import attrgetter
from typing import Any

from sqlalchemy import Connection, Executable, TextClause, bindparam, case, func, select, text

from bot.events import Actor, Thread
from bot.store.db import dialect_insert
from bot.store.deferred import Deferred, fetch_plain, run_many
from bot.store.tables import Activity, Contributor, Milestone, Repo
from bot.store.tables import Thread as ThreadRow

MUTABLE_THREAD_FIELDS = ("title", "labels", "assignees", "url", "snapshot_at", "state", "state_at", "created_at",
                         "closed_at", "merged_at", "first_response_at", "first_responder")

# A later state wins; at the same instant, the one further along its lifecycle wins. Merged is final.
STATE_RANK = {"open": 0, "closed": 1, "merged": 2}

REPO = Repo.__table__  # type: ignore[attr-defined]
CONTRIBUTOR = Contributor.__table__  # type: ignore[attr-defined]
THREAD = ThreadRow.__table__  # type: ignore[attr-defined]
ACTIVITY = Activity.__table__  # type: ignore[attr-defined]
MILESTONE = Milestone.__table__  # type: ignore[attr-defined]
CHUNK = 500  # values in one IN (…)
KEYS = 100  # threads looked up by their key in one statement

ThreadKey = tuple[str, str, bool, str]  # platform, repo, is_pr, number
KEY = ("platform", "repo", "is_pr", "number")


@dataclass(eq=False)
class StoredThread:
    """A thread as stored (`id` None: new in this batch); a `Book` changes it and writes it."""

    id: int | None
    platform: str
    repo: str
    number: str
    is_pr: bool
    title: str
    author: str
    author_person: str
    state: str
    state_at: datetime
    snapshot_at: datetime
    labels: list[str]
    assignees: list[str]
    url: str | None
    created_at: datetime
    closed_at: datetime | None
    merged_at: datetime | None
    first_response_at: datetime | None
    first_responder: str | None

    @property
    def key(self) -> ThreadKey:
        return self.platform, self.repo, self.is_pr, self.number

    def values(self) -> dict[str, Any]:
        return dict(zip(MUTABLE_THREAD_FIELDS, _mutable(self), strict=True))


THREAD_COLUMNS = tuple(item.name for item in fields(StoredThread))
_mutable = attrgetter(*MUTABLE_THREAD_FIELDS)
_inserted = attrgetter(*THREAD_COLUMNS[1:])


def _later(new: Any, old: Any) -> Any:
    return case((new > old, new), else_=old)


def _earlier(new: Any, old: Any) -> Any:
    return case((new < old, new), else_=old)


def _params(*names: str) -> dict[str, Any]:
    return {name: bindparam(name) for name in names}


@dataclass(frozen=True)
class Statements:
    upsert_repo: Executable
    upsert_contributor: Executable
    log_activity: Executable
    insert_thread: Executable
    select_thread: Executable
    find_threads: TextClause
    select_threads: Executable
    update_thread: Executable
    reach_milestone: Executable
    milestones: Executable
    earliest_threads: Executable


@cache
def statements(dialect: str) -> Statements:
    insert = dialect_insert(dialect)
    repo = insert(REPO).values(**_params("platform", "full_name", "url"), first_seen_at=bindparam("first"),
                               last_activity_at=bindparam("last"))
    repo = repo.on_conflict_do_update(index_elements=["platform", "full_name"], set_={
        "last_activity_at": _later(repo.excluded.last_activity_at, REPO.c.last_activity_at),
        "url": func.coalesce(REPO.c.url, repo.excluded.url)})
    person = insert(CONTRIBUTOR).values(**_params("platform", "login", "platform_user_id", "name", "person",
                                                  "is_bot"), first_seen_at=bindparam("first"),
                                        last_seen_at=bindparam("last"))
    person = person.on_conflict_do_update(index_elements=["platform", "login"], set_={
        "first_seen_at": _earlier(person.excluded.first_seen_at, CONTRIBUTOR.c.first_seen_at),
        "last_seen_at": _later(person.excluded.last_seen_at, CONTRIBUTOR.c.last_seen_at)})
    activity = insert(ACTIVITY).values(**_params("delivery_id", "platform", "repo", "kind", "actor", "person",
                                                 "is_bot", "number"), occurred_at=bindparam("when"))
    columns = [THREAD.c[name] for name in THREAD_COLUMNS]
    select_thread = select(*columns).where(
        THREAD.c.platform == bindparam("platform"), THREAD.c.repo == bindparam("repo"),
        THREAD.c.is_pr == bindparam("is_pr"), THREAD.c.number == bindparam("number"))
    # the ids of several threads by their keys: a list of keys joined to the table, so that each is looked up in
    # the unique index (SQLite does not use an index for `(a, b) IN (…)`)
    wanted = ", ".join(f"(:platform{n}, :repo{n}, :is_pr{n}, :number{n})" for n in range(KEYS))
    find_threads = text(f"SELECT thread.id FROM (VALUES {wanted}) AS wanted JOIN thread ON thread.platform = "
                        "wanted.column1 AND thread.repo = wanted.column2 AND thread.is_pr = wanted.column3 AND "
                        "thread.number = wanted.column4")
    select_threads = select(*columns).where(THREAD.c.id.in_(bindparam("ids", expanding=True))).order_by(THREAD.c.id)
    if dialect == "postgresql":  # the rows a batch changes are its own until it commits
        select_thread = select_thread.with_for_update()
        select_threads = select_threads.with_for_update()
    return Statements(
        upsert_repo=repo,
        upsert_contributor=person,
        log_activity=activity.on_conflict_do_nothing(),
        insert_thread=insert(THREAD).values(**_params(*THREAD_COLUMNS[1:])).on_conflict_do_nothing(),
        select_thread=select_thread,
        find_threads=find_threads,
        select_threads=select_threads,
        update_thread=THREAD.update().where(*(THREAD.c[name] == bindparam(f"thread_{name}") for name in KEY)).values(
            **_params(*MUTABLE_THREAD_FIELDS)),
        reach_milestone=insert(MILESTONE).values(**_params(
            "person", "scope", "kind", "platform", "repo", "number", "reached_at")).on_conflict_do_nothing(),
        milestones=select(MILESTONE.c.person, MILESTONE.c.scope, MILESTONE.c.kind).where(
            MILESTONE.c.person.in_(bindparam("persons", expanding=True))),
        earliest_threads=select(THREAD.c.author_person, THREAD.c.is_pr, THREAD.c.platform, THREAD.c.repo,
                                func.min(THREAD.c.created_at)).where(
            THREAD.c.author_person.in_(bindparam("persons", expanding=True))).group_by(
            THREAD.c.author_person, THREAD.c.is_pr, THREAD.c.platform, THREAD.c.repo),
    )


def _sql(conn: Connection) -> Statements:
    return statements(conn.dialect.name)


def _chunks(values: list[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


# -- repos, contributors, activity: blind writes -----------------------------------------------------------------


def _fold_repo(row: dict[str, Any], again: dict[str, Any]) -> None:
    """A repo seen again in a batch, folded into its row as its upsert folds it into the stored one."""
    if again["last"] > row["last"]:
        row["last"] = again["last"]
    if row["url"] is None:
        row["url"] = again["url"]


def _fold_contributor(row: dict[str, Any], again: dict[str, Any]) -> None:
    """A contributor seen again in a batch, folded into its row as its upsert folds it into the stored one."""
    if again["first"] < row["first"]:
        row["first"] = again["first"]
    if again["last"] > row["last"]:
        row["last"] = again["last"]


def upsert_repo(later: Deferred, platform: str, full_name: str, url: str | None, when: datetime) -> None:
    later.add(statements(later.dialect).upsert_repo, {"platform": platform, "full_name": full_name, "url": url,
                                                      "first": when, "last": when},
              key=(platform, full_name), fold=_fold_repo)


def upsert_contributor(later: Deferred, platform: str, actor: Actor, person: str, is_bot: bool,
                       when: datetime) -> None:
    later.add(statements(later.dialect).upsert_contributor, {
        "platform": platform, "login": actor.login, "platform_user_id": actor.id, "name": actor.name,
        "person": person, "is_bot": is_bot, "first": when, "last": when},
        key=(platform, actor.login), fold=_fold_contributor)


def log_activity(later: Deferred, *, delivery_id: int | None, platform: str, repo: str, kind: str,
                 actor: str, person: str, is_bot: bool, number: str | None, when: datetime) -> None:
    later.add(statements(later.dialect).log_activity, {
        "delivery_id": delivery_id, "platform": platform, "repo": repo, "kind": kind, "actor": actor,
        "person": person, "is_bot": is_bot, "number": number, "when": when})


# -- threads and milestones ------------------------------------------------------------------------------------


def new_thread(platform: str, repo: str, seen: Thread, author_person: str, when: datetime) -> StoredThread:
    """An issue/PR not stored yet, as the delivery that first saw it tells it."""
    return StoredThread(
        id=None, platform=platform, repo=repo, number=seen.number, is_pr=seen.is_pr, title=seen.title,
        author=seen.author.login, author_person=author_person, state=seen.state, state_at=when,
        snapshot_at=seen.updated_at, labels=list(seen.labels), assignees=list(seen.assignees), url=seen.url,
        created_at=seen.created_at, closed_at=seen.closed_at, merged_at=seen.merged_at, first_response_at=None,
        first_responder=None)


def merge_thread(row: StoredThread, seen: Thread, when: datetime) -> bool:
    """Merge what one delivery saw of an issue/PR into the stored thread; whether anything changed."""
    before = _mutable(row)
    if seen.updated_at > row.snapshot_at:
        row.title, row.labels, row.assignees = seen.title, list(seen.labels), list(seen.assignees)
        row.url, row.snapshot_at = seen.url or row.url, seen.updated_at
    if row.state != "merged" and (when, STATE_RANK[seen.state]) > (row.state_at, STATE_RANK[row.state]):
        row.state, row.state_at = seen.state, when
    if seen.merged_at:
        row.state, row.merged_at = "merged", seen.merged_at
    if row.state == "open":
        row.closed_at = None
    elif seen.state != "open":
        row.closed_at = seen.closed_at or seen.merged_at or row.closed_at or when
    if seen.created_at < row.created_at:
        row.created_at = seen.created_at
    return _mutable(row) != before


def note_response(row: StoredThread, responder: str, person: str, is_bot: bool, when: datetime) -> bool:
    """The first reply on a thread by someone other than its author (bots do not count); whether it is this one."""
    if is_bot or person == row.author_person or when < row.created_at:
        return False
    if row.first_response_at is None or when < row.first_response_at:
        row.first_response_at, row.first_responder = when, responder
        return True
    return False


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
            written = run_many(conn, sql.insert_thread, [dict(zip(THREAD_COLUMNS[1:], _inserted(row), strict=True))
                                                         for row in new])
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
