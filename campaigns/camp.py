"""Training camps: participants enrolled from config or by `/campaign join NAME`, milestones met as they work,
weekly nudges for those behind, and graduation with a badge.

Beyond `capacity`, people wait in line (configured participants keep their seats until the start) and are seated
in order as others leave. Progress needs no handler: it is measured from the store (the activity log, threads)
over the camp's effective window, in its repos, so a tick run late decides what a punctual one would have. Each
tick records the milestones newly met, graduates those who met them all (the badge, announced), nudges once a
week those behind (a milestone overdue or due within a week and not met: a comment on `home` naming them and a
notification), and at the end announces who graduated. After that, the results stand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, and_, func, select, text

from bot.badges.rules import Award, UnknownBadge, announcement, find_badge, public_assertion, record_award
from bot.config import Settings
from bot.events import Action
from bot.routing.router import Router
from bot.settings.campaigns import ACCOUNT, CRITERIA, CampSettings, weekly_times
from bot.store.db import dialect_insert
from bot.store.tables import Activity, CampMilestoneMet, CampParticipant, Thread
from campaigns.base import At, CampaignContext, JobSpec, Reply, Weekly, Window, window

router = Router("camp")  # no routes: progress is measured by ticks

PARTICIPANT = CampParticipant.__table__  # type: ignore[attr-defined]
MET = CampMilestoneMet.__table__  # type: ignore[attr-defined]
ACTIVITY = Activity.__table__  # type: ignore[attr-defined]
THREAD = Thread.__table__  # type: ignore[attr-defined]

SEATED = ("enrolled", "graduated")
LOGGED = ("issue.opened", "pr.opened", "review.submitted", "comment.created")  # counted from the activity log
SOON = timedelta(days=7)  # a milestone due within this long, and not met, puts its participant behind


@dataclass(frozen=True)
class CriterionProgress:
    event: str
    reached: int
    needed: int

    @property
    def done(self) -> bool:
        return self.reached >= self.needed


@dataclass(frozen=True)
class MilestoneProgress:
    id: str
    title: str
    due: datetime
    met_at: datetime | None  # when a tick saw it met (None: not yet)
    criteria: list[CriterionProgress]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "due": self.due.isoformat(),
                "met_at": self.met_at.isoformat() if self.met_at else None,
                "criteria": [{"event": c.event, "reached": c.reached, "needed": c.needed} for c in self.criteria]}


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
    _lock(ctx.conn, campaign)
    running = span.status(ctx.now) == "running"
    _enrol_configured(campaign, ctx)
    rows = _participants(ctx.conn, campaign)
    if ctx.once(campaign, "start") and running:
        ctx.announce(campaign, "start", "camp_start", start=_when(span.start, campaign),
                     end=_when(_end(span), campaign), milestones=_milestone_values(campaign),
                     enrolled=[r.login for r in rows if r.status in SEATED],
                     waiting=[r.login for r in rows if r.status == "waiting"], open_enrolment=campaign.open_enrolment,
                     capacity=campaign.capacity)
    enrolled = [row for row in rows if row.status == "enrolled"]
    standings = _progress(ctx.conn, campaign, [row.person for row in enrolled], span, ctx.now)
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
        late = _behind(standings[row.person], ctx.now)
        if late:
            behind.append({"login": row.login, "person": row.person, "milestones": [
                {"title": m.title, "due": _when(m.due, campaign), "overdue": m.due <= ctx.now,
                 "needs": [{"event": c.event, "reached": c.reached, "needed": c.needed}
                           for c in m.criteria if not c.done]} for m in late]})
    if not ctx.once(campaign, week, behind=[item["person"] for item in behind]) or not behind:
        return
    home = campaign.home_thread()
    if home is not None:
        ctx.comment(campaign, f"{week}:home", home, False, "camp_nudge_comment", behind=behind)
    ctx.announce(campaign, week, "camp_nudge", behind=behind, home=campaign.home or "")


def _announce_end(campaign: CampSettings, ctx: CampaignContext) -> None:
    rows = _participants(ctx.conn, campaign)
    met = _met(ctx.conn, campaign)
    total = len(campaign.milestones)
    graduated = sorted((r for r in rows if r.status == "graduated"), key=lambda r: (r.graduated_at, r.id))
    ctx.announce(campaign, "end", "camp_end", graduated=[r.login for r in graduated],
                 not_graduated=[{"login": r.login, "met": f"{len(met.get(r.person, {}))}/{total}"}
                                for r in rows if r.status == "enrolled"])


# -- joining and leaving -----------------------------------------------------------------------------------------


def join(campaign: CampSettings, ctx: CampaignContext, person: str, platform: str, login: str) -> Reply:
    """`/campaign join NAME`: a seat if one is free (and nobody waits), else a place on the waiting list."""
    values: dict[str, Any] = {"name": campaign.name, "title": campaign.title}
    if not campaign.open_enrolment:
        return Reply("camp_not_open", values)
    span = ctx.window(campaign)
    if span.status(ctx.now) == "ended":
        return Reply("camp_over", values)
    _lock(ctx.conn, campaign)
    rows = _participants(ctx.conn, campaign)
    mine = next((row for row in rows if row.person == person), None)
    if mine is not None and mine.status != "left":
        return Reply("camp_already", {**values, "status": mine.status, "position": _position(rows, person)})
    status = "enrolled" if _seat_free(campaign, ctx.settings, rows) else "waiting"
    changes = {"platform": platform, "login": login, "status": status, "joined_at": ctx.now, "graduated_at": None,
               "source": "command"}
    if mine is None:
        ctx.conn.execute(PARTICIPANT.insert().values(campaign=campaign.name, person=person, **changes))
    else:  # left, and back
        ctx.conn.execute(PARTICIPANT.update().where(PARTICIPANT.c.id == mine.id).values(**changes))
    if status == "enrolled":
        return Reply("camp_joined", {**values, "start": _when(span.start, campaign),
                                     "started": span.status(ctx.now) == "running",
                                     "milestones": _milestone_values(campaign)})
    return Reply("camp_waiting", {**values, "capacity": campaign.capacity,
                                  "position": _position(_participants(ctx.conn, campaign), person)})


def leave(campaign: CampSettings, ctx: CampaignContext, person: str, platform: str, login: str) -> Reply:
    """`/campaign leave NAME`: out of the camp or its waiting list; a seat freed goes to the first in line."""
    values: dict[str, Any] = {"name": campaign.name, "title": campaign.title}
    span = ctx.window(campaign)
    if span.status(ctx.now) == "ended":
        return Reply("camp_over", values)
    _lock(ctx.conn, campaign)
    rows = _participants(ctx.conn, campaign)
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


def _enrol_configured(campaign: CampSettings, ctx: CampaignContext) -> None:
    """Configured participants without a row: seated in config order while seats last, then in line."""
    rows = _participants(ctx.conn, campaign)
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


def _position(rows: Sequence[Row[Any]], person: str) -> int | None:
    waiting = [row.person for row in rows if row.status == "waiting"]
    return waiting.index(person) + 1 if person in waiting else None


def _lock(conn: Connection, campaign: CampSettings) -> None:
    """One seat decision at a time per camp (SQLite's writers are one at a time already)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"camp:{campaign.name}"})


# -- progress ----------------------------------------------------------------------------------------------------


def progress(conn: Connection, campaign: CampSettings, person: str, now: datetime) -> list[MilestoneProgress]:
    """Each milestone for one person: its due moment, when it was met, each criterion's count reached and needed."""
    return _progress(conn, campaign, [person], window(conn, campaign), now)[person]


def _progress(conn: Connection, campaign: CampSettings, persons: list[str], span: Window, now: datetime
              ) -> dict[str, list[MilestoneProgress]]:
    until = now if span.end is None else min(now, span.end)
    counts = _counts(conn, campaign, persons, span.start, until)
    met = _met(conn, campaign, persons)
    return {person: [MilestoneProgress(m.id, m.title, m.due, met.get(person, {}).get(m.id),
                                       [CriterionProgress(c.event, counts[person][c.event], c.count)
                                        for c in m.criteria]) for m in campaign.milestones]
            for person in persons}


def _counts(conn: Connection, campaign: CampSettings, persons: list[str], since: datetime, until: datetime
            ) -> dict[str, dict[str, int]]:
    """Each person's count of every criterion's event in [since, until), in the camp's repos."""
    counts = {person: dict.fromkeys(CRITERIA, 0) for person in persons}
    if not persons or until <= since:
        return counts
    a, t = ACTIVITY.c, THREAD.c
    in_window = [a.occurred_at >= since, a.occurred_at < until, a.person.in_(persons)]
    logged = (select(a.person, a.platform, a.repo, a.kind, func.count()).where(*in_window, a.kind.in_(LOGGED))
              .group_by(a.person, a.platform, a.repo, a.kind))
    for person, platform, repo, kind, count in conn.execute(logged):
        if campaign.covers(platform, repo):
            counts[person][kind] += count
    merged = (select(t.author_person, t.platform, t.repo, func.count())
              .where(t.is_pr.is_(True), t.merged_at >= since, t.merged_at < until, t.author_person.in_(persons))
              .group_by(t.author_person, t.platform, t.repo))
    answered = (select(a.person, a.platform, a.repo, func.count())
                .select_from(ACTIVITY.join(THREAD, and_(t.platform == a.platform, t.repo == a.repo,
                                                        t.number == a.number, t.is_pr.is_(False))))
                .where(*in_window, a.kind == "comment.created", t.author_person != a.person)
                .group_by(a.person, a.platform, a.repo))
    for event, query in (("pr.merged", merged), ("issue.answered", answered)):
        for person, platform, repo, count in conn.execute(query):
            if campaign.covers(platform, repo):
                counts[person][event] += count
    return counts


def _met(conn: Connection, campaign: CampSettings, persons: list[str] | None = None
         ) -> dict[str, dict[str, datetime]]:
    query = select(MET.c.person, MET.c.milestone, MET.c.met_at).where(MET.c.campaign == campaign.name)
    if persons is not None:
        query = query.where(MET.c.person.in_(persons))
    found: dict[str, dict[str, datetime]] = {}
    for person, milestone, met_at in conn.execute(query):
        found.setdefault(person, {})[milestone] = met_at
    return found


def _behind(milestones: list[MilestoneProgress], now: datetime) -> list[MilestoneProgress]:
    """The milestones not met that are overdue or due within a week."""
    return [m for m in milestones if m.met_at is None and m.due <= now + SOON]


# -- what is shown -----------------------------------------------------------------------------------------------


def view(campaign: CampSettings, conn: Connection, settings: Settings, now: datetime,
         participant: str | None = None) -> dict[str, Any]:
    """The camp, its participants (milestones met, behind or not) and waiting list; with `participant` (a person
    id or a login), that person's progress in full. Raises UnknownParticipant."""
    span = window(conn, campaign)
    rows = _participants(conn, campaign)
    met = _met(conn, campaign)
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
                                "status": row.status, "position": _position(rows, row.person),
                                "progress": [m.as_dict() for m in progress(conn, campaign, row.person, now)]}
    return found


def _find(rows: Sequence[Row[Any]], settings: Settings, name: str) -> Row[Any] | None:
    name = name.strip().lstrip("@")
    prefix, _, login = name.rpartition(":")
    person = settings.person_for(prefix, login) if prefix in ("github", "gitee") else name
    return next((row for row in rows if row.person == person), None) or next(
        (row for row in rows if row.login.lower() == name.lower()), None)


def _participants(conn: Connection, campaign: CampSettings) -> list[Row[Any]]:
    """Everyone who ever joined, in the order they joined (the waiting list's order)."""
    return list(conn.execute(select(PARTICIPANT).where(PARTICIPANT.c.campaign == campaign.name)
                             .order_by(PARTICIPANT.c.joined_at, PARTICIPANT.c.id)))


def _end(span: Window) -> datetime:
    assert span.end is not None  # a camp always has an end
    return span.end


def _when(moment: datetime, campaign: CampSettings) -> str:
    return f"{moment.astimezone(campaign.zone):%Y-%m-%d %H:%M} ({campaign.timezone})"


def _milestone_values(campaign: CampSettings) -> list[dict[str, Any]]:
    return [{"id": m.id, "title": m.title, "due": _when(m.due, campaign),
             "criteria": [{"event": c.event, "count": c.count} for c in m.criteria]}
            for m in campaign.milestones]

