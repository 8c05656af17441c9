"""Messages users see: Jinja2 templates with ids, in zh and en (bot/templates/{zh,en}/ID.md.j2)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

LANGUAGES = ("zh", "en")


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(loader=PackageLoader("bot", "templates"), undefined=StrictUndefined, auto_reload=False,
                       keep_trailing_newline=False, autoescape=False, trim_blocks=True, lstrip_blocks=True)


@lru_cache(maxsize=1)
def _html_environment() -> Environment:
    return Environment(loader=PackageLoader("bot", "templates"), undefined=StrictUndefined, auto_reload=False,
                       autoescape=True, trim_blocks=True, lstrip_blocks=True)


def render_html(template_id: str, language: str, **values: Any) -> str:
    """Render HTML message `template_id` (bot/templates/LANG/ID.html.j2), every value escaped."""
    lang = language if language in LANGUAGES else "en"
    return _html_environment().get_template(f"{lang}/{template_id}.html.j2").render(**values)


def render(template_id: str, language: str, **values: Any) -> str:
    """Render message `template_id` in `language` (falls back to English for an unknown language)."""
    lang = language if language in LANGUAGES else "en"
    return _environment().get_template(f"{lang}/{template_id}.md.j2").render(**values).strip()


def marker(key: str) -> str:
    """The hidden text that lets cobot find a comment it posted (and so never post it twice)."""
    return f"<!-- cobot:{key} -->"
