"""Reading a webhook body before anyone knows who sent it: within a byte budget that every webhook request shares,
a share of it per client address, a size limit of its own, and two deadlines.

A body cannot be authenticated before all of it is in memory (its signature is over all of it), so whoever can open
a connection can make the server hold bodies. What bounds them:

- The budget (`server.webhook_body_budget_bytes`) bounds the bytes held at once, whatever the number of
  connections. Bytes are reserved as they arrive, never by what a request declares: a connection that declares
  25 MB and sends nothing holds nothing. A declared length over the size limit is refused (413) before a byte is
  read.
- One client address (an IPv4 address, an IPv6 /64: `bot.peers.client_key`) may hold at most
  `server.webhook_body_per_client_bytes` (by default one largest body) of it, so that a few connections from one
  place cannot spend it for everyone: beyond, that client is answered 503 + Retry-After, and only that client.
- Deadlines: a body arrives within `server.body_timeout_seconds`, and no more than `server.body_idle_seconds` pass
  without a byte of it (408 either way), so that a silent or trickling sender gives its bytes back soon.

The reservation is given back once the body is no longer needed: its delivery stored, or refused (see
`bot.webhooks.endpoint`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web

from bot.memory import MemoryReturn
from bot.peers import client_key

BUSY = "too many webhook bodies are being received at once; send it again shortly"
CLIENT_BUSY = "too many webhook bodies are being received from this address at once; send it again shortly"


class BodyRefused(Exception):
    """The body was not read; `status` and `reason` are the answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class BodyBudget:
    """Bytes of webhook bodies being read or not yet done with, in all and per client, shared by every webhook
    endpoint (one event loop: no lock). What is given back is soon given back to the system too (see
    `bot.memory`)."""

    def __init__(self, limit: int, per_client: int) -> None:
        self.limit = limit
        self.per_client = per_client
        self.held = 0
        self.held_by: dict[str, int] = {}  # only clients holding something: at most one entry per open request
        self._memory = MemoryReturn()

    def take(self, client: str, size: int) -> None:
        """Reserve `size` more bytes for `client`, or raise BodyRefused (503)."""
        mine = self.held_by.get(client, 0)
        if mine + size > self.per_client:
            raise BodyRefused(503, CLIENT_BUSY)
        if self.held + size > self.limit:
            raise BodyRefused(503, BUSY)
        self.held += size
        self.held_by[client] = mine + size

    def give_back(self, client: str, size: int) -> None:
        if not size:
            return
        self.held -= size
        left = self.held_by[client] - size
        if left:
            self.held_by[client] = left
        else:
            del self.held_by[client]
        self._memory.freed(size)


@dataclass
class Body:
    """A body read within the budget; `release()` returns its reservation (once)."""

    data: bytes
    budget: BodyBudget
    client: str
    reserved: int

    def release(self) -> None:
        self.budget.give_back(self.client, self.reserved)
        self.reserved = 0


class BodyReader:
    """Reads webhook bodies within one shared budget and a share of it per client, each body up to `max_bytes`,
    within `seconds`, with no more than `idle_seconds` between two of its bytes."""

    def __init__(self, *, budget_bytes: int, per_client_bytes: int, max_bytes: int, seconds: float,
                 idle_seconds: float) -> None:
        self.budget = BodyBudget(budget_bytes, per_client_bytes)
        self.max_bytes = max_bytes
        self.seconds = seconds
        self.idle_seconds = idle_seconds

    async def read(self, request: web.Request) -> Body:
        """The request's body, read from its stream (not through `client_max_size`, which stays small for every
        other route). Raises BodyRefused: 413 over `max_bytes` (declared, or as it arrives), 503 when the budget or
        the client's share cannot hold the next bytes, 408 when a deadline passes, 400 when the stream breaks."""
        declared = request.content_length
        if declared is not None and declared > self.max_bytes:
            raise BodyRefused(413, f"body larger than {self.max_bytes} bytes")
        budget, client = self.budget, client_key(request.remote)
        loop = asyncio.get_running_loop()
        overall = loop.time() + self.seconds
        chunks: list[bytes] = []
        size = 0
        ends = min(overall, loop.time() + self.idle_seconds)
        try:
            async with asyncio.timeout_at(ends) as deadline:
                while chunk := await request.content.readany():
                    if size + len(chunk) > self.max_bytes:  # a body sent in chunks, or one that decompresses
                        raise BodyRefused(413, f"body larger than {self.max_bytes} bytes")
                    budget.take(client, len(chunk))
                    size += len(chunk)
                    chunks.append(chunk)
                    ends = min(overall, loop.time() + self.idle_seconds)
                    deadline.reschedule(ends)
        except BaseException as error:
            # What was read goes now: the exception's traceback keeps this frame, and the request keeps the exception
            # (a cycle that only the garbage collector would break, much later).
            chunks.clear()
            budget.give_back(client, size)
            if isinstance(error, TimeoutError):
                if ends < overall:
                    raise BodyRefused(408, f"no part of the body arrived for {self.idle_seconds:g} seconds") from None
                raise BodyRefused(408, f"the body did not arrive within {self.seconds:g} seconds") from None
            if isinstance(error, web.RequestPayloadError | ConnectionError):  # broken chunked encoding; sender left
                raise BodyRefused(400, f"the body could not be read: {type(error).__name__}") from None
            raise
        return Body(b"".join(chunks), budget, client, size)
