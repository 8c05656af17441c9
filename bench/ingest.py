"""Ingest benchmark: signed deliveries fired at a running `cobot serve` (SQLite) from a second process.

    python bench/ingest.py                 # the full run (about 10 minutes: the burst is worked off before phase 2)
    python bench/ingest.py --quick         # short phases, a smoke check
    python bench/ingest.py --seconds 60 --rate 500 --connections 64
    python bench/ingest.py --quick --tree /tmp/cobot-before   # serve another tree (`git archive` of a commit)

Measures, each beside a bare-aiohttp baseline (signature check only) run in the same session:
1. sustained throughput: accepted deliveries/s over --seconds at full speed, and that none acknowledged is lost;
2. at a fixed --rate: acknowledgement latency p50/p99, and delivery-to-outbox latency p50/p99 (the time from
   a delivery being stored to its welcome actions being in the outbox);
3. peak RSS of the server process (and of its inbox worker process).
Targets (issue 2): ≥ 2,000/s for 60 s, none lost; ack p99 ≤ 50 ms at 500/s; delivery-to-outbox p99 ≤ 1 s at
500/s; server RSS ≤ 200 MB. Prints a Markdown table. Everything runs on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bot.store.db import Database  # noqa: E402
from bot.store.tables import Delivery, OutboxAction  # noqa: E402
from bot.web.apart import NICENESS as READS_NICENESS  # noqa: E402

SECRET = "bench-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"no healthy server on port {port}")


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def niceness(pid: int) -> int:
    try:  # /proc/PID/stat: the 19th field (the 17th after the command's name)
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])
    except (OSError, IndexError, ValueError):
        return 0


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    db_url: str | None = None
    peak_rss: float = 0.0
    peak_worker_rss: float = 0.0
    peak_reads_rss: float = 0.0  # the dashboard's slow reads' process (the child at the lowest priority)
    _stop: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/github"

    def sample_memory(self) -> None:
        def sample() -> None:
            while not self._stop.wait(0.25):
                self.peak_rss = max(self.peak_rss, rss_mb(self.process.pid))
                reads_at = min(19, niceness(self.process.pid) + READS_NICENESS)
                found = {child: niceness(child) for child in children(self.process.pid)}
                worker = sum(rss_mb(child) for child, nice in found.items() if nice < reads_at)
                reads = sum(rss_mb(child) for child, nice in found.items() if nice >= reads_at)
                self.peak_worker_rss = max(self.peak_worker_rss, worker)
                self.peak_reads_rss = max(self.peak_reads_rss, reads)
        threading.Thread(target=sample, daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_cobot(workdir: Path, *, tree: Path = HERE.parent, env: Mapping[str, str] | None = None,
                config: str = '[community]\nname = "Bench"\n') -> Server:
    """`cobot serve` from the source tree `tree` on a free port of 127.0.0.1, healthy, its memory sampled: a SQLite
    database in `workdir`, `config` as its configuration, GitHub's webhook secret SECRET, no forge token, `env`
    over that (other secrets, for one)."""
    port = free_port()
    db_url = f"sqlite:///{workdir / f'cobot-{port}.db'}"
    config_file = workdir / f"config-{port}.toml"
    config_file.write_text(config)
    variables = {**os.environ, "COBOT_DATABASE_URL": db_url, "COBOT_GITHUB_WEBHOOK_SECRET": SECRET,
                 "PYTHONPATH": str(tree)}
    for name in ("COBOT_GITHUB_TOKEN", "COBOT_GITEE_TOKEN", "COBOT_CONFIG"):
        variables.pop(name, None)
    variables.update(env or {})
    process = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--config", str(config_file), "--port",
                                str(port)], env=variables, cwd=tree, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    server = Server(process, port, variables["COBOT_DATABASE_URL"])
    try:
        wait_healthy(port)
    except BaseException:
        server.stop()
        raise
    server.sample_memory()
    return server


def start_baseline() -> Server:
    port = free_port()
    process = subprocess.Popen([sys.executable, str(HERE / "_baseline_server.py"), SECRET, str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = Server(process, port)
    wait_healthy(port)
    server.sample_memory()
    return server


def load(server: Server, *args: str) -> dict:
    result = subprocess.run([sys.executable, str(HERE / "_load.py"), server.url, SECRET, *args],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def stored_keys(db: Database, prefix: str) -> set[str]:
    with db.inbox.session() as session:
        return set(session.execute(select(Delivery.key).where(Delivery.key.like(f"{prefix}-%"))).scalars())


def wait_processed(db: Database, timeout: float) -> float:
    """Seconds until no delivery is waiting (or the timeout)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        with db.inbox.session() as session:
            waiting = session.execute(select(func.count()).select_from(Delivery)
                                      .where(Delivery.status == "received")).scalar_one()
        if waiting == 0:
            break
        time.sleep(0.5)
    return time.monotonic() - started


def outbox_latencies(db: Database, prefix: str) -> list[float]:
    """Per delivery: from being stored to its first outbox action (the deliveries are in the inbox file)."""
    with db.inbox.session() as session:
        received = dict(session.execute(select(Delivery.id, Delivery.received_at)
                                        .where(Delivery.key.like(f"{prefix}-%"))).all())
    with db.session() as session:
        first_action = session.execute(select(OutboxAction.delivery_id, func.min(OutboxAction.created_at))
                                       .group_by(OutboxAction.delivery_id)).all()
    return sorted((created - received[delivery_id]).total_seconds() * 1000
                  for delivery_id, created in first_action if delivery_id in received)


def pct(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(len(values) * share))] if values else float("nan")


def row(metric: str, cobot: float, baseline: float | None, target: str, ok: bool | None, unit: str = "") -> str:
    ratio = f"{cobot / baseline:.2f}" if baseline else "–"
    base = f"{baseline:,.1f}{unit}" if baseline is not None else "–"
    verdict = "–" if ok is None else ("pass" if ok else "FAIL")
    return f"| {metric} | {cobot:,.1f}{unit} | {base} | {ratio} | {target} | {verdict} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60, help="length of the throughput phase")
    parser.add_argument("--latency-seconds", type=float, default=20, help="length of the fixed-rate phase")
    parser.add_argument("--rate", type=float, default=500, help="deliveries/s in the fixed-rate phase")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--quick", action="store_true", help="5-second phases")
    parser.add_argument("--tree", type=Path, default=HERE.parent, help="the source tree whose cobot is served "
                        "(another checkout: the figures before a change)")
    args = parser.parse_args()
    if args.quick:
        args.seconds = args.latency_seconds = 5

    with tempfile.TemporaryDirectory(prefix="cobot-bench-") as tmp:
        workdir = Path(tmp)
        keys_file = workdir / "keys.txt"
        print(f"throughput: {args.seconds:.0f} s at full speed, {args.connections} connections …", file=sys.stderr)
        baseline = start_baseline()
        try:
            base_max = load(baseline, "--mode", "max", "--seconds", str(args.seconds),
                            "--connections", str(args.connections), "--prefix", "b1")
            base_rate = load(baseline, "--mode", "rate", "--rate", str(args.rate),
                             "--seconds", str(args.latency_seconds), "--prefix", "b2")
        finally:
            baseline.stop()

        cobot = start_cobot(workdir, tree=args.tree.resolve())
        try:
            got_max = load(cobot, "--mode", "max", "--seconds", str(args.seconds), "--connections",
                           str(args.connections), "--prefix", "t1", "--keys", str(keys_file))
            db = Database(cobot.db_url or "")
            acknowledged = set(keys_file.read_text().split()) if keys_file.stat().st_size else set()
            lost = len(acknowledged - stored_keys(db, "t1"))
            print("waiting for the worker to process the backlog …", file=sys.stderr)
            wait_processed(db, timeout=900)
        finally:
            cobot.stop()

        cobot = start_cobot(workdir, tree=args.tree.resolve())
        try:
            print(f"latency: {args.latency_seconds:.0f} s at {args.rate:.0f}/s …", file=sys.stderr)
            got_rate = load(cobot, "--mode", "rate", "--rate", str(args.rate), "--seconds",
                            str(args.latency_seconds), "--prefix", "l1")
            db = Database(cobot.db_url or "")
            catch_up = wait_processed(db, timeout=300)
            to_outbox = outbox_latencies(db, "l1")
            peak_rss, worker_rss, reads_rss = cobot.peak_rss, cobot.peak_worker_rss, cobot.peak_reads_rss
        finally:
            cobot.stop()

    throughput = got_max["accepted"] / got_max["elapsed"]
    base_throughput = base_max["accepted"] / base_max["elapsed"]
    print(f"\n## Ingest benchmark ({os.cpu_count()} cores; SQLite; load from a second process)\n")
    print("| metric | cobot | baseline | ratio | target | |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(row(f"accepted/s, full speed, {args.seconds:.0f} s", throughput, base_throughput, "≥ 2,000/s",
              throughput >= 2000))
    print(row("acknowledged but lost", lost, None, "0", lost == 0))
    print(row("errors / non-202 answers", got_max["errors"] + got_max["sent"] - got_max["accepted"], None, "0",
              None))
    print(row("ack p50 at full speed", got_max["p50_ms"], base_max["p50_ms"], "–", None, " ms"))
    print(row(f"ack p50 at {args.rate:.0f}/s", got_rate["p50_ms"], base_rate["p50_ms"], "–", None, " ms"))
    print(row(f"ack p99 at {args.rate:.0f}/s", got_rate["p99_ms"], base_rate["p99_ms"], "≤ 50 ms",
              got_rate["p99_ms"] <= 50, " ms"))
    print(row(f"delivery→outbox p50 at {args.rate:.0f}/s", pct(to_outbox, 0.5), None, "–", None, " ms"))
    print(row(f"delivery→outbox p99 at {args.rate:.0f}/s", pct(to_outbox, 0.99), None, "≤ 1,000 ms",
              pct(to_outbox, 0.99) <= 1000, " ms"))
    print(row("worker caught up after the rate phase", catch_up, None, "–", None, " s"))
    print(row("server RSS, peak", peak_rss, baseline.peak_rss, "≤ 200 MB", peak_rss <= 200, " MB"))
    print(row("inbox worker process RSS, peak", worker_rss, None, "–", None, " MB"))
    print(row("dashboard slow-reads process RSS, peak (idle)", reads_rss, None, "–", None, " MB"))


if __name__ == "__main__":
    main()
