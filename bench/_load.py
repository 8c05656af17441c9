"""Load generator for bench/ingest.py, run as its own process: signed GitHub `issues` deliveries to one URL.

    python bench/_load.py URL SECRET --mode max --seconds 60 --connections 64 --prefix t1 --keys FILE
    python bench/_load.py URL SECRET --mode rate --rate 500 --seconds 20 --prefix l1 --keys FILE

Prints one JSON object: sent, accepted, errors, statuses, elapsed, ack latency percentiles (ms).
Talks to the given URL only (the benchmark passes 127.0.0.1).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import statistics
import time
from collections import Counter

import aiohttp

TEMPLATE = json.dumps({
    "action": "opened",
    "repository": {"full_name": "bench-org/bench-repo", "html_url": "https://github.com/bench-org/bench-repo"},
    "sender": {"login": "dev-@N@", "id": 0, "type": "User"},
    "issue": {
        "number": 0, "title": "Benchmark issue @N@: the model loader fails on large checkpoints", "state": "open",
        "user": {"login": "dev-@N@", "id": 0, "type": "User"}, "labels": [{"name": "bug"}], "assignees": [],
        "created_at": "2026-11-01T10:00:00Z", "updated_at": "2026-11-01T10:00:00Z", "closed_at": None,
        "html_url": "https://github.com/bench-org/bench-repo/issues/@N@",
        "body": "Steps to reproduce:\n" + "load a checkpoint larger than 4 GB and watch memory grow. " * 30,
    },
}).replace('"number": 0', '"number": @N@')


def delivery(number: int, secret: bytes) -> tuple[bytes, str]:
    body = TEMPLATE.replace("@N@", str(number)).encode()
    return body, "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


async def run(args: argparse.Namespace) -> dict[str, object]:
    secret = args.secret.encode()
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    accepted_keys: list[str] = []
    errors = 0
    counter = 0
    started = time.monotonic()
    deadline = started + args.seconds
    connector = aiohttp.TCPConnector(limit=args.connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def send() -> None:
            nonlocal counter, errors
            counter += 1
            number = counter
            body, signature = delivery(number, secret)
            key = f"{args.prefix}-{number}"
            headers = {"X-GitHub-Event": "issues", "X-GitHub-Delivery": key, "X-Hub-Signature-256": signature,
                       "Content-Type": "application/json"}
            sent_at = time.perf_counter()
            try:
                async with session.post(args.url, data=body, headers=headers) as response:
                    await response.read()
                    statuses[response.status] += 1
                    if response.status == 202:
                        accepted_keys.append(key)
            except aiohttp.ClientError:
                errors += 1
                return
            latencies.append((time.perf_counter() - sent_at) * 1000)

        if args.mode == "max":
            async def loop() -> None:
                while time.monotonic() < deadline:
                    await send()
            await asyncio.gather(*(loop() for _ in range(args.connections)))
        else:  # open loop: send on schedule whatever the answers do
            interval, tasks, n = 1.0 / args.rate, set(), 0
            while (now := time.monotonic()) < deadline:
                due = started + n * interval
                if due > now:
                    await asyncio.sleep(due - now)
                task = asyncio.create_task(send())
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                n += 1
            await asyncio.gather(*tasks)
    elapsed = time.monotonic() - started
    if args.keys:
        with open(args.keys, "w") as keys:
            keys.write("\n".join(accepted_keys))
    return {"sent": counter, "accepted": statuses.get(202, 0), "errors": errors,
            "statuses": {str(k): v for k, v in statuses.items()}, "elapsed": elapsed,
            "p50_ms": percentile(latencies, 0.50), "p99_ms": percentile(latencies, 0.99),
            "mean_ms": statistics.fmean(latencies) if latencies else float("nan")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("secret")
    parser.add_argument("--mode", choices=["max", "rate"], default="max")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--prefix", default="bench")
    parser.add_argument("--keys", default="")
    print(json.dumps(asyncio.run(run(parser.parse_args()))))


if __name__ == "__main__":
    main()
