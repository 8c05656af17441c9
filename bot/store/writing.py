"""SQLite has one writer per file: in the inbox file, the inbox writer, whose commits acknowledge deliveries,
goes first.

The writer raises a flag shared between processes while it stores a batch; the inbox worker looks at it before
it saves the statuses of the deliveries it processed, and makes way.
"""

from __future__ import annotations

import multiprocessing
import time
from typing import Protocol


class WritingFlag(Protocol):
    """How many batches the inbox writer is storing now: shared memory when the worker is another process."""

    value: int


def writing_flag() -> WritingFlag:
    return multiprocessing.get_context("spawn").RawValue("i", 0)


def make_way(writing: WritingFlag, longest: float = 0.05) -> None:
    """Let the inbox writer have the inbox first (SQLite has one writer at a time)."""
    deadline = time.monotonic() + longest
    while writing.value > 0 and time.monotonic() < deadline:
        time.sleep(0.0005)
