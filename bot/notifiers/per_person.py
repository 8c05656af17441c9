"""How many event notifications one person's events cause: `notify.per_person_per_hour`, decided in `notify_use`.

An event notification (topic `event`) counts once, whatever the channels it goes to. Past the limit in the last hour a
person's events are not announced; the first event held back in an hour carries one notice saying so. Each decision
is recorded under a digest of the person and the notification's key: a redelivered or replayed event finds it and is
decided as it was, and what it announced has the key it had (the outbox stores it once).

The hour is cobot's clock when it decides, not a time the payload gives (some are what the person sent, such as a
commit's date): no choice of timestamps spreads one person's events over many hours. The count reads only the
`announced` and `notice` rows of the person's hour (the index leads with person and outcome), so a flood of held
events costs each decision the same. Rows older than KEPT are deleted as the person's new ones are written: a replay
within KEPT decides as the first time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select

from bot.community.people import profile_path
from bot.store.db import dialect_insert
from bot.store.tables import NotifyUse

USE = NotifyUse.__table__  # type: ignore[attr-defined]
WINDOW = timedelta(hours=1)
KEPT = timedelta(days=30)
ANNOUNCED, HELD, NOTICE = "announced", "held", "notice"


@dataclass(frozen=True, slots=True)
class Decision:
    announce: bool  # the event's notification goes out
    notice: bool  # it is held back, and the notice that the person's notifications are held back goes out instead


DECISIONS = {ANNOUNCED: Decision(True, False), HELD: Decision(False, False), NOTICE: Decision(False, True)}


def _digest(person: str, key: str) -> str:
    return hashlib.sha256(f"{person}\n{key}".encode("utf-8", "surrogatepass")).hexdigest()[:40]


def decide(conn: Connection, person: str, key: str, now: datetime, limit: int) -> Decision:
    """Whether the notification `key` about `person`'s event goes out (`limit` an hour; 0: no limit, nothing
    recorded), recorded with the decision."""
    if not limit:
        return DECISIONS[ANNOUNCED]
    digest = _digest(person, key)
    earlier = conn.execute(select(USE.c.outcome).where(USE.c.key == digest)).scalar_one_or_none()
    if earlier is not None:  # this notification again: as decided then
        return DECISIONS[earlier]
    since = now - WINDOW
    announced = conn.execute(select(func.count()).select_from(USE).where(
        USE.c.person == person, USE.c.outcome == ANNOUNCED, USE.c.decided_at > since)).scalar_one()
    outcome = ANNOUNCED
    if announced >= limit:
        told = conn.execute(select(USE.c.key).where(
            USE.c.person == person, USE.c.outcome == NOTICE, USE.c.decided_at > since).limit(1)).first()
        outcome = HELD if told else NOTICE
    conn.execute(USE.delete().where(USE.c.person == person, USE.c.outcome.in_(DECISIONS),
                                    USE.c.decided_at <= now - KEPT))
    conn.execute(dialect_insert(conn.dialect.name)(USE).values(key=digest, person=person, outcome=outcome,
                                                               decided_at=now).on_conflict_do_nothing())
    return DECISIONS[outcome]


def notice_key(person: str, key: str) -> str:
    """The outbox key of the notice that `person`'s notifications are held back, carried by notification `key`."""
    return f"event-held:{_digest(person, key)}"


def contributor_url(public_url: str, person: str) -> str:
    """The dashboard's page of `person`; empty without a public URL."""
    return public_url + profile_path(person) if public_url else ""
