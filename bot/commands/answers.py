"""What cobot says in answer to commands, on the forges and in Slack, and the one reply per comment.

Every answer is Markdown made by `message` (`bot.messages.render.render_message`): every value a template is given is
escaped for Markdown, and a value in a code span is written with `|code`, so what a person typed (a command's line,
its arguments, a name) shows as written and becomes no link, image, HTML or code span of its own, whatever a template
does with it. A message made of messages (a usage naming its problem, the reply gathering the answers) takes them as
they are (`Markdown`), never escaped twice.

One reply per comment: the answers to its commands gathered in one comment, each message followed by the command it
answers, quoted (Prow's shape: "In response to this", then the command, here as a code span, so that no `@org/team`
or `[link](…)` it holds pings anybody or links anywhere), then the notes about the comment as a whole (commands left
unread, a person's limit reached). The only mention the reply itself makes is of the commenter, the login the forge
gave. Its size is bounded whatever the comment held: a quoted line is cut short, and answers past `REPLY_CHARS` are
counted, not shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.messages.escape import Markdown, markdown_escape
from bot.messages.render import render_message

REPLY_CHARS = 16_000  # the answers shown in one reply, at most (GitHub takes 65,536 characters)
QUOTE_CHARS = 300  # of a command's line, quoted
FRAME_CHARS = 160  # what the reply adds around each answer (the quote's frame, the link)

Where = tuple[str, str, str]  # platform, repo, number


def message(template_id: str, language: str, **values: Any) -> Markdown:
    """Message `template_id` (bot/templates/LANG/ID.md.j2) as Markdown, every value escaped (`render_message`)."""
    return Markdown(render_message(template_id, language, **values))


def issue_ref(where: Where, here: tuple[str, str]) -> Markdown:
    """How a message names an issue or PR (`where`) to readers on repo `here` (platform, repo): `#12` on the same
    repo, `acme/engine#12` elsewhere (the forges make a link of both; repo names are compared as forges do, without
    case)."""
    platform, repo, number = where
    same = platform == here[0] and repo.lower() == here[1].lower()
    return Markdown(("#" if same else f"{markdown_escape(repo)}#") + markdown_escape(number))


@dataclass(frozen=True, slots=True)
class Answer:
    message: Markdown
    line: str  # the command answered, as written


def _quoted(line: str) -> str:
    return line if len(line) <= QUOTE_CHARS else line[:QUOTE_CHARS].rstrip() + "…"


def reply_body(answers: Sequence[Answer], notes: Sequence[Markdown], *, login: str, url: str, language: str
               ) -> str | None:
    """The reply's text (None: nothing to say)."""
    if not answers and not notes:
        return None
    shown: list[Answer] = []
    size = 0
    for answer in answers:
        line = _quoted(answer.line)
        size += len(answer.message) + len(line) + FRAME_CHARS
        if shown and size > REPLY_CHARS:
            break
        shown.append(Answer(answer.message, line))
    left_out = len(answers) - len(shown)
    closing = ([message("commands/left_out", language, count=left_out)] if left_out else []) + list(notes)
    return render_message("commands/reply", language, login=login, url=url, answers=shown, notes=closing)
