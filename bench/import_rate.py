"""Import benchmark: a GH Archive hour many times the size of the real one, imported into a fresh SQLite store.

    python bench/import_rate.py              # 20 copies of the real hour (165,460 records), 3 runs
    python bench/import_rate.py --quick      # 4 copies, 2 runs: a smoke check
    python bench/import_rate.py --copies 40 --runs 5 --keep /tmp/big-hour.json.gz

The file is synthesised from ../shared/fixtures/gharchive/2015-01-01-12.json.gz: each record of the real hour
once as it is, then again once per further copy with a new id, new logins (`login-c2`), new repos (`owner-c2/name`)
and new issue, PR and comment numbers, one copy after another record by record, so that the file keeps the hour's
mix of event types and its order in time, with as many times the people and repos. Each run imports it whole
(`bot.history.gharchive`: the reader process and the batches, as `cobot import gharchive` does) into a new store
migrated as cobot migrates it. Prints, as a Markdown table, the median of the runs: events stored a second (target:
≥ 20,000/s), records read a second, the importing process's CPU time, and peak RSS of the importer and its reader.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bot.config import settings_from_mapping  # noqa: E402
from bot.history.gharchive import GHArchiveImport  # noqa: E402
from bot.store.db import Database  # noqa: E402

HOUR = HERE.parent.parent / "shared" / "fixtures" / "gharchive" / "2015-01-01-12.json.gz"
TARGET = 20_000.0
NUMBERED = ("number", "id")  # issue, PR, comment, review numbers and ids: moved by each copy
RENAMED_REPOS = ("name", "full_name")


def renamed(value: Any, copy: int) -> Any:
    """A record's payload as another community's: logins, repo owners, numbers and ids made the copy's own."""
    if isinstance(value, list):
        return [renamed(item, copy) for item in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        if key == "login" and isinstance(item, str):
            out[key] = f"{item}-c{copy}"
        elif key in RENAMED_REPOS and isinstance(item, str) and item.count("/") == 1:
            owner, name = item.split("/")
            out[key] = f"{owner}-c{copy}/{name}"
        elif key in NUMBERED and isinstance(item, int):
            out[key] = item + copy * 10_000_000
        else:
            out[key] = renamed(item, copy)
    return out


def synthesise(path: Path, copies: int) -> int:
    """Write the big hour; the number of records."""
    written = 0
    with gzip.open(HOUR, "rt", encoding="utf-8") as source, gzip.open(path, "wt", encoding="utf-8",
                                                                       compresslevel=6) as out:
        for line in source:
            record = json.loads(line)
            for copy in range(copies):
                made = record if copy == 0 else {**renamed(record, copy),
                                                 "id": str(int(record["id"]) + copy * 100_000_000),
                                                 "created_at": record["created_at"]}
                out.write(json.dumps(made, separators=(",", ":")) + "\n")
                written += 1
    return written


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class ChildPeak:
    """The highest peak RSS (VmHWM) of the readers this process starts, while it watches."""

    def __init__(self) -> None:
        self.mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> ChildPeak:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stop.wait(0.05):
            for listing in Path("/proc/self/task").glob("*/children"):
                try:
                    pids = listing.read_text().split()
                except OSError:
                    continue
                for pid in pids:
                    try:  # the reader once it is the reader (not the copy of this process it is forked from)
                        if b"gharchive_reader" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                            continue
                        status = Path(f"/proc/{pid}/status").read_text()
                    except OSError:
                        continue
                    for line in status.splitlines():
                        if line.startswith("VmHWM:"):
                            self.mb = max(self.mb, int(line.split()[1]) / 1024)


def import_once(path: Path, workdir: Path, run: int, batch_size: int) -> dict[str, float]:
    url = f"sqlite:///{workdir / f'run-{run}.db'}"
    db = Database(url)
    db.upgrade()
    settings = settings_from_mapping({"database": {"url": url}, "community": {"name": "Bench"}}, "bench", env={})
    cpu, started = time.process_time(), time.perf_counter()
    report = GHArchiveImport(db, settings, batch_size=batch_size).run(path)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    db.dispose()
    for name in (f"run-{run}.db", f"run-{run}-inbox.db"):
        for suffix in ("", "-wal", "-shm"):
            (workdir / f"{name}{suffix}").unlink(missing_ok=True)
    return {"seconds": seconds, "cpu": cpu, "events": report.stored.events, "read": report.read,
            "rate": report.stored.events / seconds, "read_rate": report.read / seconds,
            "cpu_rate": report.stored.events / cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=20, help="copies of the real hour (default 20)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="4 copies, 2 runs")
    parser.add_argument("--keep", type=Path, help="the synthesised file: kept there (reused when it exists)")
    args = parser.parse_args()
    if args.quick:
        args.copies, args.runs = 4, 2
    if not HOUR.exists():
        sys.exit(f"the real hour is not at {HOUR} (the shared/ folder beside the checkout)")

    with tempfile.TemporaryDirectory(prefix="cobot-import-bench-") as tmp:
        workdir = Path(tmp)
        path = args.keep or workdir / "2015-01-01-12-big.json.gz"
        if path.exists():
            with gzip.open(path, "rb") as lines:
                records = sum(1 for _ in lines)
        else:
            print(f"synthesising {args.copies} copies of the real hour …", file=sys.stderr)
            records = synthesise(path, args.copies)
        print(f"importing {records:,} records ({path.stat().st_size / 1e6:,.1f} MB), {args.runs} runs …",
              file=sys.stderr)
        load = os.getloadavg()[0]
        runs = []
        with ChildPeak() as reader:
            for run in range(args.runs):
                runs.append(import_once(path, workdir, run, args.batch_size))
                print(f"  run {run + 1}: {runs[-1]['rate']:,.0f} events/s", file=sys.stderr)
        rss, reader_rss = peak_rss_mb(), reader.mb

    def median(name: str) -> float:
        return statistics.median(run[name] for run in runs)

    rate = median("rate")
    print(f"\n## Import benchmark ({os.cpu_count()} cores; SQLite; {records:,} records of GH Archive, "
          f"{runs[0]['events']:,} events stored; batches of {args.batch_size:,}; load average {load:.1f} at start)\n")
    print("| measure | median | target | | |")
    print("| --- | --- | --- | --- | --- |")
    each = ", ".join(f"{run['rate']:,.0f}" for run in runs)
    print(f"| events stored a second | {rate:,.0f}/s | ≥ {TARGET:,.0f}/s | {'pass' if rate >= TARGET else 'FAIL'} | "
          f"runs: {each} |")
    print(f"| records read a second | {median('read_rate'):,.0f}/s | – | – | GH Archive events, tracked or not |")
    print(f"| import of the file | {median('seconds'):,.1f} s | – | – | |")
    print(f"| the importer's CPU time | {median('cpu'):,.1f} s | – | – | {median('cpu_rate'):,.0f} events per CPU "
          "second: the rate if it had a core to itself |")
    print(f"| peak RSS, importer | {rss:,.0f} MB | – | – | constant in the file's size (batches) |")
    print(f"| peak RSS, reader | {reader_rss:,.0f} MB | – | – | |")


if __name__ == "__main__":
    main()
