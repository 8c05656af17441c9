"""The dashboard pages' words in English and Chinese, and how numbers, moments and durations read in each.

A page's language: `?lang=zh|en` (remembered in the `cobot_lang` cookie), else the cookie, else
`dashboard.language`, else `community.language`. Every text a person reads is a key of TEXTS in both languages: the
words are data, one file per language (bot/web/texts/en.toml, zh.toml); `Texts(language)` is what templates call
(`t("key", name=...)`, `t.when(iso)`, `t.hours(4.5)`…)."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.config import Settings

LANGUAGES = ("en", "zh")
COOKIE = "cobot_lang"
COOKIE_DAYS = 365
HTML_LANG = {"en": "en", "zh": "zh-CN"}
WORDS = Path(__file__).resolve().parent / "texts"

TEXTS: dict[str, dict[str, str]] = {language: tomllib.loads((WORDS / f"{language}.toml").read_text(encoding="utf-8"))
                                     for language in LANGUAGES}  # read once, as the module is


def default_language(settings: Settings) -> str:
    return settings.dashboard.language or settings.community.language


def chosen_language(request: web.Request, settings: Settings) -> tuple[str, bool]:
    """The request's language, and whether it was chosen just now (`?lang=`: to be remembered in the cookie)."""
    asked = request.query.get("lang")
    if asked in LANGUAGES:
        return asked, True
    remembered = request.cookies.get(COOKIE)
    if remembered in LANGUAGES:
        return remembered, False
    found = default_language(settings)
    return (found if found in LANGUAGES else "en"), False


def remember(response: web.StreamResponse, language: str) -> None:
    response.set_cookie(COOKIE, language, max_age=COOKIE_DAYS * 86400, path="/", samesite="Lax", httponly=True)


def _parse(moment: str | datetime | None) -> datetime | None:
    if moment is None or moment == "":
        return None
    if isinstance(moment, datetime):
        return moment.astimezone(UTC)
    return datetime.fromisoformat(moment).astimezone(UTC)


class Texts:
    """One language's words (`t("key", **values)`) and formats, for the templates."""

    def __init__(self, language: str) -> None:
        self.language = language if language in LANGUAGES else "en"
        self._words = TEXTS[self.language]

    def __call__(self, key: str, **values: Any) -> str:
        return self._words[key].format(**values) if values else self._words[key]

    def has(self, key: str) -> bool:
        return key in self._words

    def maybe(self, prefix: str, value: str | None) -> str:
        """`prefix.value` in this language, or the value as it is (a kind or a state cobot may learn later)."""
        if value is None:
            return self("none")
        key = f"{prefix}.{value}"
        return self._words.get(key, value)

    def when(self, moment: str | datetime | None) -> str:
        """A moment as `2026-11-02 09:00` (UTC)."""
        found = _parse(moment)
        return found.strftime("%Y-%m-%d %H:%M") if found else self("none")

    def day(self, moment: str | datetime | None) -> str:
        found = _parse(moment)
        return found.strftime("%Y-%m-%d") if found else self("none")

    def number(self, value: float | int | None, digits: int = 0) -> str:
        if value is None:
            return "—"
        return f"{value:,.{digits}f}" if digits or isinstance(value, float) else f"{value:,}"

    def hours(self, value: float | None) -> str:
        return "—" if value is None else self("hours", value=f"{value:,.1f}")

    def percent(self, value: float | None) -> str:
        return "—" if value is None else f"{value * 100:.0f}%"

    def change(self, value: int) -> str:
        if value > 0:
            return self("change.up", value=f"{value:,}")
        if value < 0:
            return self("change.down", value=f"{-value:,}")
        return self("change.same")
