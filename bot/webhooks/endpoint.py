"""The webhook endpoints: check the headers → read the body within the budget → authenticate → accept → store →
answer. Whoever can open a connection can reach them: a request without the signature headers is refused before
its body is read, a body is read only within `bot.webhooks.body`'s budget and deadlines, and anything a signed delivery
holds is stored (as received, or as rejected) rather than failing. A body's bytes count against the budget until
its delivery is stored or refused (parsing it and storing it keep them, and more, in memory meanwhile)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.clock import Clock
from bot.log_limits import QuietLog
from bot.pipeline.inbox import InboxWriter, Incoming
from bot.platforms.base import InvalidPayload, Replayed, Unauthorized, WebhookPlatform
from bot.webhooks.body import BodyReader, BodyRefused

log = logging.getLogger("cobot.webhooks")
RETRY_AFTER_SECONDS = "5"


def webhook_endpoint(platform: WebhookPlatform, inbox: InboxWriter, clock: Clock, bodies: BodyReader,
                     on_stored: Callable[[], None]) -> Callable[[web.Request], Awaitable[web.Response]]:
    refusals = QuietLog(log)  # anyone may send: a flood of refusals writes a few lines and a count

    async def receive(request: web.Request) -> web.Response:
        try:
            platform.check_headers(request.headers, clock())
        except Unauthorized as refusal:
            refusals.warning(f"{platform.name} 401", "%s webhook from %s refused: %s", platform.name, request.remote,
                             refusal)
            return _answer(401, error=str(refusal))
        try:
            body = await bodies.read(request)
        except BodyRefused as refused:
            refusals.warning(f"{platform.name} {refused.status}", "%s webhook from %s: %s (%d)", platform.name,
                             request.remote, refused.reason, refused.status)
            return _answer(refused.status, error=refused.reason)
        try:  # its bytes are in use until the delivery is stored or refused: its reservation lasts as long
            return await _authenticated(platform, inbox, request, body.data, on_stored, refusals)
        finally:
            body.release()

    return receive


async def _authenticated(platform: WebhookPlatform, inbox: InboxWriter, request: web.Request, data: bytes,
                         on_stored: Callable[[], None], refusals: QuietLog) -> web.Response:
    """Authenticate the body, then store what it holds and answer."""
    try:
        platform.authenticate(request.headers, data)
    except Unauthorized as refusal:
        refusals.warning(f"{platform.name} 401", "%s webhook from %s refused: %s", platform.name, request.remote,
                         refusal)
        return _answer(401, error=str(refusal))
    try:
        received = platform.accept(request.headers, data)
    except InvalidPayload as invalid:
        item, reason = Incoming(platform.name, invalid.received, "rejected", invalid.reason), invalid.reason
        return await _store(inbox, item, lambda delivery_id: _answer(400, error=reason, delivery=delivery_id,
                                                                     key=item.received.key))
    if received.is_ping:
        item = Incoming(platform.name, received, "ignored", "ping")
        return await _store(inbox, item, lambda delivery_id: _answer(200, status="pong", delivery=delivery_id,
                                                                     key=received.key))

    def accepted(delivery_id: int | None) -> web.Response:
        if delivery_id is None:
            return _answer(200, status="duplicate", key=received.key)
        on_stored()
        return _answer(202, status="accepted", delivery=delivery_id)

    return await _store(inbox, Incoming(platform.name, received), accepted)


async def _store(inbox: InboxWriter, item: Incoming, answer: Callable[[int | None], web.Response]) -> web.Response:
    """Store, then answer with the new id (None: seen before). 401 for a signature that came before with another
    body; 503 when the database cannot take it (the forge sends it again)."""
    try:
        delivery_id = await inbox.store(item)
    except Replayed as replayed:
        log.warning("%s delivery %s refused: %s", item.platform, item.received.key, replayed)
        return _answer(401, error=str(replayed))
    except Exception:
        return _answer(503, error="the delivery could not be stored; send it again")
    if item.status == "rejected":
        log.warning("%s delivery %s rejected: %s", item.platform, item.received.key, item.error)
    return answer(delivery_id)


def _answer(http_status: int, **fields: object) -> web.Response:
    response = web.json_response(fields, status=http_status)
    if http_status == 503:
        response.headers["Retry-After"] = RETRY_AFTER_SECONDS
    return response
