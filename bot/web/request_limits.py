"""Request bodies on every route but the webhooks': read within a deadline, and only in the forms cobot reads.

A request's head has a deadline (`server.header_timeout_seconds`, bot.app.serving),
but once the head has arrived aiohttp
waits for the body as long as the sender likes: a `POST /login` declaring 60,000 bytes and sending one byte every ten
seconds held its connection, and one of `server.max_connections`, for as long as it liked. So this middleware reads
the body of every request that has one before the handler runs, within `server.body_timeout_seconds`: a body that
is late is answered 408 and its connection closed at once (not left to drain). The handler then reads the same bytes
from aiohttp's cache (`request.read()`, `.text()`, `.json()`, and `.post()` for a urlencoded form). A body is at most
the application's `client_max_size` (64 KB; 413 beyond).

Refused with 415 before a byte of the body is read:

- a `Content-Encoding` other than `identity`, on every route (the webhooks' too): no client of cobot compresses a
  request, and a compressed body is a small request that becomes a large one (`cobot serve` does not decompress
  either);
- a `multipart/*` body, on every route but the webhooks': no form of cobot's sends one, and aiohttp's multipart
  reader reads the stream itself, around the deadline.

The webhooks (`/webhooks/…`) read their own bodies, within a byte budget and deadlines of their own
(bot.webhooks.body).

    app.middlewares.append(request_limits(settings.server.body_timeout_seconds))
"""

from __future__ import annotations

import asyncio
import json
import logging

from aiohttp import web
from aiohttp.typedefs import Middleware

from bot.log_limits import QuietLog
from bot.peers import client_key
from bot.web.errors import Handler, error

log = logging.getLogger("cobot.serving")

WEBHOOKS = "/webhooks/"
IDENTITY = "identity"


def _encodings(request: web.Request) -> list[str]:
    """The content codings a request declares, every `Content-Encoding` header's, in order."""
    return [coding.strip().lower() for header in request.headers.getall("Content-Encoding", ())
            for coding in header.split(",") if coding.strip()]


def _unsupported(request: web.Request, webhook: bool) -> web.HTTPException | None:
    """The 415 for a body in a form cobot does not read (see the module's docstring), else None."""
    codings = [coding for coding in _encodings(request) if coding != IDENTITY]
    if codings:
        return error(415, f"Content-Encoding {', '.join(codings)[:100]}: cobot reads request bodies as they are "
                          "sent (identity) only")
    if not webhook and request.body_exists and request.content_type.lower().startswith("multipart/"):
        return error(415, "a multipart body: cobot reads JSON and application/x-www-form-urlencoded forms only")
    return None


def _too_large(request: web.Request) -> web.HTTPException:
    """413, in JSON as every refusal of cobot's."""
    limit = request.client_max_size
    return web.HTTPRequestEntityTooLarge(limit, content_type="application/json",
                                         text=json.dumps({"error": f"body larger than {limit} bytes"}))


async def _late(request: web.Request, seconds: float, refusals: QuietLog) -> web.StreamResponse:
    """408, sent now, and the connection closed (a late sender's remaining bytes are not waited for)."""
    refusals.warning("late request bodies", "a request body from %s (%s %s) did not arrive within %g seconds: 408, "
                     "connection closed", client_key(request.remote), request.method, request.path[:100], seconds)
    response = web.json_response({"error": f"the body did not arrive within {seconds:g} seconds"}, status=408,
                                 headers={"Cache-Control": "no-store"})
    response.force_close()
    await response.prepare(request)
    await response.write_eof()
    request.protocol.force_close()
    return response


def request_limits(seconds: float) -> Middleware:
    """The middleware: bodies read within `seconds` (see the module's docstring)."""
    refusals = QuietLog(log)  # anyone may send late bodies: a flood of them writes a few lines and a count

    @web.middleware
    async def limited(request: web.Request, handler: Handler) -> web.StreamResponse:
        webhook = request.path.startswith(WEBHOOKS)
        refusal = _unsupported(request, webhook)
        if refusal is not None:
            raise refusal
        if not webhook and request.body_exists:
            declared = request.content_length
            if declared is not None and declared > request.client_max_size:
                raise _too_large(request)
            try:
                async with asyncio.timeout(seconds):
                    await request.read()
            except TimeoutError:
                return await _late(request, seconds, refusals)
            except web.HTTPRequestEntityTooLarge:  # (aiohttp's, as the bytes arrive: a chunked body)
                raise _too_large(request) from None
            except (web.RequestPayloadError, ConnectionError):  # broken chunked encoding; the sender left
                raise error(400, "the body could not be read: it broke off") from None
        return await handler(request)

    return limited
