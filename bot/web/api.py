"""The dashboard's JSON API, described by `GET /api/openapi.json` (bot.web.openapi):

    GET  /api/overview                     headline numbers, activity per day, health, newcomers (?days)
    GET  /api/contributors                 search and filter (?q, new, since, platform, limit, offset)
    GET  /api/contributors/{who}           a contributor's profile (?days)
    GET  /api/leaderboard                  the most active (?days, limit)
    GET  /api/campaigns                    every campaign; /api/campaigns/{name}: one campaign's view
    GET  /api/digest/preview               the weekly digest of a window (?since, until, language, campaign)
    GET  /api/deliveries, /api/outbox      operations (?status, limit, offset)
    GET  /api/badges                       the catalogue and the latest awards (?language)
    GET  /api/session                      whether the request is logged in, and its CSRF token
    POST /api/deliveries/{id}/replay       maintainer actions (a login; with the cookie, the CSRF token)
    POST /api/outbox/{id}/retry
    POST /api/badges/award                 {"badge", "user", "reason"?}
    POST /api/campaigns/{name}/close       {"dry_run"?: true or false}
    POST /api/sessions/revoke              log everyone out, everywhere (every session revoked)

Reads obey `dashboard.public` (bot.web.auth). Bad input is answered 400 `{"error": ...}` naming the parameter
(an action's body is parsed strictly: only its own fields, each of its JSON type),
something unknown 404, an action on something in the wrong state 409. Reads run on a read-only connection, in a
thread; the slow ones in a process of their own (bot.web.apart), and they are kept for `dashboard.cache_seconds`
(bot.web.cache): every change forgets them.
The pages share all of this through `request.config_dict[DASHBOARD]`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web

from bot.app.processing import Processing
from bot.cli.notify import OUTBOX_STATUSES
from bot.clock import Clock
from bot.config import Settings
from bot.pipeline.inbox import Pipeline
from bot.store.db import Database
from bot.store.tables import DELIVERY_STATUSES
from bot.web import actions, data
from bot.web.apart import SLOW_READS, shareable
from bot.web.auth import (
    CSRF_FIELD,
    FORMS,
    Handler,
    access,
    auth_routes,
    current_session,
    error,
    form_fields,
    json_object,
    maintainer_action,
    reader,
)
from bot.web.cache import Memo

if TYPE_CHECKING:
    from bot.app.factory import Cobot

T = TypeVar("T")
log = logging.getLogger("cobot.dashboard")
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


class Dashboard:
    """What the dashboard's handlers share: cobot's store, settings and clock, the pipeline that replays
    deliveries, and the slow reads kept a while. `request.config_dict[DASHBOARD]`."""

    def __init__(self, settings: Settings, db: Database, clock: Clock, pipeline: Pipeline,
                 woken: Callable[[], None] = lambda: None) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.pipeline = pipeline
        self.memo = Memo(clock, settings.dashboard.cache_seconds)
        self._woken = woken  # after a retry: the outbox dispatcher, to send it at once
        self._warmers: list[Callable[[], None]] = []
        self._visited = False

    def on_first_visit(self, warmer: Callable[[], None]) -> None:
        """`warmer()` (which calls `warm`) once somebody first reads the dashboard: then the slow reads the pages
        ask for are computed in the background while the first page is. Not at start-up: nothing is spent on pages
        nobody may open."""
        self._warmers.append(warmer)

    def _first_visit(self) -> None:
        if not self._visited:
            self._visited = True
            for warmer in self._warmers:
                warmer()

    async def read(self, compute: Callable[..., T], *args: Any, inbox: bool = False, **params: Any) -> T:
        """`compute(conn, settings, now, *args, **params)` on a read-only connection (`inbox`: to db.inbox), in a
        thread."""
        self._first_visit()

        def work() -> T:
            with (self.db.inbox if inbox else self.db).reading() as conn:
                return compute(conn, self.settings, self.clock(), *args, **params)
        return await asyncio.to_thread(work)

    async def kept(self, compute: Callable[..., T], *args: Any, **params: Any) -> T:
        """A slow read (`slow`), kept for `dashboard.cache_seconds` by what it computes from."""
        self._first_visit()
        return await self.memo.get(_key(compute, args, params), lambda: self.slow(compute, *args, **params))

    async def slow(self, compute: Callable[..., T], *args: Any, **params: Any) -> T:
        """`read`, in the slow reads' process (bot.web.apart) unless `dashboard.slow_reads` is "thread" or the
        database is one only this process can see."""
        if not self.apart:
            return await self.read(compute, *args, **params)
        return await SLOW_READS.run(self.db.url, self.settings, self.clock(), compute, args, params)

    @property
    def apart(self) -> bool:
        """Whether the slow reads run in their own process."""
        return self.settings.dashboard.slow_reads == "process" and shareable(self.db.url)

    def warm(self, compute: Callable[..., Any], *args: Any, **params: Any) -> None:
        """Start computing what `kept` would answer, in the background."""
        if self.memo.enabled:
            self.memo.start(_key(compute, args, params), lambda: self.slow(compute, *args, **params))

    async def act(self, work: Callable[..., T], *args: Any) -> T:
        """A maintainer action, in a thread; everything kept is forgotten after it."""
        try:
            return await asyncio.to_thread(work, *args)
        finally:
            self.memo.forget()

    def wake_outbox(self) -> None:
        self._woken()


DASHBOARD = web.AppKey("cobot_dashboard", Dashboard)


def _key(compute: Callable[..., Any], args: tuple[Any, ...], params: dict[str, Any]) -> tuple[Any, ...]:
    return compute.__qualname__, args, tuple(sorted(params.items()))


# -- parameters ----------------------------------------------------------------------------------------------------


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
    if given is not None and not ((0 if empty else 1) <= len(given) <= MAX_TEXT and data.storable(given)):
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
    if not isinstance(value, kind) or (kind is str and not (1 <= len(value) <= MAX_TEXT and data.storable(value))):
        wanted = {str: f"a string of 1 to {MAX_TEXT} characters (no NUL)", bool: "true or false"}[kind]
        raise error(400, f"{name}: {wanted}")
    return value


async def no_body(request: web.Request) -> None:
    """What an action that takes no body accepts: none, `{}`, or (a form) the CSRF token alone."""
    if request.content_type in FORMS:
        only(dict((await form_fields(request)).items()), CSRF_FIELD)
        return
    only(await json_object(request, required=False))


# -- the handlers --------------------------------------------------------------------------------------------------


def _dashboard(request: web.Request) -> Dashboard:
    return request.config_dict[DASHBOARD]


def _answer(document: Any) -> web.Response:
    return web.json_response(document, dumps=lambda value: json.dumps(value, ensure_ascii=False))


async def found(work: Awaitable[Any]) -> Any:
    """Await a read, answering 404 for what is not there (the pages answer alike)."""
    try:
        return await work
    except data.NotFound as missing:
        raise error(404, str(missing)) from None


@reader
async def overview(request: web.Request) -> web.Response:
    days = integer(request, "days", OVERVIEW_DAYS, 1, MAX_DAYS)
    return _answer(await _dashboard(request).kept(data.overview, days=days))


@reader
async def contributors(request: web.Request) -> web.Response:
    board = _dashboard(request)
    now = board.clock()
    params = {"q": text(request, "q", empty=True), "new": boolean(request, "new"),
              "since": moment(request, "since", now), "platform": choice(request, "platform", data.PLATFORMS),
              **page(request)}
    return _answer(await board.read(data.contributors, **params))


@reader
async def contributor(request: web.Request) -> web.Response:
    days = integer(request, "days", PROFILE_DAYS, 1, MAX_DAYS)
    return _answer(await found(_dashboard(request).kept(data.profile, request.match_info["who"], days=days)))


@reader
async def leaderboard(request: web.Request) -> web.Response:
    board = _dashboard(request)
    commands = board.settings.commands
    days = integer(request, "days", commands.leaderboard_days, 1, MAX_DAYS)
    limit = integer(request, "limit", commands.leaderboard_size, 1, MAX_LIMIT)
    return _answer(await board.kept(data.leaderboard, days=days, limit=limit))


@reader
async def campaigns(request: web.Request) -> web.Response:
    return _answer(await _dashboard(request).read(data.campaign_list))


@reader
async def campaign(request: web.Request) -> web.Response:
    return _answer(await found(_dashboard(request).kept(data.campaign, request.match_info["name"])))


@reader
async def digest_preview(request: web.Request) -> web.Response:
    board = _dashboard(request)
    now = board.clock()
    since, until = moment(request, "since", now), moment(request, "until", now)
    language = choice(request, "language", LANGUAGES)
    name = text(request, "campaign")
    end = until or now
    start = since or end - data.WEEK
    if start >= end:
        raise error(400, "since: must be before until")
    if end - start > timedelta(days=MAX_DAYS):
        raise error(400, f"since: at most {MAX_DAYS} days before until")
    return _answer(await found(board.kept(data.digest_preview, since=since, until=until, language=language,
                                           campaign_name=name)))


@reader
async def deliveries(request: web.Request) -> web.Response:
    status = choice(request, "status", DELIVERY_STATUSES)
    return _answer(await _dashboard(request).read(data.deliveries, status=status, inbox=True, **page(request)))


@reader
async def outbox(request: web.Request) -> web.Response:
    status = choice(request, "status", OUTBOX_STATUSES)
    return _answer(await _dashboard(request).read(data.outbox, status=status, **page(request)))


@reader
async def badges(request: web.Request) -> web.Response:
    language = choice(request, "language", LANGUAGES)
    return _answer(await _dashboard(request).read(data.badges, language=language))


async def acted(work: Awaitable[Any]) -> Any:
    """Await a maintainer action, answering 404 for what is not there and 409 for a conflict."""
    try:
        return await work
    except data.NotFound as missing:
        raise error(404, str(missing)) from None
    except actions.Conflict as conflict:
        raise error(409, str(conflict)) from None


@maintainer_action
async def replay(request: web.Request) -> web.Response:
    delivery_id = path_id(request, "delivery_id")
    await no_body(request)
    board = _dashboard(request)
    return _answer(await acted(board.act(actions.replay, board.pipeline, delivery_id)))


@maintainer_action
async def retry(request: web.Request) -> web.Response:
    action_id = path_id(request, "action_id")
    await no_body(request)
    board = _dashboard(request)
    done = await acted(board.act(actions.retry, board.db, board.settings, board.clock(), action_id))
    board.wake_outbox()
    return _answer(done)


@maintainer_action
async def award(request: web.Request) -> web.Response:
    body = await json_object(request, required=True)
    only(body, "badge", "user", "reason")
    badge, user = field(body, "badge", str, required=True), field(body, "user", str, required=True)
    reason = field(body, "reason", str, nullable=True)
    board = _dashboard(request)
    return _answer(await acted(board.act(actions.award, board.db, board.settings, board.clock(), badge, user,
                                          reason)))


@maintainer_action
async def close(request: web.Request) -> web.Response:
    body = await json_object(request, required=False)
    only(body, "dry_run")
    dry_run = field(body, "dry_run", bool) is True
    board = _dashboard(request)
    return _answer(await acted(board.act(actions.close, board.db, board.settings, board.clock,
                                          request.match_info["name"], dry_run)))


@maintainer_action
async def revoke_sessions(request: web.Request) -> web.Response:
    """Log everyone out, everywhere: every live session is revoked (the caller's too). How many that ended."""
    await no_body(request)
    checks = access(request)
    revoked = await checks.end_all()
    log.warning("dashboard: every session was revoked (%d) by a maintainer from %s", revoked, request.remote)
    response = _answer({"revoked": revoked})
    session = current_session(request)
    if session is not None and session.via == "cookie":
        checks.clear_cookie(request, response)
    return response


@reader
async def openapi(request: web.Request) -> web.Response:
    from bot.web.openapi import document

    return _answer(document(_dashboard(request).settings))


@web.middleware
async def json_refusals(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Under /api/, aiohttp's own refusals (no such address, not that method) in JSON too."""
    try:
        return await handler(request)
    except web.HTTPException as refusal:
        if not request.path.startswith("/api/") or refusal.status < 400 or refusal.content_type == "application/json":
            raise
        headers = {"Allow": refusal.headers["Allow"]} if "Allow" in refusal.headers else {}
        return web.json_response({"error": refusal.reason.lower()}, status=refusal.status, headers=headers)


def api_routes() -> list[web.RouteDef]:
    return [
        web.get("/api/overview", overview), web.get("/api/contributors", contributors),
        web.get("/api/contributors/{who}", contributor), web.get("/api/leaderboard", leaderboard),
        web.get("/api/campaigns", campaigns), web.get("/api/campaigns/{name}", campaign),
        web.get("/api/digest/preview", digest_preview), web.get("/api/deliveries", deliveries),
        web.get("/api/outbox", outbox), web.get("/api/badges", badges), web.get("/api/openapi.json", openapi),
        web.post("/api/deliveries/{delivery_id}/replay", replay), web.post("/api/outbox/{action_id}/retry", retry),
        web.post("/api/badges/award", award), web.post("/api/campaigns/{name}/close", close),
        web.post("/api/sessions/revoke", revoke_sessions),
    ]


def dashboard_routes(app: web.Application, cobot: Cobot) -> list[web.RouteDef]:
    """The dashboard on `app` (nothing when `dashboard.enabled` is false): its shared state, the login routes and
    the API. The slow reads of the overview and the leaderboard are computed as the dashboard is first read."""
    settings = cobot.settings
    if not settings.dashboard.enabled:
        return []

    def woken() -> None:
        if isinstance(cobot.worker, Processing):
            cobot.worker.dispatcher.wake()

    board = Dashboard(settings, cobot.db, cobot.clock, cobot.pipeline, woken)
    app[DASHBOARD] = board

    def warm() -> None:
        board.warm(data.overview, days=OVERVIEW_DAYS)
        board.warm(data.leaderboard, days=settings.commands.leaderboard_days, limit=settings.commands.leaderboard_size)

    async def settle(app: web.Application) -> None:
        await board.memo.close()

    app.middlewares.append(json_refusals)
    board.on_first_visit(warm)
    app.on_shutdown.append(settle)
    return [*auth_routes(app, settings, cobot.clock, cobot.db), *api_routes()]
