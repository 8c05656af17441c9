"""Unauthenticated body flood: connections that each send a webhook body of 25 MB − 1 byte and hold the last byte.

    python bench/body_flood.py                      # 30 connections × 25 MB from one address, three runs, the median
    python bench/body_flood.py --addresses 10       # the connections spread over 10 client addresses
    python bench/body_flood.py --connections 30 --runs 3 --tree /path/to/another/checkout

Starts a real `cobot serve` (SQLite) and measures its resident memory: idle; while the connections hold their
bodies (the signature headers look right, the signature is wrong, so the server cannot know until the body is
complete); and a few seconds after they went away. Also counts what the connections were answered before they sent
their last byte, and checks that `/healthz` and one signed delivery (from an address of its own, 127.0.0.1) are
answered during the flood, and, after it, beside three silent connections that declare bodies as large as the
budget together. The flood comes from 127.0.1.1, 127.0.1.2, … (`--addresses`): one address may hold one
largest body of the budget, so from one address the rest is answered 503 as it arrives; from several, the budget
bounds what they hold together. (Spending all of it takes several addresses and the bandwidth to send it again
every `server.body_timeout_seconds`.)
`--tree` runs the server from another source tree (for a before/after comparison). Everything runs on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import aiohttp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from ingest import rss_mb, start_cobot  # noqa: E402

SECRET = "flood-secret"
BODY_BYTES = 25 * 1024 * 1024
BUDGET_BYTES = 64 * 1024 * 1024  # server.webhook_body_budget_bytes, by default
CHUNK = 256 * 1024


@dataclass
class Run:
    idle_mb: float
    during_mb: float
    after_mb: float
    answered_early: Counter[str]
    healthz_during: int
    signed_during: int
    signed_beside_silent: int


def settled_rss(pid: int, seconds: float = 2.0) -> float:
    """The median of a few samples over `seconds`."""
    samples = []
    for _ in range(8):
        samples.append(rss_mb(pid))
        time.sleep(seconds / 8)
    return statistics.median(samples)


async def hold_body(port: int, number: int, address: str, sent_all: asyncio.Event, release: asyncio.Event) -> str:
    """From `address`, send the head and all of the body but its last byte, wait for `release`, then go. What was
    answered."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(address, 0))
    head = (f"POST /webhooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"X-GitHub-Event: issues\r\nX-GitHub-Delivery: flood-{number}\r\n"
            f"X-Hub-Signature-256: sha256={'0' * 64}\r\nContent-Length: {BODY_BYTES}\r\n\r\n").encode()
    answer = "nothing"
    try:
        writer.write(head)
        chunk = b"x" * CHUNK
        left = BODY_BYTES - 1
        while left > 0:
            writer.write(chunk[:min(CHUNK, left)])
            left -= min(CHUNK, left)
            await asyncio.wait_for(writer.drain(), timeout=30)
    except (ConnectionError, TimeoutError):
        answer = "closed while sending"
    sent_all.set()
    try:
        line = await asyncio.wait_for(reader.readline(), timeout=0.5)
        if line:
            answer = line.decode(errors="replace").split(" ", 2)[1]
    except (TimeoutError, ConnectionError, IndexError):
        pass
    await release.wait()
    writer.close()
    return answer


async def signed_delivery(port: int) -> int:
    body = json.dumps({"action": "opened", "zen": "flood"}).encode()
    headers = {"X-GitHub-Event": "ping", "X-GitHub-Delivery": f"legit-{time.monotonic_ns()}",
               "Content-Type": "application/json",
               "X-Hub-Signature-256": "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as session:
        try:
            async with session.post(f"http://127.0.0.1:{port}/webhooks/github", data=body,
                                    headers=headers) as response:
                return response.status
        except (aiohttp.ClientError, TimeoutError):
            return 0


async def healthz(port: int) -> int:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as session:
        try:
            async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                return response.status
        except (aiohttp.ClientError, TimeoutError):
            return 0


async def beside_silent_ones(port: int) -> int:
    """Three connections from one address declare bodies as large as the budget together (25 + 25 + 14 MB: the
    default budget) and send none of it: the answer to a signed delivery meanwhile."""
    silent = []
    for size in (BODY_BYTES, BODY_BYTES, BUDGET_BYTES - 2 * BODY_BYTES):
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=("127.0.1.1", 0))
        writer.write((f"POST /webhooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nX-GitHub-Event: issues\r\n"
                      f"X-Hub-Signature-256: sha256={'0' * 64}\r\nContent-Length: {size}\r\n\r\n").encode())
        await writer.drain()
        silent.append(writer)
    await asyncio.sleep(0.5)  # their heads read
    try:
        return await signed_delivery(port)
    finally:
        for writer in silent:
            writer.close()


async def flood(pid: int, port: int, connections: int, addresses: int) -> Run:
    idle = await asyncio.to_thread(settled_rss, pid)
    release = asyncio.Event()
    sent = [asyncio.Event() for _ in range(connections)]
    holders = [asyncio.create_task(hold_body(port, n, f"127.0.1.{1 + n % addresses}", sent[n], release))
               for n in range(connections)]
    await asyncio.gather(*(event.wait() for event in sent))
    await asyncio.sleep(1)
    during = await asyncio.to_thread(settled_rss, pid)
    health, signed = await asyncio.gather(healthz(port), signed_delivery(port))
    release.set()
    answers = Counter(await asyncio.gather(*holders))
    await asyncio.sleep(3)
    after = await asyncio.to_thread(settled_rss, pid, 3.0)
    return Run(idle, during, after, answers, health, signed, await beside_silent_ones(port))


def one_run(tree: Path, connections: int, addresses: int) -> Run:
    with tempfile.TemporaryDirectory(prefix="cobot-flood-") as tmp:
        server = start_cobot(Path(tmp), tree=tree, env={"COBOT_GITHUB_WEBHOOK_SECRET": SECRET},
                             config='[community]\nname = "Flood"\n')
        try:
            return asyncio.run(flood(server.process.pid, server.port, connections, addresses))
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=30)
    parser.add_argument("--addresses", type=int, default=1, choices=range(1, 255), metavar="1…254",
                        help="client addresses the connections come from")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tree", type=Path, default=HERE.parent, help="the source tree to serve from")
    parser.add_argument("--quick", action="store_true", help="one run")
    args = parser.parse_args()
    runs = [one_run(args.tree.resolve(), args.connections, args.addresses)
            for _ in range(1 if args.quick else args.runs)]

    def median(name: str) -> float:
        return statistics.median(getattr(run, name) for run in runs)

    answers = " ".join(f"{status}: {count}" for status, count in sorted(runs[-1].answered_early.items()))
    print(f"\n## Body flood: {args.connections} connections × 25 MB − 1 byte from {args.addresses} "
          f"address{'es' if args.addresses > 1 else ''}, held ({len(runs)} run{'s' if len(runs) > 1 else ''}, "
          f"median; served from {args.tree})\n")
    print("| measure | value |")
    print("| --- | --- |")
    print(f"| server RSS idle | {median('idle_mb'):,.0f} MB |")
    print(f"| server RSS while the bodies are held | {median('during_mb'):,.0f} MB |")
    print(f"| server RSS 3 s after they went away | {median('after_mb'):,.0f} MB |")
    print(f"| answered before the last byte (last run) | {answers} |")
    print(f"| `/healthz` during the flood (last run) | {runs[-1].healthz_during} |")
    print(f"| a signed delivery during the flood (last run) | {runs[-1].signed_during} |")
    print(f"| a signed delivery beside three silent connections declaring 25 + 25 + 14 MB (last run) "
          f"| {runs[-1].signed_beside_silent} |")


if __name__ == "__main__":
    main()
