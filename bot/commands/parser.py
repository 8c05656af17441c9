"""Slash commands in issue and PR comments, parsed once for every platform (every comment is `comment.created`).

A command is a line whose first non-blank character is `/`, followed by a name and its arguments:

    /assign @alice @bob
    /label "good first issue" docs

Only what a reader sees is read. What is not a command: anything inside a fenced code block (``` or ~~~), an
indented code line (four spaces or a tab), a quoted reply (`>`), an HTML comment (bot markers; an unclosed `<!--`
hides the rest of the comment, as GitHub does), anything inside `<pre>`, `<code>` or `<details>` (code, or folded
away; an unclosed one hides the rest), and a `/` that does not start the line. Lines end at `\\n`, `\\r\\n` or `\\r`
only: GitHub shows U+2028, U+2029 and the other separators `str.splitlines` knows on the same line, so they start
no command. An invisible character (a Unicode format character: zero-width space or joiner, right-to-left mark…)
before or inside a command's name makes the line no command; in its arguments, `invisible_character` finds it and
the command handler refuses the command with its usage. One comment may hold several commands, one per line.
Chinese input is tolerated: full-width forms (`／label：bug，docs`, `＠alice`, the ideographic space) read as their
ASCII twins, and “curly”, 「corner」 or 『white corner』 quotes group words like straight ones.

Anyone can post a comment, so everything here takes time linear in it (one pass over its lines, `str.find` and
patterns that cannot backtrack over what they already read), and reads a bounded part of it: its first `MAX_BODY`
characters, `MAX_LINES` lines that are not blank and `MAX_MARKUP` HTML comments and tags. Past any of these the rest
is not read: its commands do not run (bench/parser.py: a hostile 64 KB comment is read in a few milliseconds).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container, Iterator
from dataclasses import dataclass
from functools import lru_cache

# what is read of a comment (anyone can post one): past any of these, the rest is not read (its commands do not run)
MAX_BODY = 65_536  # characters (GitHub's limit for a comment's body)
MAX_LINES = 4_096  # lines that are not blank
MAX_COMMAND_LINES = 512  # lines that start with a slash (commands: ours, other bots', malformed ones)
MAX_MARKUP = 1_024  # HTML comments and hiding tags
KEPT_BODY = 4_096  # `only_commands` remembers its answer for comments this long at most (a bounded memory)
COMMAND_NAME = re.compile(r"/(?P<name>[A-Za-z][A-Za-z0-9_-]*)(?=$|[\s:,])")
FENCE = re.compile(r" {0,3}(?P<fence>`{3,}|~{3,})")
# what hides text: an HTML comment's start, and the tags whose content is code or folded away
MARKUP = re.compile(r"<!--|<(?P<closing>/?)(?P<tag>pre|code|details)(?![\w-])", re.IGNORECASE)
COMMENT_START, COMMENT_END = "<!--", "-->"
SLASHES = "/／"  # what NFKC reads as "/"
QUOTE_MARKS = ">﹥＞"
INDENTED = ("    ", "\t")
# blanks around a command: spaces, not the separators that GitHub shows but `str.strip` takes for line ends
BLANKS = " \t\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
FENCE_MARKS = ("`", "~")
QUOTES = str.maketrans({"“": '"', "”": '"', "「": '"', "」": '"', "『": '"', "』": '"', "‘": "'", "’": "'"})
# a word: unquoted runs and quoted strings ("a b", 'a b') joined; possessive, so nothing read is read again
WORD = re.compile(r"""(?:"[^"]*+"|'[^']*+'|[^\s,"']++)++""")
PIECE = re.compile(r""""([^"]*+)"|'([^']*+)'|([^\s,"']++)""")
INVISIBLE = frozenset("\u034f\u115f\u1160\u3164\uffa0")  # invisible, though not format characters (Cf)
ZWJ = "\u200d"


@dataclass(frozen=True, slots=True)
class ParsedCommand:
    name: str  # lower case, without the slash
    args: tuple[str, ...]
    line: str  # the line as written (stripped), for the reply to quote


class _Hiding:
    """What hides the text that follows, as a comment is read: an HTML comment, hiding tags (how many of each).
    It reads at most `MAX_MARKUP` of them: past that, the rest of the comment is hidden (`exhausted`)."""

    __slots__ = ("in_comment", "open_tags", "folded", "marks", "exhausted")

    def __init__(self) -> None:
        self.in_comment = False
        self.open_tags: dict[str, int] = {}
        self.folded = 0  # how many hiding tags are open in all
        self.marks = 0  # HTML comments and tags read
        self.exhausted = False

    @property
    def active(self) -> bool:
        return self.in_comment or self.folded > 0

    @property
    def in_code(self) -> bool:
        return bool(self.open_tags.get("pre") or self.open_tags.get("code"))

    def cut(self, raw: str) -> tuple[bool, str]:
        """Whether `raw` says anything outside HTML comments (a tag does), and the text a reader sees at the start
        of the line (without HTML comments and what is inside hiding tags; none when a tag, code or folded text
        comes first: what follows is not at the start of a line). Follows what opens and closes on the way."""
        said = started = behind = False
        seen: list[str] = []
        position, length = 0, len(raw)
        while position < length:
            if self.in_comment:
                end = raw.find(COMMENT_END, position)
                if end < 0:
                    break
                self.in_comment = False
                position = end + len(COMMENT_END)
                continue
            found = MARKUP.search(raw, position)
            stop = found.start() if found else length
            part = raw[position:stop]
            if part and not part.isspace():
                said = True
                if self.folded:
                    behind = behind or not started
                else:
                    started = True
            if not self.folded:
                seen.append(part)
            if found is None:
                break
            self.marks += 1
            if self.marks > MAX_MARKUP:  # the rest is not read
                self.exhausted = True
                break
            position = found.end()
            tag = found["tag"]
            if tag is None:  # <!--
                self.in_comment = True
                continue
            said = True
            behind = behind or not started
            position = raw.find(">", position) + 1 or length  # past its attributes (to the end of the line)
            tag = tag.lower()
            before = self.open_tags.get(tag, 0)
            after = max(0, before - 1) if found["closing"] else before + 1
            self.open_tags[tag] = after
            self.folded += after - before
        return said, "" if behind else "".join(seen)


def _split(body: str) -> list[str]:
    """The lines as a reader sees them: ended by \\n, \\r\\n or \\r, nothing else."""
    text = body[:MAX_BODY]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.split("\n")


def _lines(body: str, others: bool) -> Iterator[str | None]:
    """For each line that says something a reader may see (blank lines and quoted replies aside): the line,
    stripped, when it may be a command (it starts with a slash, outside code, HTML comments and folded blocks),
    else None. With `others` false, only the lines that may be commands. Reads at most `MAX_LINES` lines that are
    not blank and `MAX_COMMAND_LINES` that may be commands (a None for the rest, when `others`)."""
    hiding = _Hiding()
    fence: str | None = None  # the fence of the code block being read
    lines, commands = MAX_LINES, MAX_COMMAND_LINES  # still to read
    for raw in _split(body):
        if not raw or raw.isspace():
            continue
        lines -= 1
        if lines < 0:
            break
        if fence is None and not hiding.active and "<" not in raw:  # the usual line: nothing hides it
            text = raw.strip(BLANKS)
            first = text[:1]
            if first in FENCE_MARKS and first:
                opened = FENCE.match(raw)
                if opened:
                    fence = opened["fence"]
                    if others:
                        yield None
                    continue
            elif first in SLASHES and first and raw.startswith(INDENTED):  # an indented code line
                if others:
                    yield None
                continue
        elif fence is not None:  # in a code block: only its closing fence matters
            if raw.lstrip(" ")[:1] in FENCE_MARKS:
                closing = FENCE.match(raw)
                if closing and closing["fence"][0] == fence[0] and len(closing["fence"]) >= len(fence) \
                        and not raw[closing.end():].strip():
                    fence = None
            if others:
                yield None
            continue
        else:
            if hiding.in_comment:
                if COMMENT_END not in raw:
                    continue
            elif raw.lstrip()[:1] in FENCE_MARKS and not hiding.in_code:  # (in <pre> or <code>, a fence is text)
                opened = FENCE.match(raw)
                if opened:
                    fence = opened["fence"]
                    if others:
                        yield None
                    continue
            plain = not hiding.active
            said, text = hiding.cut(raw) if "<" in raw or hiding.in_comment else (True, "")
            if hiding.exhausted:
                break
            if not text or text.isspace():
                if said and others:
                    yield None
                continue
            if plain and text.startswith(INDENTED):
                if others:
                    yield None
                continue
            text = text.strip(BLANKS)
            first = text[:1]
        if first in SLASHES and first:
            commands -= 1
            if commands < 0:
                break
            yield text
        elif others and first not in QUOTE_MARKS:
            yield None
    else:
        return
    if others:  # the rest is not read: it may say anything
        yield None


def _arguments(rest: str, most: int | None) -> tuple[str, ...]:
    """The arguments after a command's name: at most `most` of them (None: all)."""
    rest = rest.lstrip(":").strip()
    if not rest:
        return ()
    normalised = rest.translate(QUOTES)
    if '"' in normalised or "'" in normalised:
        grouped = _quoted_words(normalised, most)
        if grouped is not None:
            return grouped
    words = normalised.replace(",", " ").split(None, -1 if most is None else most)  # unbalanced: words as written
    return tuple(words if most is None else words[:most])


def _quoted_words(text: str, most: int | None) -> tuple[str, ...] | None:
    """Words grouped by their quotes (`"a b"c` is `a bc`), at most `most`; None when a quote is not closed."""
    words: list[str] = []
    position = 0
    for found in WORD.finditer(text):
        if _has_quote(text[position:found.start()]):
            return None
        word = found.group()
        if _has_quote(word):
            word = "".join("".join(filter(None, piece.groups())) for piece in PIECE.finditer(word))
        if word:
            words.append(word)
        position = found.end()
        if most is not None and len(words) >= most:
            return tuple(words)
    return None if _has_quote(text[position:]) else tuple(words)


def _has_quote(text: str) -> bool:
    return '"' in text or "'" in text


def _name(text: str) -> tuple[str, str] | None:
    """The command's name (lower case) and the rest of a line that may be a command, read as NFKC (full-width
    forms as their ASCII twins)."""
    line = text if text.isascii() else unicodedata.normalize("NFKC", text).strip(BLANKS)
    match = COMMAND_NAME.match(line)
    return (match["name"].lower(), line[match.end():]) if match else None


@dataclass(frozen=True, slots=True)
class Reading:
    """The commands of a comment as read: distinct, in order, and whether command lines were left unread."""

    commands: tuple[ParsedCommand, ...]
    more: bool = False


def read_commands(body: str, names: Container[str] | None = None, limit: int | None = None,
                  max_args: int | None = None) -> Reading:
    """The commands of a comment whose names are in `names` (default: any name), from its first `limit` lines
    that hold one (an identical line twice counts once; default: every line), each with at most `max_args` + 1
    arguments (enough to tell that there are too many; default: all)."""
    commands: list[ParsedCommand] = []
    seen: set[tuple[str, tuple[str, ...]]] = set()
    most = None if max_args is None else max_args + 1
    read = 0
    for text in _lines(body, others=False):
        assert text is not None
        named = _name(text)
        if named is None or (names is not None and named[0] not in names):
            continue
        if limit is not None and read >= limit:
            return Reading(tuple(commands), more=True)
        read += 1
        command = ParsedCommand(named[0], _arguments(named[1], most), text)
        if (command.name, command.args) not in seen:
            seen.add((command.name, command.args))
            commands.append(command)
    return Reading(tuple(commands))


def parse_commands(body: str) -> list[ParsedCommand]:
    """Every command of a comment, in order (an identical line twice counts once)."""
    return list(read_commands(body).commands)


def only_commands(body: str) -> bool:
    """Whether a comment says nothing but commands (quoted lines aside): it is then no contribution in itself."""
    return _only_commands_kept(body) if len(body) <= KEPT_BODY else _only_commands(body)


@lru_cache(maxsize=1024)  # asked again of the same comment (what it is in the activity log, and as history)
def _only_commands_kept(body: str) -> bool:
    return _only_commands(body)


def _only_commands(body: str) -> bool:
    said = False
    for text in _lines(body, others=True):
        if text is None or _name(text) is None:
            return False
        said = True
    return said


def invisible_character(text: str) -> str | None:
    """The first invisible character of `text` that could make it look like something else (a format character
    such as a zero-width space or a right-to-left mark, a Hangul filler), named as `U+200B ZERO WIDTH SPACE`; None
    when there is none. A zero-width joiner between two pictographs (an emoji sequence such as 👩‍💻) is allowed."""
    if text.isascii():
        return None
    for index, char in enumerate(text):
        if char in INVISIBLE or (unicodedata.category(char) == "Cf" and not _joins_emoji(text, index)):
            return f"U+{ord(char):04X} {unicodedata.name(char, 'FORMAT CHARACTER')}"
    return None


def _joins_emoji(text: str, index: int) -> bool:
    if text[index] != ZWJ or index == 0 or index + 1 >= len(text):
        return False
    return unicodedata.category(text[index - 1]) in ("So", "Sk", "Mn") and unicodedata.category(text[index + 1]) == "So"

