"""`Cache-Control: no-store` on every answer a cache must not keep: each JSON answer (the API's, the webhooks', the
health check's, refusals), and whatever /api/, /login, /logout and /webhooks/ answer (a redirect that sets a session
cookie included). A shared cache (a proxy, a CDN) would otherwise hand one maintainer's answer, or a session, to the
next client. An answer that says how it may be cached already (pages, badge images) is left as it is."""

from __future__ import annotations

from aiohttp import web

from bot.web.auth import Handler

PRIVATE_PATHS = ("/api/", "/login", "/logout", "/webhooks/")
NO_STORE = "no-store"


def _mark(request: web.Request, response: web.StreamResponse) -> None:
    if response.prepared or "Cache-Control" in response.headers:
        return
    if response.content_type == "application/json" or request.path.startswith(PRIVATE_PATHS):
        response.headers["Cache-Control"] = NO_STORE


@web.middleware
async def no_store(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The middleware (the app's outermost, so that it sees every answer, refusals raised as exceptions too)."""
    try:
        response = await handler(request)
    except web.HTTPException as refusal:
        _mark(request, refusal)
        raise
    _mark(request, response)
    return response
