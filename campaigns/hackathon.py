"""Hackathons: tasks (issues with the task label, or the task table) that people claim with `/claim` for a while,
solve with a pull request that says `Fixes #N`, and score by the task's difficulty when it is merged in time.

Claims are rows of `hackathon_claim`, open until released (unclaimed, expired, submitted, ended); submissions are
rows of `campaign_submission`, one per task and PR, made by the PR's events (so a redelivery changes nothing
twice). The tick announces the start, the halfway mark, the last day and the end (with the final standings),
reminds claimants before their claim runs out, releases expired claims (the issue is unassigned and said to be
open again) and, at the end, all the others. Everything is decided against the effective window, which
`cobot campaign start|close` may have moved.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, func, select

from bot.commands.answers import issue_ref
from bot.community import people as community
from bot.config import Settings
from bot.events import Action, Event
from bot.routing.context import HandlerContext
from bot.routing.router import Router
from bot.settings.campaigns import HackathonSettings
from bot.store.db import dialect_insert
from bot.store.tables import CampaignEvent, CampaignSubmission, HackathonClaim, Thread
from campaigns.base import At, CampaignContext, JobSpec, Reply, Window, window

router = Router("hackathon")

CLAIM = HackathonClaim.__table__  # type: ignore[attr-defined]
SUBMISSION = CampaignSubmission.__table__  # type: ignore[attr-defined]
THREAD = Thread.__table__  # type: ignore[attr-defined]
CAMPAIGN_EVENT = CampaignEvent.__table__  # type: ignore[attr-defined]

Where = tuple[str, str, str]  # platform, repo, number
LAST_DAY = timedelta(hours=24)
STANDINGS_SHOWN = 10
HOSTS = {"github.com": "github", "gitee.com": "gitee"}

# `Fixes #12`, `closes acme/rocket#12`, `resolved https://gitee.com/acme/rocket/issues/I4CYEO`
REFERENCE = re.compile(
    r"\b(?:fix(?:es|ed)?|close[sd]?|resolve[sd]?):?\s+(?:"
    r"https?://(?:www\.)?(?P<host>github\.com|gitee\.com)/(?P<link_repo>[\w.-]+/[\w.-]+)/issues/"
    r"(?P<link_number>[A-Za-z0-9]+)"
    r"|(?P<repo>[\w.-]+/[\w.-]+)?#(?P<number>[A-Za-z0-9]+)"
    r")(?![\w-])", re.IGNORECASE)


# -- tasks and points --------------------------------------------------------------------------------------------


def references(text: str, platform: str, repo: str) -> list[Where]:
    """The issues a PR's title or body says it fixes, closes or resolves (`#N` is in the PR's own repo)."""
    found: list[Where] = []
    for match in REFERENCE.finditer(text):
        if match["host"]:
            where = (HOSTS[match["host"].lower()], match["link_repo"], match["link_number"])
        else:
            where = (platform, match["repo"] or repo, match["number"])
        if where[0] == "github" and not where[2].isdigit():
            continue  # GitHub numbers are digits; Gitee's issues are I4CYEO
        if not any(_same(where, seen) for seen in found):
            found.append(where)
    return found


def _same(first: Where, second: Where) -> bool:
    return first[0] == second[0] and first[1].lower() == second[1].lower() and first[2] == second[2]


def _listed(campaign: HackathonSettings, where: Where) -> Any:
    """The task table's entry for an issue, if any."""
    return next((task for task in campaign.tasks if _same(task.where(), where)), None)


def _labelled(campaign: HackathonSettings, labels: list[str] | tuple[str, ...]) -> bool:
    label = campaign.task_label
    return bool(label) and label.lower() in {name.lower() for name in labels}  # type: ignore[union-attr]


def is_task(campaign: HackathonSettings, platform: str, repo: str, number: str,
            labels: list[str] | tuple[str, ...]) -> bool:
    """An issue of the campaign's repos with its task label, or one of its task table."""
    if not campaign.covers(platform, repo):
        return False
    return _labelled(campaign, labels) or _listed(campaign, (platform, repo, number)) is not None


def _over(conn: Connection, campaign: HackathonSettings, now: datetime | None) -> bool:
    """Whether a hackathon has ended: at `now`, or (no time given) as its ledger and closing say."""
    span = window(conn, campaign)
    if now is not None:
        return span.status(now) == "ended"
    return span.closed_early or conn.execute(select(CAMPAIGN_EVENT.c.id).where(
        CAMPAIGN_EVENT.c.campaign == campaign.name, CAMPAIGN_EVENT.c.key == "end")).first() is not None


def task_of(settings: Settings, conn: Connection, platform: str, repo: str, number: str,
            labels: list[str] | tuple[str, ...], now: datetime | None = None) -> HackathonSettings | None:
    """The hackathon whose task this issue is, whatever its status: the first (in config order) that has not ended,
    else the one that ended last. Without `now`, a hackathon has ended once its end is announced or it is closed."""
    found = [campaign for campaign in settings.campaigns
             if isinstance(campaign, HackathonSettings) and is_task(campaign, platform, repo, number, labels)]
    if not found:
        return None
    running = [campaign for campaign in found if not _over(conn, campaign, now)]
    if running:
        return running[0]
    return max(found, key=lambda campaign: window(conn, campaign).end or campaign.end)


def points_of(campaign: HackathonSettings, labels: list[str] | tuple[str, ...], platform: str, repo: str,
              number: str) -> int:
    """The task table's points, else the highest of its difficulty labels', else the default."""
    listed = _listed(campaign, (platform, repo, number))
    if listed is not None and listed.points is not None:
        return int(listed.points)
    by_label = {name.lower(): points for name, points in campaign.points.items()}
    earned = [by_label[name.lower()] for name in labels if name.lower() in by_label]
    return max(earned) if earned else campaign.default_points


def _issue(conn: Connection, where: Where) -> Row | None:
    """The stored issue, its repo matched whatever its case."""
    platform, repo, number = where
    return conn.execute(select(THREAD.c.repo, THREAD.c.title, THREAD.c.labels, THREAD.c.state).where(
        THREAD.c.platform == platform, THREAD.c.is_pr.is_(False), THREAD.c.number == number,
        func.lower(THREAD.c.repo) == repo.lower())).first()


def _spelt(settings: Settings, where: Where, stored: Row | None) -> Where:
    """A task as the store (else the config) spells its repo, so that one task is one key."""
    platform, repo, number = where
    if stored is not None:
        return platform, stored.repo, number
    for known in settings.community.repos:
        if known.platform == platform and known.name.lower() == repo.lower():
            return platform, known.name, number
    return where


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


def _when(campaign: HackathonSettings, moment: datetime) -> str:
    return f"{moment.astimezone(campaign.zone):%Y-%m-%d %H:%M} ({campaign.timezone})"


def _hours(value: float) -> str:
    return f"{value:g}"


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
    _release(ctx.conn, end, "ended", CLAIM.c.campaign == campaign.name)
    if ctx.once(campaign, "end"):
        _announce(campaign, ctx, "end", span)
    return ctx.actions


def _announce(campaign: HackathonSettings, ctx: CampaignContext, key: str, span: Window) -> None:
    tasks = task_list(ctx.conn, ctx.settings, campaign)
    ranked = standings(ctx.conn, campaign)
    states = [task.state for task in tasks]
    ctx.announce(campaign, key, f"hackathon_{key}",
                 start=_when(campaign, span.start), end=_when(campaign, span.end or campaign.end),
                 closed_early=span.closed_early, tasks=len(tasks), done=states.count("done"),
                 open=states.count("open"), claimed=states.count("claimed"), submitted=states.count("submitted"),
                 standings=ranked[:STANDINGS_SHOWN], people=len(ranked), late=len(_late(ctx.conn, campaign)),
                 points=dict(campaign.points), default_points=campaign.default_points,
                 task_label=campaign.task_label, claim_limit=campaign.claim_limit,
                 claim_hours=_hours(campaign.claim_ttl_hours))


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
                        login=row.login, until=_when(campaign, row.expires_at),
                        hours=_hours(campaign.claim_ttl_hours))


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
        if running and not _open_claims(ctx.conn, *_on_task(campaign, (row.platform, row.repo, row.number))):
            ctx.comment(campaign, key, (row.platform, row.repo, row.number), False, "hackathon_expired",
                        login=row.login, at=_when(campaign, row.expires_at))
        ctx.act(Action(kind="unassign", key=f"campaign:{campaign.name}:{key}:unassign", platform=row.platform,
                       repo=row.repo, number=row.number, logins=(row.login,)))


def _release(conn: Connection, when: datetime, reason: str, *where: Any) -> int:
    return conn.execute(CLAIM.update().where(CLAIM.c.released_at.is_(None), *where)
                        .values(released_at=when, release_reason=reason)).rowcount


# -- claims ------------------------------------------------------------------------------------------------------


def _on_task(campaign: HackathonSettings, where: Where) -> list[Any]:
    platform, repo, number = where
    return [CLAIM.c.campaign == campaign.name, CLAIM.c.platform == platform, CLAIM.c.repo == repo,
            CLAIM.c.number == number]


def _open_claims(conn: Connection, *where: Any) -> list[Row]:
    return list(conn.execute(select(CLAIM).where(CLAIM.c.released_at.is_(None), *where)
                             .order_by(CLAIM.c.claimed_at, CLAIM.c.id)).all())


def _scored(conn: Connection, campaign: HackathonSettings, where: Where) -> Row | None:
    platform, repo, number = where
    return conn.execute(select(SUBMISSION).where(
        SUBMISSION.c.campaign == campaign.name, SUBMISSION.c.task_platform == platform,
        SUBMISSION.c.task_repo == repo, SUBMISSION.c.task_number == number, SUBMISSION.c.status == "scored")
        .order_by(SUBMISSION.c.merged_at, SUBMISSION.c.id)).first()


def claim(campaign: HackathonSettings, ctx: CampaignContext, where: Where, person: str, login: str) -> Reply:
    """`/claim` on a task: hold it for `claim_ttl_hours` (again: renew), within the per-person limit."""
    span = ctx.window(campaign)
    status = span.status(ctx.now)
    base: dict[str, Any] = {"title": campaign.title}
    if status == "scheduled":
        return Reply("hackathon_not_started", {**base, "start": _when(campaign, span.start)})
    if status == "ended":
        return Reply("hackathon_ended", {**base, "end": _when(campaign, span.end or campaign.end)})
    done = _scored(ctx.conn, campaign, where)
    if done is not None:
        pr = issue_ref((where[0], done.pr_repo, done.pr_number), where[:2])
        return Reply("hackathon_task_done", {**base, "by": done.login, "pr": pr})
    until = ctx.now + timedelta(hours=campaign.claim_ttl_hours)
    held = _open_claims(ctx.conn, *_on_task(campaign, where))
    mine = next((row for row in held if row.person == person), None)
    if mine is not None:  # renewed, even when it ran out a moment ago and the tick has not released it yet
        until = max(until, mine.expires_at)
        ctx.conn.execute(CLAIM.update().where(CLAIM.c.id == mine.id).values(expires_at=until, reminded_at=None,
                                                                            login=login))
        return Reply("hackathon_claim_renewed", {**base, "until": _when(campaign, until)})
    holders = [row for row in held if row.expires_at > ctx.now]
    if holders:
        return Reply("hackathon_claim_taken", {**base, "holder": holders[0].login,
                                               "until": _when(campaign, holders[0].expires_at)})
    own = _open_claims(ctx.conn, CLAIM.c.campaign == campaign.name, CLAIM.c.person == person,
                       CLAIM.c.expires_at > ctx.now)
    if len(own) >= campaign.claim_limit:
        tasks = [issue_ref((row.platform, row.repo, row.number), where[:2]) for row in own]
        return Reply("hackathon_claim_limit", {**base, "limit": campaign.claim_limit, "held": tasks})
    claimed = Reply("hackathon_claimed", {**base, "until": _when(campaign, until),
                                          "hours": _hours(campaign.claim_ttl_hours),
                                          "remind": _hours(campaign.remind_before_hours), "number": where[2]},
                    assign=(login,))
    replayed = select(CLAIM.c.id).where(*_on_task(campaign, where), CLAIM.c.person == person,
                                        CLAIM.c.claimed_at == ctx.now)
    if ctx.conn.execute(replayed).first() is None:  # a comment processed again claims nothing twice
        platform, repo, number = where
        ctx.conn.execute(CLAIM.insert().values(campaign=campaign.name, platform=platform, repo=repo, number=number,
                                               person=person, login=login, claimed_at=ctx.now, expires_at=until))
    return claimed


def unclaim(campaign: HackathonSettings, ctx: CampaignContext, where: Where, person: str, login: str) -> Reply:
    """`/unclaim` on a task: give your claim back."""
    base: dict[str, Any] = {"title": campaign.title}
    mine = _open_claims(ctx.conn, *_on_task(campaign, where), CLAIM.c.person == person)
    if not mine:
        return Reply("hackathon_not_claimed", base)
    _release(ctx.conn, ctx.now, "unclaimed", CLAIM.c.id.in_([row.id for row in mine]))
    return Reply("hackathon_unclaimed", base, unassign=tuple(dict.fromkeys(row.login for row in mine)))


# -- submissions -------------------------------------------------------------------------------------------------


@router.on("pr.opened")
@router.on("pr.edited")
@router.on("pr.updated")
@router.on("pr.reopened")
@router.on("pr.merged")
@router.on("pr.closed")
def record_submissions(event: Event, ctx: HandlerContext) -> None:
    """Each task a PR says it fixes is a submission of its hackathon; its merge in the window scores the task."""
    thread = event.thread
    if thread is None or thread.author.is_bot or ctx.settings.is_bot(thread.author.login):
        return
    if not any(isinstance(campaign, HackathonSettings) and campaign.covers(event.platform, event.repo.full_name)
               for campaign in ctx.settings.campaigns):
        return  # no hackathon here: nothing to look up
    for named in references(f"{thread.title}\n{thread.body}", event.platform, event.repo.full_name):
        stored = _issue(ctx.conn, named)
        labels: list[str] = list(stored.labels) if stored is not None else []
        where = _spelt(ctx.settings, named, stored)
        campaign = task_of(ctx.settings, ctx.conn, *where, labels, now=event.occurred_at)
        if campaign is not None and campaign.covers(event.platform, event.repo.full_name):
            _submit(campaign, CampaignContext(conn=ctx.conn, settings=ctx.settings, now=event.occurred_at),
                    event, where, labels)


def _submit(campaign: HackathonSettings, ctx: CampaignContext, event: Event, task: Where, labels: list[str]
            ) -> None:
    thread = event.thread
    assert thread is not None
    span = ctx.window(campaign)
    merged = event.kind == "pr.merged" or thread.state == "merged"
    merged_at = (thread.merged_at or event.occurred_at) if merged else None
    if (merged_at or ctx.now) < span.start:
        return  # merged (or seen) before the hackathon started: not a submission
    conn, (platform, repo, number) = ctx.conn, task
    person = ctx.settings.person_for(event.platform, thread.author.login)
    identity = {"campaign": campaign.name, "task_platform": platform, "task_repo": repo, "task_number": number,
                "pr_repo": event.repo.full_name, "pr_number": thread.number}
    insert = dialect_insert(conn.dialect.name)(SUBMISSION).values(
        **identity, person=person, login=thread.author.login, submitted_at=ctx.now, points=0, status="submitted")
    if conn.execute(insert.on_conflict_do_nothing().returning(SUBMISSION.c.id)).first() is not None:
        _release(conn, ctx.now, "submitted", *_on_task(campaign, task), CLAIM.c.person == person)
    row = conn.execute(select(SUBMISSION).where(*(SUBMISSION.c[name] == value for name, value in identity.items()))
                       ).one()
    if row.merged_at is not None:
        return  # a merge is final: decided once
    if merged_at is not None:
        if not span.contains(merged_at):
            status, points = "late", 0
        elif _scored(conn, campaign, task) is not None:
            status, points = "closed", 0  # the task was done by an earlier PR
        else:
            status, points = "scored", points_of(campaign, labels, platform, repo, number)
        conn.execute(SUBMISSION.update().where(SUBMISSION.c.id == row.id, SUBMISSION.c.merged_at.is_(None))
                     .values(merged_at=merged_at, status=status, points=points))
        if status == "scored":  # the task is done: nobody holds it any more
            _release(conn, merged_at, "submitted", *_on_task(campaign, task))
    elif event.kind == "pr.closed" and row.status == "submitted":
        conn.execute(SUBMISSION.update().where(SUBMISSION.c.id == row.id).values(status="closed"))
    elif event.kind == "pr.reopened" and row.status == "closed":
        conn.execute(SUBMISSION.update().where(SUBMISSION.c.id == row.id).values(status="submitted"))


# -- standings and the view --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    rank: int  # equal points share a rank: 1, 2, 2, 4
    person: str
    name: str  # a linked identity's name, else the login
    points: int
    tasks: int


@dataclass(frozen=True)
class Task:
    platform: str
    repo: str
    number: str
    title: str
    points: int
    state: str  # open, claimed, submitted, done
    claimed_by: str | None = None
    expires_at: str | None = None
    submitted_by: str | None = None
    pr: str | None = None


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


def task_list(conn: Connection, settings: Settings, campaign: HackathonSettings) -> list[Task]:
    """Every task: labelled issues as stored, the task table, and any issue claimed or submitted for."""
    issues = select(THREAD.c.platform, THREAD.c.repo, THREAD.c.number, THREAD.c.title, THREAD.c.labels).where(
        THREAD.c.is_pr.is_(False))
    keys: dict[tuple[str, str, str], Where] = {}
    info: dict[tuple[str, str, str], tuple[str, list[str]]] = {}

    def add(where: Where) -> tuple[str, str, str]:
        key = (where[0], where[1].lower(), where[2])
        keys.setdefault(key, where)
        return key

    for platform, repo, number, title, labels in conn.execute(issues):
        if not campaign.covers(platform, repo):
            continue
        key = (platform, repo.lower(), number)
        info[key] = (title, list(labels))
        if _labelled(campaign, labels):
            add((platform, repo, number))
    for entry in campaign.tasks:
        key = add(_spelt(settings, entry.where(), None))
        if entry.title and key not in info:
            info[key] = (entry.title, [])
    claims = conn.execute(select(CLAIM).where(CLAIM.c.campaign == campaign.name)
                          .order_by(CLAIM.c.claimed_at, CLAIM.c.id)).all()
    submissions = conn.execute(select(SUBMISSION).where(SUBMISSION.c.campaign == campaign.name)
                               .order_by(SUBMISSION.c.submitted_at, SUBMISSION.c.id)).all()
    holder: dict[tuple[str, str, str], Row] = {}
    for row in claims:
        key = add((row.platform, row.repo, row.number))
        if row.released_at is None:
            holder[key] = row
    by_task: dict[tuple[str, str, str], list[Row]] = {}
    for row in submissions:
        by_task.setdefault(add((row.task_platform, row.task_repo, row.task_number)), []).append(row)
    tasks = []
    for key, where in keys.items():
        title, labels = info.get(key, ("", []))
        listed = _listed(campaign, where)
        title = title or (listed.title if listed is not None else "")
        found = by_task.get(key, [])
        scored = next((row for row in found if row.status == "scored"), None)
        pending = next((row for row in reversed(found) if row.status in ("submitted", "late")), None)
        shown = scored or pending
        claimed = holder.get(key)
        state = "done" if scored else "submitted" if pending else "claimed" if claimed else "open"
        tasks.append(Task(
            platform=where[0], repo=where[1], number=where[2], title=title,
            points=points_of(campaign, labels, *where), state=state,
            claimed_by=claimed.login if claimed is not None else None,
            expires_at=claimed.expires_at.isoformat() if claimed is not None else None,
            submitted_by=shown.login if shown is not None else None,
            pr=f"{shown.pr_repo}#{shown.pr_number}" if shown is not None else None))
    return sorted(tasks, key=lambda task: (task.platform, task.repo.lower(), _number_order(task.number)))


def _number_order(number: str) -> tuple[int, str]:
    return (int(number), "") if number.isdigit() else (0, number)


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
