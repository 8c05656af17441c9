"""First-time contributors: welcome a person's first issue and first PR, congratulate their first merge.

A first is decided per repo and for the whole community (every tracked repo, both platforms, linked accounts
counted as one person); `welcome.scope` says which of the two is greeted. Each first is recorded once, so
no redelivery, replay or import ever greets the same person twice in the same scope.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from bot.events import Action, Event, Thread
from bot.routing.context import HandlerContext
from bot.routing.router import Router

router = Router("welcome")

PLATFORM_LABELS = {"github": "GitHub", "gitee": "Gitee"}
FIRST_KINDS = {False: "first_issue", True: "first_pr"}


def _scopes(event: Event) -> dict[str, str]:
    return {"repo": f"repo:{event.platform}:{event.repo.full_name.lower()}", "community": "community"}


def _is_bot(thread: Thread, ctx: HandlerContext) -> bool:
    return thread.author.is_bot or ctx.settings.is_bot(thread.author.login)


def _greets(event: Event, thread: Thread, ctx: HandlerContext) -> bool:
    settings = ctx.settings
    if not settings.welcome.enabled or ctx.quiet:
        return False
    return not settings.names_account(settings.community.maintainers, event.platform, thread.author.login)


def _firsts(event: Event, ctx: HandlerContext, thread: Thread, person: str, kind: str) -> set[str]:
    """The scopes in which this is the person's first issue (or PR): recorded, so it is first only once."""
    row = ctx.thread(event.platform, event.repo.full_name, thread.is_pr, thread.number)
    if row is None:
        raise LookupError(f"{event.repo.full_name}#{thread.number} is not tracked (tracking must run first)")
    everywhere, in_repo = ctx.threads.earlier(ctx.connection, row, person)
    earlier = {"repo": in_repo, "community": everywhere}
    candidates = {name: scope for name, scope in _scopes(event).items() if not earlier[name]}
    return ctx.threads.reach(ctx.connection, candidates, person=person, kind=kind, platform=event.platform,
                             repo=event.repo.full_name, number=thread.number, when=event.occurred_at)


def _comment(event: Event, ctx: HandlerContext, key: str, template: str, scope_name: str) -> Action:
    thread = event.thread
    assert thread is not None
    language = ctx.settings.repo_language(event.platform, event.repo.full_name)
    body = ctx.render(template, language, login=thread.author.login, community=ctx.settings.community.name,
                      repo=event.repo.full_name, scope=scope_name)
    return Action(kind="comment", key=key, platform=event.platform, repo=event.repo.full_name,
                  number=thread.number, is_pr=thread.is_pr, body=body, language=language)


@router.on("issue.opened")
@router.on("pr.opened")
def welcome_first(event: Event, ctx: HandlerContext) -> Iterator[Action]:
    thread = event.thread
    assert thread is not None
    if _is_bot(thread, ctx):  # bots are tracked, never newcomers
        return
    person = ctx.settings.person_for(event.platform, thread.author.login)
    kind = FIRST_KINDS[thread.is_pr]
    firsts = _firsts(event, ctx, thread, person, kind)
    chosen = ctx.settings.welcome.scope
    if chosen not in firsts or not _greets(event, thread, ctx):
        return
    base = f"welcome:{_scopes(event)[chosen]}:{person}:{kind}"
    yield _comment(event, ctx, f"{base}:comment", "welcome_pr" if thread.is_pr else "welcome_issue", chosen)
    yield Action(kind="label", key=f"{base}:label", platform=event.platform, repo=event.repo.full_name,
                 number=thread.number, is_pr=thread.is_pr, labels=(ctx.settings.welcome.label,))
    if ctx.settings.welcome.notify_maintainers:
        values = {"login": thread.author.login, "repo": event.repo.full_name, "is_pr": thread.is_pr,
                  "title": thread.title, "url": thread.url or "", "platform_label": PLATFORM_LABELS[event.platform]}
        yield Action(kind="notify", key=f"{base}:notify", topic="newcomer", template="newcomer_notice",
                     values=tuple(values.items()), event_kind=event.kind, platform=event.platform,
                     repo=event.repo.full_name, number=thread.number, labels=tuple(thread.labels),
                     link=thread.url)


@router.on("pr.merged")
def congratulate_first_merge(event: Event, ctx: HandlerContext) -> Iterator[Action]:
    thread = event.thread
    assert thread is not None
    if _is_bot(thread, ctx):
        return
    person = ctx.settings.person_for(event.platform, thread.author.login)
    firsts = ctx.threads.reach(ctx.connection, _scopes(event), person=person, kind="first_merge",
                               platform=event.platform, repo=event.repo.full_name, number=thread.number,
                               when=event.occurred_at)
    chosen = ctx.settings.welcome.scope
    if chosen in firsts and ctx.settings.welcome.congratulate_first_merge and _greets(event, thread, ctx):
        key = f"welcome:{_scopes(event)[chosen]}:{person}:first_merge:comment"
        yield _comment(event, ctx, key, "first_merge", chosen)


@router.ahead
def read_ahead(events: Sequence[Event], ctx: HandlerContext) -> None:
    """What decides the firsts of a batch's authors, read in a few statements."""
    ctx.threads.load_people(ctx.connection, {
        ctx.settings.person_for(event.platform, event.thread.author.login) for event in events
        if event.thread is not None and event.kind in ("issue.opened", "pr.opened", "pr.merged")
        and not _is_bot(event.thread, ctx)})
