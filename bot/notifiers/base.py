"""The notifier interface: a platform-neutral notification, rendered by each channel kind in its own format.

A notifier sends one `Notification` to one configured channel and returns a short description of the platform's
answer (stored as the outbox row's result, printed by `cobot notify test`). It raises `RetryLater` when the
platform asks to wait (HTTP 429 with Retry-After, its own rate-limit error codes, 5xx, no connection) and
`PermanentFailure` when retrying cannot help (bad token, bad signature, refused URL). Neither message ever
contains a secret (token, webhook key, signing secret, password).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.platforms.actions import PermanentFailure, RetryLater

__all__ = ["Notification", "Notifier", "PermanentFailure", "RetryLater", "mask"]


@dataclass(frozen=True)
class Notification:
    """What happened, said once: each channel kind renders it (Block Kit, Feishu post/card, Markdown, e-mail)."""

    title: str
    body: str  # Markdown: **bold**, [text](url), `code`, lists, line breaks
    link: str | None = None  # where to read more (the issue, the PR, the dashboard)
    fields: tuple[tuple[str, str], ...] = ()  # (label, value) pairs shown as a small table or list
    language: str = "en"  # "zh" or "en": the language the title and body are written in
    key: str = ""  # idempotency key of this message (stable across retries)
    topic: str = ""  # newcomer, event, campaign, digest, badge, failure, test
    html: str | None = None  # e-mail: a rendering of its own (else the body, converted)
    attachments: tuple[tuple[str, str, str], ...] = ()  # e-mail: (file name, content type, base64), shown inline

    def to_payload(self) -> dict[str, Any]:
        payload = {"title": self.title, "body": self.body, "link": self.link,
                   "fields": [list(pair) for pair in self.fields], "language": self.language, "topic": self.topic}
        if self.html is not None:
            payload["html"] = self.html
        if self.attachments:
            payload["attachments"] = [list(item) for item in self.attachments]
        return payload

    @classmethod
    def from_payload(cls, payload: dict[str, Any], key: str) -> Notification:
        return cls(title=str(payload.get("title") or ""), body=str(payload.get("body") or ""),
                   link=payload.get("link"), fields=tuple((str(a), str(b)) for a, b in payload.get("fields") or ()),
                   language=str(payload.get("language") or "en"), key=key, topic=str(payload.get("topic") or ""),
                   html=payload.get("html"),
                   attachments=tuple((str(n), str(t), str(d)) for n, t, d in payload.get("attachments") or ()))


class Notifier(Protocol):
    """One configured channel. `send` returns the platform's answer in a few words (no secrets)."""

    async def send(self, notification: Notification) -> str: ...

    async def close(self) -> None: ...


@dataclass
class Secrets:
    """Values to hide from every message a notifier produces."""

    values: list[str] = field(default_factory=list)

    def mask(self, text: str) -> str:
        return mask(text, *self.values)


def mask(text: str, *secrets: str | None) -> str:
    """`text` with every non-empty secret replaced by ***."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
