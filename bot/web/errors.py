"""How the web layer refuses: `error(status, message)` is an HTTP error answered as JSON `{"error": message}` (raise
it); `Handler` is what every route, guard and middleware of it wraps."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_KINDS: dict[int, type[web.HTTPException]] = {
    400: web.HTTPBadRequest, 401: web.HTTPUnauthorized, 403: web.HTTPForbidden, 404: web.HTTPNotFound,
    409: web.HTTPConflict, 415: web.HTTPUnsupportedMediaType, 429: web.HTTPTooManyRequests,
    503: web.HTTPServiceUnavailable}


def error(status: int, message: str, **headers: str) -> web.HTTPException:
    """An HTTP error answered as JSON `{"error": message}` (raise it)."""
    return _KINDS[status](text=json.dumps({"error": message}), content_type="application/json", headers=headers)
