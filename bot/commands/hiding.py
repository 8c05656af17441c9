"""What hides text in a comment from its readers, followed line by line in one pass (`bot.commands.parser` reads
commands only from what is left: a command hidden from readers does not run).

GitHub and Gitee render Markdown with raw HTML. What they render invisibly, as code or folded away is not what a
reader sees; followed here as it opens and closes, across lines:

- an HTML comment `<!-- … -->`, CDATA `<![CDATA[ … ]]>`, a processing instruction `<? … ?>`, a declaration
  `<!X … >` (never shown);
- an HTML tag, from `<` and a letter or `/` to its `>`, attributes included: a quoted value may hold `>` and line
  ends (`<div title="…">`, `<img alt="…">`: shown at most on hover);
- what is inside `<pre>` and `<code>` (code), `<details>` (folded away), `<script>`, `<style>`, `<template>` and
  `<textarea>` (not shown as text);
- a link's destination and title, inline (`[text](url "title")`) or in a link reference definition
  (`[label]: url "title"`, the destination and title perhaps on the next lines), and a label (`[label]: …`,
  `[text][label]`): each may span lines (not a blank one) and none is shown.

Where the rendering is unclear (a `<` and a letter that GitHub may show as text, a bracket that may not be a link),
the text is taken for hidden: a hidden command that runs is a vulnerability, a visible one that does not is an
inconvenience. So a comment is read twice over, as HTML (tags, comments…; brackets are text) and as links (brackets;
`<` is text), and a line is seen only where both readings see it: which one GitHub applies depends on what it
resolves (a tag inside a link's title is text, inside a label that names no definition it is a tag). What is not
closed hides the rest of the comment (a link's parts: the rest of their paragraph).
Each step costs one `str.find` or one possessive pattern from where the last one stopped (nothing is read twice),
and at most `MAX_MARKUP` steps are taken in a comment: past that, the rest is taken for hidden (`exhausted`).
"""

from __future__ import annotations

import re
from enum import Enum, auto

MAX_MARKUP = 1_024  # steps through markup in one comment: an HTML comment, a tag, a quoted value, a link's part…
HIDING_TAGS = frozenset({"pre", "code", "details", "script", "style", "template", "textarea"})
CODE_TAGS = ("pre", "code")
TITLE_OPENERS = ('"', "'", "(")
# where hiding may start, in text read as HTML: `<` and a letter, `/`, `!` or `?`; read as links: a link's
# destination `](`, a label `][` (and a line that starts with `[`: `DEFINITION_START`)
HTML_OPENING = re.compile(r"<[A-Za-z/!?]")
LINK_OPENING = re.compile(r"\][(\[]")
# what reads on up to a closing string: an HTML comment, CDATA, a processing instruction, a declaration (the
# first that opens; where GitHub and a browser disagree on the end, the later one: `<![CDATA[ > ]]>`, `<?x > ?>`)
UNTIL_CLOSED = (("<!--", "-->"), ("<![CDATA[", "]]>"), ("<?", "?>"), ("<!", ">"))
TAG_NAME = re.compile(r"[A-Za-z][^\s/>]*+")  # as HTML reads it: up to a blank, `/` or `>`
# in a tag: a quoted value (or `=` at the line's end: the value may start on the next line), or the tag's end
IN_TAG = re.compile(r"""=[ \t]*+(?:(?P<quote>["'])|$)|>""")
BLANKS = re.compile(r"[ \t]*+")
# a link's destination (after `](`): up to a title (in quotes or parentheses) or the link's `)`; `\` escapes
IN_LINK = re.compile(r"""(?:[^"'()\\]++|\\.)*+(?P<mark>["'()])?""")
TITLE_END = {closer: re.compile(rf"(?:[^{re.escape(closer)}\\]++|\\.)*+{re.escape(closer)}") for closer in "\"')"}
LABEL_END = re.compile(r"(?:[^\]\\]++|\\.)*+\]")
DESTINATION = re.compile(r"<[^>]*+>|[^ \t]++")
# a line that may start a link reference definition: container marks (`>`, a list item's), then `[`
DEFINITION_START = re.compile(r"(?:[ \t]*+(?:>|[-+*](?=[ \t])|\d{1,9}+[.)](?=[ \t])))*+[ \t]*+\[")


class Mode(Enum):
    TEXT = auto()
    UNTIL = auto()  # an HTML comment, CDATA, a processing instruction, a declaration: until `closer`
    TAG = auto()  # in a tag (`quote`: in a quoted value)
    LINK = auto()  # a link's destination, after `](`
    TITLE = auto()  # a link's or a definition's title, until `closer`
    LABEL = auto()  # a label, until `]`
    DEFINITION = auto()  # after `[label]:`, its destination, then its title


TEXT, UNTIL, TAG, LINK, TITLE, LABEL, DEFINITION = (Mode.TEXT, Mode.UNTIL, Mode.TAG, Mode.LINK, Mode.TITLE,
                                                     Mode.LABEL, Mode.DEFINITION)
PARAGRAPH_MODES = frozenset({LINK, TITLE, LABEL, DEFINITION})  # a blank line ends them


class Hiding:
    """What hides the text that follows as a comment is read, line by line (`read`), both as HTML and as links: a
    line's start is seen only where both readings see it."""

    __slots__ = ("html", "links")

    def __init__(self) -> None:
        self.html = Reader(html=True)
        self.links = Reader(html=False)

    @property
    def active(self) -> bool:
        """Whether anything hides text now, or may (a line is read as it is only when nothing does)."""
        return self.html.mode is not TEXT or self.html.folded > 0 or self.links.mode is not TEXT

    @property
    def in_markup(self) -> bool:
        """Whether the next line goes on inside markup (where a fence is text, not code)."""
        return self.html.mode is not TEXT or self.links.mode is not TEXT

    @property
    def in_code(self) -> bool:
        """Whether <pre> or <code> is open (in them, a fence is text)."""
        return self.html.code > 0

    @property
    def in_paragraph(self) -> bool:
        """Whether a link's part, a label or a definition is being read (a blank line ends them, not HTML)."""
        return self.links.mode in PARAGRAPH_MODES

    @property
    def exhausted(self) -> bool:
        return self.html.exhausted or self.links.exhausted

    def paragraph_ends(self) -> None:
        """A blank line: a link's parts, a label or a definition end there (HTML goes on)."""
        if self.links.mode in PARAGRAPH_MODES:
            self.links.mode = TEXT

    def settle(self, raw: str) -> None:
        """Before a line is read: a definition whose destination was read goes on only when the line starts with
        its title; otherwise the line is read as it is (it may open a fence)."""
        links = self.links
        if links.mode is DEFINITION and links.destination_read and raw.lstrip(" \t")[:1] not in TITLE_OPENERS:
            links.mode = TEXT

    def read(self, raw: str) -> tuple[bool, str]:
        """Whether `raw` says anything outside HTML comments (markup does), and the text a reader sees at the start
        of the line (none when hidden text, markup or folded text comes first in either reading: what follows is not
        at the start of a line). Follows what opens and closes on the way."""
        said, text = self.html.read(raw)  # (only HTML comments say nothing: a link's parts are markup)
        _, seen = self.links.read(raw)
        return said, text if seen and not seen.isspace() else ""


class Reader:
    """One reading of a comment, as HTML or as links: a mode (see `Mode`), and (as HTML) how many tags that hide
    their content are open. Past `MAX_MARKUP` steps, the rest is hidden (`exhausted`)."""

    __slots__ = ("opening", "mode", "closer", "comment", "quote", "equals", "tag", "closing", "title_then",
                 "may_define", "destination_read", "open_tags", "folded", "code", "steps", "exhausted")

    def __init__(self, html: bool) -> None:
        self.opening = HTML_OPENING if html else LINK_OPENING
        self.mode = TEXT
        self.closer = ""  # what ends an UNTIL or a TITLE
        self.comment = False  # the UNTIL is an HTML comment (which says nothing)
        self.quote: str | None = None  # in a tag: the quote of the value being read
        self.equals = False  # in a tag: the last line ended with `=` (its value may start the next one)
        self.tag: str | None = None  # the tag being read, when it is one that hides its content
        self.closing = False  # the tag being read closes (`</pre>`)
        self.title_then = TEXT  # what a title's end goes back to (a link's destination, or text)
        self.may_define = False  # the label started a line: with `:` after it, it is a definition's
        self.destination_read = False  # the definition's destination was read (a title may follow)
        self.open_tags: dict[str, int] = {}
        self.folded = 0  # how many tags that hide their content are open in all
        self.code = 0  # how many of them are <pre> or <code>
        self.steps = 0
        self.exhausted = False

    @property
    def until(self) -> str | None:
        """What a line must hold to change what is being read (None: not known): a line without it is hidden."""
        mode = self.mode
        if mode is UNTIL or mode is TITLE:
            return self.closer
        if mode is TAG:
            return self.quote
        return "]" if mode is LABEL else None

    def read(self, raw: str) -> tuple[bool, str]:
        """`Hiding.read`, in this reading."""
        mode = self.mode
        if mode is not TEXT:
            until = self.until
            if until is not None and until not in raw:  # hidden, all of it
                return not (mode is UNTIL and self.comment), ""
        elif not self.folded and ("<" not in raw if self.opening is HTML_OPENING else "[" not in raw
                                  and "]" not in raw):
            return not raw.isspace(), raw  # nothing opens: as it is
        return self.cut(raw)

    def cut(self, raw: str) -> tuple[bool, str]:
        """`read`, step by step from what opens and closes on the way."""
        said = started = behind = False
        seen: list[str] = []
        position, length = 0, len(raw)
        opening = self.opening
        if self.mode is TEXT and opening is LINK_OPENING and "[" in raw and \
                (label := DEFINITION_START.match(raw)) is not None:
            if not self._step():
                return True, ""
            said = started = True  # a line that starts with `[` (after list or quote marks) is no command
            self.mode, self.may_define = LABEL, True
            position = label.end()
        while position < length:
            if self.mode is not TEXT:
                says = not (self.mode is UNTIL and self.comment)
                position = self._go_on(raw, position)
                if says:
                    said, behind = True, behind or not started
                if position < length and not self._step():
                    break
                continue
            found = opening.search(raw, position)
            stop = length if found is None else found.start() + (raw[found.start()] == "]")  # `]` is link text
            part = raw[position:stop]
            if part and not part.isspace():
                said = True
                if self.folded:
                    behind = behind or not started
                else:
                    started = True
            if not self.folded:
                seen.append(part)
            if found is None or not self._step():
                break
            position = self._open(raw, found.start())
            if not (self.mode is UNTIL and self.comment):
                said, behind = True, behind or not started
        return said, "" if behind else "".join(seen)

    def _step(self) -> bool:
        self.steps += 1
        if self.steps > MAX_MARKUP:  # the rest is not read
            self.exhausted = True
            return False
        return True

    def _open(self, raw: str, start: int) -> int:
        """Enters what opens at `start` (where `opening` was found); where reading goes on."""
        if raw[start] == "]":
            if raw[start + 1] == "(":
                self.mode = LINK
            else:
                self.mode, self.may_define = LABEL, False
            return start + 2
        kind = raw[start + 1]
        if kind == "!" or kind == "?":
            for opening, closer in UNTIL_CLOSED:  # (one of them opens here)
                if raw.startswith(opening, start):
                    self.mode, self.closer, self.comment = UNTIL, closer, opening == "<!--"
                    return start + len(opening)
        self.comment = False
        self.closing = kind == "/"
        name = TAG_NAME.match(raw, start + 1 + self.closing)
        if name is None:  # `</` and no name: read as a comment up to `>`
            self.mode, self.closer = UNTIL, ">"
            return start + 2
        tag = name.group().lower()
        self.mode, self.quote, self.equals = TAG, None, False
        self.tag = tag if tag in HIDING_TAGS else None
        return name.end()

    def _go_on(self, raw: str, position: int) -> int:
        """Reads on in the current mode from `position`; where reading goes on (the line's length: all of it)."""
        mode, length = self.mode, len(raw)
        if mode is UNTIL:
            end = raw.find(self.closer, position)
            if end < 0:
                return length
            self.mode = TEXT
            return end + len(self.closer)
        if mode is TAG:
            return self._in_tag(raw, position)
        if mode is LINK:
            found = IN_LINK.match(raw, position)
            mark = found["mark"]
            if mark is None:
                return length
            if mark == ")":
                self.mode = TEXT
            else:
                self.mode, self.closer, self.title_then = TITLE, ")" if mark == "(" else mark, LINK
            return found.end()
        if mode is TITLE:
            found = TITLE_END[self.closer].match(raw, position)
            if found is None:
                return length
            self.mode = self.title_then
            return found.end()
        if mode is LABEL:
            return self._after_label(raw, position)
        return self._in_definition(raw, position)

    def _in_tag(self, raw: str, position: int) -> int:
        length = len(raw)
        if self.quote is not None:
            end = raw.find(self.quote, position)
            if end < 0:
                return length
            self.quote = None
            return end + 1
        if self.equals:  # the value after a `=` that ended the last line
            self.equals = False
            position = _past_blanks(raw, position)
            if raw[position:position + 1] in ('"', "'"):
                self.quote = raw[position]
                return position + 1
        found = IN_TAG.search(raw, position)
        if found is None:
            return length
        if found["quote"]:
            self.quote = found["quote"]
        elif found.group() == ">":
            self._tag_ends()
        else:
            self.equals = True
        return found.end()

    def _tag_ends(self) -> None:
        self.mode = TEXT
        if self.tag is None:
            return
        before = self.open_tags.get(self.tag, 0)
        after = max(0, before - 1) if self.closing else before + 1
        self.open_tags[self.tag] = after
        self.folded += after - before
        if self.tag in CODE_TAGS:
            self.code += after - before

    def _after_label(self, raw: str, position: int) -> int:
        found = LABEL_END.match(raw, position)
        if found is None:
            return len(raw)
        position = found.end()
        after = raw[position:position + 1]
        if after == ":" and self.may_define:
            self.mode, self.destination_read = DEFINITION, False
        elif after == "(":
            self.mode = LINK
        elif after == "[":
            self.may_define = False
        else:
            self.mode = TEXT
            return position
        return position + 1

    def _in_definition(self, raw: str, position: int) -> int:
        """After `[label]:`: a destination, then perhaps a title; either may be on the next line."""
        length = len(raw)
        position = _past_blanks(raw, position)
        if position < length and not self.destination_read:
            destination = DESTINATION.match(raw, position)
            position = _past_blanks(raw, destination.end() if destination else length)
            self.destination_read = True
        if position >= length:
            return length
        opener = raw[position]
        if opener in TITLE_OPENERS:
            self.mode, self.closer, self.title_then = TITLE, ")" if opener == "(" else opener, TEXT
            return position + 1
        self.mode = TEXT  # no title: what follows is text (and the definition none)
        return position


def _past_blanks(raw: str, position: int) -> int:
    found = BLANKS.match(raw, position)
    return found.end() if found else position
