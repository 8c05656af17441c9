"""Badges earned by their rules, awarded as the events that earn them arrive (`badges.auto_award`).

On each event that can earn a badge, the rules it can move are evaluated from the store for the person concerned:
the actor, or for a merged or labelled issue or PR its author. Each badge they now qualify for and do not hold is
awarded once (`uq_badge_award`: a redelivery, a replay or a second handler finds it held) and announced: the
`badge` notification, and a comment on the issue or PR of the event (`badges.comment_on_award`), in the repo's
language. Imported history (`ctx.quiet`) is awarded silently. No network I/O: the outbox does the talking.

Tracking defers its activity rows to the end of a batch of deliveries; this handler writes the event's row at
once (the same row, so tracking's write of it changes nothing), so that a burst of deliveries counts in full.
"""

from __future__ import annotations

from collections.abc import Iterator

from bot.badges.awards import AWARDED_BY_RULE, Award, announcement, assertion_url, record_award
from bot.badges.rules import criteria, due
from bot.events import Action, Event
from bot.messages.render import Markdown
from bot.routing.context import HandlerContext
from bot.routing.router import Router
from bot.store import records
from bot.store.deferred import Deferred
from handlers import tracking

router = Router("badges")

FOR_THE_AUTHOR = ("pr.merged", "issue.labeled", "pr.labeled")  # what the author earns, whoever did it


@router.on("issue.opened")
@router.on("issue.labeled")
@router.on("pr.opened")
@router.on("pr.merged")
@router.on("pr.labeled")
@router.on("review.submitted")
@router.on("comment.created")
@router.on("push")
def award_earned(event: Event, ctx: HandlerContext) -> Iterator[Action]:
    settings = ctx.settings
    if not settings.badges.auto_award:
        return
    thread = event.thread
    who = thread.author if thread is not None and event.kind in FOR_THE_AUTHOR else event.actor
    if who.is_bot or settings.is_bot(who.login):
        return
    person = settings.person_for(event.platform, who.login)
    if who is event.actor:
        _log_now(event, ctx, person)
    language = settings.repo_language(event.platform, event.repo.full_name)
    for earned in due(ctx.conn, settings.badges, person, moved_by=event.kind):
        award = Award(badge=earned.badge, person=person, login=who.login, platform=event.platform,
                      awarded_by=AWARDED_BY_RULE, when=event.occurred_at,
                      repo=event.repo.full_name if thread is not None else earned.repo,
                      number=thread.number if thread is not None else earned.number)
        if not record_award(ctx.conn, award) or ctx.quiet:
            continue
        public = assertion_url(settings, award.uid) if settings.server.public_url else ""
        yield announcement(award, public)
        if thread is not None and settings.badges.comment_on_award:
            body = ctx.render("badges/earned", language, login=who.login, badge=earned.badge.name_in(language),
                              about=earned.badge.description_in(language), community=settings.community.name,
                              criteria=Markdown(criteria(settings, earned.badge.id, language)),
                              assertion=public)
            yield Action(kind="comment", key=f"badge:{earned.badge.id}:{person}:comment", platform=event.platform,
                         repo=event.repo.full_name, number=thread.number, is_pr=thread.is_pr, body=body,
                         language=language)


def _log_now(event: Event, ctx: HandlerContext, person: str) -> None:
    """The event's row of the activity log, written now rather than at the end of the batch. Only with a delivery
    id: that is what makes tracking's write of the same row a no-op (`uq_activity_delivery_kind`)."""
    if ctx.delivery_id is None:
        return
    now = Deferred(ctx.conn.dialect.name)
    thread = event.thread
    records.log_activity(now, delivery_id=ctx.delivery_id, platform=event.platform, repo=event.repo.full_name,
                         kind=tracking.activity_kind(event), actor=event.actor.login, person=person,
                         is_bot=event.actor.is_bot or ctx.settings.is_bot(event.actor.login),
                         number=thread.number if thread else None, when=event.occurred_at)
    now.flush(ctx.conn)
