"""Slash commands in issue and PR comments, on GitHub and Gitee alike (every comment is `comment.created`).

Each command of a comment is checked against the registry (`bot.commands.registry`): who may run it (config roles,
then the forge's permission, see `bot.commands.permissions`), where, with which arguments. A command that may not
run, or cannot be read, gets a polite answer quoting it, and changes nothing.

Anyone can comment, so what one comment costs is bounded: at most `commands.max_per_comment` of its commands run
(the others are not read), each with at most `commands.max_arguments` arguments of `commands.max_argument_length`
characters; a contributor runs at most `commands.per_person_per_hour` commands an hour (`bot.commands.usage`).
Whatever it held, a comment is answered by ONE reply that gathers the answers to all its commands in Prow's shape
(each message, then the command quoted under "In response to this", see `bot.commands.answers`), in the repo's
language, and its changes are merged into one forge write of each kind (one label, one assign...). Every answer is
rendered with every value escaped (`bot.commands.answers.message`), the command quoted as a code span: nothing the
commenter wrote becomes a link, HTML or a mention in cobot's comment (it mentions the commenter only). Every action's
key is made of the comment and the kind of action, so a redelivered or replayed comment changes nothing twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from bot.badges.rules import Award, UnknownBadge, announcement, find_badge, public_assertion, record_award
from bot.commands import claims, usage
from bot.commands.answers import Answer, issue_ref, message, reply_body
from bot.commands.invisible import invisible_character
from bot.commands.parser import ParsedCommand, read_commands
from bot.commands.permissions import RoleResolver, is_blocked
from bot.commands.registry import (
    COMMAND_LIST,
    COMMANDS,
    CommandSpec,
    arity_problem,
    markdown_table,
    required_role,
)
from bot.community import people as community
from bot.events import Action, ActionKind, Event
from bot.messages.escape import Markdown
from bot.platforms.registry import single_assignee
from bot.routing.context import HandlerContext
from bot.routing.router import Router
from bot.settings.campaigns import CampSettings, HackathonSettings
from bot.settings.commands import LOGIN, Role
from bot.store.records import StoredThread
from campaigns import camp, hackathon
from campaigns.base import CampaignContext, Reply

router = Router("commands")

MERGED: tuple[ActionKind, ...] = ("label", "unlabel", "assign", "unassign")  # one write each per comment
SINGLE: tuple[ActionKind, ...] = ("close", "reopen")


@dataclass
class Commented:
    """One comment's commands: what they decide, gathered into one reply and one write of each kind."""

    event: Event
    ctx: HandlerContext
    language: str
    answers: list[Answer] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)

    @cached_property
    def prefix(self) -> str:
        event, comment = self.event, self.event.comment
        assert comment is not None and event.thread is not None
        where = "\n".join((event.platform, event.repo.full_name.lower(), event.thread.number, comment.id))
        return f"cmd:{hashlib.sha256(where.encode()).hexdigest()[:24]}"

    def key(self, what: str) -> str:
        return f"{self.prefix}:{what}"

    def decided(self, notes: list[Markdown]) -> list[Action]:
        """The writes (merged, in the order first decided), the other actions, then the one reply."""
        merged: dict[str, Action] = {}
        others: list[Action] = []
        thread = self.event.thread
        assert thread is not None
        one_assignee = single_assignee(self.event.platform, thread.is_pr)  # the next assign replaces the last
        for action in self.actions:
            if action.kind in MERGED or action.kind in SINGLE:
                held = merged.get(action.kind)
                if held is None or (action.kind == "assign" and one_assignee):
                    merged[action.kind] = action
                elif action.kind in MERGED:
                    merged[action.kind] = replace(held, labels=_union(held.labels, action.labels),
                                                  logins=_union(held.logins, action.logins))
            else:
                others.append(action)
        comment = self.event.comment
        assert comment is not None
        body = reply_body(self.answers, notes, login=self.event.actor.login, url=comment.url or "",
                          language=self.language)
        replies = [] if body is None else [self.action("comment", "reply", body=body, language=self.language)]
        return [*merged.values(), *others, *replies]

    def action(self, kind: ActionKind, what: str | None = None, **fields: Any) -> Action:
        thread = self.event.thread
        assert thread is not None
        return Action(kind=kind, key=self.key(what or kind), platform=self.event.platform,
                      repo=self.event.repo.full_name, number=thread.number, is_pr=thread.is_pr, **fields)


def _union(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    """Both, in order, each name once whatever its case (forges ignore case)."""
    names = list(first)
    seen = {name.lower() for name in first}
    for name in second:
        if name.lower() not in seen:
            seen.add(name.lower())
            names.append(name)
    return tuple(names)


@dataclass
class Call:
    """One command of one comment, and what it needs to decide."""

    comment: Commented
    command: ParsedCommand
    spec: CommandSpec

    @property
    def event(self) -> Event:
        return self.comment.event

    @property
    def ctx(self) -> HandlerContext:
        return self.comment.ctx

    @property
    def language(self) -> str:
        return self.comment.language

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
        return self.comment.key(what)

    def reply(self, message_id: str, **values: Any) -> None:
        """Answer the command (once: a command has one answer, whatever it says), in the comment's one reply.
        `message_id` names a template of bot/templates/LANG/commands/, or of another folder when it holds a slash
        (`campaigns/…`); it is rendered with every value escaped (`bot.commands.answers.message`)."""
        template = message_id if "/" in message_id else f"commands/{message_id}"
        self.comment.answers.append(Answer(message(template, self.language, **values), self.command.line))

    def act(self, kind: ActionKind, **fields: Any) -> None:
        self.comment.actions.append(self.comment.action(kind, **fields))


Runner = Callable[[Call], None]


@router.on("comment.created")
def run_commands(event: Event, ctx: HandlerContext) -> Iterator[Action]:
    settings = ctx.settings
    if not settings.commands.enabled or ctx.quiet or event.comment is None or event.thread is None:
        return
    actor = event.actor
    if actor.is_bot or settings.is_bot(actor.login) or is_blocked(settings, actor.login, event.platform):
        return
    limits = settings.commands
    reading = read_commands(event.comment.body, COMMANDS, limits.max_per_comment, limits.max_arguments,
                            limits.max_argument_length)
    if not reading.commands:
        return  # none of ours (another bot's, or a typo): say nothing
    comment = Commented(event, ctx, settings.repo_language(event.platform, event.repo.full_name))
    allowed = _allowance(comment, [command.name for command in reading.commands])
    for command in reading.commands[:allowed.runs]:
        _run(Call(comment, command, COMMANDS[command.name]))
    notes = []
    if reading.more:
        notes.append(message("commands/unread", comment.language, count=limits.max_per_comment))
    if allowed.notice:
        notes.append(message("commands/limited", comment.language, count=limits.per_person_per_hour,
                             all=allowed.runs == 0))
    yield from comment.decided(notes)


def _allowance(comment: Commented, names: list[str]) -> usage.Allowance:
    """How many of the comment's commands its author may run this hour (triagers and maintainers: all)."""
    event, ctx = comment.event, comment.ctx
    assert event.comment is not None and event.thread is not None
    login = event.actor.login

    def exempt() -> bool:
        resolver = RoleResolver(ctx.settings, ctx.forge_roles, ctx.conn, ctx.clock())
        return resolver.role(event.platform, event.repo.full_name, login, Role.TRIAGER) >= Role.TRIAGER

    where = usage.Where(event.platform, event.repo.full_name, event.thread.number, event.comment.id)
    return usage.allowance(ctx.conn, where, ctx.settings.person_for(event.platform, login), event.occurred_at,
                           names, ctx.settings.commands.per_person_per_hour, exempt)


def _run(call: Call) -> None:
    spec, settings = call.spec, call.ctx.settings
    needed = required_role(spec, settings.commands.require)
    if not _may_run(call, needed):
        call.reply("refused", name=spec.name, who=spec.who(call.language, needed))
        return
    if not spec.allowed_on(call.is_pr):
        call.reply("wrong_place", name=spec.name, where=spec.where)
        return
    problem = _argument_problem(call) or arity_problem(spec, len(call.command.args), spec.name, call.language)
    if problem is not None:
        _usage(call, problem)
        return
    RUNNERS[spec.name](call)


def _argument_problem(call: Call) -> Markdown | None:
    """What no command takes: more arguments than `commands.max_arguments`, a longer one than
    `commands.max_argument_length`, an invisible character that makes a look-alike."""
    limits, args, spec = call.ctx.settings.commands, call.command.args, call.spec
    if len(args) > limits.max_arguments and (spec.max_args is None or spec.max_args > limits.max_arguments):
        return message("commands/problem_too_many", call.language, name=spec.name, count=limits.max_arguments)
    for position, value in enumerate(args, 1):
        if len(value) > limits.max_argument_length:
            return message("commands/problem_too_long", call.language, position=position,
                           count=limits.max_argument_length)
        hidden = invisible_character(value)
        if hidden is not None:
            return message("commands/problem_invisible", call.language, position=position, character=hidden)
    return None


def _may_run(call: Call, needed: Role) -> bool:
    if call.spec.author_may and call.ctx.settings.person_for(call.event.platform, call.login) == \
            call.stored.author_person:
        return True
    resolver = RoleResolver(call.ctx.settings, call.ctx.forge_roles, call.ctx.conn, call.ctx.clock())
    return resolver.role(call.event.platform, call.event.repo.full_name, call.login, needed) >= needed


def _usage(call: Call, problem: Markdown) -> None:
    spec = call.spec
    call.reply("usage", problem=problem, usage=spec.usage, example=spec.examples[0] if spec.examples else spec.usage)


def _logins(call: Call, values: tuple[str, ...]) -> list[str] | None:
    """User names from `@alice bob` (the @ optional); None after replying when one is not a user name."""
    logins = []
    for value in values:
        login = value.lstrip("@")
        if not LOGIN.match(login):
            _usage(call, message("commands/problem_login", call.language, value=value))
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
    person = call.ctx.settings.person_for(call.event.platform, call.login)
    task_of = _hackathon_of(call)
    if task_of is not None and stored.state == "open":  # a hackathon task: a limit per person, claims expire
        where = (stored.platform, stored.repo, stored.number)
        _campaign_reply(call, hackathon.claim(task_of, _campaign_context(call), where, person, call.login))
        return
    if stored.state != "open":
        call.reply("claim_closed")
        return
    conn = call.ctx.conn
    recorded = claims.recorded(conn, stored)
    holder = recorded if recorded is not None and claims.holds(conn, recorded, stored) else None
    if holder is not None and holder.person == person:
        return  # claimed already, and answered then: a /claim again changes nothing and says nothing
    if _holding([call.login], stored.assignees):
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
        _campaign_reply(call, hackathon.unclaim(task_of, _campaign_context(call), where, person, call.login))
        return
    recorded = claims.recorded(call.ctx.conn, stored)
    mine = recorded if recorded is not None and recorded.person == person else None
    held = _holding([call.login], stored.assignees)
    if mine is not None:
        claims.release(call.ctx.conn, mine)
        held = held or ([mine.login] if claims.holds(call.ctx.conn, mine, stored) else [])
    if held:
        call.act("unassign", logins=tuple(held))
        call.reply("unclaimed")
    else:
        call.reply("not_claimed")


def assign(call: Call) -> None:
    logins = _logins(call, call.command.args or (call.login,))
    if logins is None:
        return
    if len(logins) > 1 and single_assignee(call.event.platform, call.is_pr):
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
    call.comment.actions.append(announcement(granted, public_assertion(settings, granted)))
    if settings.badges.comment_on_award:
        call.reply("awarded", **values)


def campaign(call: Call) -> None:
    verb, name = call.command.args
    verb = verb.lower()
    if verb not in ("join", "leave"):
        _usage(call, message("commands/problem_verb", call.language, value=verb, verbs=["join", "leave"]))
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
    call.reply("help", table=Markdown(table))  # made of the registry's own text


RUNNERS: dict[str, Runner] = {
    "claim": claim, "unclaim": unclaim, "assign": assign, "unassign": unassign, "label": label,
    "remove-label": remove_label, "good-first-issue": good_first_issue, "help-wanted": help_wanted,
    "close": close, "reopen": reopen, "stats": stats, "leaderboard": leaderboard, "award": award,
    "campaign": campaign, "help": help_,
}
