"""Tracking: repos, contributors, issues and PRs (state, labels, assignees, response and merge times), activity."""

from __future__ import annotations

from collections.abc import Sequence

from bot.commands.parser import only_commands
from bot.events import Actor, Event
from bot.routing.context import HandlerContext
from bot.routing.router import Router
from bot.store import records

router = Router("tracking")


def _remember(ctx: HandlerContext, event: Event, actor: Actor) -> tuple[str, bool]:
    person = ctx.settings.person_for(event.platform, actor.login)
    is_bot = actor.is_bot or ctx.settings.is_bot(actor.login)
    records.upsert_contributor(ctx.later, event.platform, actor, person, is_bot, event.occurred_at)
    return person, is_bot


COMMENT_KINDS = {"thread": "comment.created", "diff": "comment.diff", "review": "comment.review"}


def activity_kind(event: Event) -> str:
    """What the activity log calls this event: its kind, except for comments, told apart as the activity measures
    need: `comment.created` in a conversation, `comment.diff` on a line of a PR's diff (a review comment),
    `comment.review` for a review's body; and a comment holding nothing but slash commands (`/claim`, `/label
    bug`) is a `command`, which no measure counts."""
    if event.kind != "comment.created" or event.comment is None:
        return event.kind
    if only_commands(event.comment.body):
        return "command"
    return COMMENT_KINDS[event.comment.place]


@router.on("*")
def record(event: Event, ctx: HandlerContext) -> None:
    records.upsert_repo(ctx.later, event.platform, event.repo.full_name, event.repo.url,
                        event.occurred_at)
    person, is_bot = _remember(ctx, event, event.actor)
    thread = event.thread
    records.log_activity(ctx.later, delivery_id=ctx.delivery_id, platform=event.platform,
                         repo=event.repo.full_name, kind=activity_kind(event), actor=event.actor.login, person=person,
                         is_bot=is_bot, number=thread.number if thread else None, when=event.occurred_at)
    if thread is None:
        return
    author_person, _ = _remember(ctx, event, thread.author) if thread.author != event.actor else (person, is_bot)
    row = ctx.threads.apply(ctx.connection, event.platform, event.repo.full_name, thread, author_person,
                            event.occurred_at)
    if event.kind in ("comment.created", "review.submitted"):
        ctx.threads.respond(row, event.actor, person, is_bot, event.occurred_at)


@router.ahead
def read_ahead(events: Sequence[Event], ctx: HandlerContext) -> None:
    """The threads of a batch, read in a few statements."""
    ctx.threads.load_threads(ctx.connection, {(event.platform, event.repo.full_name, event.thread.is_pr,
                                               event.thread.number) for event in events if event.thread is not None})
