"""The dashboard's slow reads in a process of their own: the aggregates the API keeps (bot.web.cache: the
overview's health, the leaderboard, profiles, campaign views, the digest preview) take from a tenth of a second to
seconds of CPU on a big store, and computed in threads of the serving process they hold its GIL, which slows the
webhooks' acknowledgements down while a maintainer browses. Here they run in one worker process, started by the
first slow read (a serve nobody reads the dashboard of spends no memory on it), at a lower priority (nice 15) than
the processes that serve (nice 0) and process (nice 10) webhooks.

    SLOW_READS.run(db.url, settings, now, data.overview, (), {"days": 30})  # -> what data.overview returns

A read is `compute(conn, settings, now, *args, **params)` on a read-only connection (`Database.reading()`), as in
a thread; the function, its arguments and what it returns travel by pickle (module-level functions, plain values).
The worker keeps the last few databases it was asked about open, and ends after ten minutes without a read. If it
dies (killed, out of memory), the read that was under way is tried once more in a new one. A database only this
process can see (SQLite in memory) is read in a thread instead: `shareable`.

Work that needs no database goes there too (the digest's charts: matplotlib is never imported by the serving
process), awaited or, from a thread with no event loop (a campaign's tick), waited for:

    png = await SLOW_READS.call(digest_chart.draw, days, "en")
    png = SLOW_READS.call_waiting(digest_chart.draw, days, "en")
    CampaignRunner(db, settings, clock, draw=SLOW_READS.blocking(digest_chart.draw))  # what its ticks draw with
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import signal
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from typing import Any, TypeVar

from bot.config import Settings
from bot.store.db import Database

T = TypeVar("T")
NICENESS = 15  # added to the worker's: webhooks first (the inbox worker's is 10, the serving process's 0)
KEPT_DATABASES = 4
PARENT_CHECK_SECONDS = 1.0
IDLE_SECONDS = 600.0  # a worker no read has asked anything of for this long ends


def shareable(url: str) -> bool:
    """Whether another process can open this database (not SQLite in memory)."""
    if not url.startswith("sqlite"):
        return True
    return url not in ("sqlite://", "sqlite:///") and ":memory:" not in url and "mode=memory" not in url


class SlowReads:
    """The worker process (one; started on first use) and the work sent to it, from the event loop or threads."""

    def __init__(self, idle_seconds: float = IDLE_SECONDS) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._idle_seconds = idle_seconds
        self._under_way = 0
        self._last_ended = 0.0  # time.monotonic()
        self._idle_check: threading.Timer | None = None

    @property
    def under_way(self) -> int:
        """How many calls are being run or wait for the worker (what its queue holds)."""
        with self._lock:
            return self._under_way

    async def run(self, url: str, settings: Settings, now: datetime, compute: Callable[..., T],
                  args: tuple[Any, ...], params: dict[str, Any]) -> T:
        return await self.call(_read, url, settings, now, compute, args, params)

    async def call(self, work: Callable[..., T], *args: Any) -> T:
        """`work(*args)` in the worker (a module-level function; plain values in and out)."""
        try:
            return await self._once(work, args)
        except BrokenProcessPool:  # the worker died under way: once more, in a new one
            return await self._once(work, args)

    def call_waiting(self, work: Callable[..., T], *args: Any) -> T:
        """`call`, from a thread that may block (no event loop there): the thread waits for the answer."""
        try:
            return self._once_waiting(work, args)
        except BrokenProcessPool:
            return self._once_waiting(work, args)

    def blocking(self, work: Callable[..., T]) -> Callable[..., T]:
        """`work` as a function a thread calls and waits for (`call_waiting`); run where it is called in a daemonic
        process (cobot's inbox worker process, which may not start processes: nothing is served there)."""
        def run(*args: Any) -> T:
            if multiprocessing.current_process().daemon:
                return work(*args)
            return self.call_waiting(work, *args)
        return run

    async def _once(self, work: Callable[..., T], args: tuple[Any, ...]) -> T:
        pool = self._begin()
        try:
            return await asyncio.wrap_future(pool.submit(work, *args))
        except BrokenProcessPool:
            self._discard(pool)
            raise
        finally:
            self._end()

    def _once_waiting(self, work: Callable[..., T], args: tuple[Any, ...]) -> T:
        pool = self._begin()
        try:
            return pool.submit(work, *args).result()
        except BrokenProcessPool:
            self._discard(pool)
            raise
        finally:
            self._end()

    def _begin(self) -> ProcessPoolExecutor:
        pool = self._executor()
        with self._lock:
            self._under_way += 1
        return pool

    def _end(self) -> None:
        with self._lock:
            self._under_way -= 1
            self._last_ended = time.monotonic()
            if self._idle_check is not None:
                self._idle_check.cancel()
            self._idle_check = threading.Timer(self._idle_seconds, self._stop_when_idle)
            self._idle_check.daemon = True
            self._idle_check.start()

    def _stop_when_idle(self) -> None:
        """No read for `idle_seconds`: the worker ends, and its memory is the system's again (the next read starts
        another; the pages answer what they kept meanwhile)."""
        with self._lock:
            if self._under_way or time.monotonic() - self._last_ended < self._idle_seconds:
                return
            pool, self._pool = self._pool, None
            self._idle_check = None
        if pool is not None:
            pool.shutdown(wait=False)

    def close(self) -> None:
        """Stop the worker (the next read starts another)."""
        with self._lock:
            pool, self._pool = self._pool, None
            if self._idle_check is not None:
                self._idle_check.cancel()
                self._idle_check = None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_started)
            return self._pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)


SLOW_READS = SlowReads()


# -- in the worker -------------------------------------------------------------------------------------------------

_databases: OrderedDict[str, Database] = OrderedDict()


def _started() -> None:
    with contextlib.suppress(OSError):  # (a platform without nice: the same priority)
        os.nice(NICENESS)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle: it stops this worker
    threading.Thread(target=_outlive_nobody, args=(os.getppid(),), name="parent-watch", daemon=True).start()


def _outlive_nobody(parent: int) -> None:
    """End this worker once the server is gone without stopping it (killed: SIGKILL, the OOM killer), which would
    leave it waiting for reads for ever: a process whose parent dies is given another."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(0)


def _read(url: str, settings: Settings, now: datetime, compute: Callable[..., T], args: tuple[Any, ...],
          params: dict[str, Any]) -> T:
    db = _databases.pop(url, None) or Database(url)
    _databases[url] = db
    while len(_databases) > KEPT_DATABASES:
        _databases.popitem(last=False)[1].dispose()
    with db.reading() as conn:
        return compute(conn, settings, now, *args, **params)
