"""The weekly community digest: last week in numbers, for the community or one repo.

What it says: headline numbers beside last week's; the newcomers, by name; the pull requests merged; the most
active contributors (OpenDigger activity); issues and PRs waiting for a first response longer than
`response_hours`; open PRs without news for `stale_days`; the standings of running campaigns; the badges
awarded; CHAOSS health metrics; and a chart of the week's activity (a PNG drawn with matplotlib). It is rendered
from zh and en templates as Markdown for chat and as HTML + plain text for e-mail (the chart inline), sent where
`[notify]` routes the topic `digest` (a repo digest carries its repo, so rules can filter on it), once per week
(the ledger): a tick run twice, late or after a restart never sends a week twice.
"""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, select

from bot.community import metrics
from bot.community import people as community
from bot.config import Settings
from bot.events import Action
from bot.messages.render import render_html, render_message
from bot.routing.router import Router
from bot.settings.campaigns import CampSettings, DigestSettings, HackathonSettings, LeaderboardSettings
from bot.store.community_tables import Activity, BadgeAward, Milestone, Thread
from campaigns.base import CampaignContext, JobSpec, Period, Preparation, Weekly, weekly_periods, window
from campaigns.digest_chart import CHART_GROUPS as CHART_GROUPS  # what the chart stacks (the dashboard's too)
from campaigns.digest_chart import chart_days, chart_path, draw, for_the_digest, kept

router = Router("digest")  # no routes: a digest is written by ticks

ACTIVITY = Activity.__table__  # type: ignore[attr-defined]
THREAD = Thread.__table__  # type: ignore[attr-defined]
MILESTONE = Milestone.__table__  # type: ignore[attr-defined]
BADGE_AWARD = BadgeAward.__table__  # type: ignore[attr-defined]

CHART_NAME = "activity.png"


@dataclass(frozen=True)
class Number:
    name: str  # contributors, new_contributors, issues_opened, prs_opened, prs_merged, comments
    value: int
    previous: int

    @property
    def change(self) -> int:
        return self.value - self.previous


@dataclass
class Digest:
    title: str
    scope: str  # "community" or github:owner/repo
    community: str
    since: datetime
    until: datetime
    numbers: list[Number]
    newcomers: list[dict[str, Any]]
    merged: list[dict[str, Any]]
    top: list[dict[str, Any]]
    waiting: list[dict[str, Any]]
    stale: list[dict[str, Any]]
    campaigns: list[dict[str, Any]]
    badges: list[dict[str, Any]]
    health: dict[str, Any]
    days: list[tuple[str, dict[str, int]]]  # (YYYY-MM-DD, counts by chart group)
    more_merged: int = 0
    chart_url: str | None = None
    response_hours: float = 48.0
    stale_days: int = 14
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        found = asdict(self)
        found["since"], found["until"] = self.since.isoformat(), self.until.isoformat()
        found["numbers"] = [{**asdict(n), "change": n.change} for n in self.numbers]
        return found


# -- the numbers --------------------------------------------------------------------------------------------------


def _where_repo(table: Any, repo: tuple[str, str] | None) -> list[Any]:
    return [] if repo is None else [table.c.platform == repo[0], table.c.repo == repo[1]]


def _numbers(conn: Connection, since: datetime, until: datetime, repo: tuple[str, str] | None) -> dict[str, Any]:
    """The headline numbers of a window, and its health metrics (under "health")."""
    human = [ACTIVITY.c.is_bot.is_(False), *_where_repo(ACTIVITY, repo)]
    window_ = [ACTIVITY.c.occurred_at >= since, ACTIVITY.c.occurred_at < until]
    kinds = dict(conn.execute(select(ACTIVITY.c.kind, func.count()).where(*human, *window_)
                              .group_by(ACTIVITY.c.kind)).all())
    contributors = conn.execute(select(func.count(ACTIVITY.c.person.distinct())).where(
        *human, *window_, ACTIVITY.c.kind.in_(community.CONTRIBUTION_KINDS))).scalar_one()
    merged = conn.execute(select(func.count()).select_from(THREAD).where(
        THREAD.c.is_pr.is_(True), THREAD.c.merged_at >= since, THREAD.c.merged_at < until,
        metrics.human_author(), *_where_repo(THREAD, repo))).scalar_one()
    health = metrics.health(conn, since, until, repo=repo)
    return {"contributors": contributors, "new_contributors": health.new_contributors,
            "issues_opened": kinds.get("issue.opened", 0), "prs_opened": kinds.get("pr.opened", 0),
            "prs_merged": merged, "comments": kinds.get("comment.created", 0) + kinds.get("comment.diff", 0),
            "health": health}


def _newcomers(conn: Connection, since: datetime, until: datetime, repo: tuple[str, str] | None
               ) -> list[dict[str, Any]]:
    """First issues and first PRs of the week (community-wide firsts; a repo digest: the repo's firsts)."""
    scope = "community" if repo is None else f"repo:{repo[0]}:{repo[1].lower()}"
    rows = conn.execute(
        select(MILESTONE.c.person, MILESTONE.c.kind, MILESTONE.c.platform, MILESTONE.c.repo, MILESTONE.c.number,
               THREAD.c.title, THREAD.c.url, THREAD.c.author)
        .join(THREAD, and_(THREAD.c.platform == MILESTONE.c.platform, THREAD.c.repo == MILESTONE.c.repo,
                           THREAD.c.number == MILESTONE.c.number,
                           THREAD.c.is_pr == (MILESTONE.c.kind == "first_pr")), isouter=True)
        .where(MILESTONE.c.scope == scope, MILESTONE.c.kind.in_(("first_issue", "first_pr")),
               MILESTONE.c.reached_at >= since, MILESTONE.c.reached_at < until)
        .order_by(MILESTONE.c.reached_at)).all()
    return [{"login": row.author or row.person.split(":", 1)[1], "platform": row.platform, "repo": row.repo,
             "number": row.number, "is_pr": row.kind == "first_pr", "title": row.title or "", "url": row.url or ""}
            for row in rows]


def _merged(conn: Connection, since: datetime, until: datetime, repo: tuple[str, str] | None, limit: int
            ) -> tuple[list[dict[str, Any]], int]:
    where = [THREAD.c.is_pr.is_(True), THREAD.c.merged_at >= since, THREAD.c.merged_at < until,
             metrics.human_author(), *_where_repo(THREAD, repo)]
    total = conn.execute(select(func.count()).select_from(THREAD).where(*where)).scalar_one()
    rows = conn.execute(select(THREAD.c.platform, THREAD.c.repo, THREAD.c.number, THREAD.c.title, THREAD.c.url,
                               THREAD.c.author).where(*where).order_by(THREAD.c.merged_at).limit(limit)).all()
    return [dict(row._mapping) for row in rows], max(total - limit, 0)


def _waiting(conn: Connection, until: datetime, repo: tuple[str, str] | None, hours: float, limit: int
             ) -> list[dict[str, Any]]:
    """Open issues and PRs by humans, nobody else has answered for longer than `hours`: the oldest first."""
    rows = conn.execute(select(THREAD.c.platform, THREAD.c.repo, THREAD.c.number, THREAD.c.is_pr, THREAD.c.title,
                               THREAD.c.url, THREAD.c.author, THREAD.c.created_at).where(
        THREAD.c.state == "open", THREAD.c.first_response_at.is_(None),
        THREAD.c.created_at <= until - timedelta(hours=hours), metrics.human_author(), *_where_repo(THREAD, repo))
        .order_by(THREAD.c.created_at).limit(limit)).all()
    return [{**dict(row._mapping), "created_at": row.created_at.isoformat(),
             "hours": int((until - row.created_at).total_seconds() // 3600)} for row in rows]


def _stale(conn: Connection, until: datetime, repo: tuple[str, str] | None, days: int, limit: int
           ) -> list[dict[str, Any]]:
    """Open PRs nothing has been heard of for `days`: the longest silent first."""
    rows = conn.execute(select(THREAD.c.platform, THREAD.c.repo, THREAD.c.number, THREAD.c.title, THREAD.c.url,
                               THREAD.c.author, THREAD.c.snapshot_at).where(
        THREAD.c.state == "open", THREAD.c.is_pr.is_(True), THREAD.c.snapshot_at <= until - timedelta(days=days),
        metrics.human_author(), *_where_repo(THREAD, repo)).order_by(THREAD.c.snapshot_at).limit(limit)).all()
    return [{**dict(row._mapping), "snapshot_at": row.snapshot_at.isoformat(),
             "days": (until - row.snapshot_at).days} for row in rows]


def _top(conn: Connection, since: datetime, until: datetime, repo: tuple[str, str] | None, limit: int
         ) -> list[dict[str, Any]]:
    ranked = metrics.ranking(metrics.activity(conn, since, until, repo=repo))[:limit]
    found = community.people(conn, [row.person for row in ranked])
    return [{"rank": row.rank, "name": found[row.person].name, "score": round(row.score, 2)} for row in ranked]


def _badges(conn: Connection, settings: Settings, since: datetime, until: datetime, language: str
            ) -> list[dict[str, Any]]:
    catalogue = settings.badges.catalogue()
    rows = conn.execute(select(BADGE_AWARD.c.badge, BADGE_AWARD.c.login).where(
        BADGE_AWARD.c.awarded_at >= since, BADGE_AWARD.c.awarded_at < until, BADGE_AWARD.c.revoked_at.is_(None))
        .order_by(BADGE_AWARD.c.awarded_at)).all()
    return [{"login": login, "badge": catalogue[badge].name_in(language) if badge in catalogue else badge}
            for badge, login in rows]


def _campaigns(conn: Connection, settings: Settings, until: datetime, repo: tuple[str, str] | None
               ) -> list[dict[str, Any]]:
    """The standings of the campaigns running at `until` (those covering the repo, for a repo digest)."""
    from campaigns import hackathon, leaderboard

    found = []
    for campaign in settings.campaigns:
        if isinstance(campaign, DigestSettings) or (repo is not None and not campaign.covers(*repo)):
            continue
        if window(conn, campaign).status(until) != "running":
            continue
        if isinstance(campaign, HackathonSettings):
            lines = [{"rank": s.rank, "name": s.name, "score": s.points} for s in hackathon.standings(conn, campaign)]
        elif isinstance(campaign, LeaderboardSettings):
            view = leaderboard.view(campaign, conn, settings, until)
            lines = [{"rank": s["rank"], "name": s["name"], "score": round(s["score"], 2)} for s in view["standings"]]
        elif isinstance(campaign, CampSettings):
            from campaigns import camp

            view = camp.view(campaign, conn, settings, until)
            graduated = [p for p in view["participants"] if p["status"] == "graduated"]
            lines = [{"rank": None, "name": p["login"], "score": None} for p in graduated]
        else:
            continue
        found.append({"title": campaign.title, "kind": campaign.kind, "lines": lines[:3], "people": len(lines)})
    return found


def build_digest(conn: Connection, settings: Settings, campaign: DigestSettings | None, since: datetime,
                 until: datetime, language: str | None = None) -> Digest:
    """The digest of [since, until) for a digest campaign's scope (the community's when `campaign` is None)."""
    repo = campaign.repo() if campaign is not None else None
    language = language or (campaign.language if campaign else None) or settings.community.language
    top = campaign.top if campaign else 5
    hours = campaign.response_hours if campaign else 48.0
    stale_days = campaign.stale_days if campaign else 14
    zone = campaign.zone if campaign else since.tzinfo
    length = until - since
    now_numbers = _numbers(conn, since, until, repo)
    before = _numbers(conn, since - length, since, repo)
    health = now_numbers.pop("health")
    merged, more = _merged(conn, since, until, repo, top * 2)
    return Digest(
        title=campaign.title if campaign else "", scope=campaign.scope if campaign else "community",
        community=settings.community.name, since=since, until=until,
        numbers=[Number(name, value, before[name]) for name, value in now_numbers.items()],
        newcomers=_newcomers(conn, since, until, repo), merged=merged, more_merged=more,
        top=_top(conn, since, until, repo, top), waiting=_waiting(conn, until, repo, hours, top),
        stale=_stale(conn, until, repo, stale_days, top), campaigns=_campaigns(conn, settings, until, repo),
        badges=_badges(conn, settings, since, until, language), health=asdict(health),
        days=chart_days(conn, since, until, repo, zone), response_hours=hours, stale_days=stale_days)


# -- the chart and the renderings --------------------------------------------------------------------------------


def chart_png(digest: Digest, language: str) -> bytes:
    """The week's activity, day by day, stacked by kind: a small PNG (campaigns.digest_chart draws it; here, in this
    process: for the command line's preview)."""
    return draw(digest.days, language)


def render_markdown(digest: Digest, language: str) -> str:
    """The digest as Markdown (chat, the e-mail's text part, previews): what people wrote escaped (render_message)."""
    return render_message("campaigns/digest", language, d=digest)


def render_email_html(digest: Digest, language: str, image_src: str = f"cid:{CHART_NAME}") -> str:
    """The digest as an e-mail's HTML part (`image_src`: where the chart is; a data: URI for a file)."""
    return render_html("campaigns/digest", language, d=digest, image_src=image_src)


def standalone_html(digest: Digest, language: str) -> str:
    """The HTML with its chart inside (a data: URI): a file to open in a browser."""
    data = base64.b64encode(chart_png(digest, language)).decode()
    return render_email_html(digest, language, image_src=f"data:image/png;base64,{data}")


# -- as a campaign -----------------------------------------------------------------------------------------------


def jobs(campaign: DigestSettings, now: datetime) -> list[JobSpec]:
    return [JobSpec(f"campaign:{campaign.name}:digest", Weekly(campaign.weekday, campaign.time, campaign.timezone))]


def periods(campaign: DigestSettings, conn: Connection, now: datetime) -> list[Period]:
    span = window(conn, campaign)
    until = now if span.end is None else min(now, span.end)
    return weekly_periods(span.start, until, campaign.weekday, campaign.time, campaign.zone)


def prepare(campaign: DigestSettings, preparation: Preparation) -> dict[str, Any]:
    """Before the tick's transaction: the chart of the week whose digest is due now (`{week: png}`), unless that
    digest was sent or its chart is kept already. Drawing takes seconds (the first one starts the process that
    draws); inside the transaction it would hold the store's write lock all along."""
    with preparation.reading() as conn:
        due = periods(campaign, conn, preparation.now)
        if not due:
            return {}
        period, language = due[-1], campaign.language or preparation.settings.community.language
        done = CampaignContext(conn=conn, settings=preparation.settings, now=preparation.now).happened(
            campaign, f"digest:{period.key}")
        if done or kept(conn, campaign.name, period.key, language) is not None:
            return {}
        days = chart_days(conn, period.start, period.end, campaign.repo(), campaign.zone)
    return {period.key: preparation.draw(days, language)}  # (the connection given back first)


def tick(campaign: DigestSettings, ctx: CampaignContext) -> list[Action]:
    """Each week's digest, once, the week it is due: weeks missed while cobot was down are not sent late (old
    news), but recorded as skipped."""
    due = periods(campaign, ctx.conn, ctx.now)
    for period in due:
        latest = period is due[-1]
        if not ctx.once(campaign, f"digest:{period.key}", sent=latest):
            continue
        if latest:
            _send(campaign, ctx, period)
    return ctx.actions


def _send(campaign: DigestSettings, ctx: CampaignContext, period: Period) -> None:
    language = ctx.language(campaign)
    digest = build_digest(ctx.conn, ctx.settings, campaign, period.start, period.end, language)
    drawn = ctx.prepared.get(period.key)
    draw_now = ctx.draw or draw  # (only for a week `prepare` could not foresee: the window changed in between)
    chart = for_the_digest(ctx.conn, campaign, period, language, lambda: drawn or draw_now(digest.days, language),
                           ctx.now)  # kept with the digest
    public = ctx.settings.server.public_url
    if public:
        digest.chart_url = public + chart_path(campaign.name, period.key, chart.key)
    png = base64.b64encode(chart.png).decode()
    repo = campaign.repo()
    ctx.act(Action(kind="notify", key=f"campaign:{campaign.name}:digest:{period.key}", topic="digest",
                   template="campaigns/digest", html_template="campaigns/digest",
                   values=(("d", digest), ("image_src", f"cid:{CHART_NAME}")),
                   attachments=((CHART_NAME, "image/png", png),),
                   platform=repo[0] if repo else None, repo=repo[1] if repo else None))


def view(campaign: DigestSettings, conn: Connection, settings: Settings, now: datetime,
         participant: str | None = None) -> dict[str, Any]:
    """The digest of the last seven days (a preview), with what the campaign has sent."""
    span = window(conn, campaign)
    digest = build_digest(conn, settings, campaign, now - timedelta(days=7), now)
    return {"name": campaign.name, "title": campaign.title, "kind": campaign.kind, "status": span.status(now),
            "start": span.start.isoformat(), "end": span.end.isoformat() if span.end else None,
            "scope": campaign.scope, "weeks": [p.key for p in periods(campaign, conn, now)],
            "preview": digest.as_dict(), "markdown": render_markdown(digest, campaign.language
                                                                      or settings.community.language)}
