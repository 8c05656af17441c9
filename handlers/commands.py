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

This module is the handler: it reads a comment's commands, checks each and runs it. What a command is given and how
it answers is `handlers.commands_call`; the commands themselves are in `handlers.commands_claims` (/claim,
/unclaim), `handlers.commands_triage` (assignees, labels, closing) and `handlers.commands_people` (/stats,
/leaderboard, /award, /campaign).
"""

from __future__ import annotations

from collections.abc import Iterator

from bot.commands import usage
from bot.commands.answers import message
from bot.commands.invisible import invisible_character
from bot.commands.parser import read_commands
from bot.commands.permissions import RoleResolver, is_blocked
from bot.commands.registry import COMMAND_LIST, COMMANDS, arity_problem, markdown_table, required_role
from bot.events import Action, Event
from bot.messages.escape import Markdown
from bot.routing.context import HandlerContext
from bot.routing.router import Router
from bot.settings.commands import Role
from handlers import commands_claims, commands_people, commands_triage
from handlers.commands_call import Call, Commented, Runner, answer_usage

router = Router("commands")


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
        answer_usage(call, problem)
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


def help_(call: Call) -> None:
    table = markdown_table(COMMAND_LIST, call.language, call.ctx.settings.commands.require)
    call.reply("help", table=Markdown(table))  # made of the registry's own text


RUNNERS: dict[str, Runner] = {
    "claim": commands_claims.claim, "unclaim": commands_claims.unclaim, "assign": commands_triage.assign,
    "unassign": commands_triage.unassign, "label": commands_triage.label, "remove-label": commands_triage.remove_label,
    "good-first-issue": commands_triage.good_first_issue, "help-wanted": commands_triage.help_wanted,
    "close": commands_triage.close, "reopen": commands_triage.reopen, "stats": commands_people.stats,
    "leaderboard": commands_people.leaderboard, "award": commands_people.award, "campaign": commands_people.campaign,
    "help": help_,
}
