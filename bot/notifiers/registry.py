"""The configured channels as notifiers: one per `[notify.channels]` entry, built by its kind's module."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import aiohttp

from bot.notifiers.base import Notifier
from bot.settings.notify import (
    Channel,
    DingTalkChannel,
    EmailChannel,
    FeishuChannel,
    NotifySettings,
    SlackChannel,
    SlackWebhookChannel,
    WebhookChannel,
    WeComChannel,
)

log = logging.getLogger("cobot.notify")


def build_notifier(channel: Channel, http: aiohttp.ClientSession, clock: Callable[[], float] = time.time
                   ) -> Notifier:
    """The notifier for one channel (each kind's module is imported only when a channel of that kind exists)."""
    if isinstance(channel, SlackChannel):
        from bot.notifiers.slack import SlackNotifier

        return SlackNotifier(channel, http, clock)
    if isinstance(channel, SlackWebhookChannel):
        from bot.notifiers.slack import SlackWebhookNotifier

        return SlackWebhookNotifier(channel, http, clock)
    if isinstance(channel, FeishuChannel):
        from bot.notifiers.feishu import FeishuNotifier

        return FeishuNotifier(channel, http, clock)
    if isinstance(channel, DingTalkChannel):
        from bot.notifiers.dingtalk import DingTalkNotifier

        return DingTalkNotifier(channel, http, clock)
    if isinstance(channel, WeComChannel):
        from bot.notifiers.wecom import WeComNotifier

        return WeComNotifier(channel, http, clock)
    if isinstance(channel, WebhookChannel):
        from bot.notifiers.webhook import WebhookNotifier

        return WebhookNotifier(channel, http, clock)
    if isinstance(channel, EmailChannel):
        from bot.notifiers.email import EmailNotifier

        return EmailNotifier(channel)
    raise TypeError(f"no notifier for channels of kind {type(channel).__name__}")


def build_notifiers(notify: NotifySettings, http: aiohttp.ClientSession,
                    clock: Callable[[], float] = time.time) -> dict[str, Notifier]:
    return {name: build_notifier(channel, http, clock) for name, channel in notify.channels.items()}


def channel_secrets(notify: NotifySettings) -> list[str]:
    """Every secret value of every channel (to mask in whatever cobot prints)."""
    return [secret for channel in notify.channels.values() for secret in channel.secrets()]


async def check_channel_urls(notify: NotifySettings) -> None:
    """Refuse to start with a channel URL cobot must not call (an internal address, a scheme other than http(s)):
    a ConfigError naming the key. The same check runs again at send time, connection by connection."""
    from bot.config import ConfigError
    from bot.notifiers.urls import RefusedURL, UnresolvedURL, check_url_async

    problems = []
    for name, channel in notify.channels.items():
        for field_name, url in channel.urls().items():
            try:
                await check_url_async(url, notify.allow_hosts)
            except UnresolvedURL as unresolved:  # DNS may be down for now: checked again on every connection
                log.warning("notify.channels.%s.%s: %s; sending will retry", name, field_name, unresolved)
            except RefusedURL as refused:
                problems.append(f"  notify.channels.{name}.{field_name}: {refused}")
    if problems:
        raise ConfigError("refused outbound URLs (list a host in notify.allow_hosts to allow it):\n"
                          + "\n".join(problems))
