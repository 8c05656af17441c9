"""Claims made with `/claim` outside hackathons (`thread_claim`): one holder per issue.

The forge reports an assignment only after the outbox has made it, so a claim is written in the delivery's
transaction, with the decision to assign: a second `/claim` before the forge's `assigned` webhook finds the issue
taken. The table's key is the issue, so two replicas deciding at once cannot both take it (the second's insert
finds the first's row; on PostgreSQL the thread's row is locked by the batch too, see `bot.store.records`).

A claim holds while the issue is open and its holder is assigned there, or while the forge has not answered yet: its
assign action is still in the outbox, or done but the forge has said nothing about the issue since. Once the forge
shows the issue without the holder after that (unassigned, closed), the claim has lapsed: it frees the issue and
no longer counts against `commands.max_open_claims`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, select

from bot.store.community_tables import Thread, ThreadClaim
from bot.store.db import dialect_insert
from bot.store.tables import OutboxAction
from bot.store.threads import StoredThread

CLAIM = ThreadClaim.__table__  # type: ignore[attr-defined]
THREAD = Thread.__table__  # type: ignore[attr-defined]
OUTBOX = OutboxAction.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Claim:
    platform: str
    repo: str
    number: str
    person: str
    login: str
    claimed_at: datetime
    action_key: str | None


@dataclass(frozen=True, slots=True)
class Seen:
    """What the store says of a claimed issue: its state and assignees, as of the forge's last word on it."""

    state: str
    assignees: Iterable[str]
    snapshot_at: datetime


def _claim(row: Any) -> Claim:
    return Claim(row.platform, row.repo, row.number, row.person, row.login, row.claimed_at, row.action_key)


def _holds(conn: Connection, claims: list[Claim], seen: dict[tuple[str, str, str], Seen]) -> list[bool]:
    keys = [claim.action_key for claim in claims if claim.action_key]
    sent = {row.key: row for row in conn.execute(select(OUTBOX.c.key, OUTBOX.c.status, OUTBOX.c.done_at).where(
        OUTBOX.c.key.in_(keys)))} if keys else {}
    held = []
    for claim in claims:
        issue = seen.get((claim.platform, claim.repo, claim.number))
        if issue is None or issue.state != "open":
            held.append(False)
        elif claim.login.lower() in {name.lower() for name in issue.assignees}:
            held.append(True)
        elif claim.action_key is None:
            held.append(False)
        else:
            action = sent.get(claim.action_key)  # none yet: decided in this batch, not written yet
            held.append(action is None or action.status == "pending" or (
                action.status != "failed" and (action.done_at is None or issue.snapshot_at <= action.done_at)))
    return held


def recorded(conn: Connection, thread: StoredThread) -> Claim | None:
    """The claim recorded on this issue, if any (whether it still holds: `holds`)."""
    row = conn.execute(select(CLAIM).where(CLAIM.c.platform == thread.platform, CLAIM.c.repo == thread.repo,
                                           CLAIM.c.number == thread.number)).first()
    return None if row is None else _claim(row)


def holds(conn: Connection, claim: Claim, thread: StoredThread) -> bool:
    """Whether a claim still holds its issue (`thread`: the issue as the store has it now)."""
    seen = {(thread.platform, thread.repo, thread.number): Seen(thread.state, thread.assignees, thread.snapshot_at)}
    return _holds(conn, [claim], seen)[0]


def held_by(conn: Connection, person: str) -> list[Claim]:
    """The issues a person holds through `/claim`, oldest first (their lapsed claims are deleted on the way)."""
    on_issue = and_(THREAD.c.platform == CLAIM.c.platform, THREAD.c.repo == CLAIM.c.repo,
                    THREAD.c.number == CLAIM.c.number, THREAD.c.is_pr.is_(False))
    rows = conn.execute(select(CLAIM, THREAD.c.state, THREAD.c.assignees, THREAD.c.snapshot_at)
                        .select_from(CLAIM.outerjoin(THREAD, on_issue)).where(CLAIM.c.person == person)
                        .order_by(CLAIM.c.claimed_at)).all()
    claims = [_claim(row) for row in rows]
    seen = {(row.platform, row.repo, row.number): Seen(row.state, row.assignees or [], row.snapshot_at)
            for row in rows if row.state is not None}
    kept = []
    for claim, holds in zip(claims, _holds(conn, claims, seen), strict=True):
        if holds:
            kept.append(claim)
        else:
            _forget(conn, claim)
    return kept


def take(conn: Connection, thread: StoredThread, person: str, login: str, when: datetime, action_key: str,
         lapsed: Claim | None) -> bool:
    """Record `person`'s claim on an issue that nobody holds (`lapsed`: the claim recorded on it, which no longer
    holds, replaced); False when another claim was recorded meanwhile (by another replica)."""
    if lapsed is not None:
        _forget(conn, lapsed)
    insert = dialect_insert(conn.dialect.name)(CLAIM).values(
        platform=thread.platform, repo=thread.repo, number=thread.number, person=person, login=login,
        claimed_at=when, action_key=action_key)
    return conn.execute(insert.on_conflict_do_nothing().returning(CLAIM.c.person)).first() is not None


def release(conn: Connection, claim: Claim) -> None:
    """The holder gave the issue back."""
    _forget(conn, claim)


def _forget(conn: Connection, claim: Claim) -> None:
    conn.execute(CLAIM.delete().where(CLAIM.c.platform == claim.platform, CLAIM.c.repo == claim.repo,
                                      CLAIM.c.number == claim.number, CLAIM.c.person == claim.person,
                                      CLAIM.c.claimed_at == claim.claimed_at))
