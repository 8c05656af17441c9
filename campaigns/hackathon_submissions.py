"""Hackathon submissions, recorded from pull requests' events: each task a PR says it fixes (`Fixes #12`) is a
submission of its hackathon, one row of `campaign_submission` per task and PR (so a redelivery changes nothing
twice); its merge inside the window scores the task's points, and releases its claims."""

from __future__ import annotations

from sqlalchemy import select

from bot.events import Event
from bot.routing.context import HandlerContext
from bot.routing.router import Router
from bot.settings.campaigns import HackathonSettings
from bot.store.db import dialect_insert
from campaigns.base import CampaignContext
from campaigns.hackathon_tasks import (
    CLAIM,
    SUBMISSION,
    Where,
    on_task,
    points_of,
    references,
    release_claims,
    scored_submission,
    spelt_task,
    stored_issue,
    task_of,
)

router = Router("hackathon")


@router.on("pr.opened")
@router.on("pr.edited")
@router.on("pr.updated")
@router.on("pr.reopened")
@router.on("pr.merged")
@router.on("pr.closed")
def record_submissions(event: Event, ctx: HandlerContext) -> None:
    """Each task a PR says it fixes is a submission of its hackathon; its merge in the window scores the task."""
    thread = event.thread
    if thread is None or thread.author.is_bot or ctx.settings.is_bot(thread.author.login):
        return
    if not any(isinstance(campaign, HackathonSettings) and campaign.covers(event.platform, event.repo.full_name)
               for campaign in ctx.settings.campaigns):
        return  # no hackathon here: nothing to look up
    for named in references(f"{thread.title}\n{thread.body}", event.platform, event.repo.full_name):
        stored = stored_issue(ctx.conn, named)
        labels: list[str] = list(stored.labels) if stored is not None else []
        where = spelt_task(ctx.settings, named, stored)
        campaign = task_of(ctx.settings, ctx.conn, *where, labels, now=event.occurred_at)
        if campaign is not None and campaign.covers(event.platform, event.repo.full_name):
            _submit(campaign, CampaignContext(conn=ctx.conn, settings=ctx.settings, now=event.occurred_at),
                    event, where, labels)


def _submit(campaign: HackathonSettings, ctx: CampaignContext, event: Event, task: Where, labels: list[str]
            ) -> None:
    thread = event.thread
    assert thread is not None
    span = ctx.window(campaign)
    merged = event.kind == "pr.merged" or thread.state == "merged"
    merged_at = (thread.merged_at or event.occurred_at) if merged else None
    if (merged_at or ctx.now) < span.start:
        return  # merged (or seen) before the hackathon started: not a submission
    conn, (platform, repo, number) = ctx.conn, task
    person = ctx.settings.person_for(event.platform, thread.author.login)
    identity = {"campaign": campaign.name, "task_platform": platform, "task_repo": repo, "task_number": number,
                "pr_repo": event.repo.full_name, "pr_number": thread.number}
    insert = dialect_insert(conn.dialect.name)(SUBMISSION).values(
        **identity, person=person, login=thread.author.login, submitted_at=ctx.now, points=0, status="submitted")
    if conn.execute(insert.on_conflict_do_nothing().returning(SUBMISSION.c.id)).first() is not None:
        release_claims(conn, ctx.now, "submitted", *on_task(campaign, task), CLAIM.c.person == person)
    row = conn.execute(select(SUBMISSION).where(*(SUBMISSION.c[name] == value for name, value in identity.items()))
                       ).one()
    if row.merged_at is not None:
        return  # a merge is final: decided once
    if merged_at is not None:
        if not span.contains(merged_at):
            status, points = "late", 0
        elif scored_submission(conn, campaign, task) is not None:
            status, points = "closed", 0  # the task was done by an earlier PR
        else:
            status, points = "scored", points_of(campaign, labels, platform, repo, number)
        conn.execute(SUBMISSION.update().where(SUBMISSION.c.id == row.id, SUBMISSION.c.merged_at.is_(None))
                     .values(merged_at=merged_at, status=status, points=points))
        if status == "scored":  # the task is done: nobody holds it any more
            release_claims(conn, merged_at, "submitted", *on_task(campaign, task))
    elif event.kind == "pr.closed" and row.status == "submitted":
        conn.execute(SUBMISSION.update().where(SUBMISSION.c.id == row.id).values(status="closed"))
    elif event.kind == "pr.reopened" and row.status == "closed":
        conn.execute(SUBMISSION.update().where(SUBMISSION.c.id == row.id).values(status="submitted"))
