"""The triage commands: `/assign`, `/unassign`, `/label`, `/remove-label`, `/good-first-issue`, `/help-wanted`,
`/close` and `/reopen` (their writes merged into one of each kind per comment, see handlers.commands_call)."""

from __future__ import annotations

from bot.platforms.registry import single_assignee
from handlers.commands_call import Call, holding, logins_of


def assign(call: Call) -> None:
    logins = logins_of(call, call.command.args or (call.login,))
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
    logins = logins_of(call, call.command.args or (call.login,))
    if logins is None:
        return
    held = holding(logins, call.stored.assignees)
    if held:
        call.act("unassign", logins=tuple(held))
    else:
        call.reply("not_assigned", logins=logins)


def _add_labels(call: Call, names: list[str]) -> None:
    new = [name for name in names if not holding([name], call.stored.labels)]
    if new:
        call.act("label", labels=tuple(new))


def label(call: Call) -> None:
    names = list(dict.fromkeys(call.command.args))
    allowed = call.ctx.settings.commands.labels
    refused = [name for name in names if allowed and not holding([name], allowed)]
    accepted = [holding([name], allowed)[0] if allowed else name for name in names if name not in refused]
    _add_labels(call, accepted)
    if refused:
        call.reply("labels_not_allowed", names=refused, allowed=allowed, added=bool(accepted))


def remove_label(call: Call) -> None:
    names = list(dict.fromkeys(call.command.args))
    present = holding(names, call.stored.labels)
    if present:
        call.act("unlabel", labels=tuple(present))
    absent = [name for name in names if not holding([name], call.stored.labels)]
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
