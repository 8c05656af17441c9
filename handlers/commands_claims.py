"""`/claim` and `/unclaim`: a hackathon task's claim (decided by `campaigns.hackathon_claims`: a limit per person,
claims expire), or any other open issue's (one holder per issue, `commands.max_open_claims` per person)."""

from __future__ import annotations

from bot.commands import claims
from bot.commands.answers import issue_ref
from bot.settings.campaigns import HackathonSettings
from campaigns import hackathon_claims, hackathon_tasks
from handlers.commands_call import Call, campaign_context, campaign_reply, holding


def _hackathon_of(call: Call) -> HackathonSettings | None:
    stored = call.stored
    return hackathon_tasks.task_of(call.ctx.settings, call.ctx.conn, stored.platform, stored.repo, stored.number,
                                   stored.labels, now=call.event.occurred_at)


def claim(call: Call) -> None:
    stored = call.stored
    person = call.ctx.settings.person_for(call.event.platform, call.login)
    task_of = _hackathon_of(call)
    if task_of is not None and stored.state == "open":  # a hackathon task: a limit per person, claims expire
        where = (stored.platform, stored.repo, stored.number)
        campaign_reply(call, hackathon_claims.claim(task_of, campaign_context(call), where, person, call.login))
        return
    if stored.state != "open":
        call.reply("claim_closed")
        return
    conn = call.ctx.conn
    recorded = claims.recorded(conn, stored)
    holder = recorded if recorded is not None and claims.holds(conn, recorded, stored) else None
    if holder is not None and holder.person == person:
        return  # claimed already, and answered then: a /claim again changes nothing and says nothing
    if holding([call.login], stored.assignees):
        call.reply("claim_own")
    elif stored.assignees:
        call.reply("claim_taken", holders=stored.assignees)
    elif holder is not None:  # claimed through cobot; the forge has not said so yet
        call.reply("claim_taken", holders=[holder.login])
    elif not _may_hold_another(call, person):
        return
    elif claims.take(conn, stored, person, call.login, call.event.occurred_at, call.key("assign"), recorded):
        call.act("assign", logins=(call.login,))
        call.reply("claimed")
    else:  # another replica recorded a claim meanwhile
        taken = claims.recorded(conn, stored)
        call.reply("claim_taken", holders=[taken.login] if taken is not None else [])


def _may_hold_another(call: Call, person: str) -> bool:
    """Whether a person may claim one more issue (`commands.max_open_claims`); says why not when not."""
    limit = call.ctx.settings.commands.max_open_claims
    if not limit:
        return True
    held = claims.held_by(call.ctx.conn, person)
    if len(held) < limit:
        return True
    here = (call.event.platform, call.event.repo.full_name)
    call.reply("claim_limit", held=[issue_ref((claim.platform, claim.repo, claim.number), here) for claim in held])
    return False


def unclaim(call: Call) -> None:
    stored = call.stored
    person = call.ctx.settings.person_for(call.event.platform, call.login)
    task_of = _hackathon_of(call)
    if task_of is not None:
        where = (stored.platform, stored.repo, stored.number)
        campaign_reply(call, hackathon_claims.unclaim(task_of, campaign_context(call), where, person, call.login))
        return
    recorded = claims.recorded(call.ctx.conn, stored)
    mine = recorded if recorded is not None and recorded.person == person else None
    held = holding([call.login], stored.assignees)
    if mine is not None:
        claims.release(call.ctx.conn, mine)
        held = held or ([mine.login] if claims.holds(call.ctx.conn, mine, stored) else [])
    if held:
        call.act("unassign", logins=tuple(held))
        call.reply("unclaimed")
    else:
        call.reply("not_claimed")
