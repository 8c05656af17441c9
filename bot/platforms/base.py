"""What every forge edge provides to the inbox: authenticate, accept, translate."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from bot.events import Actor, Event
from bot.platforms.payload import read_json_object, storable


class Unauthorized(Exception):
    """The request is not from the forge we share a secret with: 401, nothing stored."""


class Replayed(Unauthorized):
    """A signature that covers no body, seen before with another body: 401, nothing stored."""


class InvalidPayload(Exception):
    """Authenticated, but the body cannot be read: stored as rejected, answered 400."""

    def __init__(self, reason: str, received: Received) -> None:
        super().__init__(reason)
        self.reason = reason
        self.received = received


@dataclass(frozen=True, slots=True)
class Received:
    """An authenticated delivery, ready to be stored (secrets already removed; key, event and action fit their
    columns, header values are storable text). `nonce`: a digest of a signature that covers no body (Gitee's
    signing mode signs only a timestamp), remembered with the delivery's key so that it cannot come again with
    another body."""

    key: str
    event: str
    action: str | None
    is_ping: bool
    headers: dict[str, str]
    body: bytes
    nonce: str | None = None


Builder = Callable[[dict[str, Any], datetime], list[Event]]


class WebhookPlatform(Protocol):
    name: str

    def check_headers(self, headers: Mapping[str, str], now: datetime) -> None:
        """Everything that can be checked before the body is read (raises Unauthorized): a request without the
        signature headers, or whose headers alone prove it forged, is refused without reading its body."""
        ...

    def authenticate(self, headers: Mapping[str, str], body: bytes) -> None:
        """The rest, once the body is read (raises Unauthorized)."""
        ...

    def accept(self, headers: Mapping[str, str], body: bytes) -> Received: ...

    def translate(self, event: str, payload: dict[str, Any], received_at: datetime) -> list[Event]: ...


_PARSED: dict[str, datetime] = {}  # times read lately: a payload, or a file of history, holds each many times


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time, or epoch seconds, as an aware UTC datetime."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    text = str(value)
    found = _PARSED.get(text)
    if found is None:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        found = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
        if len(_PARSED) >= 10_000:
            _PARSED.clear()
        _PARSED[text] = found
    return found


def keep_headers(headers: Mapping[str, str], names: tuple[str, ...]) -> dict[str, str]:
    """The headers worth keeping with a delivery (never a token or a signature), as storable text."""
    lowered = {name.lower(): value for name, value in headers.items()}
    return {name: storable(lowered[name.lower()]) for name in names if name.lower() in lowered}


def digest_key(prefix: str, *parts: str) -> str:
    return prefix + hashlib.sha256("\n".join(parts).encode()).hexdigest()[:40]


def load_json_object(body: bytes) -> dict[str, Any]:
    """A stored body's payload (ValueError when it holds no JSON object, or one nested too deeply); lone
    surrogates read as U+FFFD (see `bot.platforms.payload.read_json_object`)."""
    return read_json_object(body).payload


def translate_by_table(table: Mapping[tuple[str, str | None], Builder], event: str, action: str | None,
                       payload: dict[str, Any], received_at: datetime) -> list[Event]:
    """Look the (event, action) pair up; unknown pairs translate to nothing."""
    builder = table.get((event, action)) or table.get((event, None))
    return builder(payload, received_at) if builder else []


def actor_or_ghost(user: Any, login_keys: tuple[str, ...] = ("login",)) -> Actor:
    if not isinstance(user, dict):
        return Actor(login="ghost")
    login = "ghost"
    for key in login_keys:
        if user.get(key):
            login = str(user[key])
            break
    is_bot = str(user.get("type", "")).lower() == "bot" or login.lower().endswith("[bot]")
    found = user.get("id")
    return Actor(login=login, id=str(found) if found is not None else None, name=user.get("name"), is_bot=is_bot)
