"""Writes of community state (repos, contributors, activity) and the statements that read and write threads and
milestones (for `bot.store.book.Book`).

Every write is idempotent, so a delivery processed again changes nothing. The statements are built once per SQL
dialect and reused with parameters: this is the pipeline's hot path. Repos, contributors and activity are blind
writes, gathered over a batch (`Deferred`; a repo or a contributor seen again in the batch is folded into its row).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Executable, TextClause, bindparam, case, func, select, text

from bot.events import Actor
from bot.store.community_tables import Activity, Contributor, Milestone, Repo
from bot.store.community_tables import Thread as ThreadRow
from bot.store.db import dialect_insert
from bot.store.deferred import Deferred
from bot.store.threads import KEY, MUTABLE_THREAD_FIELDS, THREAD_COLUMNS

REPO = Repo.__table__  # type: ignore[attr-defined]
CONTRIBUTOR = Contributor.__table__  # type: ignore[attr-defined]
THREAD = ThreadRow.__table__  # type: ignore[attr-defined]
ACTIVITY = Activity.__table__  # type: ignore[attr-defined]
MILESTONE = Milestone.__table__  # type: ignore[attr-defined]
KEYS = 100  # threads looked up by their key in one statement


def _later(new: Any, old: Any) -> Any:
    return case((new > old, new), else_=old)


def _earlier(new: Any, old: Any) -> Any:
    return case((new < old, new), else_=old)


def _params(*names: str) -> dict[str, Any]:
    return {name: bindparam(name) for name in names}


@dataclass(frozen=True)
class Statements:
    """The statements of community state, built for one SQL dialect."""

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

