"""Which channels a notification goes to, and in which language: the `[[notify.rules]]` of config.toml.

A rule matches when each of its lists is empty or holds what happened: the topic, the event kind, the repo
(`owner/name` on either platform, or `platform:owner/name`), one of the labels. A rule that lists `events` but
no `topics` is about those events (topic `event`), not about everything else that happens along with them. A
notification goes to each channel of every rule it matches, once per channel; its language is the first matching
rule's, else the channel's, else the community's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from bot.events import Action
from bot.messages.render import render, render_html, render_message
from bot.settings.notify import NotifyRule, NotifySettings


@dataclass(frozen=True, slots=True)
class Route:
    channel: str
    language: str


def _repo_matches(patterns: list[str], platform: str | None, repo: str | None) -> bool:
    if not patterns:
        return True
    if repo is None:
        return False
    names = {repo.lower(), f"{platform}:{repo}".lower()}
    return any(pattern.lower() in names for pattern in patterns)


def rule_matches(rule: NotifyRule, topic: str, event_kind: str | None, platform: str | None, repo: str | None,
                 labels: Iterable[str]) -> bool:
    topics = rule.topics or (["event"] if rule.events else [])
    if topics and topic not in topics:
        return False
    if rule.events and event_kind not in rule.events:
        return False
    if rule.labels and not {label.lower() for label in labels} & {label.lower() for label in rule.labels}:
        return False
    return _repo_matches(rule.repos, platform, repo)


def routes(notify: NotifySettings, default_language: str, topic: str, event_kind: str | None = None,
           platform: str | None = None, repo: str | None = None, labels: Iterable[str] = ()) -> list[Route]:
    """The channels this notification goes to, each once, with the language to write it in."""
    labels = list(labels)
    chosen: dict[str, Route] = {}
    for rule in notify.rules:
        if not rule_matches(rule, topic, event_kind, platform, repo, labels):
            continue
        for name in rule.channels:
            if name not in chosen:
                language = rule.language or notify.channels[name].language or default_language
                chosen[name] = Route(name, language)
    return list(chosen.values())


def route_notification(action: Action, notify: NotifySettings, default_language: str) -> list[Action]:
    """A `notify` action as one action per routed channel, rendered in that channel's language (none when no
    rule matches): the title as plain text, the body as Markdown in which every value is escaped
    (`render_message`: what a person wrote is shown, never read as markup), which each channel's notifier then
    writes in its own syntax. Each keeps the decision's key with the channel appended, so each channel gets it
    once."""
    topic = action.topic or "event"
    found = routes(notify, default_language, topic, action.event_kind, action.platform, action.repo, action.labels)
    routed = []
    for route in found:
        title, body, html = action.title, action.body, action.html
        values = dict(action.values)
        if action.template:
            title = render(f"{action.template}_title", route.language, **values)
            body = render_message(action.template, route.language, **values)
        if action.html_template:
            html = render_html(action.html_template, route.language, **values)
        routed.append(replace(action, key=f"{action.key}@{route.channel}", channel=route.channel,
                              language=route.language, title=title, body=body, template=None, values=(),
                              html_template=None, html=html))
    return routed
