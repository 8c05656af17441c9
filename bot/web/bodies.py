"""The bodies the dashboard reads: a urlencoded form (`form_fields`) or a JSON object (`json_object`), 400 for a
body that is neither. (Before they are read, bot.web.request_limits: 408 for a body that is late, 413 for one over
64 KB, 415 for a compressed or multipart one.)

    await form_fields(request)    the request's form fields (400 for a body that is no readable form)
    await json_object(request, required)   the request's JSON object (400 for a body that is no JSON object)
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from bot.web.errors import error

FORMS = ("application/x-www-form-urlencoded",)  # (a multipart body is refused before it is read: request_limits)


async def form_fields(request: web.Request) -> MultiDictProxy[Any]:
    """The request's urlencoded form fields (none for a body of another type); 400 for a body that cannot be read as
    one (an unknown charset, bytes that are not in it). (A multipart body never gets here: request_limits.)"""
    try:
        return await request.post()
    except web.HTTPException:
        raise
    except (ValueError, LookupError, AssertionError, TypeError, RuntimeError):
        raise error(400, "the body is not a readable form") from None


class _RepeatedKey(ValueError):
    """A JSON object that names a key twice."""


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, read by `json.loads` (its `object_pairs_hook`): _RepeatedKey for a key named twice."""
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _RepeatedKey(key)
        found[key] = value
    return found


async def json_object(request: web.Request, required: bool) -> dict[str, Any]:
    """The request's body as a JSON object ({} for no body, unless `required`); 400 for anything else (a body that
    is no JSON, names a key twice in an object, nests too deeply to be one of ours, or holds no object). Every JSON
    body the dashboard reads is read here (the API's actions, logging in and out). The body is read as JSON is
    written (UTF-8, or UTF-16/32 with their marks), whatever charset its Content-Type names.

    A key named twice is refused rather than read as one of its values: `{"dry_run": true, "dry_run": false}` is
    a dry run to one reader and a real one to another (Python's keeps the last), and a proxy or a log in between
    may read it the other way."""
    raw = await request.read()
    if not raw.strip():
        if required:
            raise error(400, "body: a JSON object is needed")
        return {}
    try:
        body = json.loads(raw, object_pairs_hook=_object)
    except _RepeatedKey as repeated:
        raise error(400, f"body: the key {json.dumps(str(repeated)[:100])} appears twice in an object") from None
    except (ValueError, RecursionError):  # (RecursionError: nested too deeply to be a body of ours)
        raise error(400, "body: not JSON") from None
    if not isinstance(body, dict):
        raise error(400, "body: a JSON object is needed")
    return body

