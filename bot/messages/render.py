"""Messages users see: Jinja2 templates with ids, in zh and en (bot/templates/{zh,en}/ID.md.j2).

Three environments over the same templates:
- `render`: text as the template writes it (forge comments, titles, command answers);
- `render_message`: a notification's Markdown body: every value is escaped for Markdown on its way in
  (`bot.messages.escape.markdown_escape`, at most MAX_VALUE_CHARS of it), so what a person wrote can become no
  link, image, emphasis or heading;
  `|link` writes a URL cobot knows as a link's target (http(s) only), `|code` a value as a code span, and a
  macro's output or `|safe` is already Markdown. Each channel then escapes the text for its own syntax;
- `render_html`: HTML (the e-mail digest), every value HTML-escaped; `|link` keeps only http(s) addresses.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from bot.messages.escape import Markdown, inline_code, markdown_escape, safe_link

LANGUAGES = ("zh", "en")
NO_LINK = "#"  # what `|link` writes for an address it refuses: a target no channel makes a link of
MAX_VALUE_CHARS = 1000  # of one value in a message (titles are at most 256 on GitHub; excerpts are cut at 280)


@lru_cache(maxsize=1)
def _environment() -> Environment:
    environment = Environment(loader=PackageLoader("bot", "templates"), undefined=StrictUndefined,
                              auto_reload=False, keep_trailing_newline=False, autoescape=False, trim_blocks=True,
                              lstrip_blocks=True)
    environment.filters.update(link=_markdown_link, code=inline_code)  # the same templates render in both
    return environment


def _as_markdown(value: Any) -> Any:
    """What `{{ value }}` writes in a message: Markdown as it is; anything else escaped to show as written, and at
    most MAX_VALUE_CHARS characters of it (a title a forge let grow to megabytes costs no more than a long one)."""
    if isinstance(value, Markup):
        return value
    text = str(value)
    if len(text) > MAX_VALUE_CHARS:
        text = text[:MAX_VALUE_CHARS - 1] + "…"
    return Markdown(markdown_escape(text))


def _markdown_link(value: Any) -> Markdown:
    return Markdown(safe_link(value) or NO_LINK)


@lru_cache(maxsize=1)
def _message_environment() -> Environment:
    # Autoescape marks the template's own text and its macros' output as Markdown (Markup); `finalize` escapes
    # every other value for Markdown before Jinja would escape it for HTML, so no value ever meets HTML escaping.
    environment = Environment(loader=PackageLoader("bot", "templates"), undefined=StrictUndefined,
                              auto_reload=False, keep_trailing_newline=False, autoescape=True, trim_blocks=True,
                              lstrip_blocks=True, finalize=_as_markdown)
    environment.filters.update(link=_markdown_link, code=inline_code)
    return environment


@lru_cache(maxsize=1)
def _html_environment() -> Environment:
    environment = Environment(loader=PackageLoader("bot", "templates"), undefined=StrictUndefined,
                              auto_reload=False, autoescape=True, trim_blocks=True, lstrip_blocks=True)
    environment.filters["link"] = lambda value: safe_link(value) or NO_LINK
    return environment


def render_html(template_id: str, language: str, **values: Any) -> str:
    """Render HTML message `template_id` (bot/templates/LANG/ID.html.j2), every value escaped."""
    lang = language if language in LANGUAGES else "en"
    return _html_environment().get_template(f"{lang}/{template_id}.html.j2").render(**values)


def render(template_id: str, language: str, **values: Any) -> str:
    """Render message `template_id` in `language` (falls back to English for an unknown language)."""
    lang = language if language in LANGUAGES else "en"
    return _environment().get_template(f"{lang}/{template_id}.md.j2").render(**values).strip()


def render_message(template_id: str, language: str, **values: Any) -> str:
    """Render the Markdown of a message sent to people (a notification's body, the digest): like `render`, with
    every value escaped for Markdown (see the module's docstring)."""
    lang = language if language in LANGUAGES else "en"
    return str(_message_environment().get_template(f"{lang}/{template_id}.md.j2").render(**values)).strip()


def marker(key: str) -> str:
    """The hidden text that lets cobot find a comment it posted (and so never post it twice)."""
    return f"<!-- cobot:{key} -->"
