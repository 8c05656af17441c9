"""Community metrics computed from the store.

Activity follows OpenDigger's definition: for each developer, repo and calendar month,
sqrt(0.5252·issue comments + 2.2235·issues opened + 4.0679·PRs opened + 0.7427·PR review comments + 2.0339·PRs
merged), the merged PR counting for its author; a developer's activity over a window is the sum over their repos
and months. Issue comments are the comments of issue and PR conversations (`comment.created`), review comments
those on a line of a PR's diff (`comment.diff`); a review itself, its body and a comment of nothing but commands
do not count (GH Archive's PullRequestReviewEvent is not in the formula). Bots never count.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, and_, func, select

from bot.store.tables import Activity, Contributor, Thread

ACTIVITY = Activity.__table__  # type: ignore[attr-defined]
THREAD = Thread.__table__  # type: ignore[attr-defined]
CONTRIBUTOR = Contributor.__table__  # type: ignore[attr-defined]

WEIGHTS: dict[str, float] = {
    "comment.created": 0.5252,
    "issue.opened": 2.2235,
    "pr.opened": 4.0679,
    "comment.diff": 0.7427,
    "pr.merged": 2.0339,  # counted for the PR's author, from the thread
    "review.submitted": 0.0,  # counted for the record, weighs nothing
}
COUNTED_KINDS = ("comment.created", "issue.opened", "pr.opened", "comment.diff", "review.submitted")


@dataclass
class PersonActivity:
    person: str
    score: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)


def _month(conn: Connection, column: object) -> object:
    if conn.dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def activity(conn: Connection, since: datetime, until: datetime, *, repo: tuple[str, str] | None = None,
             exclude: Collection[str] = ()) -> dict[str, PersonActivity]:
    """Each person's activity in [since, until), in one repo (platform, full name) or the whole community."""
    cells: dict[tuple[str, str, str, str], float] = defaultdict(float)  # (person, platform, repo, month) → sum
    results: dict[str, PersonActivity] = {}

    def add(person: str, platform: str, repo_name: str, month: str, kind: str, count: int) -> None:
        if person in exclude:
            return
        cells[(person, platform, repo_name, month)] += WEIGHTS[kind] * count
        counts = results.setdefault(person, PersonActivity(person)).counts
        counts[kind] = counts.get(kind, 0) + count

    month = _month(conn, ACTIVITY.c.occurred_at)
    where = [ACTIVITY.c.occurred_at >= since, ACTIVITY.c.occurred_at < until, ACTIVITY.c.is_bot.is_(False),
             ACTIVITY.c.kind.in_(COUNTED_KINDS)]
    if repo is not None:
        where += [ACTIVITY.c.platform == repo[0], ACTIVITY.c.repo == repo[1]]
    rows = conn.execute(select(ACTIVITY.c.person, ACTIVITY.c.platform, ACTIVITY.c.repo, month, ACTIVITY.c.kind,
                               func.count()).where(*where)
                        .group_by(ACTIVITY.c.person, ACTIVITY.c.platform, ACTIVITY.c.repo, month, ACTIVITY.c.kind))
    for person, platform, repo_name, month_key, kind, count in rows:
        add(person, platform, repo_name, month_key, kind, count)
    for person, platform, repo_name, month_key, count in _merged(conn, since, until, repo):
        add(person, platform, repo_name, month_key, "pr.merged", count)
    for (person, *_), total in cells.items():
        results[person].score += math.sqrt(total)
    return results


def human_author() -> ColumnElement[bool]:
    """A condition on the thread table: its author is not a bot."""
    return ~(select(CONTRIBUTOR.c.id).where(and_(CONTRIBUTOR.c.platform == THREAD.c.platform,
                                                 CONTRIBUTOR.c.login == THREAD.c.author,
                                                 CONTRIBUTOR.c.is_bot.is_(True))).exists())


def _merged(conn: Connection, since: datetime, until: datetime, repo: tuple[str, str] | None) -> list[tuple]:
    """(author, platform, repo, month, merged PRs) in the window, authors that are bots left out."""
    month = _month(conn, THREAD.c.merged_at)
    where = [THREAD.c.is_pr.is_(True), THREAD.c.merged_at >= since, THREAD.c.merged_at < until, human_author()]
    if repo is not None:
        where += [THREAD.c.platform == repo[0], THREAD.c.repo == repo[1]]
    query = (select(THREAD.c.author_person, THREAD.c.platform, THREAD.c.repo, month, func.count()).where(*where)
             .group_by(THREAD.c.author_person, THREAD.c.platform, THREAD.c.repo, month))
    return [tuple(row) for row in conn.execute(query)]


@dataclass(frozen=True)
class Ranked:
    rank: int  # equal scores share a rank: 1, 2, 2, 4
    person: str
    score: float
    counts: dict[str, int]


def ranking(scores: dict[str, PersonActivity]) -> list[Ranked]:
    """Everyone with some activity, best first (ties by name), with shared ranks for equal scores."""
    ordered = sorted((a for a in scores.values() if a.score > 0), key=lambda a: (-round(a.score, 6), a.person))
    ranked: list[Ranked] = []
    for position, item in enumerate(ordered, 1):
        tied = ranked and round(ranked[-1].score, 6) == round(item.score, 6)
        ranked.append(Ranked(ranked[-1].rank if tied else position, item.person, item.score, item.counts))
    return ranked
