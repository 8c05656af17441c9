"""Reading a webhook body before anyone knows who sent it: within a byte budget that every webhook request shares,
a size limit of its own, and a deadline.

A body cannot be authenticated before all of it is in memory (its signature is over all of it), so whoever can open
a connection can make the server hold bodies. The budget bounds how many bytes of them are held at once, whatever
the number of connections: a request declares its length (`Content-Length`) and reserves it before a byte is read,
or, sent in chunks, reserves as its chunks arrive; what does not fit is answered 503 at once. The deadline stops a
slow sender from keeping its reservation: 408. The reservation is returned as soon as the body is authenticated or
refused (see `bot.webhooks`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web

from bot.memory import MemoryReturn


class BodyRefused(Exception):
    """The body was not read; `status` and `reason` are the answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class BodyBudget:
    """Bytes of webhook bodies being read or waiting to be authenticated, shared by every webhook endpoint (one event
    loop: no lock). What is given back is soon given back to the system too (see `bot.memory`)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0
        self._memory = MemoryReturn()

    def take(self, size: int) -> bool:
        if self.held + size > self.limit:
            return False
        self.held += size
        return True

    def give_back(self, size: int) -> None:
        self.held -= size
        self._memory.freed(size)


@dataclass
class Body:
    """A body read within the budget; `release()` returns its reservation (once)."""

    data: bytes
    budget: BodyBudget
    reserved: int

    def release(self) -> None:
        self.budget.give_back(self.reserved)
        self.reserved = 0


class BodyReader:
    """Reads webhook bodies within one shared budget, each up to `max_bytes` and within `seconds`."""

    def __init__(self, budget_bytes: int, max_bytes: int, seconds: float) -> None:
        self.budget = BodyBudget(budget_bytes)
        self.max_bytes = max_bytes
        self.seconds = seconds

    async def read(self, request: web.Request) -> Body:
        """The request's body, read from its stream (not through `client_max_size`, which stays small for every
        other route). Raises BodyRefused: 413 over `max_bytes`, 503 when the budget cannot hold it, 408 after
        `seconds`, 400 when the stream breaks."""
        declared, budget = request.content_length, self.budget
        if declared is not None and declared > self.max_bytes:
            raise BodyRefused(413, f"body larger than {self.max_bytes} bytes")
        reserved = 0
        if declared is not None:
            if not budget.take(declared):
                raise BodyRefused(503, BUSY)
            reserved = declared
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.seconds):
                while chunk := await request.content.readany():
                    size += len(chunk)
                    if size > self.max_bytes:  # a body sent in chunks, or one that decompresses
                        raise BodyRefused(413, f"body larger than {self.max_bytes} bytes")
                    if size > reserved:
                        if not budget.take(size - reserved):
                            raise BodyRefused(503, BUSY)
                        reserved = size
                    chunks.append(chunk)
        except BaseException as error:
            # What was read goes now: the exception's traceback keeps this frame, and the request keeps the exception
            # (a cycle that only the garbage collector would break, much later).
            chunks.clear()
            budget.give_back(reserved)
            if isinstance(error, TimeoutError):
                raise BodyRefused(408, f"the body did not arrive within {self.seconds:g} seconds") from None
            if isinstance(error, web.RequestPayloadError | ConnectionError):  # broken chunked encoding; sender left
                raise BodyRefused(400, f"the body could not be read: {type(error).__name__}") from None
            raise
        return Body(b"".join(chunks), budget, reserved)


BUSY = "too many webhook bodies are being received at once; send it again shortly"
