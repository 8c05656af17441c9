"""Reading what a forge sent so that it can be stored and translated whatever it holds: a JSON object of bounded
depth without lone surrogates, and header values, delivery keys and event names that fit the inbox's columns."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, NamedTuple

import orjson

MAX_DEPTH = 100  # a real payload nests a handful of levels; the translators and json.dumps recurse
KEY_LENGTH = 128  # the inbox's `key` column
NAME_LENGTH = 64  # its `event` and `action` columns
HEADER_LENGTH = 1024  # a kept header value (aiohttp already refuses heads of more than 8,190 bytes a line)

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")  # how a lone surrogate can get into JSON text
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # a pair is one character once decoded: whatever is left is lone
_NOT_STORABLE = re.compile("[\x00-\x08\x0a-\x1f\x7f\ud800-\udfff]")  # controls (NUL above all) and lone surrogates
_TOKEN = re.compile("[\x20-\x7e]+")  # printable ASCII


class Parsed(NamedTuple):
    payload: dict[str, Any]
    repaired: bool  # lone surrogates were replaced: the body as sent would read differently


def read_json_object(body: bytes) -> Parsed:
    """The JSON object `body` holds. ValueError when it holds none, or nests deeper than MAX_DEPTH. A lone surrogate
    escape (`"\\ud83d"`, which no UTF-8 text can hold) reads as U+FFFD; only a body with such an escape pays for it."""
    try:
        payload = orjson.loads(body)  # refuses lone surrogates, and anything nested deeper than 1,024
        repaired = False
    except orjson.JSONDecodeError as error:
        if "depth limit" in str(error):
            raise ValueError(f"nested deeper than {MAX_DEPTH} levels") from None
        if not _SURROGATE_ESCAPE.search(body):
            raise ValueError(str(error)) from None
        try:
            payload = json.loads(body)
        except RecursionError:
            raise ValueError(f"nested deeper than {MAX_DEPTH} levels") from None
        repaired = True
    if not isinstance(payload, dict):
        raise ValueError("the body is JSON but not an object")
    if body.count(b"{") + body.count(b"[") > MAX_DEPTH and depth(payload) > MAX_DEPTH:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
    if repaired:
        payload = _without_lone_surrogates(payload)
    return Parsed(payload, repaired)


def depth(value: Any) -> int:
    """How deeply lists and objects nest in a decoded JSON value (without recursion)."""
    if not isinstance(value, dict | list):
        return 0
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        for child in item.values() if type(item) is dict else item:
            if type(child) is dict or type(child) is list:
                stack.append((child, level + 1))
    return deepest


def _without_lone_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_without_lone_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {_LONE_SURROGATE.sub("\ufffd", key): _without_lone_surrogates(item) for key, item in value.items()}
    return value


def storable(value: str, limit: int = HEADER_LENGTH) -> str:
    """`value` as text any database and JSON column takes: lone surrogates (aiohttp's escapes for bytes that are not
    UTF-8) and control characters become U+FFFD, and it is cut to `limit` characters."""
    if not (value.isascii() and value.isprintable()):
        value = _NOT_STORABLE.sub("\ufffd", value)
    return value if len(value) <= limit else value[:limit - 1] + "…"


def delivery_key(given: str, prefix: str) -> str:
    """The forge's delivery id when it is printable ASCII that fits the column; otherwise a digest of it (the same
    id always gives the same key, so a redelivery is still recognised)."""
    if len(given) <= KEY_LENGTH and _TOKEN.fullmatch(given):
        return given
    return prefix + hashlib.sha256(given.encode("utf-8", "surrogatepass")).hexdigest()[:40]


def event_name(given: str) -> str | None:
    """An event header's value when it can be one (printable ASCII, short); None otherwise."""
    return given if len(given) <= NAME_LENGTH and _TOKEN.fullmatch(given) else None


def short_text(value: Any) -> str | None:
    """A payload's `action`, fit for its column."""
    if value is None or value == "":
        return None
    return storable(str(value), NAME_LENGTH)
