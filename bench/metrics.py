"""Metrics benchmark: the community measures over a year of history in a fresh SQLite store.

    python bench/metrics.py            # 1,000,000 activity events (filling takes about half a minute)
    python bench/metrics.py --quick    # 100,000 events, a smoke check
    python bench/metrics.py --keep /tmp/metrics.db   # keep (or reuse) the filled database

Fills the store (migrated as cobot migrates it) with bulk Core inserts, not through the pipeline: 20,000
developers (and 20 bots; 1,000 there from the start, the others arriving over the year) over 500 repos, a year of
events whose people and repos are drawn from power laws, ~20% of them opening issues and PRs (~200,000 threads with
their close, merge and first-response times), the rest comments, diff comments, reviews, commands, pushes, stars,
forks and labels, and the merges and closes of the threads. Then times, each the median of several runs on one
read connection: the leaderboard over 30 days; OpenRank, repo activity and activity over a month or a week; the
CHAOSS health metrics over a week; and the weekly digest. Targets: weekly digest ≤ 2 s, leaderboard ≤ 1 s,
OpenRank over a month ≤ 10 s, peak RSS ≤ 1 GB (filling included; with --keep on a filled file, the measures'
alone). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bot.community import people as community  # noqa: E402
from bot.community.metrics import activity, health, openrank, repo_activity  # noqa: E402
from bot.config import settings_from_mapping  # noqa: E402
from bot.store.community_tables import Activity, Contributor, Repo, Thread  # noqa: E402
from bot.store.db import Database  # noqa: E402

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
YEAR = 365 * 86400
DEVELOPERS, REPOS, BOTS = 20_000, 500, 20
CORE = 1_000  # developers there from the start; the others arrive over the year
BATCH = 50_000
HOUR = 3600.0
# what the events that are not a thread's opening, merge or close are, and how often
OTHER_KINDS = {"comment.created": 0.42, "comment.diff": 0.12, "review.submitted": 0.10, "comment.review": 0.04,
               "command": 0.03, "issue.labeled": 0.05, "push": 0.12, "star.created": 0.10, "fork.created": 0.02}
ON_THREADS = {"comment.created", "comment.review", "command", "issue.labeled"}  # on any thread
ON_PRS = {"comment.diff", "review.submitted"}  # on a PR


def login(index: int) -> str:
    return f"bot-{index - DEVELOPERS}[bot]" if index >= DEVELOPERS else f"dev-{index}"


def arrived(join: np.ndarray, who: np.ndarray, when: np.ndarray) -> np.ndarray:
    """Who did it, a core developer standing in for one who had not arrived yet."""
    return np.where(when < join[who], who % CORE, who)


def repo_name(index: int) -> str:
    return f"org-{index % 40}/repo-{index}"


def power_law(rng: np.random.Generator, n: int, exponent: float, size: int) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    return rng.choice(n, size=size, p=weights / weights.sum())


def moments(seconds: np.ndarray) -> list[datetime | None]:
    """Seconds after the year's start (NaN: none) as datetimes."""
    start = NOW - timedelta(seconds=YEAR)
    return [None if np.isnan(s) else start + timedelta(seconds=float(s)) for s in seconds]


def batches(count: int) -> Iterator[slice]:
    for start in range(0, count, BATCH):
        yield slice(start, min(count, start + BATCH))


def fill(db: Database, events: int, seed: int = 7) -> dict[str, int]:
    """A year of history: threads, then the activity log (openings, merges, closes, everything else)."""
    rng = np.random.default_rng(seed)
    threads = events // 5
    is_pr = rng.random(threads) < 0.5
    repo = power_law(rng, REPOS, 1.0, threads)
    join = np.where(np.arange(DEVELOPERS) < CORE, 0.0, rng.uniform(0, YEAR, DEVELOPERS))
    created = np.sort(rng.uniform(0, YEAR, threads))
    author = arrived(join, power_law(rng, DEVELOPERS, 0.9, threads), created)
    author[is_pr & (rng.random(threads) < 0.03)] = DEVELOPERS  # dependabot's PRs
    ends = created + rng.exponential(np.where(is_pr, 48 * HOUR, 240 * HOUR))
    fate = rng.random(threads)
    merged = np.where(is_pr & (fate < 0.6) & (ends < YEAR), ends, np.nan)
    closed = np.where((np.where(is_pr, fate < 0.8, fate < 0.65)) & (ends < YEAR), ends, np.nan)
    answer = created + rng.lognormal(np.log(6 * HOUR), 1.5, threads)
    answered = np.where((rng.random(threads) < 0.8) & (answer < YEAR), answer, np.nan)
    responder = power_law(rng, DEVELOPERS, 0.9, threads)
    people = [login(i) for i in range(DEVELOPERS + BOTS)]
    repos = [repo_name(i) for i in range(REPOS)]

    with db.engine.begin() as conn:
        conn.execute(Contributor.__table__.insert(), [  # type: ignore[attr-defined]
            {"platform": "github", "login": name, "person": f"github:{name}", "is_bot": i >= DEVELOPERS,
             "first_seen_at": NOW - timedelta(seconds=YEAR), "last_seen_at": NOW} for i, name in enumerate(people)])
        conn.execute(Repo.__table__.insert(), [  # type: ignore[attr-defined]
            {"platform": "github", "full_name": name, "first_seen_at": NOW - timedelta(seconds=YEAR),
             "last_activity_at": NOW} for name in repos])
        for part in batches(threads):
            rows = []
            for i, made, close, merge, first in zip(range(part.start, part.stop), moments(created[part]),
                                                     moments(closed[part]), moments(merged[part]),
                                                     moments(answered[part]), strict=True):
                pr = bool(is_pr[i])
                state = "merged" if merge else ("closed" if close else "open")
                rows.append({"platform": "github", "repo": repos[repo[i]], "number": str(i + 1), "is_pr": pr,
                             "title": f"Thread {i + 1}", "author": people[author[i]],
                             "author_person": f"github:{people[author[i]]}", "state": state,
                             "state_at": close or made, "snapshot_at": close or made, "labels": [], "assignees": [],
                             "created_at": made, "closed_at": close, "merged_at": merge,
                             "first_response_at": first, "first_responder": people[responder[i]] if first else None})
            conn.execute(Thread.__table__.insert(), rows)  # type: ignore[attr-defined]

        # the activity log, as columns: thread openings, merges (by a maintainer), closes, then the rest
        thread_of = [np.arange(threads)] * 3
        kinds = [np.where(is_pr, "pr.opened", "issue.opened"), np.full(threads, "pr.merged"),
                 np.where(is_pr, "pr.closed", "issue.closed")]
        times = [created, merged, np.where(np.isnan(merged), closed, np.nan)]
        actors = [author, rng.integers(0, 200, threads), author]
        rest = max(0, events - threads - int((~np.isnan(times[1])).sum()) - int((~np.isnan(times[2])).sum()))
        other = rng.choice(list(OTHER_KINDS), size=rest, p=list(OTHER_KINDS.values()))
        on = rng.integers(0, threads, rest)
        pr_ids = np.flatnonzero(is_pr)
        on = np.where(np.isin(other, list(ON_PRS)), pr_ids[rng.integers(0, len(pr_ids), rest)], on)
        when = created[on] + rng.exponential(72 * HOUR, rest)
        when = np.where(when < YEAR, when, rng.uniform(created[on], YEAR))
        loose = ~np.isin(other, list(ON_THREADS | ON_PRS))  # pushes, stars, forks: any time, no thread
        when = np.where(loose, rng.uniform(0, YEAR, rest), when)
        actor = arrived(join, power_law(rng, DEVELOPERS, 0.9, rest), when)
        bot = rng.random(rest) < 0.05
        actor = np.where(bot & np.isin(other, ["comment.created", "push"]), DEVELOPERS + rng.integers(0, BOTS, rest),
                         actor)
        thread_of.append(on)
        kinds.append(other)
        times.append(when)
        actors.append(actor)
        on, kind, when, actor = (np.concatenate(parts) for parts in (thread_of, kinds, times, actors))
        keep = ~np.isnan(when)
        has_thread = np.concatenate([np.ones(len(when) - rest, bool), ~loose])
        on, kind, when, actor, has_thread = on[keep], kind[keep], when[keep], actor[keep], has_thread[keep]
        order = np.argsort(when, kind="stable")  # in the order they happened, as the pipeline logs them
        on, kind, when, actor, has_thread = on[order], kind[order], when[order], actor[order], has_thread[order]
        loose_repo = power_law(rng, REPOS, 1.0, len(on))
        for part in batches(len(on)):
            rows = []
            for thread_index, event_kind, moment, who, threaded, other_repo in zip(
                    on[part].tolist(), kind[part].tolist(), moments(when[part]), actor[part].tolist(),
                    has_thread[part].tolist(), loose_repo[part].tolist(), strict=True):
                rows.append({"platform": "github", "repo": repos[repo[thread_index] if threaded else other_repo],
                             "kind": event_kind, "actor": people[who], "person": f"github:{people[who]}",
                             "is_bot": who >= DEVELOPERS, "number": str(thread_index + 1) if threaded else None,
                             "occurred_at": moment})
            conn.execute(Activity.__table__.insert(), rows)  # type: ignore[attr-defined]
    return {"events": int(len(on)), "threads": threads}


def timed(work: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """The median of `runs` timings (seconds), and the last result."""
    took, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        took.append(time.perf_counter() - started)
    return statistics.median(took), result


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def row(measure: str, seconds: float | None, target: float | None, note: str = "") -> str:
    shown = "–" if seconds is None else f"{seconds * 1000:,.0f} ms"
    goal = f"≤ {target:g} s" if target is not None else "–"
    verdict = "–" if target is None or seconds is None else ("pass" if seconds <= target else "FAIL")
    return f"| {measure} | {shown} | {goal} | {verdict} | {note} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100,000 events")
    parser.add_argument("--runs", type=int, default=5, help="timings per measure (OpenRank and the digest: 3)")
    parser.add_argument("--keep", type=Path, help="the SQLite file to fill and keep (reused when it exists)")
    args = parser.parse_args()
    if args.quick:
        args.events = 100_000

    with tempfile.TemporaryDirectory(prefix="cobot-bench-") as tmp:
        path = args.keep or Path(tmp) / "metrics.db"
        url = f"sqlite:///{path}"
        reuse = path.exists()
        db = Database(url)
        started = time.perf_counter()
        if not reuse:
            db.upgrade()
            print(f"filling {path} with {args.events:,} events …", file=sys.stderr)
            fill(db, args.events)
        with db.reading() as conn:
            count = conn.exec_driver_sql("SELECT count(*) FROM activity").scalar_one()
            threads = conn.exec_driver_sql("SELECT count(*) FROM thread").scalar_one()
        filled = {"events": count, "threads": threads}
        fill_seconds = time.perf_counter() - started
        fill_rss = peak_rss_mb()
        print("measuring …", file=sys.stderr)

        month, week = NOW - timedelta(days=30), NOW - timedelta(days=7)
        settings = settings_from_mapping({"database": {"url": url}, "community": {"name": "Bench"}}, "bench", env={})
        results: list[str] = []
        with db.reading() as conn:
            took, board = timed(lambda: community.leaderboard(conn, NOW, 30, 10), args.runs)
            results.append(row("leaderboard, 30 days, top 10", took, 1.0, f"{len(board)} lines"))
            took, ranks = timed(lambda: openrank(conn, month, NOW), min(args.runs, 3))
            results.append(row("OpenRank, 30 days", took, 10.0,
                               f"{len(ranks.developers):,} developers, {len(ranks.repos)} repos, "
                               f"{ranks.rounds} rounds, converged: {ranks.converged}"))
            took, repos = timed(lambda: repo_activity(conn, month, NOW), args.runs)
            results.append(row("repo activity, 30 days", took, None, f"{len(repos)} repos"))
            took, week_activity = timed(lambda: activity(conn, week, NOW), args.runs)
            results.append(row("activity, 7 days", took, None, f"{len(week_activity):,} people"))
            took, found = timed(lambda: health(conn, week, NOW), args.runs)
            results.append(row("health (CHAOSS), 7 days", took, None,
                               f"{found.new_contributors} new, {found.returning_contributors} returning, "
                               f"absence factor {found.absence_factor}"))
            top_repo = max(repos, key=repos.get) if repos else ("github", repo_name(0))
            took, _ = timed(lambda: health(conn, week, NOW, repo=top_repo), args.runs)
            results.append(row("health (CHAOSS), 7 days, the busiest repo", took, None, top_repo[1]))
            from campaigns.digest import build_digest

            took, _ = timed(lambda: build_digest(conn, settings, None, week, NOW), min(args.runs, 3))
            results.append(row("weekly digest (build_digest), community", took, 2.0))
        peak = peak_rss_mb()
        db.dispose()

    print(f"\n## Metrics benchmark ({os.cpu_count()} cores; SQLite; {filled['events']:,} activity events, "
          f"{filled['threads']:,} threads, {DEVELOPERS:,} developers, {REPOS} repos)\n")
    print("| measure | median | target | | |")
    print("| --- | --- | --- | --- | --- |")
    for line in results:
        print(line)
    print(f"| filling the store{' (reused)' if reuse else ''} | {fill_seconds:,.1f} s | – | – | "
          f"peak RSS {fill_rss:,.0f} MB by then |")
    verdict = "pass" if peak <= 1024 else "FAIL"
    print(f"| peak RSS | {peak:,.0f} MB | ≤ 1 GB | {verdict} | |")


if __name__ == "__main__":
    main()
