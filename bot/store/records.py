"""Writes and reads of community state (repos, contributors, threads, activity, milestones).

Every write is idempotent, so a delivery processed again changes nothing, and thread state converges whatever
order its deliveries arrive in. The statements are built once per SQL dialect and reused with parameters: this
is the pipeline's hot path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, Executable, Integer, and_, bindparam, case, func, literal, select

from bot.events import Actor, Thread
from bot.store.db import dialect_insert
from bot.store.deferred import Deferred
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
    upsert_thread: Executable
    select_thread: Executable
    update_thread: Executable
    reach_milestone: Executable
    earlier_threads: Executable


@cache
def statements(dialect: str) -> Statements:
    insert = dialect_insert(dialect)
    repo = insert(REPO).values(**_params("platform", "full_name", "url"), first_seen_at=bindparam("when"),
                               last_activity_at=bindparam("when"))
    repo = repo.on_conflict_do_update(index_elements=["platform", "full_name"], set_={
        "last_activity_at": _later(repo.excluded.last_activity_at, REPO.c.last_activity_at),
        "url": func.coalesce(REPO.c.url, repo.excluded.url)})
    person = insert(CONTRIBUTOR).values(**_params("platform", "login", "platform_user_id", "name", "person",
                                                  "is_bot"), first_seen_at=bindparam("when"),
                                        last_seen_at=bindparam("when"))
    person = person.on_conflict_do_update(index_elements=["platform", "login"], set_={
        "first_seen_at": _earlier(person.excluded.first_seen_at, CONTRIBUTOR.c.first_seen_at),
        "last_seen_at": _later(person.excluded.last_seen_at, CONTRIBUTOR.c.last_seen_at)})
    activity = insert(ACTIVITY).values(**_params("delivery_id", "platform", "repo", "kind", "actor", "person",
                                                 "is_bot", "number"), occurred_at=bindparam("when"))
    thread_key = and_(THREAD.c.platform == bindparam("platform"), THREAD.c.repo == bindparam("repo"),
                      THREAD.c.is_pr == bindparam("is_pr"), THREAD.c.number == bindparam("number"))
    thread = insert(THREAD).values(**_params(
        "platform", "repo", "number", "is_pr", "title", "author", "author_person", "state", "state_at",
        "snapshot_at", "labels", "assignees", "url", "created_at", "closed_at", "merged_at"))
    select_thread = select(*THREAD.c).where(thread_key)
    if dialect == "postgresql":
        select_thread = select_thread.with_for_update()
    update_thread = THREAD.update().where(THREAD.c.id == bindparam("thread_id")).values(
        **{name: bindparam(name) for name in MUTABLE_THREAD_FIELDS})
    same_person_earlier = and_(THREAD.c.author_person == bindparam("person"), THREAD.c.is_pr == bindparam("is_pr"),
                               THREAD.c.created_at < bindparam("before"), THREAD.c.id != bindparam("exclude_id"))
    in_repo = and_(THREAD.c.platform == bindparam("platform"), THREAD.c.repo == bindparam("repo"))
    earlier = select(func.count(), func.coalesce(func.sum(case((in_repo, literal(1)), else_=literal(0))),
                                                 literal(0)).cast(Integer)).where(same_person_earlier)
    return Statements(
        upsert_repo=repo,
        upsert_contributor=person,
        log_activity=activity.on_conflict_do_nothing(),
        upsert_thread=thread.on_conflict_do_update(  # a no-op update, so that RETURNING gives the stored row
            index_elements=["platform", "repo", "is_pr", "number"], set_={"number": thread.excluded.number},
        ).returning(*THREAD.c),
        select_thread=select_thread,
        update_thread=update_thread,
        reach_milestone=insert(MILESTONE).values(**_params(
            "person", "scope", "kind", "platform", "repo", "number", "reached_at",
        )).on_conflict_do_nothing().returning(MILESTONE.c.scope),
        earlier_threads=earlier,
    )


def _sql(conn: Connection) -> Statements:
    return statements(conn.dialect.name)


def upsert_repo(later: Deferred, platform: str, full_name: str, url: str | None, when: datetime) -> None:
    later.add(statements(later.dialect).upsert_repo, {"platform": platform, "full_name": full_name, "url": url,
                                                      "when": when})


def upsert_contributor(later: Deferred, platform: str, actor: Actor, person: str, is_bot: bool,
                       when: datetime) -> None:
    later.add(statements(later.dialect).upsert_contributor, {
        "platform": platform, "login": actor.login, "platform_user_id": actor.id, "name": actor.name,
        "person": person, "is_bot": is_bot, "when": when})


def log_activity(later: Deferred, *, delivery_id: int | None, platform: str, repo: str, kind: str,
                 actor: str, person: str, is_bot: bool, number: str | None, when: datetime) -> None:
    later.add(statements(later.dialect).log_activity, {
        "delivery_id": delivery_id, "platform": platform, "repo": repo, "kind": kind, "actor": actor,
        "person": person, "is_bot": is_bot, "number": number, "when": when})


@dataclass
class StoredThread:
    """A thread as stored; change it, then `save_thread` writes what changed."""

    id: int
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

    def values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in MUTABLE_THREAD_FIELDS}


def find_thread(conn: Connection, platform: str, repo: str, is_pr: bool, number: str
                ) -> StoredThread | None:
    row = conn.execute(_sql(conn).select_thread, {
        "platform": platform, "repo": repo, "is_pr": is_pr, "number": number}).mappings().one_or_none()
    return StoredThread(**row) if row is not None else None


def save_thread(conn: Connection, thread: StoredThread) -> None:
    conn.execute(_sql(conn).update_thread, {"thread_id": thread.id, **thread.values()})


def apply_thread(conn: Connection, platform: str, repo: str, seen: Thread, author_person: str,
                 when: datetime) -> StoredThread:
    """Merge what one delivery saw of an issue/PR into the stored thread (written when anything changed)."""
    row = StoredThread(**conn.execute(_sql(conn).upsert_thread, {
        "platform": platform, "repo": repo, "number": seen.number, "is_pr": seen.is_pr, "title": seen.title,
        "author": seen.author.login, "author_person": author_person, "state": seen.state, "state_at": when,
        "snapshot_at": seen.updated_at, "labels": list(seen.labels), "assignees": list(seen.assignees),
        "url": seen.url, "created_at": seen.created_at, "closed_at": seen.closed_at, "merged_at": seen.merged_at,
    }).mappings().one())
    before = row.values()
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
    if row.values() != before:
        save_thread(conn, row)
    return row


def record_response(conn: Connection, row: StoredThread, responder: Actor, person: str,
                    is_bot: bool, when: datetime) -> None:
    """The first reply on a thread by someone other than its author (bots do not count)."""
    if is_bot or person == row.author_person or when < row.created_at:
        return
    if row.first_response_at is None or when < row.first_response_at:
        row.first_response_at, row.first_responder = when, responder.login
        save_thread(conn, row)


def earlier_threads(conn: Connection, row: StoredThread, person: str) -> tuple[int, int]:
    """How many issues (or PRs, like `row`) this person opened before `row`: in the community, in its repo."""
    everywhere, in_repo = conn.execute(_sql(conn).earlier_threads, {
        "person": person, "is_pr": row.is_pr, "before": row.created_at, "exclude_id": row.id,
        "platform": row.platform, "repo": row.repo}).one()
    return int(everywhere), int(in_repo)


def reach_milestones(conn: Connection, scopes: dict[str, str], *, person: str, kind: str,
                     platform: str, repo: str, number: str, when: datetime) -> set[str]:
    """Record a first in several scopes; returns the names of the scopes where it is new (never again after)."""
    if not scopes:
        return set()
    names = {scope: name for name, scope in scopes.items()}
    reached = conn.execute(_sql(conn).reach_milestone, [
        {"person": person, "scope": scope, "kind": kind, "platform": platform, "repo": repo, "number": number,
         "reached_at": when} for scope in scopes.values()]).scalars()
    return {names[scope] for scope in reached}
