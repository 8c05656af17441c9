"""Slack: the Web API's `chat.postMessage` with a bot token (`SlackNotifier`) or an incoming-webhook URL
(`SlackWebhookNotifier`), both with the same Block Kit message:

    header   the title (plain text, at most 150 characters)
    section  the body in mrkdwn (at most 3,000 characters)
    section  the fields, at most 10, each "*label*\\nvalue"
    actions  a button opening the link

and the title and body as plain-text fallback (`text`) for notifications. Every mrkdwn text object is `verbatim`:
Slack makes no link of an address and no mention of "@here" or "#channel" in it, so links and mentions come only
from the `<url|text>` that cobot writes for the Markdown's links; what a person wrote has its "&", "<" and ">"
escaped (`slack_escape`), so it can make no `<!channel>`, `<@U…>` or `<url|text>` either.

Answers: HTTP 429 waits its Retry-After (Slack allows about one message per second per channel); `ratelimited`,
Slack's transient errors and 5xx are retried; `invalid_auth`, `channel_not_found` and any other error are final.
An incoming webhook answers "ok", or an HTTP status with a short reason (403 invalid_token, 404 no_service).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.messages.escape import safe_link, slack_escape
from bot.notifiers.base import Notification, PermanentFailure, RetryLater, Secrets
from bot.notifiers.http import (
    USER_AGENT,
    dump,
    excerpt,
    host_of,
    post,
    retry_after,
    status_failure,
    transport_failure,
    url_secrets,
)
from bot.notifiers.text import fit, link_label, slack_mrkdwn, truncate_chars
from bot.settings.notify import SlackChannel, SlackWebhookChannel

# Block Kit limits (https://api.slack.com/reference/block-kit/blocks).
HEADER_CHARS = 150
SECTION_CHARS = 3000
FIELD_CHARS = 2000
MAX_FIELDS = 10
BUTTON_URL_CHARS = 3000
RATE_LIMIT_DELAY = 1.0  # chat.postMessage: about one message per second per channel

# Errors of chat.postMessage that a later try may not meet (https://api.slack.com/methods/chat.postMessage).
TRANSIENT_ERRORS = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
HINTS = {
    "invalid_auth": "the token is not valid",
    "not_authed": "no token was sent",
    "account_inactive": "the token's user or bot was deactivated",
    "token_revoked": "the token was revoked",
    "channel_not_found": "unknown channel, or the bot was not invited to it",
    "not_in_channel": "the bot is not in the channel",
    "is_archived": "the channel is archived",
}


def slack_blocks(notification: Notification) -> list[dict[str, Any]]:
    """The notification as Block Kit blocks, within Slack's per-block limits."""
    blocks: list[dict[str, Any]] = []
    if notification.title.strip():
        blocks.append({"type": "header", "text": {"type": "plain_text", "emoji": True,
                                                  "text": truncate_chars(notification.title, HEADER_CHARS)}})
    body = fit(notification.body, lambda text: len(slack_mrkdwn(text)) <= SECTION_CHARS) or ""
    if body.strip():
        blocks.append({"type": "section", "text": mrkdwn(slack_mrkdwn(body))})
    if notification.fields:  # plain text: escaped whole
        blocks.append({"type": "section", "fields": [
            mrkdwn(truncate_chars(f"*{slack_escape(label)}*\n{slack_escape(value)}", FIELD_CHARS))
            for label, value in notification.fields[:MAX_FIELDS]]})
    link = safe_link(notification.link)
    if link and len(link) <= BUTTON_URL_CHARS:
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "action_id": "open_link", "url": link,
             "text": {"type": "plain_text", "text": link_label(notification.language)}}]})
    elif notification.link:
        blocks.append({"type": "context", "elements": [mrkdwn(slack_escape(notification.link))]})
    return blocks


def mrkdwn(text: str) -> dict[str, Any]:
    """A mrkdwn text object Slack takes as written: no address made a link, no name a mention (`verbatim`)."""
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def fallback_text(notification: Notification) -> str:
    """The plain text Slack shows in notifications and where blocks cannot be shown."""
    body = fit(notification.body, lambda text: len(slack_mrkdwn(text)) <= SECTION_CHARS) or ""
    return "\n\n".join(part for part in (slack_escape(notification.title), slack_mrkdwn(body)) if part.strip())


class SlackNotifier:
    """A channel posted to with `chat.postMessage` (slack-sdk's AsyncWebClient on the caller's session)."""

    def __init__(self, settings: SlackChannel, http: aiohttp.ClientSession,
                 clock: Callable[[], float] = time.time) -> None:
        self._settings = settings
        self._clock = clock
        self._where = f"Slack ({host_of(settings.api_url)})"
        self._secrets = Secrets(settings.secrets())
        # No retry handlers: the outbox retries (with RetryLater's delay), so a send is one request.
        self._client = AsyncWebClient(token=settings.token, base_url=settings.api_url, session=http,
                                      retry_handlers=[], user_agent_prefix=USER_AGENT)
        self._client.proxy = None  # the caller's session decides how to connect (not *_PROXY variables)

    async def send(self, notification: Notification) -> str:
        try:
            response = await self._client.chat_postMessage(channel=self._settings.channel,
                                                           text=fallback_text(notification),
                                                           blocks=slack_blocks(notification))
        except SlackApiError as error:
            raise self._api_failure(error) from None
        except SlackClientError as error:
            raise PermanentFailure(f"{self._where}: {type(error).__name__}") from None
        except Exception as error:  # a transport error: its message may hold the URL
            raise transport_failure(error, self._where) from None
        return f"Slack message {response.get('ts')} in {response.get('channel')}"

    def _api_failure(self, error: SlackApiError) -> Exception:
        response = error.response
        status = getattr(response, "status_code", None) or getattr(response, "status", 0)
        headers = getattr(response, "headers", None) or {}
        data = getattr(response, "data", None)
        code = excerpt(str(data.get("error") or ""), self._secrets, 60) if isinstance(data, dict) else ""
        wait = retry_after(headers, self._clock)
        if status == 429 or code == "ratelimited":
            return RetryLater(f"{self._where} rate limited" + (f": {code}" if code else " (HTTP 429)"),
                              wait if wait is not None else RATE_LIMIT_DELAY)
        if status >= 500 or code in TRANSIENT_ERRORS:
            return RetryLater(f"{self._where} failed: {code or f'HTTP {status}'}", wait or 0.0)
        reason = code or f"HTTP {status}"
        hint = HINTS.get(code)
        return PermanentFailure(f"{self._where} refused the message: {reason}" + (f" ({hint})" if hint else ""))

    async def close(self) -> None:
        """Nothing to close: the session belongs to the caller."""


class SlackWebhookNotifier:
    """An incoming webhook: the URL is the secret, so messages name its host only."""

    def __init__(self, settings: SlackWebhookChannel, http: aiohttp.ClientSession,
                 clock: Callable[[], float] = time.time) -> None:
        self._settings = settings
        self._http = http
        self._clock = clock
        self._where = f"Slack webhook ({host_of(settings.url)})"
        self._secrets = Secrets(url_secrets(settings.url))

    async def send(self, notification: Notification) -> str:
        body = dump({"text": fallback_text(notification), "blocks": slack_blocks(notification)})
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
        answer = await post(self._http, self._settings.url, body, headers, self._where)
        failure = status_failure(answer, self._where, self._clock, RATE_LIMIT_DELAY,
                                 detail=excerpt(answer.text, self._secrets))
        if failure is not None:
            raise failure
        return f"Slack webhook: {excerpt(answer.text, self._secrets) or f'HTTP {answer.status}'}"

    async def close(self) -> None:
        """Nothing to close: the session belongs to the caller."""
