"""Training camps: participants enrolled from config or by `/campaign join NAME`, milestones met as they work,
weekly nudges for those behind, and graduation with a badge.

Beyond `capacity`, people wait in line (configured participants keep their seats until the start) and are seated
in order as others leave. Progress needs no handler: it is measured from the store (the activity log, threads)
over the camp's effective window, in its repos, so a tick run late decides what a punctual one would have. Each
tick records the milestones newly met, graduates those who met them all (the badge, announced), nudges once a
week those behind (a milestone overdue or due within a week and not met: a comment on `home` naming them and a
notification), and at the end announces who graduated. After that, the results stand.

This module is the kind (see campaigns.base): its schedule, its tick, its view. Seats and the waiting list are
`campaigns.camp_seats`; progress is measured by `campaigns.camp_milestones`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row

from bot.badges.awards import Award, announcement, public_assertion, record_award
from bot.badges.rules import UnknownBadge, find_badge
from bot.config import Settings
from bot.events import Action
from bot.routing.router import Router
from bot.settings.campaigns import CampSettings, weekly_times
from bot.store.db import dialect_insert
from campaigns.base import At, CampaignContext, JobSpec, Weekly, Window, window
from campaigns.camp_milestones import (
    MET,
    SOON,
    MilestoneProgress,
    falling_behind,
    measure,
    met_milestones,
    milestone_values,
    moment_text,
)
from campaigns.camp_seats import PARTICIPANT, SEATED, enrol_configured, lock_camp, participant_rows, waiting_position

router = Router("camp")  # no routes: progress is measured by ticks


class UnknownParticipant(LookupError):
    def __init__(self, name: str, campaign: str) -> None:
        super().__init__(f"{name!r} is not a participant of {campaign!r}")


# -- the schedule and the tick -----------------------------------------------------------------------------------


def jobs(campaign: CampSettings, now: datetime) -> list[JobSpec]:
    """The start, each milestone's due moment and the end (those to come), and the weekly nudge."""
    prefix = f"campaign:{campaign.name}"
    moments = [("start", campaign.start), *((f"due:{m.id}", m.due) for m in campaign.milestones),
               ("end", campaign.end)]
    specs = [JobSpec(f"{prefix}:{what}", At(moment)) for what, moment in moments if moment > now]
    if campaign.end > now:
        specs.append(JobSpec(f"{prefix}:nudge",
                             Weekly(campaign.nudge_weekday, campaign.nudge_time, campaign.timezone)))
    return specs


def tick(campaign: CampSettings, ctx: CampaignContext) -> list[Action]:
    span = ctx.window(campaign)
    if ctx.now < span.start or ctx.happened(campaign, "end"):
        return ctx.actions
    lock_camp(ctx.conn, campaign)
    running = span.status(ctx.now) == "running"
    enrol_configured(campaign, ctx)
    rows = participant_rows(ctx.conn, campaign)
    if ctx.once(campaign, "start") and running:
        ctx.announce(campaign, "start", "camp_start", start=moment_text(span.start, campaign),
                     end=moment_text(_end(span), campaign), milestones=milestone_values(campaign),
                     enrolled=[r.login for r in rows if r.status in SEATED],
                     waiting=[r.login for r in rows if r.status == "waiting"], open_enrolment=campaign.open_enrolment,
                     capacity=campaign.capacity)
    enrolled = [row for row in rows if row.status == "enrolled"]
    standings = measure(ctx.conn, campaign, [row.person for row in enrolled], span, ctx.now)
    for row in enrolled:
        _record_met(campaign, ctx, row.person, standings[row.person])
    for row in enrolled:
        if all(m.met_at is not None for m in standings[row.person]):
            _graduate(campaign, ctx, row)
    if running:
        _nudge(campaign, ctx, span, enrolled, standings)
    if span.status(ctx.now) == "ended" and ctx.once(campaign, "end"):
        _announce_end(campaign, ctx)
    return ctx.actions


def _record_met(campaign: CampSettings, ctx: CampaignContext, person: str, milestones: list[MilestoneProgress]
                ) -> None:
    """Milestones whose criteria are all reached, recorded once (at this tick's time); `milestones` updated."""
    for index, milestone in enumerate(milestones):
        if milestone.met_at is None and all(c.done for c in milestone.criteria):
            insert = dialect_insert(ctx.conn.dialect.name)(MET).values(
                campaign=campaign.name, person=person, milestone=milestone.id, met_at=ctx.now)
            ctx.conn.execute(insert.on_conflict_do_nothing())
            milestones[index] = MilestoneProgress(milestone.id, milestone.title, milestone.due, ctx.now,
                                                  milestone.criteria)


def _graduate(campaign: CampSettings, ctx: CampaignContext, row: Row[Any]) -> None:
    if not ctx.once(campaign, f"graduated:{row.person}"):
        return
    ctx.conn.execute(PARTICIPANT.update().where(PARTICIPANT.c.id == row.id, PARTICIPANT.c.status == "enrolled")
                     .values(status="graduated", graduated_at=ctx.now))
    badge_values: dict[str, str] = {}
    try:
        badge = find_badge(ctx.settings.badges, campaign.badge)
    except UnknownBadge:  # config names a badge the catalogue lacks: graduated all the same
        badge = None
    if badge is not None:
        award = Award(badge=badge, person=row.person, login=row.login, platform=row.platform,
                      awarded_by=f"campaign:{campaign.name}", when=ctx.now, reason=campaign.title)
        if record_award(ctx.conn, award):  # new (a badge held from another camp is not earned again)
            ctx.act(announcement(award, public_assertion(ctx.settings, award)))
            badge_values = {"badge_en": badge.name_in("en"), "badge_zh": badge.name_in("zh")}
    ctx.announce(campaign, f"graduated:{row.person}", "camp_graduated", login=row.login,
                 badge_en=badge_values.get("badge_en", ""), badge_zh=badge_values.get("badge_zh", ""))


def _nudge(campaign: CampSettings, ctx: CampaignContext, span: Window, enrolled: list[Row[Any]],
           standings: dict[str, list[MilestoneProgress]]) -> None:
    """The latest nudge moment passed (a week missed entirely is not made up for), decided once."""
    moments = [moment for moment in weekly_times(span.start, ctx.now, campaign.nudge_weekday, campaign.nudge_time,
                                                 campaign.zone) if span.contains(moment)]
    if not moments:
        return
    week = f"nudge:{moments[-1].astimezone(campaign.zone):%Y-%m-%d}"
    behind = []
    for row in enrolled:
        late = falling_behind(standings[row.person], ctx.now)
        if late:
            behind.append({"login": row.login, "person": row.person, "milestones": [
                {"title": m.title, "due": moment_text(m.due, campaign), "overdue": m.due <= ctx.now,
                 "needs": [{"event": c.event, "reached": c.reached, "needed": c.needed}
                           for c in m.criteria if not c.done]} for m in late]})
    if not ctx.once(campaign, week, behind=[item["person"] for item in behind]) or not behind:
        return
    home = campaign.home_thread()
    if home is not None:
        ctx.comment(campaign, f"{week}:home", home, False, "camp_nudge_comment", behind=behind)
    ctx.announce(campaign, week, "camp_nudge", behind=behind, home=campaign.home or "")


def _announce_end(campaign: CampSettings, ctx: CampaignContext) -> None:
    rows = participant_rows(ctx.conn, campaign)
    met = met_milestones(ctx.conn, campaign)
    total = len(campaign.milestones)
    graduated = sorted((r for r in rows if r.status == "graduated"), key=lambda r: (r.graduated_at, r.id))
    ctx.announce(campaign, "end", "camp_end", graduated=[r.login for r in graduated],
                 not_graduated=[{"login": r.login, "met": f"{len(met.get(r.person, {}))}/{total}"}
                                for r in rows if r.status == "enrolled"])


# -- what is shown -----------------------------------------------------------------------------------------------


def progress(conn: Connection, campaign: CampSettings, person: str, now: datetime) -> list[MilestoneProgress]:
    """Each milestone for one person: its due moment, when it was met, each criterion's count reached and needed."""
    return measure(conn, campaign, [person], window(conn, campaign), now)[person]


def view(campaign: CampSettings, conn: Connection, settings: Settings, now: datetime,
         participant: str | None = None) -> dict[str, Any]:
    """The camp, its participants (milestones met, behind or not) and waiting list; with `participant` (a person
    id or a login), that person's progress in full. Raises UnknownParticipant."""
    span = window(conn, campaign)
    rows = participant_rows(conn, campaign)
    met = met_milestones(conn, campaign)
    total = len(campaign.milestones)

    def behind(row: Row[Any]) -> bool:
        done = met.get(row.person, {})
        return row.status == "enrolled" and any(m.id not in done and m.due <= now + SOON
                                                for m in campaign.milestones)

    found: dict[str, Any] = {
        "name": campaign.name, "title": campaign.title, "kind": campaign.kind, "status": span.status(now),
        "start": span.start.isoformat(), "end": _end(span).isoformat(), "capacity": campaign.capacity,
        "open_enrolment": campaign.open_enrolment, "home": campaign.home,
        "milestones": [{"id": m.id, "title": m.title, "due": m.due.isoformat(),
                        "criteria": [{"event": c.event, "count": c.count} for c in m.criteria]}
                       for m in campaign.milestones],
        "participants": [{"person": r.person, "login": r.login, "platform": r.platform, "status": r.status,
                          "source": r.source, "milestones_met": f"{len(met.get(r.person, {}))}/{total}",
                          "behind": behind(r), "joined_at": r.joined_at.isoformat(),
                          "graduated_at": r.graduated_at.isoformat() if r.graduated_at else None}
                         for r in rows if r.status != "waiting"],
        "waiting": [{"position": index, "person": r.person, "login": r.login, "platform": r.platform,
                     "joined_at": r.joined_at.isoformat()}
                    for index, r in enumerate((r for r in rows if r.status == "waiting"), 1)],
    }
    if participant is not None:
        row = _find(rows, settings, participant)
        if row is None:
            raise UnknownParticipant(participant, campaign.name)
        found["participant"] = {"person": row.person, "login": row.login, "platform": row.platform,
                                "status": row.status, "position": waiting_position(rows, row.person),
                                "progress": [m.as_dict() for m in progress(conn, campaign, row.person, now)]}
    return found


def _find(rows: Sequence[Row[Any]], settings: Settings, name: str) -> Row[Any] | None:
    name = name.strip().lstrip("@")
    prefix, _, login = name.rpartition(":")
    person = settings.person_for(prefix, login) if prefix in ("github", "gitee") else name
    return next((row for row in rows if row.person == person), None) or next(
        (row for row in rows if row.login.lower() == name.lower()), None)


def _end(span: Window) -> datetime:
    assert span.end is not None  # a camp always has an end
    return span.end
