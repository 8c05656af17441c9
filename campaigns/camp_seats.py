"""Who is in a training camp: its participants, enrolled from config or by `/campaign join NAME`, its seats
(`capacity`) and its waiting list. Beyond capacity, people wait in line (configured participants keep their seats
until the start) and are seated in order as others leave. One seat decision at a time per camp."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, select, text

from bot.config import Settings
from bot.settings.campaigns import ACCOUNT, CampSettings
from bot.store.campaign_tables import CampParticipant
from bot.store.db import dialect_insert
from campaigns.base import CampaignContext, Reply
from campaigns.camp_milestones import milestone_values, moment_text

PARTICIPANT = CampParticipant.__table__  # type: ignore[attr-defined]

SEATED = ("enrolled", "graduated")


def join(campaign: CampSettings, ctx: CampaignContext, person: str, platform: str, login: str) -> Reply:
    """`/campaign join NAME`: a seat if one is free (and nobody waits), else a place on the waiting list."""
    values: dict[str, Any] = {"name": campaign.name, "title": campaign.title}
    if not campaign.open_enrolment:
        return Reply("camp_not_open", values)
    span = ctx.window(campaign)
    if span.status(ctx.now) == "ended":
        return Reply("camp_over", values)
    lock_camp(ctx.conn, campaign)
    rows = participant_rows(ctx.conn, campaign)
    mine = next((row for row in rows if row.person == person), None)
    if mine is not None and mine.status != "left":
        return Reply("camp_already", {**values, "status": mine.status, "position": waiting_position(rows, person)})
    status = "enrolled" if _seat_free(campaign, ctx.settings, rows) else "waiting"
    changes = {"platform": platform, "login": login, "status": status, "joined_at": ctx.now, "graduated_at": None,
               "source": "command"}
    if mine is None:
        ctx.conn.execute(PARTICIPANT.insert().values(campaign=campaign.name, person=person, **changes))
    else:  # left, and back
        ctx.conn.execute(PARTICIPANT.update().where(PARTICIPANT.c.id == mine.id).values(**changes))
    if status == "enrolled":
        return Reply("camp_joined", {**values, "start": moment_text(span.start, campaign),
                                     "started": span.status(ctx.now) == "running",
                                     "milestones": milestone_values(campaign)})
    return Reply("camp_waiting", {**values, "capacity": campaign.capacity,
                                  "position": waiting_position(participant_rows(ctx.conn, campaign), person)})


def leave(campaign: CampSettings, ctx: CampaignContext, person: str, platform: str, login: str) -> Reply:
    """`/campaign leave NAME`: out of the camp or its waiting list; a seat freed goes to the first in line."""
    values: dict[str, Any] = {"name": campaign.name, "title": campaign.title}
    span = ctx.window(campaign)
    if span.status(ctx.now) == "ended":
        return Reply("camp_over", values)
    lock_camp(ctx.conn, campaign)
    rows = participant_rows(ctx.conn, campaign)
    mine = next((row for row in rows if row.person == person), None)
    if mine is None or mine.status == "left":
        return Reply("camp_not_participant", values)
    if mine.status == "graduated":
        return Reply("camp_already", {**values, "status": "graduated", "position": None})
    ctx.conn.execute(PARTICIPANT.update().where(PARTICIPANT.c.id == mine.id).values(status="left"))
    promoted = None
    if mine.status == "enrolled":
        first = next((row for row in rows if row.status == "waiting"), None)
        if first is not None:
            ctx.conn.execute(PARTICIPANT.update().where(PARTICIPANT.c.id == first.id).values(status="enrolled"))
            promoted = first.login
    return Reply("camp_left", {**values, "was": mine.status, "promoted": promoted})


def enrol_configured(campaign: CampSettings, ctx: CampaignContext) -> None:
    """Configured participants without a row: seated in config order while seats last, then in line."""
    rows = participant_rows(ctx.conn, campaign)
    known = {row.person for row in rows}
    seats = None if campaign.capacity is None else campaign.capacity - sum(r.status in SEATED for r in rows)
    new = []
    for platform, login in _configured(campaign):
        person = ctx.settings.person_for(platform, login)
        if person in known:
            continue
        known.add(person)
        seated = seats is None or seats > 0
        if seats is not None and seated:
            seats -= 1
        new.append({"campaign": campaign.name, "person": person, "platform": platform, "login": login,
                    "status": "enrolled" if seated else "waiting", "joined_at": ctx.now, "source": "config"})
    if new:
        insert = dialect_insert(ctx.conn.dialect.name)(PARTICIPANT).on_conflict_do_nothing()
        ctx.conn.execute(insert, new)


def _configured(campaign: CampSettings) -> list[tuple[str, str]]:
    return [(match[1], match[2]) for match in (ACCOUNT.match(account) for account in campaign.participants)
            if match is not None]


def _seat_free(campaign: CampSettings, settings: Settings, rows: Sequence[Row[Any]]) -> bool:
    """Whether someone joining now gets a seat: under capacity, counting the seats kept for configured
    participants not enrolled yet, and nobody waiting."""
    if any(row.status == "waiting" for row in rows):
        return False
    if campaign.capacity is None:
        return True
    known = {row.person for row in rows}
    kept = len({settings.person_for(p, login) for p, login in _configured(campaign)} - known)
    return sum(row.status in SEATED for row in rows) + kept < campaign.capacity


def waiting_position(rows: Sequence[Row[Any]], person: str) -> int | None:
    waiting = [row.person for row in rows if row.status == "waiting"]
    return waiting.index(person) + 1 if person in waiting else None


def lock_camp(conn: Connection, campaign: CampSettings) -> None:
    """One seat decision at a time per camp (SQLite's writers are one at a time already)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"camp:{campaign.name}"})


def participant_rows(conn: Connection, campaign: CampSettings) -> list[Row[Any]]:
    """Everyone who ever joined, in the order they joined (the waiting list's order)."""
    return list(conn.execute(select(PARTICIPANT).where(PARTICIPANT.c.campaign == campaign.name)
                             .order_by(PARTICIPANT.c.joined_at, PARTICIPANT.c.id)))
