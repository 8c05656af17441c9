"""Ingest on PostgreSQL: one `cobot serve` replica against three, on one database.

    python bench/replicas.py                      # 30 s phases
    python bench/replicas.py --quick              # 5 s phases
    python bench/replicas.py --url postgresql://postgres@127.0.0.1:5432/test

Each phase starts the replicas on a fresh database (created beside the one --url names, dropped after), fires
signed deliveries at full speed from one load process per replica (bench/_load.py), and measures accepted
deliveries/s, ack latency, and that every acknowledged delivery was stored. Target (issue 8): three replicas
ingest at least 1.5× what one does. Prints a Markdown table. Everything runs on 127.0.0.1; mind that the load
processes, the replicas, their workers and PostgreSQL all share this machine's cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import psycopg

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.ingest import SECRET, Server, free_port, wait_healthy  # noqa: E402
from bot.store.db import Database  # noqa: E402


def create_database(base: str) -> str:
    name = f"cobot_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = base.rsplit("/", 1)[0] + f"/{name}"
    db = Database(url)
    db.upgrade()
    db.dispose()
    return url


def drop_database(base: str, url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_replica(workdir: Path, db_url: str) -> Server:
    port = free_port()
    config = workdir / "config.toml"
    config.write_text('[community]\nname = "Bench"\n')
    env = {**os.environ, "COBOT_DATABASE_URL": db_url, "COBOT_GITHUB_WEBHOOK_SECRET": SECRET}
    for name in ("COBOT_GITHUB_TOKEN", "COBOT_GITEE_TOKEN", "COBOT_CONFIG"):
        env.pop(name, None)
    process = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--config", str(config), "--port", str(port)],
                               env=env, cwd=HERE.parent, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = Server(process, port, db_url)
    wait_healthy(port)
    server.sample_memory()
    return server


def phase(base: str, replicas: int, seconds: float, connections: int, workdir: Path) -> dict:
    url = create_database(base)
    servers = [start_replica(workdir, url) for _ in range(replicas)]
    try:
        loads = [subprocess.Popen([sys.executable, str(HERE / "_load.py"), server.url, SECRET, "--mode", "max",
                                   "--seconds", str(seconds), "--connections", str(max(connections // replicas, 4)),
                                   "--prefix", f"r{replicas}-{index}",
                                   "--keys", str(workdir / f"keys-{replicas}-{index}.txt")],
                                  stdout=subprocess.PIPE, text=True)
                 for index, server in enumerate(servers)]
        results = [json.loads(load.communicate()[0]) for load in loads]
        acknowledged = set()
        for index in range(replicas):
            keys = workdir / f"keys-{replicas}-{index}.txt"
            acknowledged |= set(keys.read_text().split()) if keys.exists() else set()
        db = Database(url)
        with db.engine.connect() as conn:
            stored = set(conn.exec_driver_sql("SELECT key FROM delivery").scalars())
        db.dispose()
    finally:
        for server in servers:
            server.stop()
        drop_database(base, url)
    elapsed = max(result["elapsed"] for result in results)
    return {"accepted_per_s": sum(result["accepted"] for result in results) / elapsed,
            "p99_ms": max(result["p99_ms"] for result in results),
            "errors": sum(result["errors"] + result["sent"] - result["accepted"] for result in results),
            "lost": len(acknowledged - stored), "rss": max(server.peak_rss for server in servers)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("COBOT_TEST_POSTGRES_URL",
                                                        "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--quick", action="store_true", help="5-second phases")
    args = parser.parse_args()
    if args.quick:
        args.seconds = 5
    with tempfile.TemporaryDirectory(prefix="cobot-bench-") as tmp:
        print(f"one replica, {args.seconds:.0f} s …", file=sys.stderr)
        one = phase(args.url, 1, args.seconds, args.connections, Path(tmp))
        print(f"three replicas, {args.seconds:.0f} s …", file=sys.stderr)
        three = phase(args.url, 3, args.seconds, args.connections, Path(tmp))
    ratio = three["accepted_per_s"] / one["accepted_per_s"]
    print(f"\n## Ingest on PostgreSQL: one replica and three ({os.cpu_count()} cores; load from other processes)\n")
    print("| metric | 1 replica | 3 replicas | ratio | target | |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(f"| accepted/s, full speed, {args.seconds:.0f} s | {one['accepted_per_s']:,.0f} | "
          f"{three['accepted_per_s']:,.0f} | {ratio:.2f} | ≥ 1.5× | {'pass' if ratio >= 1.5 else 'FAIL'} |")
    print(f"| ack p99 at full speed | {one['p99_ms']:,.1f} ms | {three['p99_ms']:,.1f} ms | – | – | – |")
    print(f"| acknowledged but lost | {one['lost']} | {three['lost']} | – | 0 | "
          f"{'pass' if one['lost'] == three['lost'] == 0 else 'FAIL'} |")
    print(f"| errors / non-202 answers | {one['errors']} | {three['errors']} | – | – | – |")
    print(f"| server RSS, peak | {one['rss']:,.0f} MB | {three['rss']:,.0f} MB (each) | – | – | – |")


if __name__ == "__main__":
    main()
