"""`Cache-Control: no-store` on every answer a cache must not keep: each JSON answer (the API's, the health check's,
refusals), and whatever /api/, /login and /logout answer (a redirect that sets a session cookie included). A shared
cache (a proxy, a CDN) would otherwise hand one maintainer's answer, or a session, to the next client. An answer
that says how it may be cached already (pages, badge images) is left as it is.

The webhooks' answers are left alone: an answer to a POST that states no freshness is not stored by a cache
(RFC 9110 §9.3.3), they go to a forge rather than to a browser, and they hold nothing secret (a delivery's id and
key). They are the answers cobot gives most often, so they carry nothing they do not need."""

from __future__ import annotations

from aiohttp import web

from bot.web.errors import Handler

PRIVATE_PATHS = ("/api/", "/login", "/logout")
WEBHOOKS = "/webhooks/"
NO_STORE = "no-store"


def _mark(request: web.Request, response: web.StreamResponse) -> None:
    if response.prepared or "Cache-Control" in response.headers:
        return
    if response.content_type == "application/json" or request.path.startswith(PRIVATE_PATHS):
        response.headers["Cache-Control"] = NO_STORE


@web.middleware
async def no_store(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The middleware (the app's outermost, so that it sees every answer, refusals raised as exceptions too)."""
    if request.method == "POST" and request.path.startswith(WEBHOOKS):
        return await handler(request)
    try:
        response = await handler(request)
    except web.HTTPException as refusal:
        _mark(request, refusal)
        raise
    _mark(request, response)
    return response
