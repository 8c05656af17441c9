"""A background task that does work while there is some, then sleeps until woken or a poll interval passes."""

from __future__ import annotations

import asyncio
import contextlib
import logging


class BackgroundLoop:
    """Subclasses implement `step()`, returning how much work it did (0: nothing to do, so sleep)."""

    name = "background"
    idle_seconds = 1.0

    def __init__(self) -> None:
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._log = logging.getLogger(f"cobot.{self.name}")

    async def step(self) -> int:
        raise NotImplementedError

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                done = await self.step()
            except Exception:  # the store is unreachable, say: keep trying, never die
                self._log.exception("%s failed; trying again", self.name)
                done = 0
            if done == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.idle_seconds)
