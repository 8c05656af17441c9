"""Digest charts under a crowd: 40 clients asking, back to back, for the charts of random past weeks of a filled
store, while webhooks arrive at a fixed rate and /healthz is polled, beside a quiet run (the same server, the same
deliveries and polling, nobody asking for charts).

    python bench/digest_charts.py                 # 200,000 activity events; 3 runs of 10 s phases
    python bench/digest_charts.py --quick         # 50,000 events; 2 runs of 6 s phases
    python bench/digest_charts.py --keep /tmp/charts.db          # fill once, reuse
    python bench/digest_charts.py --source /tmp/cobot-before     # serve another tree (e.g. `git archive` of a
                                                                 # commit): the figures before a change

The store is filled as bench/pages.py fills it (a year of history); its digest campaign began a year before the
history's end, so 52 weeks have a chart. The dashboard is public, so that anyone may have a chart drawn (the worst
case: with it private, a stranger draws nothing). The server is cobot's app in a process of its own (deliveries
stored, not processed: what is measured is the serving process), its clock at the history's end; the deliveries
come from bench/_load.py and the crowd from a process of its own. Each run forgets the kept charts first, so every
chart asked for is drawn again (the cold case). A third phase has the crowd ask for a page that is not there
(aiohttp's own 404): what any 40 clients asking back to back cost, charts or not. Prints a Markdown table of
medians over the runs and the ratios to the quiet phase. Targets, with the chart crowd: /healthz p99 under 1 s
(Docker's HEALTHCHECK gives up at 4 s), and ack p99 no worse than with the crowd asking for what is not there (a
chart costs the serving process what any request does).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.ingest import SECRET, Server, free_port, load, wait_healthy  # noqa: E402
from bench.metrics import NOW  # noqa: E402
from bench.pages import filled, settings_mapping  # noqa: E402
from bench.poller import Poller  # noqa: E402

CLIENTS = 40
WEEKS = 52
RATE = 200.0  # deliveries/s
HEALTH_EVERY = 0.1  # seconds between two /healthz
CHARTS = "/digests/weekly/WEEK.png"
CONTROL = "/nowhere/WEEK.png"  # what any crowd costs: aiohttp's own 404, no database
SERVE = """
import json, sys
from datetime import datetime
sys.path.insert(0, sys.argv[1])
from aiohttp import web
from bot.app.factory import create_app
from bot.clock import FakeClock
from bot.config import settings_from_mapping
settings = settings_from_mapping(json.loads(sys.argv[2]), "bench", env={})
web.run_app(create_app(settings, FakeClock(datetime.fromisoformat(sys.argv[4])), run_workers=False),
            host="127.0.0.1", port=int(sys.argv[3]), print=None, access_log=None)
"""


def pct(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else float("nan")


def mapping(url: str, migrate: bool) -> dict[str, Any]:
    found = settings_mapping(url, 60.0)
    found["database"]["auto_migrate"] = migrate
    found["dashboard"]["public"] = True
    found["github"] = {"webhook_secret": SECRET}
    found["campaigns"] = [{"name": "weekly", "kind": "digest", "title": "Bench weekly",
                           "start": (NOW - timedelta(weeks=WEEKS + 1)).strftime("%Y-%m-%dT%H:%M:%SZ")}]
    return found


def past_weeks() -> list[str]:
    """The 52 weeks before the history's end, as the chart addresses name them."""
    found = []
    for n in range(1, WEEKS + 1):
        year, week, _ = (NOW - timedelta(weeks=n)).isocalendar()
        found.append(f"{year}-W{week:02d}")
    return found


def start(url: str, source: Path, migrate: bool) -> Server:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", SERVE, str(source), json.dumps(mapping(url, migrate)),
                                str(port), NOW.isoformat()], cwd=source, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    server = Server(process, port, url)
    wait_healthy(port, timeout=120)
    return server


def forget_charts(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'digest_chart'").fetchone():
            conn.execute("DELETE FROM digest_chart")


def crowd(base: str, seconds: float, clients: int, path: str) -> dict[str, int]:
    """`clients` asking back to back for `path` for `seconds`, WEEK in it a random past week (run as its own
    process)."""
    import aiohttp

    weeks = past_weeks()
    answers: Counter[str] = Counter()

    async def client(session: aiohttp.ClientSession, deadline: float) -> None:
        while time.monotonic() < deadline:
            try:
                async with session.get(base + path.replace("WEEK", random.choice(weeks))) as response:
                    await response.read()
                    answers[f"{response.status} {response.headers.get('X-Cobot-Chart', '')}".strip()] += 1
            except (aiohttp.ClientError, TimeoutError):
                answers["error"] += 1

    async def run() -> None:
        timeout = aiohttp.ClientTimeout(total=120)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=clients), timeout=timeout) as session:
            deadline = time.monotonic() + seconds
            await asyncio.gather(*(client(session, deadline) for _ in range(clients)))

    asyncio.run(run())
    return dict(answers)


def phase(server: Server, seconds: float, prefix: str, clients: int, path: str = "") -> dict[str, Any]:
    base = f"http://127.0.0.1:{server.port}"
    asking = None
    if clients:
        asking = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--crowd", base, str(seconds),
                                   str(clients), path], cwd=HERE.parent, stdout=subprocess.PIPE, text=True)
    with Poller(base, ["/healthz"], every=HEALTH_EVERY) as health:
        acks = load(server, "--mode", "rate", "--rate", str(RATE), "--seconds", str(seconds), "--prefix", prefix)
    answers = json.loads(asking.communicate()[0]) if asking else {}
    return {"health_p50": pct(health.seconds, 0.5), "health_p99": pct(health.seconds, 0.99),
            "health_max": max(health.seconds), "health_failed": health.failed, "ack_p50": acks["p50_ms"] / 1000,
            "ack_p99": acks["p99_ms"] / 1000, "answers": answers, "per_second": sum(answers.values()) / seconds}


def median(runs: list[dict[str, Any]], name: str) -> float:
    return statistics.median(run[name] for run in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--quick", action="store_true", help="50,000 events, 2 runs of 6 s phases")
    parser.add_argument("--keep", type=Path, help="the SQLite file to fill and keep (reused when it exists)")
    parser.add_argument("--source", type=Path, default=HERE.parent, help="the tree whose cobot is served")
    parser.add_argument("--crowd", nargs=4, metavar=("BASE", "SECONDS", "CLIENTS", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.crowd:
        print(json.dumps(crowd(args.crowd[0], float(args.crowd[1]), int(args.crowd[2]), args.crowd[3])))
        return
    if args.quick:
        args.events, args.runs, args.seconds = 50_000, 2, 6.0

    with tempfile.TemporaryDirectory(prefix="cobot-bench-charts-") as tmp:
        path = args.keep or Path(tmp) / "charts.db"
        url = f"sqlite:///{path}"
        events = filled(path, args.events)  # migrated by this tree
        load_average = os.getloadavg()[0]
        server = start(url, args.source.resolve(), migrate=args.source.resolve() == HERE.parent)
        quiet: list[dict[str, Any]] = []
        control: list[dict[str, Any]] = []
        busy: list[dict[str, Any]] = []
        try:
            for run in range(args.runs):
                forget_charts(path)
                print(f"  run {run + 1}: quiet …", file=sys.stderr)
                quiet.append(phase(server, args.seconds, f"quiet-{run}", 0))
                print(f"  run {run + 1}: {args.clients} clients asking for a page that is not there …", file=sys.stderr)
                control.append(phase(server, args.seconds, f"control-{run}", args.clients, CONTROL))
                forget_charts(path)
                print(f"  run {run + 1}: {args.clients} clients asking for charts …", file=sys.stderr)
                busy.append(phase(server, args.seconds, f"busy-{run}", args.clients, CHARTS))
        finally:
            server.stop()

    answers: Counter[str] = Counter()
    for run in busy:
        answers.update(run["answers"])

    def row(what: str, runs: list[dict[str, Any]]) -> str:
        return (f"| {what} | {median(runs, 'health_p50') * 1000:.1f} ms | {median(runs, 'health_p99') * 1000:.1f} ms "
                f"| {median(runs, 'health_max') * 1000:.1f} ms | {sum(r['health_failed'] for r in runs)} "
                f"| {median(runs, 'ack_p50') * 1000:.1f} ms | {median(runs, 'ack_p99') * 1000:.1f} ms "
                f"| {median(runs, 'per_second'):,.0f} |")

    def ratio(name: str, runs: list[dict[str, Any]]) -> str:
        return f"{median(runs, name) / median(quiet, name):.2f}×"

    def ratios(what: str, runs: list[dict[str, Any]]) -> str:
        return (f"| {what} | {ratio('health_p50', runs)} | {ratio('health_p99', runs)} | {ratio('health_max', runs)} "
                f"| | {ratio('ack_p50', runs)} | {ratio('ack_p99', runs)} | |")

    print(f"\n## Digest charts under a crowd ({os.cpu_count()} cores; SQLite; {events:,} activity events; served from "
          f"{args.source}; {args.clients} clients, {RATE:g} deliveries/s, {args.runs} runs of {args.seconds:g} s "
          f"a phase; load average {load_average:.1f} at start)\n")
    print("| phase | /healthz p50 | /healthz p99 | /healthz max | /healthz failed | ack p50 | ack p99 "
          "| crowd answers/s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    print(row("quiet", quiet))
    print(row(f"{args.clients} clients asking for a page that is not there", control))
    print(row(f"{args.clients} clients asking for charts", busy))
    print(ratios("not there ÷ quiet", control))
    print(ratios("charts ÷ quiet", busy))
    health_ok = median(busy, "health_p99") < 1.0
    ack_ok = median(busy, "ack_p99") <= median(control, "ack_p99")
    print(f"\nWith the chart crowd: /healthz p99 under 1 s: {'pass' if health_ok else 'FAIL'}; ack p99 no worse than "
          f"with a crowd asking for a page that is not there: {'pass' if ack_ok else 'FAIL'}")
    total = sum(answers.values())
    print(f"\nWhat the crowd got ({total:,} answers over {args.runs} runs): "
          + ", ".join(f"{what or '?'}: {n:,}" for what, n in answers.most_common()))


if __name__ == "__main__":
    main()
