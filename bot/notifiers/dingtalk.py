"""DingTalk custom robots: a webhook (`.../robot/send?access_token=...`) that takes a `markdown` message:

    {"msgtype": "markdown", "markdown": {"title": <title>, "text": "#### <title>\\n\\n<body>\\n\\n- **label**: value
     \\n\\n[Open](<link>)"}}

The text is DingTalk's Markdown rewritten from the notification's (`chat_markdown`): what a person wrote has its
"<", ">", "[", "]" and "@" before a digit as look-alikes, so it makes no link, image, tag or mobile mention (and
cobot sends no `at` list: nobody is ever mentioned); links and images are only the Markdown's own, to http(s).

With a signing secret ("加签", the SEC... string) the URL also gets the query parameters `timestamp`
(milliseconds) and `sign` = base64(HMAC-SHA256(key=secret, message="{timestamp}\\n{secret}")), URL-encoded;
DingTalk accepts a timestamp within an hour of its clock.

Answers, from DingTalk's custom-robot guide (open.dingtalk.com, "自定义机器人接入"): JSON `{"errcode": 0,
"errmsg": "ok"}`. A robot may send 20 messages a minute; beyond that it answers 130101 "send too fast, exceed 20
times per minute" and is throttled for 10 minutes, so that code waits 600 s; 410100 (sent too fast, throttled)
and HTTP 429 wait 60 s unless Retry-After says otherwise; -1 (system busy) and 5xx are retried; 310000 (keywords,
signature, timestamp or IP check failed) and any other code are final.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

import aiohttp
from yarl import URL

from bot.messages.escape import chat_escape, safe_link
from bot.notifiers.base import Notification, Secrets
from bot.notifiers.http import host_of, post_robot_message, url_secrets
from bot.notifiers.text import chat_markdown, fields_markdown, link_label, one_line
from bot.settings.notify import DingTalkChannel

THROTTLED_DELAY = 600.0  # 130101: "throttled for 10 minutes"
RATE_LIMIT_DELAY = 60.0
RATE_LIMIT_CODES = {130101: THROTTLED_DELAY, 410100: RATE_LIMIT_DELAY}
TRANSIENT_CODES = (-1,)  # system busy: "try again later"
HINTS = {310000: "keywords, signature, timestamp or IP check failed: check the secret, the robot's keywords and "
                 "this machine's clock"}


def dingtalk_sign(secret: str, timestamp: str) -> str:
    """DingTalk's signature (before URL encoding): HMAC-SHA256 of "{timestamp}\\n{secret}" keyed by the secret."""
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def markdown_message(notification: Notification) -> dict[str, Any]:
    parts = [f"#### {chat_escape(one_line(notification.title))}", chat_markdown(notification.body, images=True),
             fields_markdown(notification.fields)]
    link = safe_link(notification.link)
    if link:
        parts.append(f"[{link_label(notification.language)}]({link})")
    text = "\n\n".join(part for part in parts if part.strip())
    return {"msgtype": "markdown", "markdown": {"title": notification.title, "text": text}}


class DingTalkNotifier:
    """A DingTalk custom robot (its webhook URL and optional signing secret)."""

    def __init__(self, settings: DingTalkChannel, http: aiohttp.ClientSession,
                 clock: Callable[[], float] = time.time) -> None:
        self._settings = settings
        self._http = http
        self._clock = clock
        self._where = f"DingTalk ({host_of(settings.url)})"
        self._secrets = Secrets([*url_secrets(settings.url), *settings.secrets()])

    def url(self) -> str:
        """The webhook URL, signed (timestamp and sign added to its query) when there is a secret."""
        if not self._settings.secret:
            return self._settings.url
        timestamp = str(int(self._clock() * 1000))
        signed = URL(self._settings.url).update_query(timestamp=timestamp,
                                                      sign=dingtalk_sign(self._settings.secret, timestamp))
        return str(signed)

    async def send(self, notification: Notification) -> str:
        message = await post_robot_message(
            self._http, self.url(), markdown_message(notification), self._where, self._secrets,
            rate_limited=RATE_LIMIT_CODES, transient=TRANSIENT_CODES, hints=HINTS,
            rate_limit_delay=RATE_LIMIT_DELAY, clock=self._clock)
        return f"DingTalk errcode 0 ({message or 'ok'})"

    async def close(self) -> None:
        """Nothing to close: the session belongs to the caller."""
