"""The scheduler: APScheduler's AsyncIOScheduler, its jobs kept in the app database, run by one replica at a time.

- Jobs are the moments campaigns want to be ticked at (`campaigns.base.JobSpec`: their announcements, due dates,
  weekly posts) plus a tick of every campaign every `scheduler.tick_seconds`. They are kept in the
  `apscheduler_jobs` table (APScheduler's SQLAlchemy job store; on SQLite in a file of its own, see
  `bot.store.db.scheduler_url`), so they survive a restart: a job whose moment
  passed while cobot was down runs once when it is back (coalesced, however late), not once per missed moment.
  A tick decides each thing once (campaigns keep a ledger), so running it late, twice, or on another replica
  never repeats or skips anything.
- On PostgreSQL, several `cobot serve` replicas may run: only the one holding a session-level advisory lock runs
  the scheduler (so the job store is never shared by two live schedulers). The others try to take the lock every
  `scheduler.leader_check_seconds`; when the holder dies its connection closes, the lock is free, and another
  replica takes over. On SQLite (one process) the scheduler simply runs.

This is the only module that imports APScheduler.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections import deque
from datetime import UTC, datetime, time
from typing import ClassVar
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Connection, text

from bot.clock import Clock
from bot.config import SchedulerSettings
from bot.store.db import Database, scheduler_url
from campaigns.base import At, Every, JobSpec, Monthly, Weekly
from campaigns.runner import CampaignRunner

log = logging.getLogger("cobot.scheduler")

LOCK_KEY = 0x636F626F74  # "cobot": the advisory lock the scheduling replica holds
JOB_TABLE = "apscheduler_jobs"


def trigger_for(when: Every | At | Weekly | Monthly) -> BaseTrigger:
    if isinstance(when, Every):
        return IntervalTrigger(seconds=when.seconds, timezone=UTC)
    if isinstance(when, At):
        return DateTrigger(run_date=when.moment, timezone=UTC)
    clock = time.fromisoformat(when.time)
    zone = ZoneInfo(when.timezone)
    if isinstance(when, Weekly):
        return CronTrigger(day_of_week=when.weekday[:3], hour=clock.hour, minute=clock.minute, timezone=zone)
    return CronTrigger(day=when.day, hour=clock.hour, minute=clock.minute, timezone=zone)


class LeaderLock:
    """PostgreSQL: a session-level advisory lock on a connection of its own, held while this replica schedules.
    SQLite: always held (one process per database file)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._conn: Connection | None = None

    def acquire(self) -> bool:
        if not self._db.is_postgres:
            return True
        if self._conn is None:
            self._conn = self._db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        got = bool(self._conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}).scalar())
        if not got:
            self._close()
        return got

    def held(self) -> bool:
        """Whether the lock is still ours (false once its connection is gone)."""
        if not self._db.is_postgres:
            return True
        if self._conn is None:
            return False
        try:
            self._conn.execute(text("SELECT 1"))
        except Exception:
            self._close()
            return False
        return True

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
        self._close()

    def _close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.invalidate()  # never back to the pool: the lock must not outlive this holder
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None


async def run_job(campaign: str, spec: str) -> None:
    """What every scheduled job runs (referenced by name in the job store): one tick of one campaign."""
    scheduler = Scheduler.active
    if scheduler is None:
        return
    await scheduler.run_campaign(campaign)


class Scheduler:
    """Runs the campaigns' jobs while this replica holds the leader lock; `start()` and `stop()` on the loop."""

    active: ClassVar[Scheduler | None] = None

    def __init__(self, settings: SchedulerSettings, db: Database, runner: CampaignRunner, clock: Clock,
                 campaigns: list[str]) -> None:
        self._settings = settings
        self._db = db
        self._runner = runner
        self._clock = clock
        self._campaigns = campaigns
        self._lock = LeaderLock(db)
        self._jobs_db: Database | None = None  # where the jobs are kept (see bot.store.db.scheduler_url)
        self._aps: AsyncIOScheduler | None = None
        self._task: asyncio.Task[None] | None = None
        self.is_leader = False
        self.ticks = 0
        # (job id, the moments a run stands for), the latest runs: for the logs and the tests
        self.submitted: deque[tuple[str, list[datetime]]] = deque(maxlen=500)

    def start(self) -> None:
        self._task = asyncio.create_task(self._lead(), name="scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._stop_scheduling()
        await asyncio.to_thread(self._lock.release)
        if self._jobs_db is not None and self._jobs_db is not self._db:
            self._jobs_db.dispose()

    async def run_campaign(self, name: str) -> None:
        if name not in self._campaigns:
            log.warning("a scheduled job names campaign %r, which is not configured any more", name)
            return
        try:
            await asyncio.to_thread(self._runner.tick, name)
            self.ticks += 1
        except Exception:
            log.exception("campaign %s: the scheduled tick failed (the next one tries again)", name)

    async def _lead(self) -> None:
        while True:
            try:
                if not self.is_leader:
                    if await asyncio.to_thread(self._lock.acquire):
                        await self._start_scheduling()
                elif not await asyncio.to_thread(self._lock.held):
                    log.warning("lost the scheduler lock: another replica will take over")
                    self._stop_scheduling()
            except Exception:  # the database is unreachable, say: try again at the next check
                log.exception("scheduler leadership check failed")
                self._stop_scheduling()
                await asyncio.to_thread(self._lock.release)
            await asyncio.sleep(self._settings.leader_check_seconds)

    async def _start_scheduling(self) -> None:
        if self._jobs_db is None:
            url = scheduler_url(self._db.url)
            self._jobs_db = self._db if url == self._db.url else Database(url)
        store = SQLAlchemyJobStore(engine=self._jobs_db.engine, tablename=JOB_TABLE)
        self._aps = AsyncIOScheduler(jobstores={"default": store}, timezone=UTC, job_defaults={
            "coalesce": True, "misfire_grace_time": None, "max_instances": 1})
        self._aps.add_listener(self._submitted, EVENT_JOB_SUBMITTED)
        self._aps.start()
        self.is_leader = True
        Scheduler.active = self
        self._sync_jobs()
        log.info("this replica runs the scheduler (%s pid %d): %d jobs", socket.gethostname(), os.getpid(),
                 len(self._aps.get_jobs()))
        for name in self._campaigns:  # what fell due while no replica was scheduling
            await self.run_campaign(name)

    def _submitted(self, event: JobSubmissionEvent) -> None:
        """A job starts: `scheduled_run_times` is one moment (missed moments are coalesced into the last)."""
        self.submitted.append((event.job_id, list(event.scheduled_run_times)))
        log.debug("job %s runs for %s", event.job_id, ", ".join(t.isoformat() for t in event.scheduled_run_times))

    def _sync_jobs(self) -> None:
        """The jobs the campaigns want, added or changed; jobs of campaigns no longer configured, removed. A job
        that did not change keeps its stored next run time (so a moment missed while down still runs, once)."""
        assert self._aps is not None
        now = self._clock()
        wanted = [JobSpec(f"campaign:{name}:tick", Every(self._settings.tick_seconds)) for name in self._campaigns]
        wanted += [spec for spec in self._runner.jobs(now)
                   if not (isinstance(spec.when, At) and spec.when.moment <= now)]
        existing = {job.id: job for job in self._aps.get_jobs()}
        for spec in wanted:
            campaign = spec.id.split(":")[1]
            fingerprint = repr(spec.when)
            job = existing.pop(spec.id, None)
            if job is not None and job.kwargs.get("spec") == fingerprint:
                continue
            self._aps.add_job(run_job, trigger=trigger_for(spec.when), id=spec.id, name=spec.id,
                              kwargs={"campaign": campaign, "spec": fingerprint}, replace_existing=True)
        for job_id in existing:
            self._aps.remove_job(job_id)

    def _stop_scheduling(self) -> None:
        if self._aps is not None:
            with contextlib.suppress(Exception):
                self._aps.shutdown(wait=False)
            self._aps = None
        if Scheduler.active is self:
            Scheduler.active = None
        self.is_leader = False

    def next_runs(self) -> dict[str, datetime | None]:
        """Each job's next run time (for `cobot campaign list` and tests)."""
        if self._aps is None:
            return {}
        return {job.id: job.next_run_time for job in self._aps.get_jobs()}
