"""The dashboard's slow reads, computed in a process of their own (bot.web.apart), on the same store."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import Connection, func, select

from bot.app.worker_process import NICENESS as INBOX_WORKER_NICENESS
from bot.config import Settings
from bot.store.community_tables import Repo
from bot.web.apart import NICENESS, SLOW_READS, SlowReads, shareable
from bot.web.dashboard.board import Dashboard
from tests.helpers import eventually, free_port, wait_healthy
from tests.test_crash import start_server

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


# -- reads the worker runs (module-level: they travel by name) -------------------------------------------------


def where(conn: Connection, settings: Settings, now: datetime) -> dict[str, Any]:
    return {"pid": os.getpid(), "niceness": os.nice(0), "now": now, "community": settings.community.name}


def repos(conn: Connection, settings: Settings, now: datetime, prefix: str = "") -> list[str]:
    return list(conn.execute(select(Repo.full_name).where(Repo.full_name.startswith(prefix))
                             .order_by(Repo.full_name)).scalars())


def counted(conn: Connection, settings: Settings, now: datetime) -> int:
    return conn.execute(select(func.count()).select_from(Repo)).scalar_one()


def dies(conn: Connection, settings: Settings, now: datetime) -> None:
    os._exit(3)


def refuses(conn: Connection, settings: Settings, now: datetime, name: str) -> None:
    raise LookupError(f"no campaign named {name!r}")


def add_repo(db: Any, name: str) -> None:
    with db.session() as session:
        session.add(Repo(platform="github", full_name=name, first_seen_at=NOW, last_activity_at=NOW))


# -- the worker ----------------------------------------------------------------------------------------------------


async def test_a_slow_read_runs_in_another_process_at_a_lower_priority_on_the_same_store(db, settings):
    add_repo(db, "acme/rocket")
    found = await SLOW_READS.run(db.url, settings, NOW, where, (), {})
    assert found["pid"] != os.getpid()
    assert found["niceness"] == min(os.nice(0) + NICENESS, 19) and NICENESS > INBOX_WORKER_NICENESS
    assert (found["now"], found["community"]) == (NOW, settings.community.name)
    assert await SLOW_READS.run(db.url, settings, NOW, repos, (), {"prefix": "acme/"}) == ["acme/rocket"]
    add_repo(db, "acme/booster")  # committed here: read there
    assert await SLOW_READS.run(db.url, settings, NOW, repos, (), {"prefix": "acme/"}) == [
        "acme/booster", "acme/rocket"]
    again = await SLOW_READS.run(db.url, settings, NOW, where, (), {})
    assert again["pid"] == found["pid"]  # one worker, kept


async def test_what_a_read_raises_is_raised_here(db, settings):
    with pytest.raises(LookupError, match="no campaign named 'winter'"):
        await SLOW_READS.run(db.url, settings, NOW, refuses, ("winter",), {})


async def test_a_worker_that_dies_is_replaced(db, settings):
    reads = SlowReads()
    try:
        first = (await reads.run(db.url, settings, NOW, where, (), {}))["pid"]
        with pytest.raises(BrokenProcessPool):  # it dies in the new worker too: no third try
            await reads.run(db.url, settings, NOW, dies, (), {})
        add_repo(db, "acme/rocket")
        assert await reads.run(db.url, settings, NOW, counted, (), {}) == 1
        assert (await reads.run(db.url, settings, NOW, where, (), {}))["pid"] not in (first, os.getpid())
    finally:
        reads.close()


async def test_a_worker_left_idle_ends_and_the_next_read_starts_another(db, settings):
    reads = SlowReads(idle_seconds=0.5)
    try:
        first = (await reads.run(db.url, settings, NOW, where, (), {}))["pid"]
        second = (await reads.run(db.url, settings, NOW, where, (), {}))["pid"]
        assert first == second  # kept while it is asked
        await eventually(lambda: first not in {child.pid for child in multiprocessing.active_children()},
                         timeout=10, message="the idle worker ended")
        assert (await reads.run(db.url, settings, NOW, counted, (), {})) == 0
        assert (await reads.run(db.url, settings, NOW, where, (), {}))["pid"] not in (first, os.getpid())
    finally:
        reads.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_worker_of_a_server_killed_outright_does_not_outlive_it(tmp_path, database_url):
    config = tmp_path / "config.toml"
    config.write_text('[community]\nname = "Killed"\n[dashboard]\npublic = true\n')  # read by a visitor below
    port = free_port()
    server = start_server(config, port, database_url)
    try:
        await wait_healthy(port)
        async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/api/overview") as answer:
            assert answer.status == 200  # computed by the slow reads' worker
        [worker] = [child for child in children(server.pid) if niceness(child) == min(19, os.nice(0) + NICENESS)]
        server.kill()  # SIGKILL: no shutdown, no atexit
        server.wait()
        await eventually(lambda: not Path(f"/proc/{worker}").exists() or b"spawn_main" not in
                         Path(f"/proc/{worker}/cmdline").read_bytes(), timeout=10, message="the worker ended")
    finally:
        server.kill()
        server.wait()


def children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def niceness(pid: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, pid)


def test_only_sqlite_in_memory_is_out_of_reach():
    assert not any(map(shareable, ("sqlite://", "sqlite:///:memory:", "sqlite:///file:x?mode=memory&uri=true")))
    assert all(map(shareable, ("sqlite:////var/lib/cobot/cobot.db", "postgresql+psycopg://cobot@db/cobot")))


# -- the dashboard -------------------------------------------------------------------------------------------------


def dashboard(settings: Settings, db: Any) -> Dashboard:
    return Dashboard(settings, db, lambda: NOW, pipeline=None)  # type: ignore[arg-type]  (no replays here)


async def test_the_dashboard_keeps_what_the_worker_computed(db, settings):
    board = dashboard(settings, db)
    try:
        found = await board.kept(where)
        assert found["pid"] != os.getpid() and found["now"] == NOW
        add_repo(db, "acme/rocket")
        assert await board.kept(counted) == 1
        add_repo(db, "acme/booster")
        assert await board.kept(counted) == 1  # kept (cache_seconds)
    finally:
        await board.memo.close()


async def test_slow_reads_in_threads_when_configured_so(db, make_settings):
    board = dashboard(make_settings(dashboard={"slow_reads": "thread"}), db)
    try:
        assert (await board.kept(where))["pid"] == os.getpid()
    finally:
        await board.memo.close()


async def test_a_store_in_memory_is_read_in_a_thread(make_settings):
    from bot.store.db import Database

    settings = make_settings(database={"url": "sqlite:///:memory:"})
    db = Database("sqlite:///:memory:")
    board = dashboard(settings, db)
    try:
        assert (await board.kept(where))["pid"] == os.getpid()
    finally:
        await board.memo.close()
        db.dispose()
