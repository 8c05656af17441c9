"""Fuzz both webhook endpoints of a real `cobot serve` (SQLite) with mutated deliveries, over HTTP/1.1 written by hand.

    python bench/fuzz_webhooks.py                   # 60 seconds, 8 connections at a time
    python bench/fuzz_webhooks.py --seconds 300 --seed 7
    python bench/fuzz_webhooks.py --quick           # 10 seconds
    python bench/fuzz_webhooks.py --tree /path/to/another/checkout   # serve that tree's code instead

Each input starts from a real-looking delivery (a GitHub issue, comment or ping, the same as a form, a Gitee issue
with its secret fields) and is mutated: bytes flipped, inserted, cut or repeated; nesting thousands deep; lone
surrogate escapes; the secret written into it; headers that are not UTF-8, too long, missing or repeated; content
types; signatures right (most of the time), wrong, stale, from the future, missing.
It checks: no answer is a 5xx; the server never drops a connection without answering and is alive and healthy at
the end; every signed delivery cobot answered for is in the database (the row its answer names); no stored body
or header holds the Gitee secret. Prints how many inputs it tried and what it found; exits 1 if it found anything.
Everything runs on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import random
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from ingest import start_cobot, wait_healthy  # noqa: E402
from sqlalchemy import select  # noqa: E402

from bot.store.db import Database  # noqa: E402
from bot.store.tables import Delivery  # noqa: E402
from tests.raw_http import exchange, post  # noqa: E402

GITHUB_SECRET = "fuzz-github-secret"
GITEE_SECRET = "fuzz-gitee-secret"
USER = {"login": "alice", "id": 1, "type": "User"}
REPO = {"full_name": "acme/rocket", "html_url": "https://github.com/acme/rocket"}
ISSUE = {"number": 1, "title": "Crash on start", "state": "open", "body": "It crashes.\n/label bug", "user": USER,
         "labels": [{"name": "bug"}], "assignees": [], "created_at": "2026-11-01T10:00:00Z",
         "updated_at": "2026-11-01T10:00:00Z", "closed_at": None, "html_url": "https://github.com/acme/rocket/issues/1"}
GITHUB_SEEDS = [
    ("issues", {"action": "opened", "repository": REPO, "sender": USER, "issue": ISSUE}),
    ("issue_comment", {"action": "created", "repository": REPO, "sender": USER, "issue": ISSUE,
                       "comment": {"id": 9, "body": "/claim", "user": USER, "created_at": "2026-11-01T11:00:00Z"}}),
    ("ping", {"zen": "Design for failure.", "hook_id": 1}),
    ("push", {"ref": "refs/heads/main", "before": "a" * 40, "after": "b" * 40, "commits": [], "repository": REPO,
              "sender": USER, "head_commit": {"timestamp": "2026-11-01T12:00:00Z"}}),
]
GITEE_USER = {"login": "lin", "id": 7, "name": "Lin"}
GITEE_SEEDS = [
    ("Issue Hook", {"action": "open", "hook_name": "issue_hooks", "sender": GITEE_USER,
                    "repository": {"full_name": "acme/rocket", "html_url": "https://gitee.com/acme/rocket"},
                    "issue": {"number": "I1", "title": "崩溃", "state": "open", "body": "", "user": GITEE_USER,
                              "labels": [], "created_at": "2026-11-01T18:00:00+08:00",
                              "updated_at": "2026-11-01T18:00:00+08:00"}}),
    ("Push Hook", {"hook_name": "push_hooks", "ref": "refs/heads/main", "total_commits_count": 1,
                   "repository": {"full_name": "acme/rocket"}, "sender": GITEE_USER}),
]
GITHUB_EVENTS = ["issues", "issue_comment", "ping", "push", "star", "pull_request", "fork"]
GITEE_EVENTS = ["Issue Hook", "Push Hook", "Note Hook", "Merge Request Hook", "Tag Push Hook"]


@dataclass
class Request:
    endpoint: str
    signed: bool
    wire: bytes


@dataclass
class Findings:
    tried: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    answered: list[tuple[str, dict]] = field(default_factory=list)  # (endpoint, JSON answer) of signed requests
    problems: list[str] = field(default_factory=list)


class Mutator:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.gitee_clock = int(time.time() * 1000)

    def value(self) -> object:
        pick = self.rng.randrange(8)
        return [None, True, -(2 ** 70), 1e308, "\u2028\u202e\ufeff", "x" * self.rng.randrange(10_000),
                {"nested": [1, {"a": None}]}, "\ud83d"][pick]

    def payload(self, seed: dict) -> dict:
        payload = json.loads(json.dumps(seed))
        for _ in range(self.rng.randrange(4)):
            target = payload
            while isinstance(target, dict) and target and self.rng.random() < 0.5:
                child = target[self.rng.choice(list(target))]
                if not isinstance(child, dict):
                    break
                target = child
            if isinstance(target, dict):
                key = self.rng.choice([*target, "action", "extra", "password", "sign"]) if target else "k"
                target[key] = self.value()
        return payload

    def serialise(self, payload: dict) -> bytes:
        return json.dumps(payload, ensure_ascii=self.rng.random() < 0.5).encode("utf-8", "surrogatepass")

    def bytes(self, body: bytes) -> bytes:
        rng = self.rng
        for _ in range(rng.randrange(4)):
            where = rng.randrange(len(body) + 1)
            kind = rng.randrange(9)
            if kind == 0 and body:
                at = rng.randrange(len(body))
                body = body[:at] + bytes([body[at] ^ (1 << rng.randrange(8))]) + body[at + 1:]
            elif kind == 1:
                body = body[:where] + os.urandom(rng.randrange(1, 20)) + body[where:]
            elif kind == 2:
                body = body[:where]
            elif kind == 3:
                body = body[:where] + body[where:where + 50] * rng.randrange(2, 50) + body[where + 50:]
            elif kind == 4:
                depth = rng.choice([99, 101, 1000, 5000, 100_000])
                body = body[:where] + b"[" * depth + b"]" * depth + body[where:]
            elif kind == 5:
                body = body[:where] + rng.choice([b"\\ud83d", b"\\udc00", b"\\uDBFF\\uDFFF", b"\\u0000"]) + body[where:]
            elif kind == 6:
                spelled = rng.choice([GITEE_SECRET.encode(), json.dumps(GITEE_SECRET).encode(),
                                      "".join(f"\\u{ord(c):04x}" for c in GITEE_SECRET).encode()])
                body = body[:where] + spelled + body[where:]
            elif kind == 7:
                body = body[:where] + b"\xff\xfe\xc3\x28\xed\xa0\x80" + body[where:]
            else:
                body = body[:where] + b'"password": "' + GITEE_SECRET.encode() + body[where:]
        return body

    def header(self, value: str) -> bytes:
        rng = self.rng
        kind = rng.randrange(10)
        if kind == 0:
            return bytes(rng.choice([*range(0x20, 0x7F), *range(0x80, 0x100), 9]) for _ in range(rng.randrange(60)))
        if kind == 1:
            return value.encode() * rng.randrange(1, 200)
        if kind == 2:
            return b""
        return value.encode()

    def github(self) -> Request:
        rng = self.rng
        event, seed = rng.choice(GITHUB_SEEDS)
        body = self.serialise(self.payload(seed)) if rng.random() < 0.8 else self.serialise(seed)
        if rng.random() < 0.5:
            body = self.bytes(body)
        content_type = "application/json"
        if rng.random() < 0.2:
            body = urlencode({"payload": body.decode("utf-8", "surrogateescape")}, errors="surrogateescape").encode()
            content_type = "application/x-www-form-urlencoded"
        signing = rng.choices(["right", "wrong", "missing", "garbage"], [8, 1, 1, 1])[0]
        headers: list[tuple[str, bytes | str]] = [
            ("X-GitHub-Event", self.header(rng.choice([event, *GITHUB_EVENTS]))),
            ("X-GitHub-Delivery", self.header(f"fuzz-{rng.getrandbits(64):x}")),
            ("Content-Type", self.header(content_type)), ("User-Agent", self.header("GitHub-Hookshot/fuzz"))]
        if signing == "right":
            headers.append(("X-Hub-Signature-256",
                            "sha256=" + hmac.new(GITHUB_SECRET.encode(), body, hashlib.sha256).hexdigest()))
        elif signing == "wrong":
            headers.append(("X-Hub-Signature-256", "sha256=" + hashlib.sha256(body).hexdigest()))
        elif signing == "garbage":
            headers.append(("X-Hub-Signature-256", self.header("sha256=")))
        rng.shuffle(headers)
        return Request("/webhooks/github", signing == "right", post("/webhooks/github", headers, body))

    def gitee(self) -> Request:
        rng = self.rng
        event, seed = rng.choice(GITEE_SEEDS)
        payload = self.payload(seed)
        self.gitee_clock += 1
        timestamp = str(self.gitee_clock)
        signing = rng.choices(["signature", "password", "wrong", "stale", "future", "missing"], [6, 2, 1, 1, 1, 1])[0]
        if signing in ("stale", "future"):
            timestamp = str(self.gitee_clock + (-2 if signing == "stale" else 1) * 3600 * 1000)
        token = base64.b64encode(hmac.new(GITEE_SECRET.encode(), f"{timestamp}\n{GITEE_SECRET}".encode(),
                                          hashlib.sha256).digest()).decode()
        payload.update(sign=token, timestamp=timestamp, password=GITEE_SECRET if signing == "password" else "")
        body = self.serialise(payload)
        if rng.random() < 0.5:
            body = self.bytes(body)
        headers: list[tuple[str, bytes | str]] = [
            ("X-Gitee-Event", self.header(rng.choice([event, *GITEE_EVENTS]))),
            ("X-Gitee-Ping", self.header(rng.choice(["false", "true"]))),
            ("Content-Type", self.header("application/json")), ("User-Agent", self.header("git-oschina-hook"))]
        if signing in ("signature", "stale", "future"):
            headers += [("X-Gitee-Token", token), ("X-Gitee-Timestamp", timestamp)]
        elif signing == "password":
            headers.append(("X-Gitee-Token", GITEE_SECRET))
        elif signing == "wrong":
            headers += [("X-Gitee-Token", self.header(token[::-1])), ("X-Gitee-Timestamp", timestamp)]
        rng.shuffle(headers)
        return Request("/webhooks/gitee", signing in ("signature", "password"), post("/webhooks/gitee", headers, body))


async def fuzz(port: int, seconds: float, connections: int, seed: int, findings: Findings) -> None:
    mutator = Mutator(random.Random(seed))
    deadline = time.monotonic() + seconds

    async def worker() -> None:
        while time.monotonic() < deadline and len(findings.problems) < 20:
            request = mutator.github() if mutator.rng.random() < 0.5 else mutator.gitee()
            findings.tried[request.endpoint] += 1
            try:
                answer = await exchange(port, request.wire, timeout=30)
            except (ConnectionError, TimeoutError, asyncio.IncompleteReadError) as error:
                findings.problems.append(f"{request.endpoint}: no answer ({type(error).__name__}): "
                                         f"{request.wire[:300]!r}")
                continue
            findings.statuses[f"{answer.status // 100}xx"] += 1
            if answer.status >= 500:
                findings.problems.append(f"{request.endpoint}: {answer.status} {answer.body[:200]!r} for "
                                         f"{request.wire[:300]!r}")
            elif request.signed and answer.headers.get("content-type", "").startswith("application/json"):
                findings.answered.append((request.endpoint, answer.json()))

    await asyncio.gather(*(worker() for _ in range(connections)))


def unescaped(text: bytes) -> str:
    """What stored JSON text reads as once its escapes are undone, wherever they are (parsed or not)."""
    decoded = re.sub(r"\\u([0-9a-fA-F]{4})", lambda match: chr(int(match.group(1), 16)),
                     text.decode("utf-8", "replace"))
    return re.sub(r"\\(.)", r"\1", decoded)


def check_stored(db_url: str, findings: Findings) -> int:
    """Every signed delivery cobot answered for is in the database; no stored Gitee delivery holds its secret
    (a GitHub delivery holds what GitHub sent, the Gitee password written into a comment included)."""
    db = Database(db_url)
    try:
        with db.inbox.session() as session:
            rows = session.execute(select(Delivery.id, Delivery.platform, Delivery.key, Delivery.body,
                                          Delivery.headers)).all()
    finally:
        db.dispose()
    ids, keys = {row.id for row in rows}, {row.key for row in rows}
    for endpoint, answer in findings.answered:
        if answer.get("delivery") is not None and answer["delivery"] not in ids:
            findings.problems.append(f"{endpoint}: answered {answer} but delivery {answer['delivery']} is not stored")
        elif answer.get("delivery") is None and answer.get("key") not in keys:
            findings.problems.append(f"{endpoint}: answered {answer} but no delivery has that key")
    for row in rows:
        if row.platform == "gitee" and GITEE_SECRET in unescaped(row.body + json.dumps(row.headers).encode()):
            findings.problems.append(f"delivery {row.id} stores the Gitee secret")
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="10 seconds")
    parser.add_argument("--tree", type=Path, default=HERE.parent, help="the source tree to serve from")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(2 ** 32)
    seconds = 10 if args.quick else args.seconds
    findings = Findings()
    with tempfile.TemporaryDirectory(prefix="cobot-fuzz-") as tmp:
        server = start_cobot(Path(tmp), tree=args.tree.resolve(), config='[community]\nname = "Fuzz"\n',
                             env={"COBOT_GITHUB_WEBHOOK_SECRET": GITHUB_SECRET,
                                  "COBOT_GITEE_WEBHOOK_SECRET": GITEE_SECRET})
        try:
            print(f"fuzzing for {seconds:.0f} s, {args.connections} connections, seed {seed} …", file=sys.stderr)
            asyncio.run(fuzz(server.port, seconds, args.connections, seed, findings))
            if server.process.poll() is not None:
                findings.problems.append(f"the server exited ({server.process.returncode})")
            else:
                try:
                    wait_healthy(server.port, timeout=10)
                except RuntimeError:
                    findings.problems.append("the server is not healthy after the run")
            stored = check_stored(server.db_url or "", findings)
        finally:
            server.stop()

    total = sum(findings.tried.values())
    print(f"\n## Webhook fuzz: {total:,} inputs in {seconds:.0f} s (seed {seed})\n")
    print("| measure | value |")
    print("| --- | --- |")
    for endpoint, tried in sorted(findings.tried.items()):
        print(f"| inputs to `{endpoint}` | {tried:,} |")
    print(f"| answers | {', '.join(f'{kind}: {n:,}' for kind, n in sorted(findings.statuses.items()))} |")
    print(f"| signed deliveries answered for / rows stored | {len(findings.answered):,} / {stored:,} |")
    print(f"| findings (5xx, no answer, lost, secret stored, crash) | {len(findings.problems)} |")
    for problem in findings.problems:
        print(f"- {problem}")
    if findings.problems:
        sys.exit(1)
    print("\nnothing found")


if __name__ == "__main__":
    main()
