"""Dashboard benchmark: each page, and its JSON API twin, over HTTP against a running cobot on a year of history.

    python bench/pages.py              # 1,000,000 activity events (filling takes about half a minute)
    python bench/pages.py --quick      # 100,000 events, a smoke check
    python bench/pages.py --keep /tmp/pages.db   # keep (or reuse) the filled database

Fills a SQLite store as bench/metrics.py does (its `fill`: 20,000 developers over 500 repos, power laws), adds
20,000 webhook deliveries (1% failed) and 5,000 outbox actions (2% failed), then serves it with `cobot`'s app in a
process of its own, its clock at the history's end, with a hackathon, a leaderboard and a digest campaign. Every
page and API read is asked once as the server has started (the "first" column), then each is timed over HTTP
`--runs` times more; the median is held to the target of 300 ms.
Twice: with the dashboard's default cache of slow reads (`dashboard.cache_seconds = 60`), as it runs, and with
none (every request computes everything: what a cold cache costs, in the background once it is warm). Prints a
Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.ingest import Server, free_port, wait_healthy  # noqa: E402
from bench.metrics import BATCH, NOW, fill  # noqa: E402

TARGET = 0.300
DELIVERIES, OUTBOX = 20_000, 5_000
TOKEN = "bench-dashboard-token-0123456789"
# (what, the page, its API twins)
MEASURES = [
    ("overview", "/", ["/api/overview"]),
    ("contributors", "/contributors", ["/api/contributors?limit=25"]),
    ("contributors, searched", "/contributors?q=dev-12", ["/api/contributors?q=dev-12&limit=25"]),
    ("contributors, newcomers on GitHub", "/contributors?new=true&platform=github",
     ["/api/contributors?new=true&platform=github&limit=25"]),
    ("contributors, page 40", "/contributors?offset=1000", ["/api/contributors?offset=1000&limit=25"]),
    ("profile, the busiest developer", "/contributors/github:dev-0", ["/api/contributors/github:dev-0"]),
    ("profile, a newcomer", "/contributors/github:dev-19999", ["/api/contributors/github:dev-19999"]),
    ("leaderboard, 30 days", "/leaderboard", ["/api/leaderboard"]),
    ("leaderboard, 365 days", "/leaderboard?days=365", ["/api/leaderboard?days=365"]),
    ("campaigns", "/campaigns", ["/api/campaigns"]),
    ("campaign: hackathon", "/campaigns/hack", ["/api/campaigns/hack"]),
    ("campaign: leaderboard", "/campaigns/board", ["/api/campaigns/board"]),
    ("campaign: digest", "/campaigns/weekly", ["/api/campaigns/weekly"]),
    ("digest preview", "/digest", ["/api/digest/preview"]),
    ("operations", "/operations", ["/api/deliveries?limit=25", "/api/outbox?limit=25"]),
    ("operations, failures", "/operations?deliveries=failed&outbox=failed",
     ["/api/deliveries?status=failed&limit=25", "/api/outbox?status=failed&limit=25"]),
    ("login", "/login", []),
]


def settings_mapping(url: str, cache_seconds: float) -> dict[str, Any]:
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    return {
        "database": {"url": url, "auto_migrate": True},
        "community": {"name": "Bench", "repos": [{"platform": "github", "name": "org-0/repo-0"}]},
        "dashboard": {"token": TOKEN, "cache_seconds": cache_seconds, "public": True},  # read as a visitor
        "campaigns": [
            {"name": "hack", "kind": "hackathon", "title": "Bench Hackathon",
             "start": (NOW - timedelta(days=10)).strftime(stamp), "end": (NOW + timedelta(days=4)).strftime(stamp),
             "repos": ["github:org-0/repo-0"]},
            {"name": "board", "kind": "leaderboard", "title": "Most active", "period": "campaign",
             "start": (NOW - timedelta(days=14)).strftime(stamp), "end": (NOW + timedelta(days=1)).strftime(stamp)},
            {"name": "weekly", "kind": "digest", "title": "Bench weekly",
             "start": (NOW - timedelta(days=60)).strftime(stamp)},
        ],
    }


def fill_operations(url: str) -> None:
    """Webhook deliveries (the newest last, 1% failed) and outbox actions (2% failed) over the last month."""
    from bot.store.db import Database
    from bot.store.tables import Delivery, OutboxAction

    db = Database(url)
    body = json.dumps({"action": "opened", "issue": {"number": 1}}).encode()
    start = NOW - timedelta(days=30)
    with db.inbox.engine.begin() as conn:
        for first in range(0, DELIVERIES, BATCH):
            rows = []
            for n in range(first, min(DELIVERIES, first + BATCH)):
                moment = start + timedelta(seconds=n * 30 * 86400 / DELIVERIES)
                failed = n % 100 == 0
                rows.append({"platform": "github", "key": f"bench-{n}", "event": "issues", "action": "opened",
                             "status": "failed" if failed else "processed", "attempts": 5 if failed else 1,
                             "error": "OperationalError: the database is unreachable" if failed else None,
                             "headers": {"X-GitHub-Event": "issues"}, "body": body, "received_at": moment,
                             "processed_at": None if failed else moment})
            conn.execute(Delivery.__table__.insert(), rows)  # type: ignore[attr-defined]
    with db.engine.begin() as conn:
        rows = []
        for n in range(OUTBOX):
            moment = start + timedelta(seconds=n * 30 * 86400 / OUTBOX)
            failed = n % 50 == 0
            rows.append({"key": f"bench:comment:{n}", "kind": "comment", "platform": "github",
                         "repo": f"org-{n % 40}/repo-{n % 500}", "number": str(n + 1),
                         "payload": {"body": "Thanks!"}, "status": "failed" if failed else "done",
                         "attempts": 8 if failed else 1, "last_error": "GitHub answered 503" if failed else None,
                         "created_at": moment, "next_attempt_at": moment, "done_at": None if failed else moment})
        conn.execute(OutboxAction.__table__.insert(), rows)  # type: ignore[attr-defined]
    db.dispose()


def serve(url: str, port: int, cache_seconds: float) -> None:
    """The app on 127.0.0.1:`port`, its clock stopped at the history's end (run as its own process)."""
    from aiohttp import web

    from bot.app.factory import create_app
    from bot.clock import FakeClock
    from bot.config import settings_from_mapping

    settings = settings_from_mapping(settings_mapping(url, cache_seconds), "bench", env={})
    web.run_app(create_app(settings, FakeClock(NOW), run_workers=False), host="127.0.0.1", port=port,
                print=None, access_log=None)


def ask(base: str, path: str) -> tuple[float, int, int]:
    """One GET: seconds, status, bytes."""
    started = time.perf_counter()
    with urllib.request.urlopen(base + path, timeout=120) as response:
        body = response.read()
        status = response.status
    return time.perf_counter() - started, status, len(body)


def median_of(base: str, path: str, runs: int) -> float:
    return statistics.median(ask(base, path)[0] for _ in range(runs))


def cell(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100,000 events")
    parser.add_argument("--runs", type=int, default=7, help="timed requests per page (after one to warm up)")
    parser.add_argument("--keep", type=Path, help="the SQLite file to fill and keep (reused when it exists)")
    parser.add_argument("--cache-seconds", type=float, default=0.0, help=argparse.SUPPRESS)  # the server's
    parser.add_argument("--serve", nargs=2, metavar=("URL", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]), args.cache_seconds)
        return
    if args.quick:
        args.events = 100_000

    with tempfile.TemporaryDirectory(prefix="cobot-bench-pages-") as tmp:
        path = args.keep or Path(tmp) / "pages.db"
        url = f"sqlite:///{path}"
        reuse = path.exists()
        started = time.perf_counter()
        events = filled(path, args.events)
        fill_seconds = time.perf_counter() - started

        kept = measure(url, 60.0, args.runs)  # the dashboard's default
        afresh = measure(url, 0.0, args.runs)

    print(f"\n## Dashboard pages benchmark ({os.cpu_count()} cores; SQLite; {events:,} activity events, "
          f"{DELIVERIES:,} deliveries, {OUTBOX:,} outbox actions; the median of {args.runs} requests after a first "
          "round)\n")
    print("With the dashboard's default `cache_seconds = 60` (slow reads kept a minute, refreshed in the background; "
          "the overview, the leaderboard, the campaigns' views and the digest preview are computed as the first page "
          "is), and "
          "with `cache_seconds = 0` (every request computes everything).\n")
    print("| page | median | first | target | | computed afresh: median | API twin, computed afresh: median |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    over = 0
    for (what, page, first, median, size, _, _), (_, _, _, raw, _, twins, twin) in zip(kept, afresh, strict=True):
        verdict = "pass" if median <= TARGET else "FAIL"
        over += raw > TARGET
        apis = ", ".join(f"`{api}` {cell(found[1])}" for api, found in zip(twins, twin, strict=True)) or "–"
        print(f"| {what} (`{page}`, {size / 1024:,.0f} KB) | {cell(median)} | {cell(first)} | ≤ {TARGET * 1000:.0f} ms "
              f"| {verdict} | {cell(raw)}{' (over)' if raw > TARGET else ''} | {apis} |")
    print(f"| filling the store{' (reused)' if reuse else ''} | {fill_seconds:,.1f} s | – | – | – | – | – |")
    if over:
        print(f"\n{over} page(s) over {TARGET * 1000:.0f} ms when computed afresh.")


def filled(path: Path, events: int) -> int:
    """The SQLite store at `path`, filled with `events` activity events and the operations (unless it exists: a
    kept file, migrated as it is opened); the activity events it holds."""
    from bot.store.db import Database

    url = f"sqlite:///{path}"
    if not path.exists():
        db = Database(url)
        db.upgrade()
        print(f"filling {path} with {events:,} events …", file=sys.stderr)
        fill(db, events)
        db.dispose()
        fill_operations(url)
    db = Database(url)
    db.upgrade()  # a kept file from before a migration
    with db.reading() as conn:
        held = conn.exec_driver_sql("SELECT count(*) FROM activity").scalar_one()
    db.dispose()
    return int(held)


def measure(url: str, cache_seconds: float, runs: int) -> list[tuple[Any, ...]]:
    """Every page and its API twins against a server of its own with `cache_seconds`."""
    port = free_port()
    server = Server(subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--serve", url, str(port),
                                      "--cache-seconds", str(cache_seconds)], cwd=HERE.parent,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), port)
    try:
        wait_healthy(port, timeout=120)
        base = f"http://127.0.0.1:{port}"
        print(f"measuring (cache_seconds = {cache_seconds:g}) …", file=sys.stderr)
        firsts = {path: ask(base, path) for _, page, twins in MEASURES for path in (page, *twins)}  # as started
        refused = {path: status for path, (_, status, _) in firsts.items() if status != 200}
        if refused:
            raise RuntimeError(f"answered otherwise than 200: {refused}")
        results = []
        for what, page, twins in MEASURES:
            found = [(firsts[path][0], median_of(base, path, runs), firsts[path][2]) for path in (page, *twins)]
            results.append((what, page, *found[0], twins, found[1:]))
        return results
    finally:
        server.stop()


if __name__ == "__main__":
    main()
