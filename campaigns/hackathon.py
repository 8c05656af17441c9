"""Hackathons: tasks (issues with the task label, or the task table) that people claim with `/claim` for a while,
solve with a pull request that says `Fixes #N`, and score by the task's difficulty when it is merged in time.

Claims are rows of `hackathon_claim`, open until released (unclaimed, expired, submitted, ended); submissions are
rows of `campaign_submission`, one per task and PR, made by the PR's events (so a redelivery changes nothing
twice). The tick announces the start, the halfway mark, the last day and the end (with the final standings),
reminds claimants before their claim runs out, releases expired claims (the issue is unassigned and said to be
open again) and, at the end, all the others. Everything is decided against the effective window, which
`cobot campaign start|close` may have moved.

This module is the kind (see campaigns.base): its schedule, its tick, its standings and view. What a task is and
who holds it is `campaigns.hackathon_tasks`; `/claim` and `/unclaim` are decided by `campaigns.hackathon_claims`;
submissions are recorded from the PRs' events by `campaigns.hackathon_submissions`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, select

from bot.community import people as community
from bot.config import Settings
from bot.events import Action
from bot.settings.campaigns import HackathonSettings
from campaigns.base import At, CampaignContext, JobSpec, Window, window
from campaigns.hackathon_tasks import (
    CLAIM,
    SUBMISSION,
    hours_text,
    moment_text,
    on_task,
    open_claims,
    release_claims,
    task_list,
)

LAST_DAY = timedelta(hours=24)
STANDINGS_SHOWN = 10


# -- moments and jobs --------------------------------------------------------------------------------------------


def moments(start: datetime, end: datetime) -> list[tuple[str, datetime]]:
    """The announcements of a window, in order: start, halfway, the start of the last day (when after halfway),
    end."""
    halfway = start + (end - start) / 2
    found = [("start", start), ("halfway", halfway)]
    if end - LAST_DAY > halfway:
        found.append(("last_day", end - LAST_DAY))
    return [*found, ("end", end)]


def jobs(campaign: HackathonSettings, now: datetime) -> list[JobSpec]:
    """A wake-up at each announcement still to come (claims are reminded and expired by the periodic tick)."""
    return [JobSpec(f"campaign:{campaign.name}:{key}", At(moment))
            for key, moment in moments(campaign.start, campaign.end) if moment > now]


# -- the tick ----------------------------------------------------------------------------------------------------


def tick(campaign: HackathonSettings, ctx: CampaignContext) -> list[Action]:
    """What is due at `ctx.now`: announcements, reminders, expiries; at the end, the final results."""
    span = ctx.window(campaign)
    end = span.end or campaign.end
    status = span.status(ctx.now)
    if status == "scheduled":
        return ctx.actions
    if status == "running":
        for key, moment in moments(span.start, end)[:-1]:
            if moment <= ctx.now and ctx.once(campaign, key):
                _announce(campaign, ctx, key, span)
        _remind(campaign, ctx)
        _expire(campaign, ctx, CLAIM.c.expires_at <= ctx.now)
        return ctx.actions
    _expire(campaign, ctx, CLAIM.c.expires_at < end, running=False)  # ran out before the end, the tick came late
    release_claims(ctx.conn, end, "ended", CLAIM.c.campaign == campaign.name)
    if ctx.once(campaign, "end"):
        _announce(campaign, ctx, "end", span)
    return ctx.actions


def _announce(campaign: HackathonSettings, ctx: CampaignContext, key: str, span: Window) -> None:
    tasks = task_list(ctx.conn, ctx.settings, campaign)
    ranked = standings(ctx.conn, campaign)
    states = [task.state for task in tasks]
    ctx.announce(campaign, key, f"hackathon_{key}",
                 start=moment_text(campaign, span.start), end=moment_text(campaign, span.end or campaign.end),
                 closed_early=span.closed_early, tasks=len(tasks), done=states.count("done"),
                 open=states.count("open"), claimed=states.count("claimed"), submitted=states.count("submitted"),
                 standings=ranked[:STANDINGS_SHOWN], people=len(ranked), late=len(_late(ctx.conn, campaign)),
                 points=dict(campaign.points), default_points=campaign.default_points,
                 task_label=campaign.task_label, claim_limit=campaign.claim_limit,
                 claim_hours=hours_text(campaign.claim_ttl_hours))


def _remind(campaign: HackathonSettings, ctx: CampaignContext) -> None:
    """A comment to each claimant whose claim runs out within `remind_before_hours` (once per claim and expiry)."""
    if campaign.remind_before_hours <= 0:
        return
    due = ctx.now + timedelta(hours=campaign.remind_before_hours)
    rows = ctx.conn.execute(select(CLAIM).where(
        CLAIM.c.campaign == campaign.name, CLAIM.c.released_at.is_(None), CLAIM.c.reminded_at.is_(None),
        CLAIM.c.expires_at <= due, CLAIM.c.expires_at > ctx.now).order_by(CLAIM.c.id)).all()
    for row in rows:
        ctx.conn.execute(CLAIM.update().where(CLAIM.c.id == row.id).values(reminded_at=ctx.now))
        key = f"remind:{row.id}:{int(row.expires_at.timestamp())}"
        if ctx.once(campaign, key, person=row.person):
            ctx.comment(campaign, key, (row.platform, row.repo, row.number), False, "hackathon_reminder",
                        login=row.login, until=moment_text(campaign, row.expires_at),
                        hours=hours_text(campaign.claim_ttl_hours))


def _expire(campaign: HackathonSettings, ctx: CampaignContext, ran_out: Any, running: bool = True) -> None:
    """Release the claims that `ran_out` and unassign their claimants; while the hackathon runs and nobody else has
    claimed it since, the issue also says it is open again (after the end, there is nothing left to claim)."""
    rows = ctx.conn.execute(select(CLAIM).where(
        CLAIM.c.campaign == campaign.name, CLAIM.c.released_at.is_(None), ran_out)
        .order_by(CLAIM.c.expires_at, CLAIM.c.id)).all()
    for row in rows:
        released = ctx.conn.execute(CLAIM.update().where(  # not if renewed meanwhile
            CLAIM.c.id == row.id, CLAIM.c.released_at.is_(None), ran_out)
            .values(released_at=row.expires_at, release_reason="expired")).rowcount
        key = f"expire:{row.id}"
        if not released or not ctx.once(campaign, key, person=row.person):
            continue
        if running and not open_claims(ctx.conn, *on_task(campaign, (row.platform, row.repo, row.number))):
            ctx.comment(campaign, key, (row.platform, row.repo, row.number), False, "hackathon_expired",
                        login=row.login, at=moment_text(campaign, row.expires_at))
        ctx.act(Action(kind="unassign", key=f"campaign:{campaign.name}:{key}:unassign", platform=row.platform,
                       repo=row.repo, number=row.number, logins=(row.login,)))


# -- standings and the view --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    rank: int  # equal points share a rank: 1, 2, 2, 4
    person: str
    name: str  # a linked identity's name, else the login
    points: int
    tasks: int


def standings(conn: Connection, campaign: HackathonSettings) -> list[Standing]:
    """Scored points per person, best first (ties by name), equal points sharing a rank
    (as `bot.community.metrics.ranking`).
    """
    rows = conn.execute(select(SUBMISSION.c.person, SUBMISSION.c.points).where(
        SUBMISSION.c.campaign == campaign.name, SUBMISSION.c.status == "scored")).all()
    points: dict[str, int] = {}
    tasks: dict[str, int] = {}
    for person, earned in rows:
        points[person] = points.get(person, 0) + earned
        tasks[person] = tasks.get(person, 0) + 1
    names = {person: found.name for person, found in community.people(conn, list(points)).items()}
    ordered = sorted((person for person in points if points[person] > 0),
                     key=lambda person: (-points[person], names[person].lower(), person))
    ranked: list[Standing] = []
    for position, person in enumerate(ordered, 1):
        tied = bool(ranked) and ranked[-1].points == points[person]
        ranked.append(Standing(ranked[-1].rank if tied else position, person, names[person], points[person],
                               tasks[person]))
    return ranked


def _late(conn: Connection, campaign: HackathonSettings) -> list[Row]:
    return list(conn.execute(select(SUBMISSION).where(
        SUBMISSION.c.campaign == campaign.name, SUBMISSION.c.status == "late")
        .order_by(SUBMISSION.c.merged_at, SUBMISSION.c.id)).all())


def _participant(settings: Settings, participant: str) -> Callable[[str, str], bool]:
    """Whether a (person, login) is the participant: a person id (`github:alice`, `person:Alice`) or a login."""
    name = participant.strip().lstrip("@")
    platform, _, login = name.partition(":")
    if login and platform in ("github", "gitee"):
        people = {settings.person_for(platform, login), name.lower()}
        return lambda person, _login: person in people
    if login:
        return lambda person, _login: person == name
    people = {settings.person_for(forge, name) for forge in ("github", "gitee")}
    return lambda person, row_login: person in people or row_login.lower() == name.lower()


def view(campaign: HackathonSettings, conn: Connection, settings: Settings, now: datetime,
         participant: str | None = None) -> dict[str, Any]:
    """What `cobot campaign show` and Slack show: tasks, standings, late merges (one participant's, if named)."""
    span = window(conn, campaign)
    tasks = task_list(conn, settings, campaign)
    ranked = standings(conn, campaign)
    late = _late(conn, campaign)
    result: dict[str, Any] = {
        "name": campaign.name, "title": campaign.title, "kind": "hackathon", "status": span.status(now),
        "start": span.start.isoformat(), "end": (span.end or campaign.end).isoformat(),
        "closed_early": span.closed_early, "claim_limit": campaign.claim_limit,
    }
    if participant is not None:
        matches = _participant(settings, participant)
        claims = [row for row in conn.execute(select(CLAIM).where(CLAIM.c.campaign == campaign.name)
                                              .order_by(CLAIM.c.claimed_at, CLAIM.c.id))
                  if matches(row.person, row.login)]
        submissions = [row for row in conn.execute(select(SUBMISSION).where(SUBMISSION.c.campaign == campaign.name)
                                                   .order_by(SUBMISSION.c.submitted_at, SUBMISSION.c.id))
                       if matches(row.person, row.login)]
        theirs = {(row.platform, row.repo.lower(), row.number) for row in claims} | {
            (row.task_platform, row.task_repo.lower(), row.task_number) for row in submissions}
        tasks = [task for task in tasks if (task.platform, task.repo.lower(), task.number) in theirs]
        ranked = [row for row in ranked if matches(row.person, row.name)]
        late = [row for row in late if matches(row.person, row.login)]
        result["participant"] = {
            "who": participant, "points": sum(row.points for row in ranked),
            "rank": ranked[0].rank if ranked else None,
            "claims": [{"platform": row.platform, "repo": row.repo, "number": row.number, "login": row.login,
                        "claimed_at": row.claimed_at.isoformat(), "expires_at": row.expires_at.isoformat(),
                        "released_at": row.released_at.isoformat() if row.released_at else None,
                        "release_reason": row.release_reason} for row in claims],
            "submissions": [_submission(row) for row in submissions],
        }
    result["tasks"] = [asdict(task) for task in tasks]
    result["standings"] = [asdict(row) for row in ranked]
    result["late_merges"] = [_submission(row) for row in late]
    return result


def _submission(row: Row) -> dict[str, Any]:
    return {"task": f"{row.task_platform}:{row.task_repo}#{row.task_number}", "pr": f"{row.pr_repo}#{row.pr_number}",
            "person": row.person, "login": row.login, "status": row.status, "points": row.points,
            "submitted_at": row.submitted_at.isoformat(),
            "merged_at": row.merged_at.isoformat() if row.merged_at else None}
