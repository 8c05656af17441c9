"""A hackathon's tasks as stored: which issue is a task of which hackathon (its task label, or its task table), what
it is worth, which issues a PR says it fixes, who holds a task (the rows of `hackathon_claim`) and who solved it (the
rows of `campaign_submission`), and the task list; and how a hackathon's moments and durations are written."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, select

from bot.config import Settings
from bot.settings.campaigns import HackathonSettings
from bot.store.campaign_tables import CampaignEvent, CampaignSubmission, HackathonClaim
from bot.store.community_tables import Thread
from campaigns.base import window

CLAIM = HackathonClaim.__table__  # type: ignore[attr-defined]
SUBMISSION = CampaignSubmission.__table__  # type: ignore[attr-defined]
THREAD = Thread.__table__  # type: ignore[attr-defined]
CAMPAIGN_EVENT = CampaignEvent.__table__  # type: ignore[attr-defined]

Where = tuple[str, str, str]  # platform, repo, number
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


def listed_task(campaign: HackathonSettings, where: Where) -> Any:
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
    return _labelled(campaign, labels) or listed_task(campaign, (platform, repo, number)) is not None


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
    listed = listed_task(campaign, (platform, repo, number))
    if listed is not None and listed.points is not None:
        return int(listed.points)
    by_label = {name.lower(): points for name, points in campaign.points.items()}
    earned = [by_label[name.lower()] for name in labels if name.lower() in by_label]
    return max(earned) if earned else campaign.default_points


def stored_issue(conn: Connection, where: Where) -> Row | None:
    """The stored issue, its repo matched whatever its case."""
    platform, repo, number = where
    return conn.execute(select(THREAD.c.repo, THREAD.c.title, THREAD.c.labels, THREAD.c.state).where(
        THREAD.c.platform == platform, THREAD.c.is_pr.is_(False), THREAD.c.number == number,
        func.lower(THREAD.c.repo) == repo.lower())).first()


def spelt_task(settings: Settings, where: Where, stored: Row | None) -> Where:
    """A task as the store (else the config) spells its repo, so that one task is one key."""
    platform, repo, number = where
    if stored is not None:
        return platform, stored.repo, number
    for known in settings.community.repos:
        if known.platform == platform and known.name.lower() == repo.lower():
            return platform, known.name, number
    return where


def moment_text(campaign: HackathonSettings, moment: datetime) -> str:
    return f"{moment.astimezone(campaign.zone):%Y-%m-%d %H:%M} ({campaign.timezone})"


def hours_text(value: float) -> str:
    return f"{value:g}"


# -- claims and submissions ----------------------------------------------------------------------------------------


def on_task(campaign: HackathonSettings, where: Where) -> list[Any]:
    platform, repo, number = where
    return [CLAIM.c.campaign == campaign.name, CLAIM.c.platform == platform, CLAIM.c.repo == repo,
            CLAIM.c.number == number]


def open_claims(conn: Connection, *where: Any) -> list[Row]:
    return list(conn.execute(select(CLAIM).where(CLAIM.c.released_at.is_(None), *where)
                             .order_by(CLAIM.c.claimed_at, CLAIM.c.id)).all())


def scored_submission(conn: Connection, campaign: HackathonSettings, where: Where) -> Row | None:
    platform, repo, number = where
    return conn.execute(select(SUBMISSION).where(
        SUBMISSION.c.campaign == campaign.name, SUBMISSION.c.task_platform == platform,
        SUBMISSION.c.task_repo == repo, SUBMISSION.c.task_number == number, SUBMISSION.c.status == "scored")
        .order_by(SUBMISSION.c.merged_at, SUBMISSION.c.id)).first()


def release_claims(conn: Connection, when: datetime, reason: str, *where: Any) -> int:
    return conn.execute(CLAIM.update().where(CLAIM.c.released_at.is_(None), *where)
                        .values(released_at=when, release_reason=reason)).rowcount


# -- the task list -----------------------------------------------------------------------------------------------


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
        key = add(spelt_task(settings, entry.where(), None))
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
        listed = listed_task(campaign, where)
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
