"""Writes and reads of community state (repos, contributors, threads, activity, milestones).

Every write is idempotent, so a delivery processed again changes nothing, and thread state converges whatever
order its deliveries arrive in.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session

from bot.events import Actor, Thread
from bot.store.db import Database
from bot.store.tables import Activity, Contributor, Milestone, Repo
from bot.store.tables import Thread as ThreadRow

# A later state wins; at the same instant, the one further along its lifecycle wins. Merged is final.
STATE_RANK = {"open": 0, "closed": 1, "merged": 2}


def upsert_repo(db: Database, session: Session, platform: str, full_name: str, url: str | None,
                when: datetime) -> None:
    session.execute(db.insert(Repo).values(platform=platform, full_name=full_name, url=url, first_seen_at=when,
                                           last_activity_at=when).on_conflict_do_nothing())
    session.execute(update(Repo).where(Repo.platform == platform, Repo.full_name == full_name,
                                       Repo.last_activity_at < when).values(last_activity_at=when))


def upsert_contributor(db: Database, session: Session, platform: str, actor: Actor, person: str, is_bot: bool,
                       when: datetime) -> None:
    session.execute(db.insert(Contributor).values(
        platform=platform, login=actor.login, platform_user_id=actor.id, name=actor.name, person=person,
        is_bot=is_bot, first_seen_at=when, last_seen_at=when).on_conflict_do_nothing())
    session.execute(update(Contributor).where(
        Contributor.platform == platform, Contributor.login == actor.login,
        Contributor.last_seen_at < when).values(last_seen_at=when))
    session.execute(update(Contributor).where(
        Contributor.platform == platform, Contributor.login == actor.login,
        Contributor.first_seen_at > when).values(first_seen_at=when))


def log_activity(db: Database, session: Session, *, delivery_id: int | None, platform: str, repo: str, kind: str,
                 actor: str, person: str, is_bot: bool, number: str | None, when: datetime) -> None:
    session.execute(db.insert(Activity).values(
        delivery_id=delivery_id, platform=platform, repo=repo, kind=kind, actor=actor, person=person,
        is_bot=is_bot, number=number, occurred_at=when).on_conflict_do_nothing())


def apply_thread(db: Database, session: Session, platform: str, repo: str, seen: Thread, author_person: str,
                 when: datetime) -> ThreadRow:
    """Merge what one delivery saw of an issue/PR into the stored thread."""
    key = and_(ThreadRow.platform == platform, ThreadRow.repo == repo, ThreadRow.is_pr == seen.is_pr,
               ThreadRow.number == seen.number)
    session.execute(db.insert(ThreadRow).values(
        platform=platform, repo=repo, number=seen.number, is_pr=seen.is_pr, title=seen.title,
        author=seen.author.login, author_person=author_person, state=seen.state, state_at=when,
        snapshot_at=seen.updated_at, labels=list(seen.labels), assignees=list(seen.assignees), url=seen.url,
        created_at=seen.created_at, closed_at=seen.closed_at, merged_at=seen.merged_at,
    ).on_conflict_do_nothing())
    query = select(ThreadRow).where(key)
    if db.is_postgres:
        query = query.with_for_update()
    row = session.execute(query).scalar_one()
    if seen.updated_at >= row.snapshot_at:
        row.title, row.labels, row.assignees = seen.title, list(seen.labels), list(seen.assignees)
        row.url, row.snapshot_at = seen.url or row.url, seen.updated_at
    if row.state != "merged" and (when, STATE_RANK[seen.state]) > (row.state_at, STATE_RANK[row.state]):
        row.state, row.state_at = seen.state, when
    if seen.merged_at:
        row.state, row.merged_at = "merged", seen.merged_at
    if seen.state in ("closed", "merged") and row.state != "open":
        row.closed_at = seen.closed_at or seen.merged_at or row.closed_at or when
    elif row.state == "open":
        row.closed_at = None
    row.created_at = min(row.created_at, seen.created_at)
    return row


def find_thread(session: Session, platform: str, repo: str, is_pr: bool, number: str) -> ThreadRow | None:
    return session.execute(select(ThreadRow).where(
        ThreadRow.platform == platform, ThreadRow.repo == repo, ThreadRow.is_pr == is_pr,
        ThreadRow.number == number)).scalar_one_or_none()


def record_response(row: ThreadRow, responder: Actor, person: str, is_bot: bool, when: datetime) -> None:
    """The first reply on a thread by someone other than its author (bots do not count)."""
    if is_bot or person == row.author_person or when < row.created_at:
        return
    if row.first_response_at is None or when < row.first_response_at:
        row.first_response_at, row.first_responder = when, responder.login


def has_earlier_thread(session: Session, person: str, is_pr: bool, before: datetime, exclude_id: int,
                       platform: str | None = None, repo: str | None = None) -> bool:
    """Did this person open an issue (or PR) before `before`, in one repo or anywhere in the community?"""
    query = select(func.count()).select_from(ThreadRow).where(
        ThreadRow.author_person == person, ThreadRow.is_pr == is_pr, ThreadRow.created_at < before,
        ThreadRow.id != exclude_id)
    if repo is not None:
        query = query.where(ThreadRow.platform == platform, ThreadRow.repo == repo)
    return bool(session.execute(query).scalar_one())


def reach_milestone(db: Database, session: Session, *, person: str, scope: str, kind: str, platform: str,
                    repo: str, number: str, when: datetime) -> bool:
    """Record a first; True only the first time this person reaches it in this scope."""
    result = session.execute(db.insert(Milestone).values(
        person=person, scope=scope, kind=kind, platform=platform, repo=repo, number=number, reached_at=when,
    ).on_conflict_do_nothing().returning(Milestone.id))
    return result.scalar_one_or_none() is not None
