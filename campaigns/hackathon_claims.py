"""What `/claim` and `/unclaim` on a hackathon task decide (handlers.commands_claims asks): a claim held for
`claim_ttl_hours` (renewed when claimed again), within the per-person limit, while the hackathon runs and the task
is not done; and a claim given back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.commands.answers import issue_ref
from bot.settings.campaigns import HackathonSettings
from campaigns.base import CampaignContext, Reply
from campaigns.hackathon_tasks import (
    CLAIM,
    Where,
    hours_text,
    moment_text,
    on_task,
    open_claims,
    release_claims,
    scored_submission,
)


def claim(campaign: HackathonSettings, ctx: CampaignContext, where: Where, person: str, login: str) -> Reply:
    """`/claim` on a task: hold it for `claim_ttl_hours` (again: renew), within the per-person limit."""
    span = ctx.window(campaign)
    status = span.status(ctx.now)
    base: dict[str, Any] = {"title": campaign.title}
    if status == "scheduled":
        return Reply("hackathon_not_started", {**base, "start": moment_text(campaign, span.start)})
    if status == "ended":
        return Reply("hackathon_ended", {**base, "end": moment_text(campaign, span.end or campaign.end)})
    done = scored_submission(ctx.conn, campaign, where)
    if done is not None:
        pr = issue_ref((where[0], done.pr_repo, done.pr_number), where[:2])
        return Reply("hackathon_task_done", {**base, "by": done.login, "pr": pr})
    until = ctx.now + timedelta(hours=campaign.claim_ttl_hours)
    held = open_claims(ctx.conn, *on_task(campaign, where))
    mine = next((row for row in held if row.person == person), None)
    if mine is not None:  # renewed, even when it ran out a moment ago and the tick has not released it yet
        until = max(until, mine.expires_at)
        ctx.conn.execute(CLAIM.update().where(CLAIM.c.id == mine.id).values(expires_at=until, reminded_at=None,
                                                                            login=login))
        return Reply("hackathon_claim_renewed", {**base, "until": moment_text(campaign, until)})
    holders = [row for row in held if row.expires_at > ctx.now]
    if holders:
        return Reply("hackathon_claim_taken", {**base, "holder": holders[0].login,
                                               "until": moment_text(campaign, holders[0].expires_at)})
    own = open_claims(ctx.conn, CLAIM.c.campaign == campaign.name, CLAIM.c.person == person,
                       CLAIM.c.expires_at > ctx.now)
    if len(own) >= campaign.claim_limit:
        tasks = [issue_ref((row.platform, row.repo, row.number), where[:2]) for row in own]
        return Reply("hackathon_claim_limit", {**base, "limit": campaign.claim_limit, "held": tasks})
    claimed = Reply("hackathon_claimed", {**base, "until": moment_text(campaign, until),
                                          "hours": hours_text(campaign.claim_ttl_hours),
                                          "remind": hours_text(campaign.remind_before_hours), "number": where[2]},
                    assign=(login,))
    replayed = select(CLAIM.c.id).where(*on_task(campaign, where), CLAIM.c.person == person,
                                        CLAIM.c.claimed_at == ctx.now)
    if ctx.conn.execute(replayed).first() is None:  # a comment processed again claims nothing twice
        platform, repo, number = where
        ctx.conn.execute(CLAIM.insert().values(campaign=campaign.name, platform=platform, repo=repo, number=number,
                                               person=person, login=login, claimed_at=ctx.now, expires_at=until))
    return claimed


def unclaim(campaign: HackathonSettings, ctx: CampaignContext, where: Where, person: str, login: str) -> Reply:
    """`/unclaim` on a task: give your claim back."""
    base: dict[str, Any] = {"title": campaign.title}
    mine = open_claims(ctx.conn, *on_task(campaign, where), CLAIM.c.person == person)
    if not mine:
        return Reply("hackathon_not_claimed", base)
    release_claims(ctx.conn, ctx.now, "unclaimed", CLAIM.c.id.in_([row.id for row in mine]))
    return Reply("hackathon_unclaimed", base, unassign=tuple(dict.fromkeys(row.login for row in mine)))
