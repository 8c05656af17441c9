"""WeCom (企业微信) group robots: a webhook (`.../cgi-bin/webhook/send?key=...`) that takes a `markdown` message:

    {"msgtype": "markdown",
     "markdown": {"content": "**<title>**\\n<body>\\n\\n> **label**: value\\n\\n[查看详情](<link>)"}}

WeCom's markdown knows headings, **bold**, [text](url), `code` and "> " quotes (no lists: fields are quotes), and
`<@userid>` mentions: the content is rewritten from the notification's Markdown (`chat_markdown`) with what a person
wrote escaped (`chat_escape`: "<", ">", "[" and "]" as look-alikes), so it makes no mention, tag or link; links are
only the Markdown's own, to http(s) addresses (an image becomes a link).

Limits and answers, from WeCom's group-robot guide (developer.work.weixin.qq.com/document/path/91770): the
content is at most 4096 bytes of UTF-8 (longer is refused with 40058, so the body is cut, ending with "…"); a
robot may send 20 messages a minute, beyond which it answers 45009 "api freq out of limit" (waits 60 s unless
Retry-After says otherwise, as does HTTP 429); -1 (system busy) and 5xx are retried; 93000 (invalid webhook URL)
and any other code are final. The answer is JSON `{"errcode": 0, "errmsg": "ok"}`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import aiohttp

from bot.messages.escape import chat_escape, safe_link
from bot.notifiers.base import Notification, PermanentFailure, Secrets
from bot.notifiers.http import host_of, post_robot_message, url_secrets
from bot.notifiers.text import chat_markdown, fields_markdown, fit, link_label, one_line
from bot.settings.notify import WeComChannel

MAX_CONTENT_BYTES = 4096
RATE_LIMIT_DELAY = 60.0  # 20 messages a minute
RATE_LIMIT_CODES = {45009: RATE_LIMIT_DELAY}
TRANSIENT_CODES = (-1,)
HINTS = {93000: "invalid webhook URL: check its key", 40058: "the content is too long"}


def markdown_content(notification: Notification, body: str) -> str:
    """The message's markdown, with `body` in place of the notification's body."""
    title = chat_escape(one_line(notification.title))
    parts = ["\n".join(part for part in (f"**{title}**" if title else "", chat_markdown(body)) if part.strip()),
             fields_markdown(notification.fields, prefix="> ")]
    link = safe_link(notification.link)
    if link:
        parts.append(f"[{link_label(notification.language)}]({link})")
    return "\n\n".join(part for part in parts if part.strip())


def markdown_message(notification: Notification, where: str = "WeCom") -> dict[str, Any]:
    """The markdown message, its body cut so that the content stays within 4096 bytes."""
    body = fit(notification.body,
               lambda text: len(markdown_content(notification, text).encode()) <= MAX_CONTENT_BYTES)
    if body is None:
        raise PermanentFailure(f"{where}: the message is over {MAX_CONTENT_BYTES} bytes even without its body "
                               "(title, fields or link too long)")
    return {"msgtype": "markdown", "markdown": {"content": markdown_content(notification, body)}}


class WeComNotifier:
    """A WeCom group robot (its webhook URL, whose `key` is the secret)."""

    def __init__(self, settings: WeComChannel, http: aiohttp.ClientSession,
                 clock: Callable[[], float] = time.time) -> None:
        self._settings = settings
        self._http = http
        self._clock = clock
        self._where = f"WeCom ({host_of(settings.url)})"
        self._secrets = Secrets(url_secrets(settings.url))

    async def send(self, notification: Notification) -> str:
        message = await post_robot_message(
            self._http, self._settings.url, markdown_message(notification, self._where), self._where, self._secrets,
            rate_limited=RATE_LIMIT_CODES, transient=TRANSIENT_CODES, hints=HINTS,
            rate_limit_delay=RATE_LIMIT_DELAY, clock=self._clock)
        return f"WeCom errcode 0 ({message or 'ok'})"

    async def close(self) -> None:
        """Nothing to close: the session belongs to the caller."""
