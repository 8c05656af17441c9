"""Three real `cobot serve` replicas on one PostgreSQL database share the work: 3,000 deliveries sent to them in
turn are each processed exactly once, each outbox action is performed exactly once on the (local) forge, the
scheduled announcements are made once, and killing the replica that schedules lets another take over."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.store.community_tables import Thread
from bot.store.db import Database
from bot.store.tables import Delivery, OutboxAction
from tests.chat_servers import WEBHOOK, chat_servers
from tests.forge_server import GITHUB, forge_server
from tests.helpers import GITHUB_SECRET, body_of, count, eventually, free_port, github_headers, wait_healthy
from tests.payloads import issue_event
from tests.test_scheduler_replicas import kill_replica, leads

DELIVERIES = 3000
TOKEN = "ghp_replicas_token_0123456789"


def start(config: Path, port: int, database_url: str, log: Path) -> subprocess.Popen:
    env = {**os.environ, "COBOT_DATABASE_URL": database_url, "COBOT_GITHUB_WEBHOOK_SECRET": GITHUB_SECRET,
           "COBOT_GITHUB_TOKEN": TOKEN}
    env.pop("COBOT_GITEE_TOKEN", None)
    with log.open("wb") as sink:
        return subprocess.Popen([sys.executable, "-m", "bot", "serve", "--config", str(config), "--port", str(port)],
                                env=env, stdout=subprocess.DEVNULL, stderr=sink, start_new_session=True)


async def send_all(ports: list[int], accepted: list[str]) -> None:
    """Every delivery once, to the replicas in turn, 50 at a time."""
    async with aiohttp.ClientSession() as session:
        limit = asyncio.Semaphore(50)

        async def one(n: int) -> None:
            body = body_of(issue_event("opened", n, f"newcomer-{n}", created="2026-11-01T10:00:00Z"))
            key = f"replica-{n}"
            async with limit, session.post(f"http://127.0.0.1:{ports[n % len(ports)]}/webhooks/github", data=body,
                                           headers=github_headers("issues", body, key)) as response:
                assert response.status == 202, await response.text()
                accepted.append(key)

        await asyncio.gather(*(one(n) for n in range(1, DELIVERIES + 1)))


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_three_replicas_share_the_work_exactly_once(tmp_path, database_url):
    db = Database(database_url)
    db.upgrade()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM apscheduler_jobs")
    start_at = datetime.now(UTC) + timedelta(seconds=10)  # announced while the deliveries are processed
    async with forge_server() as (forge, base), chat_servers() as chats:
        forge.valid_tokens = {TOKEN}
        config = tmp_path / "config.toml"
        config.write_text(f"""
[community]
name = "Replicas"
[[community.repos]]
platform = "github"
name = "acme/rocket"
[github]
api_url = "{base}/github"
writes_per_second = 1000
[scheduler]
tick_seconds = 1
leader_check_seconds = 0.5
[notify]
allow_hosts = ["127.0.0.1"]
[notify.channels.team]
kind = "webhook"
url = "{chats.base_url}/hook"
[[notify.rules]]
topics = ["campaign"]
channels = ["team"]
[[campaigns]]
name = "replica-hack"
kind = "hackathon"
repos = ["github:acme/rocket"]
start = {start_at.isoformat()}
end = {(start_at + timedelta(seconds=10)).isoformat()}
""")
        ports = [free_port() for _ in range(3)]
        logs = [tmp_path / f"replica-{i}.log" for i in range(3)]
        replicas = [start(config, port, database_url, log) for port, log in zip(ports, logs, strict=True)]
        alive = list(replicas)
        try:
            await asyncio.gather(*(wait_healthy(port) for port in ports))
            accepted: list[str] = []
            await send_all(ports, accepted)
            assert len(accepted) == DELIVERIES

            await eventually(lambda: count(db, Delivery, Delivery.status == "processed") == DELIVERIES, timeout=180,
                             message="every delivery processed")
            await eventually(lambda: count(db, OutboxAction, OutboxAction.kind.in_(("comment", "label")),
                                           OutboxAction.status == "done") == 2 * DELIVERIES,
                             timeout=180, message="every welcome comment and label performed")
            assert count(db, Thread) == DELIVERIES
            assert count(db, Delivery, Delivery.attempts > 0) == 0  # nobody failed and retried
            comments = Counter(len(forge.comment_bodies(GITHUB, "acme/rocket", str(n)))
                               for n in range(1, DELIVERIES + 1))
            labels = Counter(tuple(forge.label_names(GITHUB, "acme/rocket", str(n)))
                             for n in range(1, DELIVERIES + 1))
            assert comments == {1: DELIVERIES}  # exactly one welcome per issue: never two, never none
            assert labels == {("first-time-contributor",): DELIVERIES}
            writes = Counter(request.path for request in forge.writes(GITHUB))
            assert set(writes.values()) == {1}  # each action performed once: no request was repeated

            def sent() -> Counter[str]:
                return Counter(request.headers["Idempotency-Key"] for request in chats.received(WEBHOOK))

            await eventually(lambda: "campaign:replica-hack:end@team" in sent(), timeout=60, message="the end")
            await asyncio.sleep(2)  # a second of anything would arrive by now
            assert sent() == {"campaign:replica-hack:start@team": 1, "campaign:replica-hack:halfway@team": 1,
                              "campaign:replica-hack:end@team": 1}  # the scheduled moments, once each

            assert [leads(log) for log in logs].count(True) == 1
            leader = next(i for i, log in enumerate(logs) if leads(log))
            kill_replica(replicas[leader])
            alive.remove(replicas[leader])
            await eventually(lambda: sum(leads(log) for i, log in enumerate(logs) if i != leader) == 1, timeout=15,
                             message="another replica takes the scheduler over")
        finally:
            for replica in alive:
                kill_replica(replica)
            db.dispose()
