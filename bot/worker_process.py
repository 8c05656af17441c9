"""The inbox worker in a process of its own, so processing never slows down acknowledging.

The server process stores deliveries and answers the forges; this child process runs the pipeline over the
stored deliveries, at a lower CPU priority, so that under a burst acknowledgements come first and processing
catches up after. The server wakes it through one pipe; it tells the server about new outbox actions through another.
If it dies, the server starts another (nothing is lost: deliveries wait in the store).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from bot.inbox import Outcome, WritingFlag, make_way

log = logging.getLogger("cobot.inbox-worker")

NICENESS = 0


def worker_main(settings_data: dict[str, Any], wake: Connection, notify: Connection, writing: WritingFlag,
                idle_seconds: float) -> None:
    """The child process: process due deliveries until the server closes its end of `wake` (or dies)."""
    from bot.app import webhook_platforms
    from bot.clock import system_clock
    from bot.config import Settings
    from bot.inbox import Pipeline
    from bot.store.db import Database

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s[worker]: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    settings = Settings.model_validate(settings_data)
    db = Database(settings.database.url)
    pipeline = Pipeline(db, settings, system_clock, webhook_platforms(settings))
    try:
        while True:
            try:
                outcome = pipeline.process_due(make_way=lambda: writing.value > 0)
                make_way(writing)
            except Exception:
                log.exception("could not process deliveries; trying again")
                outcome = Outcome(0, 0)
            if outcome.actions:
                with contextlib.suppress(OSError):
                    notify.send_bytes(b"a")
            if outcome.processed == 0 and wake.poll(idle_seconds):
                while wake.poll():
                    wake.recv_bytes()  # EOFError when the server has gone: the loop ends
    except EOFError:
        pass
    finally:
        db.dispose()


class WorkerProcess:
    """The server's handle on the child: start, wake, restart when it dies, stop."""

    def __init__(self, settings_data: dict[str, Any], on_actions: Callable[[], None], writing: WritingFlag,
                 idle_seconds: float = 1.0) -> None:
        self._writing = writing
        self._context = multiprocessing.get_context("spawn")
        self._settings_data = settings_data
        self._on_actions = on_actions
        self._idle = idle_seconds
        self._process: multiprocessing.process.BaseProcess | None = None
        self._waker: Connection | None = None
        self._receiver: Connection | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        self._spawn()
        self._watchdog = asyncio.create_task(self._watch(), name="inbox-worker-watchdog")

    def wake(self) -> None:
        """Never blocks: when the pipe is full the child has wake-ups waiting already."""
        if self._waker is not None:
            with contextlib.suppress(BlockingIOError, BrokenPipeError, OSError):
                self._waker.send_bytes(b"w")

    def _spawn(self) -> None:
        wake_receiver, waker = self._context.Pipe(duplex=False)
        receiver, notifier = self._context.Pipe(duplex=False)
        self._process = self._context.Process(
            target=worker_main, name="cobot-inbox-worker", daemon=True,
            args=(self._settings_data, wake_receiver, notifier, self._writing, self._idle))
        self._process.start()
        wake_receiver.close()
        notifier.close()
        os.set_blocking(waker.fileno(), False)
        self._waker, self._receiver = waker, receiver
        asyncio.get_running_loop().add_reader(receiver.fileno(), self._drain)

    def _drain(self) -> None:
        receiver = self._receiver
        if receiver is None:
            return
        try:
            while receiver.poll():
                receiver.recv_bytes()
        except (EOFError, OSError):  # the child is gone; the watchdog starts another
            asyncio.get_running_loop().remove_reader(receiver.fileno())
            return
        self._on_actions()

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            if self._process is not None and not self._process.is_alive() and not self._stopping:
                log.error("the inbox worker process exited (code %s); starting another", self._process.exitcode)
                self._close_pipes()
                self._spawn()

    def _close_pipes(self) -> None:
        if self._receiver is not None:
            with contextlib.suppress(ValueError, OSError):
                asyncio.get_running_loop().remove_reader(self._receiver.fileno())
            self._receiver.close()
            self._receiver = None
        if self._waker is not None:
            self._waker.close()  # the child sees EOF and ends
            self._waker = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    async def stop(self) -> None:
        self._stopping = True
        if self._watchdog:
            self._watchdog.cancel()
            await asyncio.gather(self._watchdog, return_exceptions=True)
        self._close_pipes()
        if self._process is not None:
            await asyncio.to_thread(self._process.join, 10)
            if self._process.is_alive():
                self._process.terminate()
                await asyncio.to_thread(self._process.join, 5)
