"""A training camp's milestones: each participant's progress measured from the store (the activity log, threads) over
the camp's effective window, in its repos, so that a tick run late decides what a punctual one would have; the
milestones recorded as met; who is behind; and how milestones and moments are written in messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, select

from bot.settings.campaigns import CRITERIA, CampSettings
from bot.store.campaign_tables import CampMilestoneMet
from bot.store.community_tables import Activity, Thread
from campaigns.base import Window

MET = CampMilestoneMet.__table__  # type: ignore[attr-defined]
ACTIVITY = Activity.__table__  # type: ignore[attr-defined]
THREAD = Thread.__table__  # type: ignore[attr-defined]

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


def measure(conn: Connection, campaign: CampSettings, persons: list[str], span: Window, now: datetime
              ) -> dict[str, list[MilestoneProgress]]:
    until = now if span.end is None else min(now, span.end)
    counts = _counts(conn, campaign, persons, span.start, until)
    met = met_milestones(conn, campaign, persons)
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


def met_milestones(conn: Connection, campaign: CampSettings, persons: list[str] | None = None
         ) -> dict[str, dict[str, datetime]]:
    query = select(MET.c.person, MET.c.milestone, MET.c.met_at).where(MET.c.campaign == campaign.name)
    if persons is not None:
        query = query.where(MET.c.person.in_(persons))
    found: dict[str, dict[str, datetime]] = {}
    for person, milestone, met_at in conn.execute(query):
        found.setdefault(person, {})[milestone] = met_at
    return found


def falling_behind(milestones: list[MilestoneProgress], now: datetime) -> list[MilestoneProgress]:
    """The milestones not met that are overdue or due within a week."""
    return [m for m in milestones if m.met_at is None and m.due <= now + SOON]


def moment_text(moment: datetime, campaign: CampSettings) -> str:
    return f"{moment.astimezone(campaign.zone):%Y-%m-%d %H:%M} ({campaign.timezone})"


def milestone_values(campaign: CampSettings) -> list[dict[str, Any]]:
    return [{"id": m.id, "title": m.title, "due": moment_text(m.due, campaign),
             "criteria": [{"event": c.event, "count": c.count} for c in m.criteria]}
            for m in campaign.milestones]
