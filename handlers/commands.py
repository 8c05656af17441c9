"""Slash commands in issue and PR comments, on GitHub and Gitee alike (every comment is `comment.created`).

Each command of a comment is checked against the registry (`bot.commands.registry`): who may run it (config roles,
then the forge's permission, see `bot.commands.permissions`), where, with which arguments. A command that may not
run, or cannot be read, gets a polite reply quoting it, and changes nothing. Replies follow Prow's shape (the
message, then the command quoted under "In response to this"), in the repo's language. Every action's key is
made of the comment and the command's place in it, so a redelivered or replayed comment changes nothing twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from bot import community
from bot.badges import Award, UnknownBadge, announcement, find_badge, public_assertion, record_award
from bot.commands.parser import ParsedCommand, parse_commands
from bot.commands.permissions import RoleResolver, is_blocked
from bot.commands.registry import (
    COMMAND_LIST,
    COMMANDS,
    CommandSpec,
    arity_problem,
    markdown_table,
    required_role,
)
from bot.commands.settings import LOGIN, Role
from bot.context import HandlerContext
from bot.events import Action, ActionKind, Event
from bot.routing import Router
from bot.store.records import StoredThread
from campaigns import camp, hackathon
from campaigns.base import CampaignContext, Reply
from campaigns.settings import CampSettings, HackathonSettings

router = Router("commands")


@dataclass
class Call:
    """One command of one comment, and what it needs to decide."""

    event: Event
    ctx: HandlerContext
    command: ParsedCommand
    spec: CommandSpec
    index: int
    language: str
    actions: list[Action] = field(default_factory=list)

    @property
    def login(self) -> str:
        return self.event.actor.login

    @property
    def is_pr(self) -> bool:
        assert self.event.thread is not None
        return self.event.thread.is_pr

    @cached_property
    def stored(self) -> StoredThread:
        thread = self.event.thread
        assert thread is not None
        found = self.ctx.thread(self.event.platform, self.event.repo.full_name, thread.is_pr, thread.number)
        if found is None:
            raise LookupError(f"{self.event.repo.full_name}#{thread.number} is not tracked (tracking runs first)")
        return found

    def key(self, what: str) -> str:
        event, comment = self.event, self.event.comment
        assert comment is not None and event.thread is not None
        where = "\n".join((event.platform, event.repo.full_name.lower(), event.thread.number, comment.id))
        return f"cmd:{hashlib.sha256(where.encode()).hexdigest()[:24]}:{self.index}:{what}"

    def reply(self, message_id: str, **values: Any) -> None:
        """Answer the command (once: a command has one reply, whatever it says). `message_id` names a template
        of bot/templates/LANG/commands/, or of another folder when it holds a slash (`campaigns/…`)."""
        comment = self.event.comment
        assert comment is not None
        template = message_id if "/" in message_id else f"commands/{message_id}"
        message = self.ctx.render(template, self.language, **values)
        body = self.ctx.render("commands/reply", self.language, login=self.login, message=message,
                               line=self.command.line, url=comment.url or "")
        self.act("comment", "reply", body=body, language=self.language)

    def act(self, kind: ActionKind, what: str | None = None, **fields: Any) -> None:
        thread = self.event.thread
        assert thread is not None
        self.actions.append(Action(kind=kind, key=self.key(what or kind), platform=self.event.platform,
                                   repo=self.event.repo.full_name, number=thread.number, is_pr=thread.is_pr,
                                   **fields))


Runner = Callable[[Call], None]


@router.on("comment.created")
def run_commands(event: Event, ctx: HandlerContext) -> Iterator[Action]:
    settings = ctx.settings
    if not settings.commands.enabled or ctx.quiet or event.comment is None or event.thread is None:
        return
    actor = event.actor
    if actor.is_bot or settings.is_bot(actor.login) or is_blocked(settings, actor.login):
        return
    language = settings.repo_language(event.platform, event.repo.full_name)
    for index, command in enumerate(parse_commands(event.comment.body)):
        spec = COMMANDS.get(command.name)
        if spec is None:
            continue  # not ours (another bot's, or a typo): say nothing
        call = Call(event, ctx, command, spec, index, language)
        _run(call)
        yield from call.actions


def _run(call: Call) -> None:
    spec, settings = call.spec, call.ctx.settings
    needed = required_role(spec, settings.commands.require)
    if not _may_run(call, needed):
        call.reply("refused", name=spec.name, who=spec.who(call.language, needed))
        return
    if not spec.allowed_on(call.is_pr):
        call.reply("wrong_place", name=spec.name, where=spec.where)
        return
    problem = arity_problem(spec, len(call.command.args), spec.name, call.language)
    if problem is not None:
        _usage(call, problem)
        return
    RUNNERS[spec.name](call)


def _may_run(call: Call, needed: Role) -> bool:
    if call.spec.author_may and call.ctx.settings.person_for(call.event.platform, call.login) == \
            call.stored.author_person:
        return True
    resolver = RoleResolver(call.ctx.settings, call.ctx.forge_roles, call.ctx.conn, call.ctx.clock())
    return resolver.role(call.event.platform, call.event.repo.full_name, call.login, needed) >= needed


def _usage(call: Call, problem: str) -> None:
    spec = call.spec
    call.reply("usage", problem=problem, usage=spec.usage, example=spec.examples[0] if spec.examples else spec.usage)


def _logins(call: Call, values: tuple[str, ...]) -> list[str] | None:
    """User names from `@alice bob` (the @ optional); None after replying when one is not a user name."""
    logins = []
    for value in values:
        login = value.lstrip("@")
        if not LOGIN.match(login):
            _usage(call, call.ctx.render("commands/problem_login", call.language, value=value))
            return None
        if login.lower() not in {known.lower() for known in logins}:
            logins.append(login)
    return logins


def _holding(names: list[str], present: list[str]) -> list[str]:
    """Those of `names` that are in `present`, spelt as `present` spells them (forges ignore case)."""
    by_case = {item.lower(): item for item in present}
    return [by_case[name.lower()] for name in names if name.lower() in by_case]


def _campaign_context(call: Call) -> CampaignContext:
    """For campaigns: this delivery's transaction, at the moment the comment was written."""
    return CampaignContext(conn=call.ctx.conn, settings=call.ctx.settings, now=call.event.occurred_at)


def _campaign_reply(call: Call, reply: Reply) -> None:
    if reply.assign:
        call.act("assign", logins=reply.assign)
    if reply.unassign:
        call.act("unassign", logins=reply.unassign)
    call.reply(f"campaigns/{reply.template}", **reply.values)


def _hackathon_of(call: Call) -> HackathonSettings | None:
    stored = call.stored
    return hackathon.task_of(call.ctx.settings, call.ctx.conn, stored.platform, stored.repo, stored.number,
                             stored.labels, now=call.event.occurred_at)


# -- the commands ------------------------------------------------------------------------------------------------


def claim(call: Call) -> None:
    stored = call.stored
    task_of = _hackathon_of(call)
    if task_of is not None and stored.state == "open":  # a hackathon task: a limit per person, claims expire
        person = call.ctx.settings.person_for(call.event.platform, call.login)
        where = (stored.platform, stored.repo, stored.number)
        _campaign_reply(call, hackathon.claim(task_of, _campaign_context(call), where, person, call.login))
        return
    if stored.state != "open":
        call.reply("claim_closed")
    elif _holding([call.login], stored.assignees):
        call.reply("claim_own")
    elif stored.assignees:
        call.reply("claim_taken", holders=stored.assignees)
    else:
        call.act("assign", logins=(call.login,))
        call.reply("claimed")


def unclaim(call: Call) -> None:
    task_of = _hackathon_of(call)
    if task_of is not None:
        stored = call.stored
        person = call.ctx.settings.person_for(call.event.platform, call.login)
        where = (stored.platform, stored.repo, stored.number)
        _campaign_reply(call, hackathon.unclaim(task_of, _campaign_context(call), where, person, call.login))
        return
    held = _holding([call.login], call.stored.assignees)
    if held:
        call.act("unassign", logins=tuple(held))
        call.reply("unclaimed")
    else:
        call.reply("not_claimed")


def assign(call: Call) -> None:
    logins = _logins(call, call.command.args or (call.login,))
    if logins is None:
        return
    if call.event.platform == "gitee" and not call.is_pr and len(logins) > 1:
        call.reply("one_assignee", first=logins[0])
        return
    held = {name.lower() for name in call.stored.assignees}
    new = [login for login in logins if login.lower() not in held]
    if new:
        call.act("assign", logins=tuple(new))


def unassign(call: Call) -> None:
    logins = _logins(call, call.command.args or (call.login,))
    if logins is None:
        return
    held = _holding(logins, call.stored.assignees)
    if held:
        call.act("unassign", logins=tuple(held))
    else:
        call.reply("not_assigned", logins=logins)


def _add_labels(call: Call, names: list[str]) -> None:
    new = [name for name in names if not _holding([name], call.stored.labels)]
    if new:
        call.act("label", labels=tuple(new))


def label(call: Call) -> None:
    names = list(dict.fromkeys(call.command.args))
    allowed = call.ctx.settings.commands.labels
    refused = [name for name in names if allowed and not _holding([name], allowed)]
    accepted = [_holding([name], allowed)[0] if allowed else name for name in names if name not in refused]
    _add_labels(call, accepted)
    if refused:
        call.reply("labels_not_allowed", names=refused, allowed=allowed, added=bool(accepted))


def remove_label(call: Call) -> None:
    names = list(dict.fromkeys(call.command.args))
    present = _holding(names, call.stored.labels)
    if present:
        call.act("unlabel", labels=tuple(present))
    absent = [name for name in names if not _holding([name], call.stored.labels)]
    if absent:
        call.reply("labels_absent", names=absent, is_pr=call.is_pr)


def good_first_issue(call: Call) -> None:
    _add_labels(call, [call.ctx.settings.commands.good_first_issue_label])


def help_wanted(call: Call) -> None:
    _add_labels(call, [call.ctx.settings.commands.help_wanted_label])


def close(call: Call) -> None:
    if call.stored.state == "open":
        call.act("close")


def reopen(call: Call) -> None:
    if call.stored.state == "merged":
        call.reply("cannot_reopen_merged")
    elif call.stored.state == "closed":
        call.act("reopen")


def stats(call: Call) -> None:
    ctx, settings = call.ctx, call.ctx.settings
    if call.command.args:
        logins = _logins(call, call.command.args)
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
    logins = _logins(call, (who,))
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
    call.actions.append(announcement(granted, public_assertion(settings, granted)))
    if settings.badges.comment_on_award:
        call.reply("awarded", **values)


def campaign(call: Call) -> None:
    verb, name = call.command.args
    verb = verb.lower()
    if verb not in ("join", "leave"):
        _usage(call, call.ctx.render("commands/problem_verb", call.language, value=verb, verbs=["join", "leave"]))
        return
    settings = call.ctx.settings
    found = settings.campaign(name.lower())
    if not isinstance(found, CampSettings):
        camps = [c.name for c in settings.campaigns if isinstance(c, CampSettings)]
        call.reply("campaigns/camp_unknown", name=name, camps=camps)
        return
    person = settings.person_for(call.event.platform, call.login)
    act = camp.join if verb == "join" else camp.leave
    _campaign_reply(call, act(found, _campaign_context(call), person, call.event.platform, call.login))


def help_(call: Call) -> None:
    table = markdown_table(COMMAND_LIST, call.language, call.ctx.settings.commands.require)
    call.reply("help", table=table)


RUNNERS: dict[str, Runner] = {
    "claim": claim, "unclaim": unclaim, "assign": assign, "unassign": unassign, "label": label,
    "remove-label": remove_label, "good-first-issue": good_first_issue, "help-wanted": help_wanted,
    "close": close, "reopen": reopen, "stats": stats, "leaderboard": leaderboard, "award": award,
    "campaign": campaign, "help": help_,
}
