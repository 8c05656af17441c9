"""Helpers shared by the tests: third-party fixtures, signing, counting, waiting, servers' ports."""

from __future__ import annotations

import asyncio
import atexit
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.platforms.gitee import signature as gitee_signature
from bot.platforms.github import sign as github_sign
from bot.store.db import Database, inbox_url

SHARED_FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"
GITHUB_SECRET = "test-github-secret"
GITEE_SECRET = "test-gitee-secret"


def shared_fixture(*parts: str) -> Path:
    path = SHARED_FIXTURES.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"third-party fixtures not found at {path} (the shared/ folder beside the checkout)")
    return path


def github_headers(event: str, body: bytes, delivery: str | None = None, secret: str = GITHUB_SECRET
                   ) -> dict[str, str]:
    return {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
            "X-Hub-Signature-256": github_sign(secret, body), "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/test"}


_GITEE_TIMESTAMPS: set[int] = set()  # issued in this process


def gitee_timestamp(now: datetime) -> str:
    """`now` in milliseconds, or the latest millisecond before it not issued yet: Gitee's signature covers only its
    timestamp, and a signature that comes again with another body is refused, so each signed request needs its own."""
    millis = int(now.timestamp() * 1000)
    while millis in _GITEE_TIMESTAMPS:
        millis -= 1
    _GITEE_TIMESTAMPS.add(millis)
    return str(millis)


def gitee_headers(event: str, now: datetime, secret: str = GITEE_SECRET, ping: bool = False
                  ) -> dict[str, str]:
    timestamp = gitee_timestamp(now)
    return {"X-Gitee-Event": event, "X-Gitee-Token": gitee_signature(secret, timestamp),
            "X-Gitee-Timestamp": timestamp, "X-Gitee-Ping": "true" if ping else "false",
            "Content-Type": "application/json", "User-Agent": "git-oschina-hook"}


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


def store_of(db: Database, table: Any) -> Database:
    """The database that holds `table`: the deliveries are in the inbox (a file of its own on SQLite)."""
    from bot.store.tables import Delivery

    return db.inbox if table is Delivery else db


def count(db: Database, table: Any, *where: Any) -> int:
    with store_of(db, table).session() as session:
        return session.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


async def eventually(check: Callable[[], bool], timeout: float = 10.0, message: str = "condition") -> None:
    """Poll until `check()` holds (work done by background tasks), or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await asyncio.to_thread(check):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {message}")


PORTS_PER_WORKER = 400
_PORTS = itertools.count()


def free_port() -> int:
    """A port free on 127.0.0.1 for a server a test starts (or for nothing to listen on): from a block of its own for
    each pytest-xdist worker, below the ports the system hands out (32768 and up), so that between this and the
    server's start neither another worker's server nor the client end of any connection takes it."""
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    first = 20000 + worker % 30 * PORTS_PER_WORKER
    for _ in range(PORTS_PER_WORKER):
        port = first + next(_PORTS) % PORTS_PER_WORKER
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:  # taken (another program, or a connection of this worker's not closed yet)
                continue
            return port
    raise AssertionError(f"no free port in {first}-{first + PORTS_PER_WORKER - 1}")


async def wait_healthy(port: int, timeout: float = 20.0) -> None:
    """Until a server started on `port` answers /healthz 200, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("cobot serve did not become healthy")


_MIGRATED: Path | None = None  # this process's empty store, migrated once (see `migrated_store`)
AT_NEWEST: set[str] = set()  # stores migrated by the session (tests/conftest.py's PostgreSQL database)


def migrated_store(url: str) -> Database:
    """The store at `url`, at the newest migration, as `Database(url).upgrade()` leaves it. An SQLite file not made
    yet (nor its inbox file) is made a copy of an empty store that this process migrated once, instead of running
    every migration again (0.4 s); a store the session migrated is not asked again (30 ms)."""
    global _MIGRATED
    db = Database(url)
    if db.url in AT_NEWEST:
        return db
    files = [Path(db.url.removeprefix("sqlite:///")), Path(inbox_url(db.url).removeprefix("sqlite:///"))]
    if not db.url.startswith("sqlite:///") or db.url == "sqlite:///:memory:" or any(
            Path(f"{path}{suffix}").exists() for path in files for suffix in ("", "-wal", "-journal")):
        db.upgrade()
        return db
    if _MIGRATED is None:
        folder = Path(tempfile.mkdtemp(prefix="cobot-migrated-"))
        atexit.register(shutil.rmtree, folder, True)
        template = Database(f"sqlite:///{folder / 'cobot.db'}")
        template.upgrade()
        template.dispose()  # the last connection closed: the write-ahead logs are in the files
        _MIGRATED = folder
    files[0].parent.mkdir(parents=True, exist_ok=True)
    for made, path in zip(("cobot.db", "cobot-inbox.db"), files, strict=True):
        shutil.copyfile(_MIGRATED / made, path)
    return db


class Harness:
    """The real store and pipeline without HTTP: deliveries go in as the endpoint stores them."""

    def __init__(self, settings: Any, clock: Any) -> None:
        from concurrent.futures import ThreadPoolExecutor

        from bot.pipeline.inbox import InboxWriter
        from bot.pipeline.processor import Pipeline
        from bot.platforms.registry import webhook_platforms

        self.settings = settings
        self.clock = clock
        self.db = migrated_store(settings.database.url)
        self.platforms = webhook_platforms(settings)
        self.writer = InboxWriter(self.db.inbox, clock, ThreadPoolExecutor(1))
        self.pipeline = Pipeline(self.db, settings, clock, self.platforms)

    def store(self, event: str, payload: dict[str, Any], key: str | None = None, platform: str = "github"
              ) -> int | None:
        from bot.pipeline.inbox import Incoming

        body = body_of(payload)
        if platform == "github":
            headers = github_headers(event, body, key)
        else:
            headers = {**gitee_headers(event, self.clock()), "X-Gitee-Event": event}
        received = self.platforms[platform].accept(headers, body)
        [new_id] = self.writer.write([Incoming(platform, received)])
        return new_id

    def process(self) -> None:
        while self.pipeline.process_due(budget_seconds=10).processed:
            pass

    def deliver(self, event: str, payload: dict[str, Any], key: str | None = None, platform: str = "github"
                ) -> int | None:
        new_id = self.store(event, payload, key, platform)
        self.process()
        return new_id

    def rows(self, table: Any, *where: Any, order: Any = None) -> list[Any]:
        with store_of(self.db, table).session() as session:
            query = select(table).where(*where).order_by(order if order is not None else table.id)
            return list(session.execute(query).scalars())

    def close(self) -> None:
        self.pipeline.close()
        self.db.dispose()


def stop(process: subprocess.Popen, how: int = signal.SIGINT, patience: float = 30.0) -> None:
    """Stop a cobot started by a test as an operator would (Ctrl-C by default), and kill it if it does not end."""
    process.send_signal(how)
    try:
        process.wait(patience)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
