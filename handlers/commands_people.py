"""The commands about the community's people: `/stats` (someone's contributions), `/leaderboard`, `/award` (a
badge, by a maintainer) and `/campaign join|leave` (a seat in a training camp, decided by `campaigns.camp_seats`)."""

from __future__ import annotations

from bot.badges.awards import Award, announcement, public_assertion, record_award
from bot.badges.rules import UnknownBadge, find_badge
from bot.commands.answers import message
from bot.community import people as community
from bot.settings.campaigns import CampSettings
from campaigns import camp_seats
from handlers.commands_call import Call, answer_usage, campaign_context, campaign_reply, logins_of


def stats(call: Call) -> None:
    ctx, settings = call.ctx, call.ctx.settings
    if call.command.args:
        logins = logins_of(call, call.command.args)
        if logins is None:
            return
        name = logins[0]
        try:
            person = community.resolve_person(ctx.conn, settings, name, call.event.platform)
        except community.UnknownPerson:
            call.reply("unknown_person", name=name)
            return
    else:
        name = call.login
        person_id = settings.person_for(call.event.platform, call.login)
        person = community.people(ctx.conn, [person_id])[person_id]
    found = community.stats(ctx.conn, settings, person, ctx.clock(), settings.commands.leaderboard_days)
    catalogue = settings.badges.catalogue()
    badges = [catalogue[b].name_in(call.language) if b in catalogue else b for b in found.badges]
    call.reply("stats", s=found, name=person.login_on(call.event.platform) or name,
               own=person.id == settings.person_for(call.event.platform, call.login),
               community=settings.community.name, badges=badges)


def leaderboard(call: Call) -> None:
    settings = call.ctx.settings
    days = settings.commands.leaderboard_days
    standings = community.leaderboard(call.ctx.conn, call.ctx.clock(), days, settings.commands.leaderboard_size)
    call.reply("leaderboard", standings=standings, days=days, community=settings.community.name)


def award(call: Call) -> None:
    ctx, settings = call.ctx, call.ctx.settings
    badge_id, who = call.command.args
    logins = logins_of(call, (who,))
    if logins is None:
        return
    try:
        badge = find_badge(settings.badges, badge_id)
    except UnknownBadge as unknown:
        call.reply("unknown_badge", badge=badge_id, known=unknown.known)
        return
    recipient = logins[0]
    thread = call.event.thread
    assert thread is not None
    granted = Award(badge=badge, person=settings.person_for(call.event.platform, recipient), login=recipient,
                    platform=call.event.platform, awarded_by=f"{call.event.platform}:{call.login}",
                    when=ctx.clock(), repo=call.event.repo.full_name, number=thread.number)
    values = {"recipient": recipient, "badge": badge.name_in(call.language),
              "about": badge.description_in(call.language)}
    if not record_award(ctx.conn, granted):
        call.reply("award_held", **values)
        return
    call.comment.actions.append(announcement(granted, public_assertion(settings, granted)))
    if settings.badges.comment_on_award:
        call.reply("awarded", **values)


def campaign(call: Call) -> None:
    verb, name = call.command.args
    verb = verb.lower()
    if verb not in ("join", "leave"):
        answer_usage(call, message("commands/problem_verb", call.language, value=verb, verbs=["join", "leave"]))
        return
    settings = call.ctx.settings
    found = settings.campaign(name.lower())
    if not isinstance(found, CampSettings):
        camps = [c.name for c in settings.campaigns if isinstance(c, CampSettings)]
        call.reply("campaigns/camp_unknown", name=name, camps=camps)
        return
    person = settings.person_for(call.event.platform, call.login)
    act = camp_seats.join if verb == "join" else camp_seats.leave
    campaign_reply(call, act(found, campaign_context(call), person, call.event.platform, call.login))
