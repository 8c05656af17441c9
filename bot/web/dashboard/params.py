"""The API's parameters, read strictly (the pages read their queries with them too; bot.web.dashboard.openapi describes
their bounds): query parameters (`integer`, `page`, `boolean`, `choice`, `text`, `moment`), a path's id (`path_id`), and
an action's body (`only`, `field`, `no_body`: only its own fields, each of its JSON type). Anything else is answered 400
`{"error": ...}` naming the parameter. """

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from bot.web.auth import CSRF_FIELD
from bot.web.bodies import FORMS, form_fields, json_object
from bot.web.dashboard.data import storable
from bot.web.errors import error

MAX_ID = 2**31 - 1
MAX_DAYS = 366
MAX_LIMIT = 100
MAX_OFFSET = 10**6
MAX_TEXT = 200
OVERVIEW_DAYS = 30
PROFILE_DAYS = 30
PAGE = 50
LANGUAGES = ("en", "zh")
INTEGER = re.compile(r"^-?[0-9]{1,12}$")
RELATIVE = re.compile(r"^([0-9]{1,5})([hdw])$")
DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
DATE_TIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
                       r"(?:Z|[+-][0-9]{2}:[0-9]{2})$")
# what `since` and `until` accept: 12h, 7d, 4w (before now), a date (midnight UTC), or a moment with its offset
MOMENT_PATTERN = "^(?:" + "|".join(pattern.pattern[1:-1] for pattern in (RELATIVE, DATE, DATE_TIME)) + ")$"
UNITS = {"h": "hours", "d": "days", "w": "weeks"}
EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(3000, 1, 1, tzinfo=UTC)  # what a window may span


def _one(request: web.Request, name: str) -> str | None:
    values = request.query.getall(name, [])
    if len(values) > 1:
        raise error(400, f"{name}: give it once")
    return values[0] if values else None


def integer(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    """A query parameter that is a whole number in [low, high] (400 naming it otherwise)."""
    given = _one(request, name)
    if given is None:
        return default
    return _bounded(given, name, low, high)


def _bounded(given: str, name: str, low: int, high: int) -> int:
    if not INTEGER.fullmatch(given) or not low <= int(given) <= high:
        raise error(400, f"{name}: a whole number from {low} to {high}")
    return int(given)


def page(request: web.Request) -> dict[str, int]:
    """`limit` (1 to MAX_LIMIT, default 50) and `offset` (default 0)."""
    return {"limit": integer(request, "limit", PAGE, 1, MAX_LIMIT),
            "offset": integer(request, "offset", 0, 0, MAX_OFFSET)}


def boolean(request: web.Request, name: str) -> bool:
    given = _one(request, name)
    if given is None:
        return False
    if given not in ("true", "false"):
        raise error(400, f"{name}: true or false")
    return given == "true"


def choice(request: web.Request, name: str, choices: tuple[str, ...]) -> str | None:
    given = _one(request, name)
    if given is not None and given not in choices:
        raise error(400, f"{name}: one of {', '.join(choices)}")
    return given


def text(request: web.Request, name: str, empty: bool = False) -> str | None:
    """A query parameter of at most MAX_TEXT characters (`empty`: "" allowed, as not given)."""
    given = _one(request, name)
    if given is not None and not ((0 if empty else 1) <= len(given) <= MAX_TEXT and storable(given)):
        raise error(400, f"{name}: {0 if empty else 1} to {MAX_TEXT} characters (no NUL)")
    return given or None


def parse_moment(given: str, now: datetime) -> datetime:
    """`12h`, `7d`, `4w` before `now`, a date (midnight UTC) or an ISO 8601 moment with its offset. ValueError
    for anything else."""
    relative = RELATIVE.fullmatch(given)
    if relative:
        return now - timedelta(**{UNITS[relative[2]]: int(relative[1])})
    if DATE.fullmatch(given):
        return datetime.strptime(given, "%Y-%m-%d").replace(tzinfo=UTC)
    if DATE_TIME.fullmatch(given):
        return datetime.fromisoformat(given.replace("Z", "+00:00")).astimezone(UTC)
    raise ValueError(given)


def moment(request: web.Request, name: str, now: datetime) -> datetime | None:
    given = _one(request, name)
    if given is None:
        return None
    try:
        found = parse_moment(given, now)
    except (ValueError, OverflowError):
        raise error(400, f"{name}: 12h, 7d or 4w (before now), a date such as 2026-11-01, or a moment such as "
                         "2026-11-01T09:00:00Z") from None
    if not EARLIEST <= found < LATEST:
        raise error(400, f"{name}: from {EARLIEST.year} to {LATEST.year - 1}")
    return found


def path_id(request: web.Request, name: str) -> int:
    return _bounded(request.match_info[name], name, 1, MAX_ID)


def only(body: dict[str, Any], *names: str) -> None:
    """400 for a field the body may not hold (an action's body is as strict as its schema: a misspelt `dry_run`
    must not close a campaign for real)."""
    for name in body:
        if name not in names:
            allowed = f"its fields are {', '.join(names)}" if names else "it takes none"
            raise error(400, f"{name[:40]}: not a field of this body ({allowed})")


def field(body: dict[str, Any], name: str, kind: type, required: bool = False, nullable: bool = False) -> Any:
    """A body's field of type `kind` (JSON's own: a bool is `true` or `false`, never null, 0 or "yes"); None when
    absent (400 when `required`) or, if `nullable`, null. 400 naming it for anything else."""
    if name not in body:
        if required:
            raise error(400, f"{name}: missing")
        return None
    value = body[name]
    if value is None and nullable:
        return None
    if not isinstance(value, kind) or (kind is str and not (1 <= len(value) <= MAX_TEXT and storable(value))):
        wanted = {str: f"a string of 1 to {MAX_TEXT} characters (no NUL)", bool: "true or false"}[kind]
        raise error(400, f"{name}: {wanted}")
    return value


async def no_body(request: web.Request) -> None:
    """What an action that takes no body accepts: none, `{}`, or (a form) the CSRF token alone."""
    if request.content_type in FORMS:
        only(dict((await form_fields(request)).items()), CSRF_FIELD)
        return
    only(await json_object(request, required=False))
