"""Notifications about events, for the channels whose `[[notify.rules]]` list event kinds (topic `event`).

Only events some rule asks for become notifications, so a community without such rules pays nothing here. Bots'
events are not announced, nor is imported history. One person's events cause at most `notify.per_person_per_hour`
notifications an hour (`bot.notifiers.per_person`), each counted once whatever its channels; past it their events are
not announced, and the first held back in an hour is replaced by a notice saying so, sent where it would have gone.
Maintainers (`community.maintainers`) are not limited: the operator named them, and what they do is the community's
own work (a release, a bulk triage) that the rules asked to hear about.
"""

from __future__ import annotations

from collections.abc import Iterator

from bot.events import Action, Event
from bot.notifiers import per_person
from bot.notifiers.routing import rule_matches
from bot.routing.context import HandlerContext
from bot.routing.router import Router

router = Router("notify")

PLATFORM_LABELS = {"github": "GitHub", "gitee": "Gitee"}
EXCERPT_CHARS = 280


def _subject(event: Event) -> str:
    """What the event is about, for its idempotency key: the thread, comment, review or ref."""
    if event.comment is not None:
        return f"comment:{event.comment.id}"
    if event.review is not None:
        return f"review:{event.review.id}"
    if event.thread is not None:
        return f"{'pr' if event.thread.is_pr else 'issue'}:{event.thread.number}"
    if event.push is not None:
        return f"push:{event.push.ref}:{event.push.after}"
    return f"{event.actor.login}:{event.occurred_at.isoformat()}"


def _excerpt(event: Event) -> str:
    text = event.comment.body if event.comment else event.review.body if event.review else ""
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS - 1] + "…"


@router.on("*")
def announce(event: Event, ctx: HandlerContext) -> Iterator[Action]:
    notify = ctx.settings.notify
    thread = event.thread
    labels = thread.labels if thread else ()
    if ctx.quiet or event.actor.is_bot or ctx.settings.is_bot(event.actor.login) or not any(
            rule.events and rule_matches(rule, "event", event.kind, event.platform, event.repo.full_name, labels)
            for rule in notify.rules):
        return
    key = f"event:{event.platform}:{event.repo.full_name}:{event.kind}:{_subject(event)}"
    decision = _decision(event, ctx, key)
    if decision.notice:
        yield _held_notice(event, ctx, key, labels)
    if not decision.announce:
        return
    link = (event.comment.url if event.comment and event.comment.url else thread.url if thread else None) \
        or event.repo.url
    values = {"kind": event.kind, "actor": event.actor.login, "repo": event.repo.full_name,
              "platform_label": PLATFORM_LABELS.get(event.platform, event.platform),
              "number": thread.number if thread else "", "title": thread.title if thread else "",
              "is_pr": bool(thread and thread.is_pr), "url": link or "", "excerpt": _excerpt(event),
              "ref": event.push.ref if event.push else "",
              "commits": event.push.commit_count if event.push else 0}
    yield Action(kind="notify", key=key, topic="event", template="event_notice", values=tuple(values.items()),
                 event_kind=event.kind, platform=event.platform, repo=event.repo.full_name,
                 number=thread.number if thread else None, labels=labels, link=link)


def _decision(event: Event, ctx: HandlerContext, key: str) -> per_person.Decision:
    """Whether this event's notification goes out under the actor's hourly bound (maintainers: always)."""
    settings = ctx.settings
    if settings.names_account(settings.community.maintainers, event.platform, event.actor.login):
        return per_person.DECISIONS[per_person.ANNOUNCED]
    return per_person.decide(ctx.conn, settings.person_for(event.platform, event.actor.login), key, ctx.now(),
                             settings.notify.per_person_per_hour)


def _held_notice(event: Event, ctx: HandlerContext, key: str, labels: tuple[str, ...]) -> Action:
    """The one notice of the hour that the actor's event notifications are held back, routed as the event was."""
    settings = ctx.settings
    person = settings.person_for(event.platform, event.actor.login)
    url = per_person.contributor_url(settings.server.public_url, person) if settings.dashboard.enabled else ""
    values = {"login": event.actor.login, "count": settings.notify.per_person_per_hour, "url": url}
    return Action(kind="notify", key=per_person.notice_key(person, key), topic="event", template="event_held",
                  values=tuple(values.items()), event_kind=event.kind, platform=event.platform,
                  repo=event.repo.full_name, labels=labels, link=url or None)
