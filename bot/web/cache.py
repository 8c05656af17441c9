"""Slow reads kept a while: a result is served for `seconds` after it was computed; an older one is still served
while a fresh one is computed in the background (so only the very first ask waits), and asks that come while one
is being computed wait for that one. At most `kept` results (KEPT unless told) are kept, the least recently asked for
going first; a computation that fails keeps nothing (the next ask computes again).
`forget()` (after a change) drops everything, including computations under way. Everything runs on the event loop;
the computations themselves run in threads (their callers' business)."""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.clock import Clock

KEPT = 128


@dataclass(frozen=True, slots=True)
class _Kept:
    at: datetime
    value: Any


class Memo:
    """Values kept by key, as the module says; `seconds` 0 keeps nothing."""

    def __init__(self, clock: Clock, seconds: float, kept: int = KEPT) -> None:
        self._clock = clock
        self._fresh = timedelta(seconds=seconds)
        self._most = kept
        self._kept: OrderedDict[Hashable, _Kept] = OrderedDict()
        self._running: dict[Hashable, asyncio.Task[Any]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def enabled(self) -> bool:
        return self._fresh > timedelta(0)

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[Any]]) -> Any:
        """The value for `key`: kept, or computed by `compute()` (which every caller of the key passes alike)."""
        if not self.enabled:
            return await compute()
        kept = self._kept.get(key)
        if kept is None:
            return await asyncio.shield(self._compute(key, compute))
        self._kept.move_to_end(key)
        if self._clock() - kept.at >= self._fresh:
            self._compute(key, compute)  # in the background; this ask gets the value kept
        return kept.value

    def holds(self, key: Hashable) -> bool:
        """Whether a value for `key` is kept (`get` then answers at once, however old it is)."""
        return key in self._kept

    def start(self, key: Hashable, compute: Callable[[], Awaitable[Any]]) -> None:
        """Compute the value for `key` in the background (unless it is being computed)."""
        self._compute(key, compute)

    def _compute(self, key: Hashable, compute: Callable[[], Awaitable[Any]]) -> asyncio.Task[Any]:
        running = self._running.get(key)
        if running is not None:
            return running

        started = self._clock()  # what the value will be as of

        async def fill() -> Any:
            try:
                value = await compute()
                if self._running.get(key) is task:  # not forgotten meanwhile
                    self._kept[key] = _Kept(started, value)
                    self._kept.move_to_end(key)
                    while len(self._kept) > self._most:
                        self._kept.popitem(last=False)
                return value
            finally:
                if self._running.get(key) is task:
                    del self._running[key]

        task = asyncio.ensure_future(fill())
        self._running[key] = task
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled():
            task.exception()  # a background refresh that failed: retrieved here, asked again next time

    def forget(self) -> None:
        """Drop every value kept and computations under way (their results are not kept)."""
        self._kept.clear()
        self._running.clear()

    async def close(self) -> None:
        """Wait for the computations under way (on shutdown)."""
        with contextlib.suppress(Exception):
            await asyncio.gather(*self._tasks, return_exceptions=True)
