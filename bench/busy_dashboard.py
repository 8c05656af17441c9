"""Webhooks while the dashboard computes: acknowledgement latency at a fixed rate, with nobody reading the
dashboard and with a maintainer's browser asking for its slowest reads back to back, the slow reads computed in a
process of their own (`dashboard.slow_reads = "process"`, the default) or in threads of the serving process.

    python bench/busy_dashboard.py             # 1,000,000 activity events, 20 s phases at 500 deliveries/s
    python bench/busy_dashboard.py --quick     # 100,000 events, 8 s phases
    python bench/busy_dashboard.py --keep /tmp/pages.db   # the store bench/pages.py fills (reused when it exists)

The store is filled as bench/pages.py fills it and served by cobot's app in a process of its own, its clock at the
history's end and `dashboard.cache_seconds = 0`, so that every read computes (what a cold cache, or a maintainer
asking for windows nobody asked for, costs). Deliveries are stored, not processed (`run_workers=False`): what is
measured is the serving process's answer. The browser asks for the overview and the 365-day leaderboard in turn
(bench/_load.py sends the deliveries from a process of its own). Target: with the slow reads apart, ack p99 while
the dashboard computes stays within 2× of the idle figure (+ 5 ms). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.ingest import SECRET, Server, free_port, load, wait_healthy  # noqa: E402
from bench.metrics import NOW  # noqa: E402
from bench.pages import filled, settings_mapping  # noqa: E402
from bench.poller import Poller  # noqa: E402

BROWSED = ("/api/overview?days=30", "/api/leaderboard?days=365&limit=50")


def serve(url: str, port: int, slow_reads: str) -> None:
    """The app on 127.0.0.1:`port` (run as its own process)."""
    from aiohttp import web

    from bot.app.factory import create_app
    from bot.clock import FakeClock
    from bot.config import settings_from_mapping

    mapping = settings_mapping(url, 0.0)
    mapping["dashboard"]["slow_reads"] = slow_reads
    mapping["github"] = {"webhook_secret": SECRET}
    settings = settings_from_mapping(mapping, "bench", env={})
    web.run_app(create_app(settings, FakeClock(NOW), run_workers=False), host="127.0.0.1", port=port,
                print=None, access_log=None)


def deliveries(server: Server, seconds: float, rate: float, prefix: str) -> dict[str, Any]:
    return load(server, "--mode", "rate", "--rate", str(rate), "--seconds", str(seconds), "--prefix", prefix)


def phases(url: str, slow_reads: str, seconds: float, rate: float, idle: bool) -> dict[str, Any]:
    port = free_port()
    server = Server(subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--serve", url, str(port),
                                      slow_reads], cwd=HERE.parent, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL), port)
    try:
        wait_healthy(port, timeout=120)
        base = f"http://127.0.0.1:{port}"
        found: dict[str, Any] = {}
        if idle:
            print("  nobody reading the dashboard …", file=sys.stderr)
            found["idle"] = deliveries(server, seconds, rate, f"idle-{port}")
        print(f"  the slow reads computing ({slow_reads}) …", file=sys.stderr)
        with urllib.request.urlopen(base + BROWSED[0], timeout=300) as response:  # the worker started, once
            response.read()
        with Poller(base, BROWSED, timeout=300) as browser:
            found["busy"] = deliveries(server, seconds, rate, f"busy-{port}")
        found["reads"] = browser.seconds
        return found
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each phase")
    parser.add_argument("--rate", type=float, default=500.0, help="deliveries/s")
    parser.add_argument("--quick", action="store_true", help="100,000 events, 8 s phases")
    parser.add_argument("--keep", type=Path, help="the SQLite file to fill and keep (reused when it exists)")
    parser.add_argument("--serve", nargs=3, metavar=("URL", "PORT", "SLOW_READS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]), args.serve[2])
        return
    if args.quick:
        args.events, args.seconds = 100_000, 8.0

    with tempfile.TemporaryDirectory(prefix="cobot-bench-busy-") as tmp:
        path = args.keep or Path(tmp) / "pages.db"
        url = f"sqlite:///{path}"
        events = filled(path, args.events)
        load = os.getloadavg()[0]
        apart = phases(url, "process", args.seconds, args.rate, idle=True)
        threads = phases(url, "thread", args.seconds, args.rate, idle=False)

    idle = apart["idle"]
    limit = 2 * idle["p99_ms"] + 5

    def line(what: str, run: dict[str, Any], reads: list[float] | None, target: bool) -> str:
        asked = (f"{len(reads)} reads, median {sorted(reads)[len(reads) // 2]:.2f} s" if reads else "–")
        verdict = ("pass" if run["p99_ms"] <= limit else "FAIL") if target else "–"
        return (f"| {what} | {run['accepted']:,} of {run['sent']:,} | {run['p50_ms']:.1f} ms | {run['p99_ms']:.1f} ms "
                f"| {f'≤ {limit:.1f} ms' if target else '–'} | {verdict} | {asked} |")

    print(f"\n## Webhooks while the dashboard computes ({os.cpu_count()} cores; SQLite; {events:,} activity events; "
          f"{args.rate:g} deliveries/s for {args.seconds:g} s a phase; load average {load:.1f} at start)\n")
    print("| phase | accepted | ack p50 | ack p99 | target | | dashboard reads meanwhile |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print(line("nobody reading the dashboard", idle, None, False))
    print(line("slow reads computing, in their own process (default)", apart["busy"], apart["reads"], True))
    print(line("slow reads computing, in threads of the serving process", threads["busy"], threads["reads"], False))


if __name__ == "__main__":
    main()
