"""The generic JSON webhook channel: POSTs the notification as JSON

    {"key": ..., "topic": ..., "title": ..., "body": ..., "link": ..., "fields": [{"label": ..., "value": ...}],
     "language": ...}

with `Idempotency-Key: <key>` (the same on every retry), `User-Agent: cobot`, the configured headers, and with a
secret `X-Cobot-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`, as GitHub signs its webhooks.

`body` is CommonMark in which everything a person wrote is backslash-escaped (`bot.messages.render.render_message`): a
receiver that renders it shows their text as text, and its links are only cobot's own. `title` and the fields'
values are plain text: escape them for whatever the receiver writes them into.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from bot.notifiers.base import Notification, Secrets
from bot.notifiers.http import USER_AGENT, dump, excerpt, host_of, post, status_failure, url_secrets
from bot.settings.notify import WebhookChannel

SIGNATURE_HEADER = "X-Cobot-Signature-256"


def signature(secret: str, body: bytes) -> str:
    """The `X-Cobot-Signature-256` value of `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_payload(notification: Notification) -> dict[str, Any]:
    return {"key": notification.key, "topic": notification.topic, "title": notification.title,
            "body": notification.body, "link": notification.link,
            "fields": [{"label": label, "value": value} for label, value in notification.fields],
            "language": notification.language}


class WebhookNotifier:
    """A generic JSON webhook: any 2xx is success."""

    def __init__(self, settings: WebhookChannel, http: aiohttp.ClientSession,
                 clock: Callable[[], float] = time.time) -> None:
        self._settings = settings
        self._http = http
        self._clock = clock
        self._where = f"webhook ({host_of(settings.url)})"
        self._secrets = Secrets([*url_secrets(settings.url), *settings.secrets(),
                                 *(value for value in settings.headers.values() if value)])

    def headers(self, notification: Notification, body: bytes) -> dict[str, str]:
        """The request headers: ours, then the configured ones, then the key and signature (which always win)."""
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
                   **self._settings.headers}
        if notification.key:
            headers["Idempotency-Key"] = notification.key
        if self._settings.secret:
            headers[SIGNATURE_HEADER] = signature(self._settings.secret, body)
        return headers

    async def send(self, notification: Notification) -> str:
        body = dump(webhook_payload(notification))
        answer = await post(self._http, self._settings.url, body, self.headers(notification, body), self._where)
        failure = status_failure(answer, self._where, self._clock, detail=excerpt(answer.text, self._secrets))
        if failure is not None:
            raise failure
        return f"HTTP {answer.status}"

    async def close(self) -> None:
        """Nothing to close: the session belongs to the caller."""
