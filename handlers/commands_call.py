"""What a slash command is given and how it answers (see handlers.commands): one comment's commands (`Commented`:
their answers gathered into one reply, their changes into one forge write of each kind) and one command of it
(`Call`), with the helpers every family of commands shares."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from bot.commands.answers import Answer, message, reply_body
from bot.commands.parser import ParsedCommand
from bot.commands.registry import CommandSpec
from bot.events import Action, ActionKind, Event
from bot.messages.escape import Markdown
from bot.platforms.registry import single_assignee
from bot.routing.context import HandlerContext
from bot.settings.commands import LOGIN
from bot.store.threads import StoredThread
from campaigns.base import CampaignContext, Reply

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


def answer_usage(call: Call, problem: Markdown) -> None:
    spec = call.spec
    call.reply("usage", problem=problem, usage=spec.usage, example=spec.examples[0] if spec.examples else spec.usage)


def logins_of(call: Call, values: tuple[str, ...]) -> list[str] | None:
    """User names from `@alice bob` (the @ optional); None after replying when one is not a user name."""
    logins = []
    for value in values:
        login = value.lstrip("@")
        if not LOGIN.match(login):
            answer_usage(call, message("commands/problem_login", call.language, value=value))
            return None
        if login.lower() not in {known.lower() for known in logins}:
            logins.append(login)
    return logins


def holding(names: list[str], present: list[str]) -> list[str]:
    """Those of `names` that are in `present`, spelt as `present` spells them (forges ignore case)."""
    by_case = {item.lower(): item for item in present}
    return [by_case[name.lower()] for name in names if name.lower() in by_case]


def campaign_context(call: Call) -> CampaignContext:
    """For campaigns: this delivery's transaction, at the moment the comment was written."""
    return CampaignContext(conn=call.ctx.conn, settings=call.ctx.settings, now=call.event.occurred_at)


def campaign_reply(call: Call, reply: Reply) -> None:
    if reply.assign:
        call.act("assign", logins=reply.assign)
    if reply.unassign:
        call.act("unassign", logins=reply.unassign)
    call.reply(f"campaigns/{reply.template}", **reply.values)
