"""The inbox worker and the outbox dispatcher in a process of their own, so that they never slow down
acknowledging.

The server process only stores deliveries and answers the forges; this child process runs `Processing` (the
pipeline over the stored deliveries and the dispatcher over the outbox). The server wakes it through a pipe when
deliveries were stored; when the server goes, the pipe closes and the child ends. If the child dies, the server
starts another (nothing is lost: deliveries and actions wait in the store).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
from multiprocessing.connection import Connection
from typing import Any, Protocol

from bot.store.writing import WritingFlag

log = logging.getLogger("cobot.inbox-worker")

READY_SECONDS = 60.0  # how long the server waits for its first worker before it opens its port all the same
NICENESS = 10  # when the CPU is short, acknowledging comes first; processing catches up after the burst


def logging_levels() -> dict[str, int]:
    """The levels set in this process (the root's under ""), for the child to log as the parent does."""
    levels = {"": logging.getLogger().level}
    for name, logger in logging.root.manager.loggerDict.items():
        if isinstance(logger, logging.Logger) and logger.level != logging.NOTSET:
            levels[name] = logger.level
    return levels


def worker_main(settings_data: dict[str, Any], wake: Connection, writing: WritingFlag,
                levels: dict[str, int] | None = None, ready: EventLike | None = None) -> None:
    """The child process: process deliveries and actions until the server closes its end of `wake` (or dies);
    `ready` is set once it processes (its modules imported, its database open, its tasks started)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s[worker]: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    for name, level in (levels or {}).items():
        logging.getLogger(name or None).setLevel(level)
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle: it closes `wake`, and this ends
    asyncio.run(_process_until_the_server_goes(settings_data, wake, writing, ready))


async def _process_until_the_server_goes(settings_data: dict[str, Any], wake: Connection,
                                         writing: WritingFlag, ready: EventLike | None = None) -> None:
    from bot.app.processing import Processing
    from bot.clock import system_clock
    from bot.config import Settings
    from bot.store.db import Database

    settings = Settings.model_validate(settings_data)
    db = Database(settings.database.url)
    processing = Processing(settings, db, system_clock, writing)
    loop = asyncio.get_running_loop()
    server_gone = asyncio.Event()

    def woken() -> None:
        try:
            while wake.poll():
                wake.recv_bytes()
        except (EOFError, OSError):
            loop.remove_reader(wake.fileno())
            server_gone.set()
            return
        processing.wake()

    loop.add_reader(wake.fileno(), woken)
    processing.start()
    if ready is not None:
        ready.set()
    try:
        await server_gone.wait()
    finally:
        await processing.stop()
        db.dispose()


class EventLike(Protocol):
    def set(self) -> None: ...
    def is_set(self) -> bool: ...
    def wait(self, timeout: float | None = None) -> bool: ...


class WorkerProcess:
    """The server's handle on the child: start, wait until it is ready, wake, restart when it dies, stop."""

    def __init__(self, settings_data: dict[str, Any], writing: WritingFlag) -> None:
        self._writing = writing
        self._context = multiprocessing.get_context("spawn")
        self._settings_data = settings_data
        self._process: multiprocessing.process.BaseProcess | None = None
        self._waker: Connection | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._stopping = False
        self._ready: EventLike = self._context.Event()

    async def until_ready(self, timeout: float = READY_SECONDS) -> bool:
        """Wait until the first child processes: the server opens its port after that, so that deliveries do not
        pile up while the child is still starting (importing its modules takes a second or two). Whether it did
        within `timeout` (if not, it is logged, and the server starts all the same: the deliveries wait)."""
        if await asyncio.to_thread(self._ready.wait, timeout):
            return True
        log.warning("the inbox worker process is not ready after %.0f s; serving all the same", timeout)
        return False

    @property
    def ready(self) -> bool:
        """Whether a child has begun to process."""
        return self._ready.is_set()

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
        self._process = self._context.Process(target=worker_main, name="cobot-inbox-worker", daemon=True,
                                              args=(self._settings_data, wake_receiver, self._writing,
                                                    logging_levels(), self._ready))
        self._process.start()
        wake_receiver.close()
        os.set_blocking(waker.fileno(), False)
        self._waker = waker

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            if self._process is not None and not self._process.is_alive() and not self._stopping:
                log.error("the inbox worker process exited (code %s); starting another", self._process.exitcode)
                self._close_pipe()
                self._spawn()

    def _close_pipe(self) -> None:
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
        self._close_pipe()
        if self._process is not None:
            await asyncio.to_thread(self._process.join, 10)
            if self._process.is_alive():
                self._process.terminate()
                await asyncio.to_thread(self._process.join, 5)
