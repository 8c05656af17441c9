"""Feishu / Lark custom bots: a webhook that takes a `post` rich-text message, or with `card = true` an
`interactive` card.

    post:  {"msg_type": "post", "content": {"post": {"zh_cn" | "en_us": {"title": ..., "content": [[element, ...],
            ...]}}}}: one paragraph per line of the body, elements {"tag": "text", "text": ..., "style": [...]} and
            {"tag": "a", "text": ..., "href": ...}; then one paragraph per field and one with the link.
    card:  {"msg_type": "interactive", "card": {"header": {"title": ...}, "elements": [a lark_md div with the body,
            a div with the fields, an action with a button opening the link]}}

What a person wrote cannot mention anyone or make a link: in a `post`, text elements are plain text with "<" and
"://" as look-alikes (`feishu_text_escape`) and `a` elements are made only from the Markdown's links to http(s)
addresses; in a card, the lark_md is rewritten from the Markdown with every text escaped (`chat_escape`: no
`<at id=all>`, no `[text](url)`). Titles are plain text (a post's title, a card's plain_text header).

With a signing secret the body also holds `timestamp` (seconds) and `sign` = base64(HMAC-SHA256(key=
"{timestamp}\\n{secret}", message="")); Feishu accepts a timestamp within an hour of its clock.

Limits and answers, from Feishu's custom-bot guide (open.feishu.cn/document/ukTMukTMukTM/ucTM5YjL3ETO24yNxkjN):
the request body is at most 20 KB (the body text is cut, ending with "…", to keep the JSON under 20,000 bytes);
each bot may send 100 messages a minute and 5 a second, beyond which (or at busy times) it answers code 11232
(frequency limited). The answer is JSON `{"code": 0, "msg": "success"}` (older bots: `StatusCode`). Codes:
9499 Bad Request (format or size; final, unless its message speaks of a frequency limit), 19021 signature or
timestamp mismatch, 19022 IP not allowed, 19024 keywords not found (all final); HTTP 429 and 5xx are retried.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp

from bot.messages.escape import chat_escape, feishu_text_escape, safe_link
from bot.notifiers.base import Notification, PermanentFailure, Secrets
from bot.notifiers.http import USER_AGENT, coded_failure, dump, host_of, post, reason, url_secrets
from bot.notifiers.text import chat_markdown, fit, heading, inline_runs, link_label
from bot.settings.notify import FeishuChannel

MAX_REQUEST_BYTES = 20_000
RATE_LIMIT_DELAY = 60.0  # the longest window of the bot's limits (100 a minute)
RATE_LIMIT_CODES = (11232, 11233)
BAD_REQUEST = 9499
HINTS = {
    9499: "bad request: the message's format or size",
    19021: "signature or timestamp mismatch: check the secret and this machine's clock",
    19022: "this machine's IP address is not in the bot's allow list",
    19024: "the message holds none of the bot's keywords",
}
_RATE_WORDS = re.compile(r"too many|frequen|rate limit|limited", re.IGNORECASE)
_STYLES = {"bold": ["bold"], "italic": ["italic"], "strike": ["lineThrough"]}
LANGUAGES = {"zh": "zh_cn", "en": "en_us"}


def feishu_sign(secret: str, timestamp: str) -> str:
    """Feishu's signature: the key is "{timestamp}\\n{secret}", the signed message is empty."""
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def _text(text: str, style: list[str] | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"tag": "text", "text": feishu_text_escape(text)}
    if style:
        element["style"] = style
    return element


def _elements(line: str) -> list[dict[str, Any]]:
    title = heading(line)
    if title is not None:
        return [_text("".join(run.text for run in inline_runs(title)), ["bold"])]
    elements: list[dict[str, Any]] = []
    for run in inline_runs(line):
        target = safe_link(run.href) if run.kind in ("link", "image") else None
        if target is not None:
            elements.append({"tag": "a", "text": feishu_text_escape(run.text), "href": target})
        else:
            elements.append(_text(run.text, _STYLES.get(run.kind)))
    return elements or [{"tag": "text", "text": ""}]


def post_message(notification: Notification, body: str) -> dict[str, Any]:
    """The `post` message, with `body` in place of the notification's body."""
    paragraphs = [_elements(line) for line in body.split("\n")] if body.strip() else []
    paragraphs += [[_text(f"{label}: ", ["bold"]), _text(value)] for label, value in notification.fields]
    link = safe_link(notification.link)
    if link:
        paragraphs.append([{"tag": "a", "text": link_label(notification.language), "href": link}])
    language = LANGUAGES.get(notification.language, "en_us")
    return {"msg_type": "post",
            "content": {"post": {language: {"title": notification.title, "content": paragraphs}}}}


def card_message(notification: Notification, body: str) -> dict[str, Any]:
    """The `interactive` card message, with `body` in place of the notification's body."""
    elements: list[dict[str, Any]] = []
    if body.strip():  # lark_md has no headings: a heading becomes a bold line
        elements.append({"tag": "div", "text": {"tag": "lark_md", "content": chat_markdown(body, headings=False)}})
    if notification.fields:
        elements.append({"tag": "div", "fields": [
            {"is_short": True, "text": {"tag": "lark_md", "content": f"**{chat_escape(label)}**\n{chat_escape(value)}"}}
            for label, value in notification.fields]})
    link = safe_link(notification.link)
    if link:
        elements.append({"tag": "action", "actions": [
            {"tag": "button", "type": "primary", "url": link,
             "text": {"tag": "plain_text", "content": link_label(notification.language)}}]})
    return {"msg_type": "interactive",
            "card": {"config": {"wide_screen_mode": True},
                     "header": {"template": "blue", "title": {"tag": "plain_text", "content": notification.title}},
                     "elements": elements}}


class FeishuNotifier:
    """A Feishu custom bot (its webhook URL and optional signing secret)."""

    def __init__(self, settings: FeishuChannel, http: aiohttp.ClientSession,
                 clock: Callable[[], float] = time.time) -> None:
        self._settings = settings
        self._http = http
        self._clock = clock
        self._where = f"Feishu ({host_of(settings.url)})"
        self._secrets = Secrets([*url_secrets(settings.url), *settings.secrets()])

    def request_body(self, notification: Notification) -> bytes:
        """The JSON sent: the message (body cut to keep it under 20,000 bytes) and, with a secret, its signature."""
        signature: dict[str, str] = {}
        if self._settings.secret:
            timestamp = str(int(self._clock()))
            signature = {"timestamp": timestamp, "sign": feishu_sign(self._settings.secret, timestamp)}
        render = card_message if self._settings.card else post_message

        def encoded(body: str) -> bytes:
            return dump({**signature, **render(notification, body)})

        body = fit(notification.body, lambda text: len(encoded(text)) <= MAX_REQUEST_BYTES)
        if body is None:
            raise PermanentFailure(f"{self._where}: the message is over {MAX_REQUEST_BYTES} bytes even without "
                                   "its body (title, fields or link too long)")
        return encoded(body)

    async def send(self, notification: Notification) -> str:
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
        answer = await post(self._http, self._settings.url, self.request_body(notification), headers, self._where)
        data = answer.json()
        code = data.get("code", data.get("StatusCode"))
        message = reason(str(data.get("msg") or data.get("StatusMessage") or ""), self._secrets)
        delay = self._rate_limit_delay(answer.headers)
        rate_limited = dict.fromkeys(RATE_LIMIT_CODES, delay)
        if code == BAD_REQUEST and _RATE_WORDS.search(message):
            rate_limited[BAD_REQUEST] = delay
        failure = coded_failure(answer, self._where, code, message, rate_limited=rate_limited, hints=HINTS,
                                rate_limit_delay=delay, clock=self._clock)
        if failure is not None:
            raise failure
        return f"Feishu code 0 ({message or 'success'})"

    @staticmethod
    def _rate_limit_delay(headers: Mapping[str, str]) -> float:
        """Feishu's own reset header (seconds until the window reopens), else the longest window."""
        try:
            return max(float(headers.get("x-ogw-ratelimit-reset", "")), 0.0)
        except ValueError:
            return RATE_LIMIT_DELAY

    async def close(self) -> None:
        """Nothing to close: the session belongs to the caller."""
