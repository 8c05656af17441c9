"""One reply per comment: the answers to its commands gathered in one comment, each message followed by the command
it answers, quoted (Prow's shape), then the notes about the comment as a whole (commands left unread, a person's
limit reached). Its size is bounded whatever the comment held: a quoted line is cut short, and answers past
`REPLY_CHARS` are counted, not shown."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.render import render

REPLY_CHARS = 16_000  # the answers shown in one reply, at most (GitHub takes 65,536 characters)
QUOTE_CHARS = 300  # of a command's line, quoted
FRAME_CHARS = 160  # what the reply adds around each answer (the quote's frame, the link)


@dataclass(frozen=True, slots=True)
class Answer:
    message: str
    line: str | None = None  # the command answered, as written; None: a note about the comment as a whole


def _quoted(line: str) -> str:
    return line if len(line) <= QUOTE_CHARS else line[:QUOTE_CHARS].rstrip() + "…"


def reply_body(answers: Sequence[Answer], notes: Sequence[str], *, login: str, url: str, language: str
               ) -> str | None:
    """The reply's text (None: nothing to say)."""
    if not answers and not notes:
        return None
    shown: list[dict[str, str | None]] = []
    size = 0
    for answer in answers:
        line = None if answer.line is None else _quoted(answer.line)
        size += len(answer.message) + len(line or "") + FRAME_CHARS
        if shown and size > REPLY_CHARS:
            break
        shown.append({"message": answer.message, "line": line})
    left_out = len(answers) - len(shown)
    help_after = max((index for index, entry in enumerate(shown) if entry["line"] is not None), default=-1)
    closing = ([render("commands/left_out", language, count=left_out)] if left_out else []) + list(notes)
    shown += [{"message": note, "line": None} for note in closing]
    return render("commands/reply", language, login=login, url=url, answers=shown, help_after=help_after)
