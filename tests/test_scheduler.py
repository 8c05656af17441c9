"""The scheduler with real APScheduler: triggers, jobs kept in the database across a restart, a moment missed
while down run once, and one scheduling replica at a time on PostgreSQL (another takes over when it stops)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from bot.clock import system_clock
from bot.pipeline.scheduler import LeaderLock, Scheduler, trigger_for
from bot.store.db import Database, scheduler_url
from campaigns.base import At, Every, Monthly, Weekly
from campaigns.runner import CampaignRunner

BOARD = {"name": "weekly-stars", "kind": "leaderboard", "period": "weekly", "start": "2026-01-05T00:00:00Z"}


def test_triggers_fire_when_the_campaigns_ask():
    monday = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
    weekly = trigger_for(Weekly("monday", "09:00", "Asia/Shanghai"))
    assert weekly.get_next_fire_time(None, monday) == datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    monthly = trigger_for(Monthly(1, "09:00", "UTC"))
    assert monthly.get_next_fire_time(None, monday) == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    moment = monday + timedelta(hours=5)
    assert trigger_for(At(moment)).get_next_fire_time(None, monday) == moment
    every = trigger_for(Every(60))
    first = every.get_next_fire_time(None, monday)
    assert every.get_next_fire_time(first, first) == first + timedelta(seconds=60)


@pytest.fixture(autouse=True)
def no_scheduling_replica_left(request):
    """On PostgreSQL the tests start from a database no scheduling replica holds: a cobot that an earlier test on
    this worker started (a `cobot serve`, an app's worker process) may still be ending, its advisory lock with it.
    Waits for it to end (at most 30 s), and names it if it does not."""
    if "make_settings" not in request.fixturenames or request.node.callspec.params.get("database_url") != "postgres":
        return
    url = request.getfixturevalue("database_url")
    db = Database(url)
    held = "SELECT pid, application_name, backend_start FROM pg_locks JOIN pg_stat_activity USING (pid) " \
           "WHERE locktype = 'advisory' AND pg_locks.database = (SELECT oid FROM pg_database " \
           "WHERE datname = current_database())"
    deadline = time.monotonic() + 30
    with db.engine.connect() as conn:
        while (holders := conn.execute(text(held)).all()) and time.monotonic() < deadline:
            time.sleep(0.1)
    db.dispose()
    assert not holders, f"a scheduling replica of an earlier test still holds the lock: {holders}"


def _empty_job_store(db: Database) -> None:
    jobs = Database(scheduler_url(db.url))
    with jobs.engine.begin() as conn:
        conn.execute(text("DELETE FROM apscheduler_jobs") if db.is_postgres else text(
            "DROP TABLE IF EXISTS apscheduler_jobs"))
    jobs.dispose()


def make_scheduler(settings, tick_seconds: float = 1.0, check_seconds: float = 0.1) -> tuple[Scheduler, Database]:
    db = Database(settings.database.url)
    schedule = settings.scheduler.model_copy(update={"tick_seconds": tick_seconds,
                                                      "leader_check_seconds": check_seconds})
    runner = CampaignRunner(db, settings, system_clock)
    return Scheduler(schedule, db, runner, system_clock, [c.name for c in settings.campaigns]), db


async def until(check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_jobs_survive_a_restart_and_a_moment_missed_while_down_runs_once(make_settings):
    settings = make_settings(campaigns=[BOARD])
    first, db = make_scheduler(settings, tick_seconds=1.0)
    db.upgrade()
    _empty_job_store(db)
    first.start()
    await until(lambda: any(job == "campaign:weekly-stars:tick" for job, _ in first.submitted))
    kept = first.next_runs()
    await first.stop()
    assert set(kept) == {"campaign:weekly-stars:tick", "campaign:weekly-stars:post"}
    jobs = Database(scheduler_url(db.url))
    with jobs.engine.connect() as conn:
        stored = set(conn.execute(text("SELECT id FROM apscheduler_jobs")).scalars())
    jobs.dispose()
    assert stored == set(kept)  # in the database, not in memory

    # three ticks are missed: restarted three quarters of a tick after the third (timed from the ticks, not from
    # the stop, which takes longer on a busy machine: restarted after a fourth, the last missed was a moment ago)
    third = kept["campaign:weekly-stars:tick"] + timedelta(seconds=2)
    await asyncio.sleep(max(0.0, (third + timedelta(seconds=0.75) - datetime.now(UTC)).total_seconds()))
    restarted_at = datetime.now(UTC)
    second, db2 = make_scheduler(settings, tick_seconds=1.0)
    second.start()
    await until(lambda: any(job == "campaign:weekly-stars:tick" for job, _ in second.submitted))
    await asyncio.sleep(0.3)
    await second.stop()
    missed = [times for job, times in second.submitted
              if job == "campaign:weekly-stars:tick" and all(t < restarted_at for t in times)]
    assert len(missed) == 1 and len(missed[0]) == 1  # once, not once per missed moment
    assert missed[0][0] < restarted_at - timedelta(seconds=0.5)
    db.dispose()
    db2.dispose()


async def test_a_job_of_a_campaign_no_longer_configured_is_removed(make_settings):
    first, db = make_scheduler(make_settings(campaigns=[BOARD]))
    db.upgrade()
    _empty_job_store(db)
    first.start()
    await until(lambda: first.is_leader)
    await first.stop()
    second, db2 = make_scheduler(make_settings())
    second.start()
    await until(lambda: second.is_leader)
    assert second.next_runs() == {}
    await second.stop()
    db.dispose()
    db2.dispose()


async def test_only_one_replica_schedules_and_another_takes_over(make_settings):
    settings = make_settings(campaigns=[BOARD])
    if not settings.database.url.startswith("postgresql"):
        pytest.skip("replicas share a PostgreSQL database; SQLite serves one process")
    one, db_one = make_scheduler(settings)
    two, db_two = make_scheduler(settings)
    db_one.upgrade()
    _empty_job_store(db_one)
    one.start()
    await until(lambda: one.is_leader)
    two.start()
    await asyncio.sleep(0.5)
    assert one.is_leader and not two.is_leader
    await one.stop()  # the lock is released (a process that dies loses its connection, and the lock with it)
    await until(lambda: two.is_leader, timeout=5)
    assert set(two.next_runs()) == {"campaign:weekly-stars:tick", "campaign:weekly-stars:post"}
    await two.stop()
    db_one.dispose()
    db_two.dispose()


def test_the_lock_is_lost_with_its_connection(make_settings):
    settings = make_settings()
    if not settings.database.url.startswith("postgresql"):
        pytest.skip("the advisory lock is PostgreSQL's")
    db = Database(settings.database.url)
    holder, other = LeaderLock(db), LeaderLock(Database(settings.database.url))
    assert holder.acquire() and not other.acquire()
    assert holder._conn is not None
    with db.engine.connect() as admin:  # the holder's session dies (as when its replica is killed)
        pid = holder._conn.execute(text("SELECT pg_backend_pid()")).scalar()
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    assert not holder.held()
    assert other.acquire()
    other.release()
    db.dispose()
