"""Leaderboards: a ranking posted every week, every month, or once at the end of a campaign.

People are ranked by activity (OpenDigger's, see bot.community.metrics) or by the points they scored in a hackathon
(`points_from`), over the period just ended; bots never count and maintainers may be left out. Each post is made
once per period (the ledger), shows each person's rank in the previous post beside the new one, and is kept
(`leaderboard_entry`) so that the next post can.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from bot.community import people as community
from bot.community.metrics import PersonActivity, activity, ranking
from bot.config import Settings
from bot.events import Action
from bot.routing.router import Router
from bot.settings.campaigns import LeaderboardSettings
from bot.store.campaign_tables import CampaignSubmission, LeaderboardEntry
from bot.store.db import dialect_insert
from campaigns.base import (
    At,
    CampaignContext,
    JobSpec,
    Monthly,
    Period,
    Weekly,
    monthly_periods,
    weekly_periods,
    window,
)

router = Router("leaderboard")

ENTRY = LeaderboardEntry.__table__  # type: ignore[attr-defined]
SUBMISSION = CampaignSubmission.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Line:
    rank: int
    person: str
    name: str
    score: float
    previous: int | None  # the rank in the previous post (None: not in it)


def jobs(campaign: LeaderboardSettings, now: datetime) -> list[JobSpec]:
    name = f"campaign:{campaign.name}:post"
    if campaign.period == "weekly":
        return [JobSpec(name, Weekly(campaign.post_weekday, campaign.post_time, campaign.timezone))]
    if campaign.period == "monthly":
        return [JobSpec(name, Monthly(1, campaign.post_time, campaign.timezone))]
    assert campaign.end is not None
    return [JobSpec(name, At(campaign.end))] if campaign.end > now else []


def periods(campaign: LeaderboardSettings, start: datetime, end: datetime | None, now: datetime) -> list[Period]:
    """The periods whose post is due by `now`, oldest first (see `campaigns.base.weekly_periods`)."""
    if campaign.period == "campaign":
        return [Period("campaign", start, end)] if end is not None and end <= now else []
    until = now if end is None else min(now, end)
    if campaign.period == "weekly":
        return weekly_periods(start, until, campaign.post_weekday, campaign.post_time, campaign.zone)
    return monthly_periods(start, until, campaign.post_time, campaign.zone)


def scores(conn: Connection, settings: Settings, campaign: LeaderboardSettings, start: datetime, end: datetime
           ) -> dict[str, PersonActivity]:
    """Each person's score over [start, end): activity, or points scored in the hackathon `points_from`."""
    exclude = settings.maintainer_persons() if campaign.exclude_maintainers else set()
    if campaign.by == "activity":
        return activity(conn, start, end, exclude=exclude)
    rows = conn.execute(select(SUBMISSION.c.person, func.sum(SUBMISSION.c.points), func.count()).where(
        SUBMISSION.c.campaign == campaign.points_from, SUBMISSION.c.status == "scored",
        SUBMISSION.c.merged_at >= start, SUBMISSION.c.merged_at < end).group_by(SUBMISSION.c.person))
    return {person: PersonActivity(person, float(points), {"tasks": count})
            for person, points, count in rows if person not in exclude}


def _lines(conn: Connection, settings: Settings, campaign: LeaderboardSettings, period: Period,
           previous: dict[str, int]) -> list[Line]:
    ranked = ranking(scores(conn, settings, campaign, period.start, period.end))[:campaign.size]
    found = community.people(conn, [row.person for row in ranked])
    return [Line(row.rank, row.person, found[row.person].name, row.score, previous.get(row.person))
            for row in ranked]


def _posted(conn: Connection, campaign: LeaderboardSettings, before: str | None = None) -> dict[str, int]:
    """The ranks of the latest post (before the period `before`, if given)."""
    query = select(ENTRY.c.period).where(ENTRY.c.campaign == campaign.name)
    if before is not None:
        query = query.where(ENTRY.c.period < before)
    latest = conn.execute(query.order_by(ENTRY.c.period.desc()).limit(1)).scalar()
    if latest is None:
        return {}
    rows = conn.execute(select(ENTRY.c.person, ENTRY.c.rank).where(ENTRY.c.campaign == campaign.name,
                                                                   ENTRY.c.period == latest))
    return {person: rank for person, rank in rows}


def tick(campaign: LeaderboardSettings, ctx: CampaignContext) -> list[Action]:
    span = ctx.window(campaign)
    for period in periods(campaign, span.start, span.end, ctx.now):
        if not ctx.once(campaign, f"post:{period.key}"):
            continue
        lines = _lines(ctx.conn, ctx.settings, campaign, period, _posted(ctx.conn, campaign, before=period.key))
        if lines:
            insert = dialect_insert(ctx.conn.dialect.name)(ENTRY).on_conflict_do_nothing()
            ctx.conn.execute(insert, [{"campaign": campaign.name, "period": period.key, "person": line.person,
                                       "rank": line.rank, "score": line.score, "posted_at": ctx.now}
                                      for line in lines])
        ctx.announce(campaign, f"post:{period.key}", "leaderboard_post", period=period.key,
                     since=period.start.astimezone(campaign.zone).strftime("%Y-%m-%d"),
                     until=(period.end - timedelta(seconds=1)).astimezone(campaign.zone).strftime("%Y-%m-%d"),
                     by=campaign.by, lines=[line.__dict__ for line in lines])
    return ctx.actions


def view(campaign: LeaderboardSettings, conn: Connection, settings: Settings, now: datetime,
         participant: str | None = None) -> dict[str, Any]:
    """The standings so far in the current period, with the ranks of the latest post beside them."""
    span = window(conn, campaign)
    done = periods(campaign, span.start, span.end, now)
    opened = done[-1].end if done and campaign.period != "campaign" else span.start
    current_end = now if span.end is None else min(now, span.end)
    current = Period("current", opened, max(current_end, opened))
    lines = _lines(conn, settings, campaign, current, _posted(conn, campaign))
    if participant is not None:
        wanted = participant.lower()
        lines = [line for line in lines if wanted in (line.person.lower(), line.name.lower())]
    return {"name": campaign.name, "title": campaign.title, "kind": campaign.kind, "status": span.status(now),
            "start": span.start.isoformat(), "end": span.end.isoformat() if span.end else None,
            "period": campaign.period, "by": campaign.by, "since": opened.isoformat(),
            "posts": [period.key for period in done],
            "standings": [line.__dict__ for line in lines]}
