"""The webhook endpoints: bound body → authenticate → accept → store → answer."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.clock import Clock
from bot.inbox import InboxWriter, Incoming
from bot.platforms.base import InvalidPayload, Unauthorized, WebhookPlatform

log = logging.getLogger("cobot.webhooks")



def webhook_endpoint(platform: WebhookPlatform, inbox: InboxWriter, clock: Clock, max_body: int,
                     on_stored: Callable[[], None]) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def receive(request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > max_body:
            return _answer(413, error=f"body larger than {max_body} bytes")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _answer(413, error=f"body larger than {max_body} bytes")
        if len(body) > max_body:
            return _answer(413, error=f"body larger than {max_body} bytes")
        try:
            platform.authenticate(request.headers, body, clock())
        except Unauthorized as refusal:
            log.warning("%s webhook from %s refused: %s", platform.name, request.remote, refusal)
            return _answer(401, error=str(refusal))
        try:
            received = platform.accept(request.headers, body)
        except InvalidPayload as invalid:
            delivery_id = await _store(inbox, Incoming(platform.name, invalid.received, "rejected", invalid.reason))
            log.warning("%s delivery %s rejected: %s", platform.name, invalid.received.key, invalid.reason)
            return _answer(400, error=invalid.reason, delivery=delivery_id)
        if received.is_ping:
            delivery_id = await _store(inbox, Incoming(platform.name, received, "ignored", "ping"))
            return _answer(200, status="pong", delivery=delivery_id)
        delivery_id = await _store(inbox, Incoming(platform.name, received))
        if delivery_id is None:
            return _answer(200, status="duplicate", key=received.key)
        on_stored()
        return _answer(202, status="accepted", delivery=delivery_id)

    return receive


async def _store(inbox: InboxWriter, item: Incoming) -> int | None:
    try:
        return await inbox.store(item)
    except Exception as error:
        raise web.HTTPServiceUnavailable(text='{"error": "the delivery could not be stored; send it again"}',
                                         content_type="application/json", headers={"Retry-After": "5"}) from error


def _answer(http_status: int, **fields: object) -> web.Response:
    return web.json_response(fields, status=http_status)
