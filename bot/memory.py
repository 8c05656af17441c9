"""Giving memory back to the system once large request bodies are gone.

glibc keeps what a process frees on its heap for later: after a burst of large bodies, a server would keep their
size in resident memory for good (fragmented among what stayed). `malloc_trim(0)` hands the free pages back. It is
looked up on first use, in the C library the interpreter has loaded already (nothing happens at import time);
where there is no glibc (musl, macOS), nothing is done.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
from collections.abc import Callable
from functools import cache

log = logging.getLogger("cobot.memory")


@cache
def malloc_trim() -> Callable[[int], int] | None:
    """glibc's `malloc_trim`, or None where the loaded C library has none."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError, TypeError):  # no such symbol (musl, macOS); no dlopen(NULL) (Windows)
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


class MemoryReturn:
    """Counts the large blocks freed (`large` bytes or more: the usual small ones are reused as they are); once
    `threshold` bytes of them were, returns free memory to the system `delay` seconds later (in a thread: it walks
    the heap), at most once per `delay`."""

    def __init__(self, large: int = 1024 * 1024, threshold: int = 4 * 1024 * 1024, delay: float = 1.0) -> None:
        self._large = large
        self._threshold = threshold
        self._delay = delay
        self._freed = 0
        self._scheduled: asyncio.TimerHandle | None = None

    def freed(self, size: int) -> None:
        if size < self._large or malloc_trim() is None:
            return
        self._freed += size
        if self._freed >= self._threshold and self._scheduled is None:
            self._scheduled = asyncio.get_running_loop().call_later(self._delay, self._trim)

    def _trim(self) -> None:
        self._scheduled, self._freed = None, 0
        trim = malloc_trim()
        assert trim is not None
        asyncio.get_running_loop().run_in_executor(None, trim, 0)
