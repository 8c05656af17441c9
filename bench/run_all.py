"""Every benchmark, one after the other, in one Markdown report.

    python bench/run_all.py                   # the full runs (about 25 minutes)
    python bench/run_all.py --quick           # smoke runs
    python bench/run_all.py --output bench-report.md

Runs bench/ingest.py (SQLite), bench/replicas.py (PostgreSQL, one replica and three: needs PostgreSQL at
$COBOT_TEST_POSTGRES_URL or 127.0.0.1:5432/test), bench/import_rate.py (GH Archive import), bench/metrics.py
(digest, leaderboard, OpenRank at 1,000,000 events), bench/pages.py (dashboard pages at 1,000,000 events),
bench/busy_dashboard.py (webhooks' acknowledgements while the dashboard computes), bench/body_flood.py (memory
under unauthenticated bodies), bench/fuzz_webhooks.py (the webhook endpoints fuzzed), bench/parser.py (hostile
comments read), bench/notify_render.py (hostile titles rendered for every channel) and bench/digest_charts.py
(a crowd asking for digest charts), each in its own process so that one's memory never counts for another, and
gathers the tables they print.
A benchmark that is missing or fails is reported as such; the others still run.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ("ingest.py", "replicas.py", "import_rate.py", "metrics.py", "pages.py", "busy_dashboard.py",
              "body_flood.py", "fuzz_webhooks.py", "parser.py", "notify_render.py", "digest_charts.py")


def run(script: str, quick: bool) -> tuple[str, float, bool]:
    """The Markdown a benchmark printed (its table), how long it took, and whether it ran to the end."""
    path = HERE / script
    if not path.exists():
        return f"`{script}` is not there.\n", 0.0, False
    started = time.monotonic()
    result = subprocess.run([sys.executable, str(path), *(["--quick"] if quick else [])], capture_output=True,
                            text=True, cwd=HERE.parent)
    took = time.monotonic() - started
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-15:])
        return f"`{script}` failed (exit {result.returncode}):\n\n```\n{tail}\n```\n", took, False
    return result.stdout.strip() + "\n", took, True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="each benchmark's smoke run")
    parser.add_argument("--output", type=Path, help="also write the report to this file")
    parser.add_argument("--only", nargs="*", choices=BENCHMARKS, help="run only these")
    args = parser.parse_args()
    chosen = args.only or BENCHMARKS
    sections = [f"# cobot benchmarks\n\n{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores; "
                f"Python {platform.python_version()}; {'quick runs' if args.quick else 'full runs'}.\n"]
    summary = ["| benchmark | took | ran |", "| --- | --- | --- |"]
    for script in chosen:
        print(f"running {script} …", file=sys.stderr)
        text, took, ok = run(script, args.quick)
        sections.append(f"### {script}\n\n{text}")
        summary.append(f"| {script} | {took:,.0f} s | {'yes' if ok else 'no'} |")
    report = "\n".join([sections[0], *summary, "", *sections[1:]])
    print(report)
    if args.output:
        args.output.write_text(report)


if __name__ == "__main__":
    main()
