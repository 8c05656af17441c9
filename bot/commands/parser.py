"""Slash commands in issue and PR comments, parsed once for every platform (every comment is `comment.created`).

A command is a line whose first non-blank character is `/`, followed by a name and its arguments:

    /assign @alice @bob
    /label "good first issue" docs

Only what a reader sees is read. What is not a command: anything inside a fenced code block (``` or ~~~), an
indented code line (four spaces or a tab), a quoted reply (`>`), and whatever the rendered comment hides or shows
as code (`bot.commands.hiding`: HTML comments, tags and their attributes, CDATA, `<pre>`, `<code>`, `<details>`, a
link's destination, title and label…; what is not closed hides the rest), and a `/` that does not start the line.
Lines end at `\\n`, `\\r\\n` or `\\r` only: GitHub shows U+2028, U+2029 and the other separators `str.splitlines`
knows on the same line, so they start no command. An invisible character (a Unicode format character: zero-width
space or joiner, right-to-left mark…) before or inside a command's name makes the line no command; in its
arguments, `bot.commands.invisible` finds it and the command handler refuses the command with its usage. One
comment may hold several commands, one per line. Chinese input is tolerated: a name in full-width forms
(`／label：bug，docs`) reads as its ASCII twin, arguments as NFKC reads them (`＠alice` is `@alice`), and “curly”,
「corner」 or 『white corner』 quotes group words like straight ones.

Anyone can post a comment, so everything here takes time linear in it (one pass over its lines, `str.find` and
patterns that cannot backtrack over what they already read), and reads a bounded part of it: its first `MAX_BODY`
characters, `MAX_LINES` lines that are not blank, `MAX_COMMAND_LINES` that start with a slash and
`hiding.MAX_MARKUP` steps through markup. Past any of these the rest is not read: its commands do not run.
Normalising (NFKC) can make a character 18 (U+FDFA), so it is bounded too: a command's name is read from the first
`NAME_READ` characters of its line, and only the commands the handler runs have their arguments normalised, up to
`command_reach` characters (bench/parser.py: a hostile 64 KB comment is read in a few milliseconds).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container, Iterator
from dataclasses import dataclass
from functools import lru_cache

from bot.commands.hiding import Hiding

# what is read of a comment (anyone can post one): past any of these, the rest is not read (its commands do not run)
MAX_BODY = 65_536  # characters (GitHub's limit for a comment's body)
MAX_LINES = 4_096  # lines that are not blank
MAX_COMMAND_LINES = 512  # lines that start with a slash (commands: ours, other bots', malformed ones)
KEPT_BODY = 4_096  # `only_commands` remembers its answer for comments this long at most (a bounded memory)
MAX_NAME = 32  # characters of a command's name (a longer one names no command)
NAME_READ = MAX_NAME + 2  # what is read of a line to find its command's name: the slash, the name, what follows
READ_STEP = 128  # characters of a command line normalised at a time
COMMAND_NAME = re.compile(rf"/(?P<name>[A-Za-z][A-Za-z0-9_-]{{0,{MAX_NAME - 1}}}+)(?=$|[\s:,])")
FULL_WIDTH = str.maketrans({chr(code): chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)} | {"\u3000": " "})
FENCE = re.compile(r" {0,3}(?P<fence>`{3,}|~{3,})")
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
# what may separate a command's words, once normalised (what is not is part of a word)
SEPARATORS = re.compile(r"""[\s,:"'“”「」『』‘’]""")
# where a line may be cut for NFKC: before a character that normalisation joins to nothing before it (ASCII, CJK,
# kana, Hangul syllables, full-width forms, emoji), so the pieces normalise as the whole would
CUT_BEFORE = re.compile(r"[\x00-\x7f\u3000-\u3029\u3030-\u303f\u3041-\u3096\u30a1-\u30fa\u4e00-\u9fff"
                        r"\uac00-\ud7a3\uff01-\uff5e\U0001f000-\U0001faff]")


@dataclass(frozen=True, slots=True)
class ParsedCommand:
    name: str  # lower case, without the slash
    args: tuple[str, ...]
    line: str  # the line as written (stripped), for the reply to quote


def _split(body: str) -> list[str]:
    """The lines as a reader sees them: ended by \\n, \\r\\n or \\r, nothing else."""
    text = body[:MAX_BODY]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.split("\n")


def _opened_fence(raw: str) -> str | None:
    """The fence (``` or ~~~, three or more) that `raw` opens a code block with; None when it opens none."""
    if raw.lstrip()[:1] not in FENCE_MARKS:
        return None
    opened = FENCE.match(raw)
    return opened["fence"] if opened else None


def _closes(raw: str, fence: str) -> bool:
    """Whether `raw` closes the code block `fence` opened: the same mark, at least as many, nothing after."""
    if raw.lstrip(" ")[:1] not in FENCE_MARKS:
        return False
    closing = FENCE.match(raw)
    return closing is not None and closing["fence"][0] == fence[0] and len(closing["fence"]) >= len(fence) \
        and not raw[closing.end():].strip()


def _lines(body: str, others: bool) -> Iterator[str | None]:
    """For each line that says something a reader may see (blank lines and quoted replies aside): the line,
    stripped, when it may be a command (it starts with a slash, outside code and what the comment hides), else None.
    With `others` false, only the lines that may be commands. Reads at most `MAX_LINES` lines that are not blank and
    `MAX_COMMAND_LINES` that may be commands (a None for the rest, when `others`)."""
    hiding = Hiding()
    fence: str | None = None  # the fence of the code block being read
    lines, commands = MAX_LINES, MAX_COMMAND_LINES  # still to read
    in_paragraph = False  # a link's part, a label or a definition is being read: a blank line ends it
    for raw in _split(body):
        if not raw or raw.isspace():
            if in_paragraph:
                hiding.paragraph_ends()
                in_paragraph = False
            continue
        lines -= 1
        if lines < 0:
            break
        if fence is None and not hiding.active and "<" not in raw and "[" not in raw and "]" not in raw:
            text = raw.strip(BLANKS)  # the usual line: nothing hides it
            first = text[:1]
            if first in FENCE_MARKS and first and (fence := _opened_fence(raw)) is not None:
                if others:
                    yield None
                continue
            if first in SLASHES and first and raw.startswith(INDENTED):  # an indented code line
                if others:
                    yield None
                continue
        elif fence is not None:  # in a code block: only its closing fence matters
            if _closes(raw, fence):
                fence = None
            if others:
                yield None
            continue
        else:
            hiding.settle(raw)
            # in markup (a comment, a tag, a link's title…) or in <pre>, <code>, a fence is text
            if not hiding.in_markup and not hiding.in_code and (fence := _opened_fence(raw)) is not None:
                if others:
                    yield None
                continue
            plain = not hiding.active
            said, text = hiding.read(raw)
            in_paragraph = hiding.in_paragraph
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


def _name(text: str) -> str | None:
    """The command's name (lower case) in a line that may be a command: a slash and at most `MAX_NAME` letters,
    digits, `-` or `_`, then a blank, `:`, `,` or the line's end, in ASCII or their full-width forms (what NFKC reads
    as them). Only the first `NAME_READ` characters of the line are read."""
    head = text[:NAME_READ]
    if not head.isascii():
        head = head.translate(FULL_WIDTH)
    found = COMMAND_NAME.match(head)
    if found is None or found.end() == len(head) < len(text):  # (the name goes on past what was read)
        return None
    return found["name"].lower()


def command_reach(most: int, longest: int) -> int:
    """How many characters of a command's line that are not separators (blanks, `,`, `:`, quotes) are read of it
    (normalised, NFKC): its slash and name, then `most` arguments one character longer than `longest`. A line that
    goes on past that holds at least `most` arguments or one longer than `longest` (every character read that is
    not a separator is in an argument): however its arguments read, a handler that takes fewer than `most` of at
    most `longest` characters refuses the command."""
    return 1 + MAX_NAME + most * (longest + 1)


def _normalised(text: str, reach: int | None) -> str:
    """`text` as NFKC reads it (full-width forms as their ASCII twins), stripped; with `reach`, only until more than
    `reach` characters that are not separators were read: a piece of `READ_STEP` characters or so at a time, cut
    where NFKC joins nothing across (`CUT_BEFORE`), so what one character becomes (up to 18) is bounded too."""
    if text.isascii():
        return text
    if reach is None:
        return unicodedata.normalize("NFKC", text).strip(BLANKS)
    pieces: list[str] = []
    position, length, read = 0, len(text), 0
    while position < length and read <= reach:
        end = min(length, position + READ_STEP)
        if end < length:
            cut = CUT_BEFORE.search(text, end, end + READ_STEP)
            end = cut.start() if cut else end
        piece = unicodedata.normalize("NFKC", text[position:end])
        pieces.append(piece)
        read += len(piece) - SEPARATORS.subn("", piece)[1]
        position = end
    return "".join(pieces).strip(BLANKS)


def _arguments_of(text: str, most: int | None, reach: int | None) -> tuple[str, ...] | None:
    """The arguments of the command on line `text` (None when, normalised, it names none)."""
    line = _normalised(text, reach)
    found = COMMAND_NAME.match(line)
    return None if found is None else _arguments(line[found.end():], most)


@dataclass(frozen=True, slots=True)
class Reading:
    """The commands of a comment as read: distinct, in order, and whether command lines were left unread."""

    commands: tuple[ParsedCommand, ...]
    more: bool = False


def read_commands(body: str, names: Container[str] | None = None, limit: int | None = None,
                  max_args: int | None = None, max_length: int | None = None) -> Reading:
    """The commands of a comment whose names are in `names` (default: any name), from its first `limit` lines
    that hold one (an identical line twice counts once; default: every line), each with at most `max_args` + 1
    arguments (enough to tell that there are too many; default: all). With `max_length` (the longest argument a
    command takes) too, a line is read up to `command_reach` characters: one longer gives a command with too many
    arguments or too long a one, whatever it holds past that."""
    commands: list[ParsedCommand] = []
    seen: set[tuple[str, tuple[str, ...]]] = set()
    most = None if max_args is None else max_args + 1
    reach = None if most is None or max_length is None else command_reach(most, max_length)
    read = 0
    for text in _lines(body, others=False):
        assert text is not None
        name = _name(text)
        if name is None or (names is not None and name not in names):
            continue
        if limit is not None and read >= limit:
            return Reading(tuple(commands), more=True)
        read += 1
        args = _arguments_of(text, most, reach)
        if args is None:
            continue
        if (name, args) not in seen:
            seen.add((name, args))
            commands.append(ParsedCommand(name, args, text))
    return Reading(tuple(commands))


def parse_commands(body: str) -> list[ParsedCommand]:
    """Every command of a comment, in order (an identical line twice counts once)."""
    return list(read_commands(body).commands)


def only_commands(body: str) -> bool:
    """Whether a comment says nothing but commands (quoted lines aside): it is then no contribution in itself.
    Only the names are read (nothing is normalised past a line's first `NAME_READ` characters)."""
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
