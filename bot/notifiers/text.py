"""Text helpers the notifiers share: Markdown read as inline runs, converted to Slack's mrkdwn, fields as a
Markdown list, and truncation that keeps a message within a platform's size limit and ends it with "…".

Notification bodies are small Markdown: **bold**, *italic*, ~~strike~~, `code`, [text](url), `#` headings,
lists and line breaks. Nested markup (a bold link) is read as its outer element only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

ELLIPSIS = "…"

# What a link or button that opens `Notification.link` says, by language.
LINK_LABELS = {"zh": "查看详情", "en": "Open"}

_INLINE = re.compile(
    r"(?P<code>`[^`\n]+`)"
    r"|\[(?P<label>[^\]\n]+)\]\((?P<href>[^)\s]+)\)"
    r"|\*\*(?P<bold>.+?)\*\*"
    r"|__(?P<bold2>.+?)__"
    r"|(?<![\w*])\*(?P<italic>[^*\s](?:[^*\n]*[^*\s])?)\*(?![\w*])"
    r"|(?<![\w_])_(?P<italic2>[^_\s](?:[^_\n]*[^_\s])?)_(?![\w_])"
    r"|~~(?P<strike>.+?)~~"
)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_COMPLETE_LINK = re.compile(r"\[[^\]\n]*\]\([^)\s]*\)")


@dataclass(frozen=True, slots=True)
class Run:
    """A piece of one line: plain text, or text with one kind of markup."""

    text: str
    kind: str = "text"  # text, bold, italic, strike, code, link
    href: str | None = None


def inline_runs(line: str) -> list[Run]:
    """One line of Markdown as runs of plain and marked-up text (the markup characters removed)."""
    runs: list[Run] = []
    position = 0
    for match in _INLINE.finditer(line):
        if match.start() > position:
            runs.append(Run(line[position:match.start()]))
        if match["code"]:
            runs.append(Run(match["code"][1:-1], "code"))
        elif match["href"]:
            runs.append(Run(match["label"], "link", match["href"]))
        elif match["bold"] is not None or match["bold2"] is not None:
            runs.append(Run(match["bold"] if match["bold"] is not None else match["bold2"], "bold"))
        elif match["italic"] is not None or match["italic2"] is not None:
            runs.append(Run(match["italic"] if match["italic"] is not None else match["italic2"], "italic"))
        else:
            runs.append(Run(match["strike"], "strike"))
        position = match.end()
    if position < len(line):
        runs.append(Run(line[position:]))
    return runs


def heading(line: str) -> str | None:
    """The text of a Markdown `#` heading line, or None when the line is not one."""
    match = _HEADING.match(line)
    return match.group(2) if match else None


# -- Slack ------------------------------------------------------------------------------------------------------

def slack_escape(text: str) -> str:
    """Slack's three control characters escaped, as its formatting rules ask."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_SLACK_MARKS = {"bold": "*", "italic": "_", "strike": "~", "code": "`"}


def slack_mrkdwn(markdown: str) -> str:
    """Markdown in Slack's mrkdwn: **bold** → *bold*, *italic* → _italic_, ~~x~~ → ~x~, [text](url) → <url|text>,
    a `#` heading → a bold line; &, < and > escaped everywhere else."""
    lines = []
    for line in markdown.split("\n"):
        title = heading(line)
        if title is not None:
            lines.append(f"*{slack_escape(title)}*" if title else "")
            continue
        parts = []
        for run in inline_runs(line):
            text = slack_escape(run.text)
            if run.kind == "link":
                parts.append(f"<{slack_escape(run.href or '')}|{text}>")
            elif run.kind in _SLACK_MARKS:
                mark = _SLACK_MARKS[run.kind]
                parts.append(f"{mark}{text}{mark}")
            else:
                parts.append(text)
        lines.append("".join(parts))
    return "\n".join(lines)


# -- fields -----------------------------------------------------------------------------------------------------

def fields_markdown(fields: Iterable[tuple[str, str]], prefix: str = "- ") -> str:
    """(label, value) pairs as Markdown lines `- **label**: value` (`prefix` "> " makes them quotes)."""
    return "\n".join(f"{prefix}**{label}**: {value}" for label, value in fields)


def link_label(language: str) -> str:
    return LINK_LABELS.get(language, LINK_LABELS["en"])


# -- truncation -------------------------------------------------------------------------------------------------

def _clean_cut(prefix: str) -> str:
    """A cut Markdown prefix without the half of a link, bold pair or code span the cut left open."""
    prefix = prefix.rstrip()
    start = prefix.rfind("[")
    if start != -1 and not _COMPLETE_LINK.match(prefix, start):
        prefix = prefix[:start].rstrip()
    for mark in ("**", "~~", "`"):
        if prefix.count(mark) % 2:
            prefix = prefix[:prefix.rfind(mark)].rstrip()
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
