"""Community metrics computed from the store.

Activity follows OpenDigger's definition: for each developer, repo and calendar month (UTC),
sqrt(0.5252·issue comments + 2.2235·issues opened + 4.0679·PRs opened + 0.7427·PR review comments + 2.0339·PRs
merged), the merged PR counting for its author; a developer's activity over a window is the sum over their repos
and months, a repo's the sum over its developers and months. Issue comments are the comments of issue and PR
conversations (`comment.created`), review comments those on a line of a PR's diff (`comment.diff`); a review
itself, its body and a comment of nothing but commands do not count (GH Archive's PullRequestReviewEvent is not in
the formula). Bots never count.

OpenRank is OpenDigger's global OpenRank over the window's developer–repo graph, its edges weighted by that
activity; `health` gathers CHAOSS metrics (response and resolution times, acceptance, contributor flows, the
absence factor, the bots' share).
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from scipy import sparse
from sqlalchemy import ColumnElement, Connection, and_, case, func, literal, or_, select

from bot.community.kinds import CONTRIBUTION_KINDS
from bot.store.community_tables import Activity, Contributor, Thread

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
RepoKey = tuple[str, str]  # (platform, full name)
Cell = tuple[str, str, str, str, str, int]  # person, platform, repo, month, kind, count


@dataclass
class PersonActivity:
    person: str
    score: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)


def _month(conn: Connection, column: object) -> object:
    """The calendar month (UTC) of a time column, as YYYY-MM."""
    if conn.dialect.name == "postgresql":  # in UTC whatever the session's time zone
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _counted(conn: Connection, since: datetime, until: datetime, repo: RepoKey | None) -> Iterator[Cell]:
    """The counts that activity weighs, per person, repo, month and kind, merged PRs (for their author) included."""
    month = _month(conn, ACTIVITY.c.occurred_at)
    where = [ACTIVITY.c.occurred_at >= since, ACTIVITY.c.occurred_at < until, ACTIVITY.c.is_bot.is_(False),
             ACTIVITY.c.kind.in_(COUNTED_KINDS)]
    if repo is not None:
        where += [ACTIVITY.c.platform == repo[0], ACTIVITY.c.repo == repo[1]]
    yield from conn.execute(select(ACTIVITY.c.person, ACTIVITY.c.platform, ACTIVITY.c.repo, month, ACTIVITY.c.kind,
                                   func.count()).where(*where)
                            .group_by(ACTIVITY.c.person, ACTIVITY.c.platform, ACTIVITY.c.repo, month,
                                      ACTIVITY.c.kind))
    for person, platform, repo_name, month_key, count in _merged(conn, since, until, repo):
        yield person, platform, repo_name, month_key, "pr.merged", count


def _cells(conn: Connection, since: datetime, until: datetime, repo: RepoKey | None = None
           ) -> dict[tuple[str, str, str], float]:
    """Each developer's activity per repo over the window: (person, platform, repo) → Σ over months of sqrt."""
    months: dict[tuple[str, str, str, str], float] = defaultdict(float)
    for person, platform, repo_name, month_key, kind, count in _counted(conn, since, until, repo):
        months[(person, platform, repo_name, month_key)] += WEIGHTS[kind] * count
    cells: dict[tuple[str, str, str], float] = defaultdict(float)
    for (person, platform, repo_name, _), total in months.items():
        cells[(person, platform, repo_name)] += math.sqrt(total)
    return cells


def activity(conn: Connection, since: datetime, until: datetime, *, repo: tuple[str, str] | None = None,
             exclude: Collection[str] = ()) -> dict[str, PersonActivity]:
    """Each person's activity in [since, until), in one repo (platform, full name) or the whole community."""
    cells: dict[tuple[str, str, str, str], float] = defaultdict(float)  # (person, platform, repo, month) → sum
    results: dict[str, PersonActivity] = {}
    for person, platform, repo_name, month_key, kind, count in _counted(conn, since, until, repo):
        if person in exclude:
            continue
        cells[(person, platform, repo_name, month_key)] += WEIGHTS[kind] * count
        counts = results.setdefault(person, PersonActivity(person)).counts
        counts[kind] = counts.get(kind, 0) + count
    for (person, *_), total in cells.items():
        results[person].score += math.sqrt(total)
    return results


def repo_activity(conn: Connection, since: datetime, until: datetime) -> dict[tuple[str, str], float]:
    """Each repo's activity in [since, until): the sum of its developers' activity in it. Repos where only bots
    did anything are left out."""
    repos: dict[tuple[str, str], float] = defaultdict(float)
    for (_, platform, repo_name), value in _cells(conn, since, until).items():
        repos[(platform, repo_name)] += value
    return dict(repos)


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


# -- OpenRank ------------------------------------------------------------------------------------------------------

@dataclass
class OpenRankResult:
    developers: dict[str, float]  # by person id
    repos: dict[tuple[str, str], float]  # by (platform, full name)
    rounds: int
    converged: bool


def openrank_of_edges(edges: Iterable[tuple[str, tuple[str, str], float]], *, developer_retention: float = 0.5,
                      repo_retention: float = 0.3, tolerance: float = 0.01, max_rounds: int = 100
                      ) -> OpenRankResult:
    """OpenRank over a bipartite graph given as (developer, repo, weight) edges (an edge given twice adds up).
    Every node starts at 1; each round a node keeps `retention` of that and receives the rest from its neighbours,
    each of which passes its value along its edges in proportion to their weights. A node without an edge of
    positive weight keeps its 1. Stops when no node changes by `tolerance` or more, or after `max_rounds`."""
    developers: dict[str, int] = {}
    repos: dict[tuple[str, str], int] = {}
    rows: list[int] = []
    cols: list[int] = []
    weights: list[float] = []
    for developer, repo, weight in edges:
        row = developers.setdefault(developer, len(developers))
        col = repos.setdefault(repo, len(repos))
        if weight > 0:
            rows.append(row)
            cols.append(col)
            weights.append(weight)
    shape = (len(developers), len(repos))
    graph = sparse.csr_matrix((np.asarray(weights, dtype=float), (np.asarray(rows, dtype=np.int64),
                                                                  np.asarray(cols, dtype=np.int64))), shape=shape)
    developer_out = np.asarray(graph.sum(axis=1)).ravel()  # what each developer's edges weigh in all
    repo_out = np.asarray(graph.sum(axis=0)).ravel()
    inverse = np.divide(1.0, developer_out, out=np.zeros_like(developer_out), where=developer_out > 0)
    to_repos = (sparse.diags(inverse) @ graph).T.tocsr()  # repo × developer: a developer's value, shared out
    inverse = np.divide(1.0, repo_out, out=np.zeros_like(repo_out), where=repo_out > 0)
    to_developers = (graph @ sparse.diags(inverse)).tocsr()  # developer × repo: a repo's value, shared out
    # new = keep + passed · (what the neighbours send); a node without edges keeps all of its initial 1
    developer_keep = np.where(developer_out > 0, developer_retention, 1.0)
    repo_keep = np.where(repo_out > 0, repo_retention, 1.0)
    developer_passed = 1.0 - developer_keep
    repo_passed = 1.0 - repo_keep
    developer_values = np.ones(shape[0])
    repo_values = np.ones(shape[1])
    rounds, converged = 0, shape == (0, 0)
    while rounds < max_rounds and not converged:
        new_developers = developer_keep + developer_passed * (to_developers @ repo_values)
        new_repos = repo_keep + repo_passed * (to_repos @ developer_values)
        change = max(np.abs(new_developers - developer_values).max(initial=0.0),
                     np.abs(new_repos - repo_values).max(initial=0.0))
        developer_values, repo_values = new_developers, new_repos
        rounds += 1
        converged = bool(change < tolerance)
    return OpenRankResult(developers=dict(zip(developers, developer_values.tolist(), strict=True)),
                          repos=dict(zip(repos, repo_values.tolist(), strict=True)), rounds=rounds,
                          converged=converged)


def openrank(conn: Connection, since: datetime, until: datetime, *, developer_retention: float = 0.5,
             repo_retention: float = 0.3, tolerance: float = 0.01, max_rounds: int = 100) -> OpenRankResult:
    """OpenDigger's global OpenRank over [since, until): developers and repos, linked by each developer's activity
    in each repo (see `openrank_of_edges`). Bots, and people whose activity weighs nothing, are not in the graph."""
    edges = ((person, (platform, repo_name), weight)
             for (person, platform, repo_name), weight in _cells(conn, since, until).items() if weight > 0)
    return openrank_of_edges(edges, developer_retention=developer_retention, repo_retention=repo_retention,
                             tolerance=tolerance, max_rounds=max_rounds)


# -- CHAOSS health -------------------------------------------------------------------------------------------------

INACTIVE_AFTER = timedelta(days=90)
DRIVE_BY_BELOW = 3  # contributions ever


@dataclass
class Health:
    """CHAOSS metrics over a window; None where nothing was there to measure."""

    first_response_median_hours: float | None  # issues and PRs opened in the window by people, answered
    first_response_within_24h: float | None  # share of those opened answered within 24 h (at most 24 h after)
    issue_resolution_median_hours: float | None  # issues closed in the window: closed − created
    pr_resolution_median_hours: float | None  # PRs closed or merged in the window: (merged or closed) − created
    pr_acceptance_ratio: float | None  # PRs closed in the window: the share merged
    new_contributors: int  # first contribution ever in the window
    returning_contributors: int  # contributed in the window and before it
    drive_by_contributors: int  # contributed in the window, fewer than 3 times ever (up to the window's end)
    inactive_contributors: int  # contributed in the 90 days before the window, not in it
    absence_factor: int  # the fewest people who made half the window's contributions
    bot_activity_share: float | None  # share of the window's activity rows made by bots


def _hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


def _median_hours(deltas: list[timedelta]) -> float | None:
    return _hours(statistics.median(deltas)) if deltas else None


def health(conn: Connection, since: datetime, until: datetime, *, repo: tuple[str, str] | None = None) -> Health:
    """CHAOSS metrics over [since, until), for the community or one repo (platform, full name); for one repo a
    contributor is new, returning, drive-by or inactive in that repo. Contributions are activity of the kinds in
    `bot.community.people.CONTRIBUTION_KINDS` by people; the times to respond count threads opened by people."""
    response, within_day, opened = _first_responses(conn, since, until, repo)
    issues, prs, merged = _resolutions(conn, since, until, repo)
    flows = _contributor_flows(conn, since, until, repo)
    in_window = [ACTIVITY.c.occurred_at >= since, ACTIVITY.c.occurred_at < until, *_in(ACTIVITY, repo)]
    rows, by_bots = conn.execute(select(func.count(), func.coalesce(func.sum(
        case((ACTIVITY.c.is_bot.is_(True), literal(1)), else_=literal(0))), literal(0))).where(*in_window)).one()
    return Health(
        first_response_median_hours=_median_hours(response),
        first_response_within_24h=within_day / opened if opened else None,
        issue_resolution_median_hours=_median_hours(issues),
        pr_resolution_median_hours=_median_hours(prs),
        pr_acceptance_ratio=merged / len(prs) if prs else None,
        **flows,
        bot_activity_share=int(by_bots) / rows if rows else None,
    )


def _in(table: Any, repo: RepoKey | None) -> list[ColumnElement[bool]]:
    """Rows of the activity or thread table in one repo (none: all of them)."""
    return [] if repo is None else [table.c.platform == repo[0], table.c.repo == repo[1]]


def _first_responses(conn: Connection, since: datetime, until: datetime, repo: RepoKey | None
                     ) -> tuple[list[timedelta], int, int]:
    """The times to a first response of the threads people opened in the window (of those answered), how many were
    answered within a day, and how many were opened."""
    rows = conn.execute(select(THREAD.c.created_at, THREAD.c.first_response_at).where(
        THREAD.c.created_at >= since, THREAD.c.created_at < until, human_author(), *_in(THREAD, repo))).all()
    waits = [answered - created for created, answered in rows if answered is not None]
    return waits, sum(wait <= timedelta(hours=24) for wait in waits), len(rows)


def _resolutions(conn: Connection, since: datetime, until: datetime, repo: RepoKey | None
                 ) -> tuple[list[timedelta], list[timedelta], int]:
    """The times to close of the issues closed in the window and of the PRs closed or merged in it, and how many of
    those PRs were merged (bots' issues and PRs left out: a dependency bump merged in an hour says nothing of the
    community's health)."""
    rows = conn.execute(select(THREAD.c.is_pr, THREAD.c.created_at, THREAD.c.closed_at, THREAD.c.merged_at).where(
        THREAD.c.state != "open", or_(and_(THREAD.c.closed_at >= since, THREAD.c.closed_at < until),
                                      and_(THREAD.c.merged_at >= since, THREAD.c.merged_at < until)),
        human_author(), *_in(THREAD, repo))).all()
    issues, prs, merged = [], [], 0
    for is_pr, created, closed, merged_at in rows:
        end = merged_at or closed
        if not since <= end < until:  # merged outside the window, its closed_at inside: not this window's
            continue
        (prs if is_pr else issues).append(end - created)
        merged += merged_at is not None
    return issues, prs, merged


def _contributor_flows(conn: Connection, since: datetime, until: datetime, repo: RepoKey | None) -> dict[str, int]:
    """New, returning, drive-by and inactive contributors, and the absence factor, for `health`."""
    kinds = CONTRIBUTION_KINDS

    def contributions(table: Any) -> list[ColumnElement[bool]]:
        return [table.c.is_bot.is_(False), table.c.kind.in_(kinds), *_in(table, repo)]

    now = (select(ACTIVITY.c.person, func.count().label("count")).where(
        *contributions(ACTIVITY), ACTIVITY.c.occurred_at >= since, ACTIVITY.c.occurred_at < until)
        .group_by(ACTIVITY.c.person).subquery("now"))
    # each one's contributions before the window, counted up to the few that tell drive-by from not: a person's
    # first rows on the (person, occurred_at) index, not all of their history
    earlier = ACTIVITY.alias("earlier")
    few = (select(literal(1).label("one")).select_from(earlier).where(
        earlier.c.person == now.c.person, earlier.c.occurred_at < since, *contributions(earlier))
        .limit(DRIVE_BY_BELOW).correlate(now).subquery("few"))
    rows = conn.execute(select(now.c.person, now.c.count, select(func.count()).select_from(few).scalar_subquery()))
    counts = {person: (count, before) for person, count, before in rows}
    lately = set(conn.execute(select(ACTIVITY.c.person).where(
        *contributions(ACTIVITY), ACTIVITY.c.occurred_at >= since - INACTIVE_AFTER, ACTIVITY.c.occurred_at < since)
        .distinct()).scalars())
    total, factor, covered = sum(count for count, _ in counts.values()), 0, 0
    for count in sorted((count for count, _ in counts.values()), reverse=True):
        if covered * 2 >= total:
            break
        covered += count
        factor += 1
    return {"new_contributors": sum(before == 0 for _, before in counts.values()),
            "returning_contributors": sum(before > 0 for _, before in counts.values()),
            "drive_by_contributors": sum(count + before < DRIVE_BY_BELOW for count, before in counts.values()),
            "inactive_contributors": len(lately - counts.keys()),
            "absence_factor": factor}
