"""Slash commands in issue and PR comments, parsed once for every platform (every comment is `comment.created`).

A command is a line whose first non-blank character is `/`, followed by a name and its arguments:

    /assign @alice @bob
    /label "good first issue" docs

What is not a command: anything inside a fenced code block (``` or ~~~), an indented code line (four spaces or a
tab), a quoted reply (`>`), an HTML comment (bot markers), and a `/` that does not start the line. One comment
may hold several commands, one per line. Chinese input is tolerated: full-width forms (`／label：bug，docs`,
`＠alice`, the ideographic space) read as their ASCII twins, and “curly”, 「corner」 or 『white corner』
quotes group words like straight ones.
"""

from __future__ import annotations

import re
import shlex
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

COMMAND_LINE = re.compile(r"^/(?P<name>[A-Za-z][A-Za-z0-9_-]*)(?=$|[\s:,])(?P<rest>.*)$")
FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})")
QUOTES = str.maketrans({"“": '"', "”": '"', "「": '"', "」": '"', "『": '"', "』": '"', "‘": "'", "’": "'"})
SEPARATORS = re.compile(r"[\s,]+")


@dataclass(frozen=True, slots=True)
class ParsedCommand:
    name: str  # lower case, without the slash
    args: tuple[str, ...]
    line: str  # the line as written (stripped), for the reply to quote


def _arguments(rest: str) -> tuple[str, ...]:
    rest = rest.lstrip(":").strip()
    if not rest:
        return ()
    normalised = rest.translate(QUOTES)
    if '"' in normalised or "'" in normalised:
        try:
            lexer = shlex.shlex(normalised, posix=True, punctuation_chars=False)
            lexer.whitespace += ","
            lexer.whitespace_split = True
            return tuple(token for token in lexer if token)
        except ValueError:  # an unbalanced quote: take the words as they are
            pass
    return tuple(token for token in SEPARATORS.split(normalised) if token)


def _without_html_comments(text: str) -> str:
    return re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)


def parse_commands(body: str) -> list[ParsedCommand]:
    """The commands of a comment, in order (an identical line twice counts once)."""
    commands: list[ParsedCommand] = []
    seen: set[tuple[str, tuple[str, ...]]] = set()
    fence: str | None = None
    for raw in _without_html_comments(body).splitlines():
        opened = FENCE.match(raw)
        if fence is not None:
            if opened and opened["fence"][0] == fence[0] and len(opened["fence"]) >= len(fence):
                fence = None
            continue
        if opened:
            fence = opened["fence"]
            continue
        if raw.startswith(("    ", "\t")):
            continue  # an indented code line
        line = unicodedata.normalize("NFKC", raw).strip()
        if line.startswith(">"):
            continue  # a quoted reply
        match = COMMAND_LINE.match(line)
        if match is None:
            continue
        command = ParsedCommand(match["name"].lower(), _arguments(match["rest"]), raw.strip())
        if (command.name, command.args) not in seen:
            seen.add((command.name, command.args))
            commands.append(command)
    return commands


@lru_cache(maxsize=1024)  # asked again of the same comment (what it is in the activity log, and as history)
def only_commands(body: str) -> bool:
    """Whether a comment says nothing but commands (quoted lines aside): it is then no contribution in itself."""
    lines = [unicodedata.normalize("NFKC", raw).strip() for raw in _without_html_comments(body).splitlines()]
    said = [line for line in lines if line and not line.startswith(">")]
    return bool(said) and all(COMMAND_LINE.match(line) for line in said)
