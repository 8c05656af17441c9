"""Text helpers the notifiers share: Markdown read line by line into runs (markdown-it-py, CommonMark), written
back in each chat tool's syntax with everything but the markup escaped for it, fields as a Markdown list, and
truncation that keeps a message within a platform's size limit and ends it with "…".

Notification bodies are small Markdown: **bold**, *italic*, ~~strike~~, `code`, [text](url), ![alt](url), `#`
headings, "- " lists, "> " quotes and line breaks. Whatever a person wrote arrives backslash-escaped
(`bot.messages.escape.markdown_escape`), so it reads as text here; nested markup (a bold link) is read as its
outer element only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from markdown_it import MarkdownIt

from bot.messages.escape import chat_escape, safe_link, slack_escape

__all__ = ["ELLIPSIS", "Line", "Run", "chat_markdown", "cut", "fields_markdown", "fit", "heading", "inline_runs",
           "line_parts", "link_label", "one_line", "slack_escape", "slack_mrkdwn", "truncate_bytes", "truncate_chars"]

ELLIPSIS = "…"

# What a link or button that opens `Notification.link` says, by language.
LINK_LABELS = {"zh": "查看详情", "en": "Open"}

# CommonMark's inline rules and GFM's strikethrough; HTML is text (html=False), no typographic replacements.
_PARSER = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("strikethrough")
_STYLE_OPENERS = {"strong_open": "bold", "em_open": "italic", "s_open": "strike"}
_STYLE_CLOSERS = {"strong_close", "em_close", "s_close"}
_HEADING = re.compile(r"^(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_BLOCK_MARKER = re.compile(r"^[ \t]*(?:[-*+][ \t]+|\d{1,9}[.)][ \t]+|>[ \t]?)")
_ESCAPE = re.compile(r"\\[!-/:-@\[-`{-~]")
_COMPLETE_LINK = re.compile(r"!?\[[^\]\n]*\]\([^)\s]*\)")


@dataclass(frozen=True, slots=True)
class Run:
    """A piece of one line: plain text, or text with one kind of markup."""

    text: str
    kind: str = "text"  # text, bold, italic, strike, code, link, image
    href: str | None = None  # link: its target; image: its source (as the Markdown wrote them; see safe_link)


def inline_runs(line: str) -> list[Run]:
    """One line of Markdown as runs of plain and marked-up text (markup and escapes removed, entities read)."""
    runs: list[Run] = []
    styles: list[str] = []
    href: str | None = None

    def add(text: str, kind: str, target: str | None = None) -> None:
        if not text:
            return
        if runs and runs[-1].kind == kind and runs[-1].href == target and kind not in ("code", "image"):
            runs[-1] = Run(runs[-1].text + text, kind, target)
        else:
            runs.append(Run(text, kind, target))

    tokens = (_PARSER.parseInline(line)[0].children or []) if line else []
    for token in tokens:
        if token.type in _STYLE_OPENERS:
            styles.append(_STYLE_OPENERS[token.type])
        elif token.type in _STYLE_CLOSERS:
            if styles:
                styles.pop()
        elif token.type == "link_open":
            href = str(token.attrs.get("href") or "")
        elif token.type == "link_close":
            href = None
        elif href is not None:  # a link's label, whatever markup it holds
            add(token.content, "link", href)
        elif token.type == "code_inline":
            add(token.content, "code")
        elif token.type == "image":
            add(token.content, "image", str(token.attrs.get("src") or ""))
        elif token.type in ("softbreak", "hardbreak"):
            add(" ", styles[0] if styles else "text")
        else:
            add(token.content, styles[0] if styles else "text")
    return runs


def heading(line: str) -> str | None:
    """The text of a Markdown `#` heading line (still Markdown), or None when the line is not one."""
    match = _HEADING.match(line)
    if match is None or (match.group(2) is None and line.strip("# \t")):
        return None
    return match.group(2) or ""


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a body: a heading (`level` > 0), or a block marker as written ("- ", "> ", "1. ", "") and the
    Markdown after it."""

    marker: str
    rest: str
    level: int = 0


def line_parts(line: str) -> Line:
    title = heading(line)
    if title is not None:
        return Line("", title, len(line) - len(line.lstrip("#")))
    marker = _BLOCK_MARKER.match(line)
    return Line(marker[0], line[marker.end():]) if marker else Line("", line)


# -- Slack ------------------------------------------------------------------------------------------------------

_SLACK_MARKS = {"bold": "*", "italic": "_", "strike": "~", "code": "`"}


def _write_runs(markdown: str, escape: Callable[[str], str], marks: dict[str, str],
                link: Callable[[str, str, str], str]) -> str:
    """One line of Markdown in a chat tool's syntax: each run's text escaped (`escape`), emphasis and code with the
    tool's `marks`, a link or an image to a safe address written by `link(text, address, kind)`, any other as text."""
    parts = []
    for run in inline_runs(markdown):
        text = escape(run.text)
        target = safe_link(run.href) if run.kind in ("link", "image") else None
        if target is not None:
            parts.append(link(text, target, run.kind))
        elif run.kind in marks:
            parts.append(f"{marks[run.kind]}{text}{marks[run.kind]}")
        else:
            parts.append(text)
    return "".join(parts)


def _slack_runs(markdown: str) -> str:
    return _write_runs(markdown, slack_escape, _SLACK_MARKS,
                       lambda text, target, _kind: f"<{slack_escape(target)}|{text}>")


def slack_mrkdwn(markdown: str) -> str:
    """Markdown in Slack's mrkdwn: **bold** → *bold*, *italic* → _italic_, ~~x~~ → ~x~, [text](url) → <url|text>,
    a `#` heading → a bold line; &, < and > escaped everywhere else (so no mention or link is made of text)."""
    lines = []
    for line in markdown.split("\n"):
        title = heading(line)
        if title is None:
            lines.append(_slack_runs(line))
        else:
            lines.append(f"*{_slack_runs(title)}*" if title else "")
    return "\n".join(lines)


# -- Feishu lark_md, DingTalk and WeCom Markdown ----------------------------------------------------------------

_CHAT_MARKS = {"bold": "**", "italic": "*", "strike": "~~", "code": "`"}


def _chat_runs(markdown: str, images: bool) -> str:
    return _write_runs(markdown, chat_escape, _CHAT_MARKS,
                       lambda text, target, kind: f"{'!' if images and kind == 'image' else ''}[{text}]({target})")


def chat_markdown(markdown: str, *, headings: bool = True, images: bool = False) -> str:
    """Markdown rewritten for a chat tool's own Markdown (Feishu lark_md, DingTalk, WeCom): the markup as it was
    (headings, or bold lines when the tool has none; list and quote markers; bold, italic, strike, code; links to
    http(s) addresses; images when the tool shows them, else links), every text escaped with `chat_escape`."""
    lines = []
    for line in markdown.split("\n"):
        parts = line_parts(line)
        text = _chat_runs(parts.rest, images)
        if parts.level and headings:
            lines.append(f"{'#' * parts.level} {text}")
        elif parts.level:
            lines.append(f"**{text}**" if text else "")
        else:
            lines.append(parts.marker + text)
    return "\n".join(lines)


# -- fields -----------------------------------------------------------------------------------------------------

def fields_markdown(fields: Iterable[tuple[str, str]], prefix: str = "- ",
                    escape: Callable[[str], str] = chat_escape) -> str:
    """(label, value) pairs, which are plain text, as Markdown lines `- **label**: value` (`prefix` "> " makes them
    quotes), each text escaped with `escape`."""
    return "\n".join(f"{prefix}**{escape(label)}**: {escape(value)}" for label, value in fields)


def link_label(language: str) -> str:
    return LINK_LABELS.get(language, LINK_LABELS["en"])


def one_line(text: str) -> str:
    """Plain text on one line (a title inside a heading or bold): whitespace runs become one space."""
    return " ".join(text.split())


# -- truncation -------------------------------------------------------------------------------------------------

def _clean_cut(prefix: str) -> str:
    """A cut Markdown prefix without the half of an escape, link, bold pair or code span the cut left open."""
    prefix = prefix.rstrip()
    masked = _ESCAPE.sub("\0\0", prefix)  # escaped characters are text, never markup
    if masked.endswith("\\"):  # an escape whose character was cut off
        prefix, masked = prefix[:-1].rstrip(), masked[:-1].rstrip()
    start = masked.rfind("[")
    if start > 0 and masked[start - 1] == "!":  # an image's "!["
        start -= 1
    if start != -1 and not _COMPLETE_LINK.match(masked, start):
        prefix, masked = prefix[:start].rstrip(), masked[:start].rstrip()
    for mark in ("**", "~~", "`"):
        if masked.count(mark) % 2:
            end = masked.rfind(mark)
            prefix, masked = prefix[:end].rstrip(), masked[:end].rstrip()
    return prefix


def cut(text: str, length: int) -> str:
    """The first `length` characters of `text`, cut cleanly, followed by "…"."""
    return _clean_cut(text[:length]) + ELLIPSIS


def fit(text: str, fits: Callable[[str], bool]) -> str | None:
    """`text` when `fits(text)`; else its longest clean cut ending with "…" that fits; None when not even "…"
    alone fits. `fits` is called O(log len(text)) times (each call may render a whole message)."""
    if fits(text):
        return text
    low, high, best = 0, len(text) - 1, None
    while low <= high:
        middle = (low + high) // 2
        candidate = cut(text, middle)
        if fits(candidate):
            best, low = candidate, middle + 1
        else:
            high = middle - 1
    if best is None and fits(ELLIPSIS):
        return ELLIPSIS
    return best


def truncate_bytes(text: str, limit: int) -> str:
    """`text` in at most `limit` bytes of UTF-8 (cut cleanly, ending with "…" when cut)."""
    return fit(text, lambda candidate: len(candidate.encode()) <= limit) or ""


def truncate_chars(text: str, limit: int) -> str:
    """`text` in at most `limit` characters (cut cleanly, ending with "…" when cut)."""
    return fit(text, lambda candidate: len(candidate) <= limit) or ""
