"""Two real `cobot serve` replicas on one PostgreSQL database: one runs the scheduler, each of a hackathon's
announcements is made and sent exactly once, and when the scheduling replica is killed the other takes over."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.store.campaign_tables import CampaignEvent
from bot.store.db import Database
from bot.store.tables import OutboxAction
from tests.chat_servers import WEBHOOK, chat_servers
from tests.helpers import GITHUB_SECRET, count, eventually, free_port, wait_healthy

LEADER_LINE = "this replica runs the scheduler"


def start_replica(config: Path, port: int, database_url: str, log: Path) -> subprocess.Popen:
    env = {**os.environ, "COBOT_DATABASE_URL": database_url, "COBOT_GITHUB_WEBHOOK_SECRET": GITHUB_SECRET}
    env.pop("COBOT_GITHUB_TOKEN", None)
    env.pop("COBOT_GITEE_TOKEN", None)
    with log.open("wb") as sink:  # the worker process (and its scheduler) logs to the same stderr
        return subprocess.Popen([sys.executable, "-m", "bot", "serve", "--config", str(config), "--port", str(port)],
                                env=env, stdout=subprocess.DEVNULL, stderr=sink, start_new_session=True)


def leads(log: Path) -> bool:
    return LEADER_LINE in log.read_text(errors="replace")


def kill_replica(process: subprocess.Popen) -> None:
    """The whole replica at once (server and worker), as when its machine goes down."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_two_replicas_announce_each_moment_once_and_one_takes_over_from_the_other(tmp_path, database_url):
    db = Database(database_url)
    db.upgrade()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM apscheduler_jobs")
    start = datetime.now(UTC) + timedelta(seconds=8)
    end = start + timedelta(seconds=12)  # halfway at +6 s; too short for a "last day" announcement
    async with chat_servers() as servers:
        config = tmp_path / "config.toml"
        config.write_text(f"""
[community]
name = "Replicas"
[[community.repos]]
platform = "github"
name = "acme/rocket"
[scheduler]
tick_seconds = 1
leader_check_seconds = 0.5
[notify]
allow_hosts = ["127.0.0.1"]
[notify.channels.team]
kind = "webhook"
url = "{servers.base_url}/hook"
[[notify.rules]]
topics = ["campaign"]
channels = ["team"]
[[campaigns]]
name = "replica-hack"
kind = "hackathon"
repos = ["github:acme/rocket"]
start = {start.isoformat()}
end = {end.isoformat()}
""")
        logs = [tmp_path / "a.log", tmp_path / "b.log"]
        replicas = [start_replica(config, port, database_url, log)
                    for port, log in zip((free_port(), free_port()), logs, strict=True)]
        alive = list(replicas)
        try:
            await asyncio.gather(*(wait_healthy(int(r.args[-1])) for r in replicas))
            await eventually(lambda: any(leads(log) for log in logs), timeout=20, message="a scheduling replica")
            await asyncio.sleep(1.0)
            assert [leads(log) for log in logs].count(True) == 1  # one job store, one live scheduler
            leader = next(i for i, log in enumerate(logs) if leads(log))

            def sent() -> Counter[str]:
                return Counter(request.headers["Idempotency-Key"] for request in servers.received(WEBHOOK))

            await eventually(lambda: "campaign:replica-hack:start@team" in sent() and count(
                db, OutboxAction, OutboxAction.kind == "notify", OutboxAction.status == "done") == 1, timeout=30,
                message="the start announcement, sent and marked done (a kill in between would leave its sending "
                        "to be taken up again: the receiver's idempotency key is for that)")
            kill_replica(replicas[leader])
            alive.remove(replicas[leader])
            survivor = logs[1 - leader]
            await eventually(lambda: leads(survivor), timeout=15, message="the other replica takes over")
            await eventually(lambda: "campaign:replica-hack:end@team" in sent(), timeout=40,
                             message="the end announcement")
            time.sleep(2)  # anything sent twice would arrive by now
            assert sent() == {"campaign:replica-hack:start@team": 1, "campaign:replica-hack:halfway@team": 1,
                              "campaign:replica-hack:end@team": 1}
            assert count(db, CampaignEvent, CampaignEvent.key.in_(("start", "halfway", "end"))) == 3
            assert count(db, OutboxAction, OutboxAction.kind == "notify", OutboxAction.status == "done") == 3
        finally:
            for replica in alive:
                kill_replica(replica)
            db.dispose()
