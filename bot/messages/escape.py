"""Escaping what a person wrote, for the Markdown cobot renders and for each chat tool it writes to.

A notification is made in two steps, and each escapes:

1. **Template → Markdown.** `bot.messages.render.render_message` gives a template every value escaped for CommonMark
   (`markdown_escape`: backslashes before the characters that make links, images, emphasis, code and headings; line
   breaks become spaces), so nothing a person wrote (a title, an excerpt, a login, a label) becomes Markdown. The
   template writes the markup around the values, and a link's target with `|link` (`safe_link`): only URLs cobot
   itself knows, such as the forge's address of the issue.
2. **Markdown → a channel.** Each channel's writer reads that Markdown (`bot.notifiers.text`) and escapes every
   piece of text for its own syntax before it writes it: `slack_escape` for Slack (`<!channel>`, `<@U…>`,
   `<url|text>` all start with "<"), `chat_escape` for Feishu's `lark_md`, DingTalk's and WeCom's Markdown (the
   characters of their `<at id=all>`, `<@userid>`, `<font>`, `[text](url)` and `@mobile` become look-alikes),
   `feishu_text_escape` for Feishu's plain `post` text, HTML escaping for e-mail. Links and images are written only
   where the Markdown had one, and only to an http(s) address.

So a mention or a link reaches a chat tool only when a template made it; what a person wrote is shown as written.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from markupsafe import Markup

__all__ = ["Markdown", "chat_escape", "feishu_text_escape", "inline_code", "markdown_escape", "safe_link",
           "slack_escape"]

# -- step 1: a value in Markdown -----------------------------------------------------------------------------------

LINE_BREAKS = re.compile(r"\r\n|[\n\r\v\f\x85\u2028\u2029]")
_ALWAYS = frozenset("\\`*[]<>~")  # escapes, code, emphasis, links and images, autolinks and HTML, strikethrough
# At the start of a value (which may start a line): a heading, a list item, a thematic break, an ordered item.
_LEADING = re.compile(r"^([ \t]*)(?:(#)|([-+])(?=[ \t]|$)|(-)(?=-)|(\d{1,9})([.)])(?=[ \t]|$))")


def _intraword(text: str, index: int) -> bool:
    """Whether text[index] sits between two letters or digits (an "_" there makes no emphasis in CommonMark)."""
    return 0 < index < len(text) - 1 and text[index - 1].isalnum() and text[index + 1].isalnum()


def markdown_escape(text: str) -> str:
    """`text` as CommonMark that shows exactly `text` and nothing else: no link, image, emphasis, code span, HTML,
    entity, heading or list item comes out of it. It is a value inside a line, so its line breaks become spaces;
    NUL becomes U+FFFD, as CommonMark reads it."""
    text = LINE_BREAKS.sub(" ", text).replace("\0", "\ufffd")
    out: list[str] = []
    for index, char in enumerate(text):
        if char in _ALWAYS or (char == "_" and not _intraword(text, index)) or (
                char == "&" and index + 1 < len(text) and (text[index + 1] == "#" or text[index + 1].isalnum())):
            out.append("\\")
        out.append(char)
    escaped = "".join(out)
    leading = _LEADING.match(escaped)
    if leading:
        spaces, hashes, bullet, dash, digits, dot = leading.groups()
        if digits:
            return f"{spaces}{digits}\\{dot}{escaped[leading.end():]}"
        return f"{spaces}\\{hashes or bullet or dash}{escaped[leading.end():]}"
    return escaped


class Markdown(Markup):
    """Text that is already Markdown (a template's output, a filter's): never escaped again. Combined with a plain
    string (`+`, `%`, `join`, `format`), it escapes that string with `markdown_escape`."""

    __slots__ = ()

    @classmethod
    def escape(cls, s: object) -> Markdown:  # type: ignore[override]
        if isinstance(s, Markup):
            return cls(str(s))
        return cls(markdown_escape(str(s)))


def inline_code(value: object) -> Markdown:
    """`value` as a Markdown code span (what the `|code` filter writes): shown as written, in a monospace font.
    Backticks inside become "ˋ" (a span cannot hold its own delimiter) and line breaks spaces."""
    text = LINE_BREAKS.sub(" ", str(value)).replace("`", "ˋ").replace("\0", "\ufffd")
    if not text.strip():
        return Markdown(markdown_escape(text))
    return Markdown(f"`{text}`")


# -- links ---------------------------------------------------------------------------------------------------------

WEB_SCHEMES = frozenset({"http", "https"})
# Kept as they are in the path, query and fragment; everything else (quotes, brackets, parentheses, <, >, `, |,
# non-ASCII) is percent-encoded, so the address cannot end a Markdown link, a Slack <url|text> or an HTML attribute
# early. A host is letters, digits and the few characters of RFC 3986 (IPv6 in brackets), or the link is refused.
_URL_SAFE = ":/?#@!$&+,;=-._~%"
_HOST = re.compile(r"[A-Za-z0-9.\-_~%!$&+,;=:@\[\]]+")
_CONTROL = re.compile(r"[\x00-\x20\x7f-\x9f]")


def safe_link(url: object, schemes: frozenset[str] = WEB_SCHEMES) -> str | None:
    """`url` ready to be a link's target in any channel (percent-encoded where Markdown, Slack or HTML would read it
    as syntax), or None when it is not an absolute address with one of `schemes` (http and https by default: never
    javascript:, data:, a relative path) or holds a space, a control character or a backslash."""
    if not isinstance(url, str) or not url or _CONTROL.search(url) or "\\" in url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        return None
    if scheme in WEB_SCHEMES and not _HOST.fullmatch(parts.netloc):
        return None
    return parts._replace(path=_encoded(parts.path), query=_encoded(parts.query),
                          fragment=_encoded(parts.fragment)).geturl()


_LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _encoded(part: str) -> str:
    """A URL's path, query or fragment percent-encoded (a "%" that starts no %XX too, as CommonMark reads it)."""
    return _LONE_PERCENT.sub("%25", quote(part, safe=_URL_SAFE))


# -- step 2: text in each channel's syntax ------------------------------------------------------------------------

def slack_escape(text: str) -> str:
    """Slack's three control characters escaped, as its formatting rules ask: every mention (`<!channel>`,
    `<!here>`, `<@U…>`, `<#C…>`, `<!subteam^…>`) and link (`<url|text>`) starts with "<"."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Look-alike characters: the text reads the same, and no Markdown or tag parser sees syntax in it.
_CHAT_CHARACTERS = str.maketrans({"<": "＜", ">": "＞", "[": "［", "]": "］", "`": "ˋ", "\\": "＼"})
_CHAT_RUNS = re.compile(r"\*{2,}|_{2,}|~{2,}")  # what opens or closes bold, strikethrough (a single one stays)
_FULL_WIDTH = {"*": "＊", "_": "＿", "~": "～"}
_SCHEME_SEPARATOR = re.compile(r":(?=//)")  # so that the chat client makes no link of https://…
_MOBILE_MENTION = re.compile(r"@(?=\d)")  # DingTalk's @13800000000


def chat_escape(text: str) -> str:
    """`text` for Feishu's `lark_md`, DingTalk's and WeCom's Markdown, which have no escape character: "<" and ">"
    (so no `<at id=all>`, `<at user_id=…>`, `<@userid>`, `<font>`, `<a href>`, `<https://…>`), "[" and "]" (no
    `[text](url)`, `![image](url)`, `[text][ref]`), backticks and backslashes (which would escape the message's
    own markup) become full-width look-alikes; runs of "**", "__" and "~~" too (they would close the message's own
    bold); "@" before a digit becomes "＠" (no DingTalk mobile mention); "://" becomes "：//" (no address the
    client makes a link)."""
    text = text.translate(_CHAT_CHARACTERS)
    text = _CHAT_RUNS.sub(lambda run: "".join(_FULL_WIDTH[char] for char in run[0]), text)
    text = _SCHEME_SEPARATOR.sub("：", text)
    return _MOBILE_MENTION.sub("＠", text)


def feishu_text_escape(text: str) -> str:
    """`text` for a Feishu `post` message's text element (plain text): "<" as a look-alike (no `<at …>` tag, even
    if a client read one) and "://" as "：//" (no address made a link)."""
    return _SCHEME_SEPARATOR.sub("：", text.replace("<", "＜"))
