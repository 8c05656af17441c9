"""Warnings a stranger can cause, written at most so often: a flood of refused requests writes a few lines and a
count, not a line each (a log is a disk that anyone who can open a connection could otherwise fill).

    refusals = QuietLog(log, per_minute=10)
    refusals.warning("github 401", "%s webhook from %s refused: %s", name, remote, why)

Each kind has its own minute: its first `per_minute` warnings are written; the next one says that more are being
counted; the first warning of a later minute says how many were counted and not written.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

WINDOW_SECONDS = 60.0


@dataclass(slots=True)
class _Minute:
    started: float
    written: int = 0
    counted: int = 0


class QuietLog:
    def __init__(self, logger: logging.Logger, per_minute: int = 10,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._logger = logger
        self._per_minute = per_minute
        self._monotonic = monotonic
        self._minutes: dict[str, _Minute] = {}

    def warning(self, kind: str, message: str, *args: object) -> None:
        now = self._monotonic()
        minute = self._minutes.get(kind)
        if minute is None or now - minute.started >= WINDOW_SECONDS:
            if minute is not None and minute.counted:
                self._logger.warning("%d more warnings of %s were counted in the minute before, not written",
                                     minute.counted, kind)
            if len(self._minutes) > 1000:  # kinds are few; a key made of what a stranger sends must not grow this
                self._minutes.clear()
            minute = self._minutes[kind] = _Minute(now)
        if minute.written < self._per_minute:
            minute.written += 1
            self._logger.warning(message, *args)
            return
        if not minute.counted:
            self._logger.warning("more warnings of %s this minute are counted, not written", kind)
        minute.counted += 1
