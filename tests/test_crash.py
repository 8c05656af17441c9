"""A real `cobot serve` killed with SIGKILL mid-stream loses no acknowledged delivery, and a notification whose
sender is killed mid-send is sent after the restart."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from bot.app.worker_process import NICENESS as WORKER_NICENESS
from bot.store.community_tables import Thread
from bot.store.db import Database
from bot.store.tables import Delivery, OutboxAction
from tests.chat_servers import WEBHOOK, chat_servers
from tests.helpers import GITHUB_SECRET, body_of, count, eventually, free_port, github_headers, wait_healthy
from tests.payloads import issue_event


def start_server(config: Path, port: int, database_url: str) -> subprocess.Popen:
    env = {**os.environ, "COBOT_DATABASE_URL": database_url, "COBOT_GITHUB_WEBHOOK_SECRET": GITHUB_SECRET}
    env.pop("COBOT_GITHUB_TOKEN", None)
    env.pop("COBOT_GITEE_TOKEN", None)
    return subprocess.Popen([sys.executable, "-m", "bot", "serve", "--config", str(config), "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def fire(port: int, count_: int, acknowledged: list[str]) -> None:
    async with aiohttp.ClientSession() as session:
        async def one(n: int) -> None:
            body = body_of(issue_event("opened", n, f"newcomer{n}", created="2026-11-01T10:00:00Z"))
            key = f"crash-{n}"
            try:
                async with session.post(f"http://127.0.0.1:{port}/webhooks/github", data=body,
                                        headers=github_headers("issues", body, key)) as response:
                    if response.status == 202:
                        acknowledged.append(key)
            except aiohttp.ClientError:
                pass  # the server died while this one was in flight: not acknowledged, the forge resends it
        await asyncio.gather(*(one(n) for n in range(count_)))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_sigkill_loses_no_acknowledged_delivery(tmp_path, database_url):
    config = tmp_path / "config.toml"
    config.write_text("[community]\nname = 'Crash test'\n")
    port = free_port()
    server = start_server(config, port, database_url)
    acknowledged: list[str] = []
    try:
        await wait_healthy(port)
        stream = asyncio.create_task(fire(port, 400, acknowledged))
        while len(acknowledged) < 50:
            await asyncio.sleep(0.005)
        server.send_signal(signal.SIGKILL)
        await stream
    finally:
        server.kill()
        server.wait()
    assert 50 <= len(acknowledged) < 400, "the kill should land mid-stream"

    db = Database(database_url)
    with db.inbox.session() as session:
        stored = set(session.execute(Delivery.__table__.select().with_only_columns(Delivery.key)).scalars())
    assert set(acknowledged) <= stored
    print(f"acknowledged {len(acknowledged)}, stored {len(stored)} of 400 sent before SIGKILL")

    restarted = start_server(config, port, database_url)
    try:
        await wait_healthy(port)
        await eventually(lambda: count(db, Delivery, Delivery.status == "received") == 0, timeout=30,
                         message="all stored deliveries processed after the restart")
        assert count(db, Thread) == len(stored)
    finally:
        restarted.kill()
        restarted.wait()
        db.dispose()


def worker_children(pid: int) -> list[int]:
    """The inbox worker processes of a `cobot serve` (spawned children; not multiprocessing's resource tracker)."""
    try:
        children = [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    niceness = min(19, os.getpriority(os.PRIO_PROCESS, pid) + WORKER_NICENESS)
    return [child for child in children  # (not the dashboard's slow reads' process, at a lower priority still)
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()
            and os.getpriority(os.PRIO_PROCESS, child) == niceness]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_notification_in_flight_when_its_sender_is_killed_is_sent_after_the_restart(tmp_path, database_url):
    """The worker process is SIGKILLed while the chat platform holds its request: the notification was committed
    and claimed, its answer never came back. A new worker sends it again, with the same idempotency key."""
    async with chat_servers() as servers:
        config = tmp_path / "config.toml"
        config.write_text(f"""
[community]
name = "Crash test"
[outbox]
lease_seconds = 2
[notify]
allow_hosts = ["127.0.0.1"]
[notify.channels.ops]
kind = "webhook"
url = "{servers.base_url}/hook"
[[notify.rules]]
topics = ["newcomer"]
channels = ["ops"]
""")
        servers.delay_next(WEBHOOK, 60)  # the first send hangs: the platform got it, its answer never comes
        port = free_port()
        server = start_server(config, port, database_url)
        try:
            await wait_healthy(port)
            body = body_of(issue_event("opened", 1, "newcomer-nia", created="2026-11-01T10:00:00Z"))
            async with aiohttp.ClientSession() as session, session.post(
                    f"http://127.0.0.1:{port}/webhooks/github", data=body,
                    headers=github_headers("issues", body)) as response:
                assert response.status == 202
            await eventually(lambda: len(servers.received(WEBHOOK)) == 1, timeout=20, message="the first send")
            [worker] = worker_children(server.pid)
            os.kill(worker, signal.SIGKILL)
            await eventually(lambda: len(servers.received(WEBHOOK)) >= 2, timeout=30,
                             message="a new worker sent it again once the lease ran out")
            db = Database(database_url)
            await eventually(lambda: count(db, OutboxAction, OutboxAction.kind == "notify",
                                           OutboxAction.status == "done") == 1, timeout=20, message="done")
            db.dispose()
            keys = {request.headers["Idempotency-Key"] for request in servers.received(WEBHOOK)}
            assert len(keys) == 1 and next(iter(keys)).endswith("@ops")  # the receiver can tell it is the same
        finally:
            server.kill()
            server.wait()
