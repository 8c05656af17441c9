"""What the dashboard's handlers share (`Dashboard`, at `request.config_dict[DASHBOARD]`): cobot's store, settings
and clock, the pipeline that replays deliveries, the outbox dispatcher to wake, and the reads. Reads run on a
read-only connection, in a thread; the slow ones in a process of their own (bot.web.apart), and they are kept for
`dashboard.cache_seconds` (bot.web.cache): every change forgets them. A read of something that is not there is
answered 404 (`found`), an action on something in the wrong state 409 (`acted`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web

from bot.clock import Clock
from bot.config import Settings
from bot.pipeline.processor import Pipeline
from bot.store.db import Database
from bot.web.apart import SLOW_READS, shareable
from bot.web.cache import Memo
from bot.web.dashboard import actions, data
from bot.web.errors import error

T = TypeVar("T")


class Dashboard:
    """What the dashboard's handlers share: cobot's store, settings and clock, the pipeline that replays
    deliveries, and the slow reads kept a while. `request.config_dict[DASHBOARD]`."""

    def __init__(self, settings: Settings, db: Database, clock: Clock, pipeline: Pipeline,
                 woken: Callable[[], None] = lambda: None) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.pipeline = pipeline
        self.memo = Memo(clock, settings.dashboard.cache_seconds)
        self._woken = woken  # after a retry: the outbox dispatcher, to send it at once
        self._warmers: list[Callable[[], None]] = []
        self._visited = False

    def on_first_visit(self, warmer: Callable[[], None]) -> None:
        """`warmer()` (which calls `warm`) once somebody first reads the dashboard: then the slow reads the pages
        ask for are computed in the background while the first page is. Not at start-up: nothing is spent on pages
        nobody may open."""
        self._warmers.append(warmer)

    def _first_visit(self) -> None:
        if not self._visited:
            self._visited = True
            for warmer in self._warmers:
                warmer()

    async def read(self, compute: Callable[..., T], *args: Any, inbox: bool = False, **params: Any) -> T:
        """`compute(conn, settings, now, *args, **params)` on a read-only connection (`inbox`: to db.inbox), in a
        thread."""
        self._first_visit()

        def work() -> T:
            with (self.db.inbox if inbox else self.db).reading() as conn:
                return compute(conn, self.settings, self.clock(), *args, **params)
        return await asyncio.to_thread(work)

    async def kept(self, compute: Callable[..., T], *args: Any, **params: Any) -> T:
        """A slow read (`slow`), kept for `dashboard.cache_seconds` by what it computes from."""
        self._first_visit()
        return await self.memo.get(_key(compute, args, params), lambda: self.slow(compute, *args, **params))

    async def slow(self, compute: Callable[..., T], *args: Any, **params: Any) -> T:
        """`read`, in the slow reads' process (bot.web.apart) unless `dashboard.slow_reads` is "thread" or the
        database is one only this process can see."""
        if not self.apart:
            return await self.read(compute, *args, **params)
        return await SLOW_READS.run(self.db.url, self.settings, self.clock(), compute, args, params)

    @property
    def apart(self) -> bool:
        """Whether the slow reads run in their own process."""
        return self.settings.dashboard.slow_reads == "process" and shareable(self.db.url)

    def warm(self, compute: Callable[..., Any], *args: Any, **params: Any) -> None:
        """Start computing what `kept` would answer, in the background."""
        if self.memo.enabled:
            self.memo.start(_key(compute, args, params), lambda: self.slow(compute, *args, **params))

    async def act(self, work: Callable[..., T], *args: Any) -> T:
        """A maintainer action, in a thread; everything kept is forgotten after it."""
        try:
            return await asyncio.to_thread(work, *args)
        finally:
            self.memo.forget()

    def wake_outbox(self) -> None:
        self._woken()


DASHBOARD = web.AppKey("cobot_dashboard", Dashboard)


def _key(compute: Callable[..., Any], args: tuple[Any, ...], params: dict[str, Any]) -> tuple[Any, ...]:
    return compute.__qualname__, args, tuple(sorted(params.items()))


async def found(work: Awaitable[Any]) -> Any:
    """Await a read, answering 404 for what is not there (the pages answer alike)."""
    try:
        return await work
    except data.NotFound as missing:
        raise error(404, str(missing)) from None


async def acted(work: Awaitable[Any]) -> Any:
    """Await a maintainer action, answering 404 for what is not there and 409 for a conflict."""
    try:
        return await work
    except data.NotFound as missing:
        raise error(404, str(missing)) from None
    except actions.Conflict as conflict:
        raise error(409, str(conflict)) from None
