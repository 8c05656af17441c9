"""The dashboard's JSON API, described by `GET /api/openapi.json` (bot.web.dashboard.openapi):

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
(bot.web.dashboard.params: an action's body is parsed strictly, only its own fields, each of its JSON type),
something unknown 404, an action on something in the wrong state 409. Reads run on a read-only connection, in a
thread; the slow ones in a process of their own (bot.web.apart), and they are kept for `dashboard.cache_seconds`
(bot.web.cache): every change forgets them.
The pages share all of this through `request.config_dict[DASHBOARD]` (bot.web.dashboard.board).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from aiohttp import web

from bot.clock import Clock
from bot.config import Settings
from bot.pipeline.processor import Pipeline
from bot.store.db import Database
from bot.store.tables import DELIVERY_STATUSES, OUTBOX_STATUSES
from bot.web.auth import access, current_session, maintainer_action, reader
from bot.web.bodies import json_object
from bot.web.dashboard import actions, data, profiles
from bot.web.dashboard.board import DASHBOARD, Dashboard, acted, found
from bot.web.dashboard.openapi import document as openapi_document
from bot.web.dashboard.params import (
    LANGUAGES,
    MAX_DAYS,
    MAX_LIMIT,
    OVERVIEW_DAYS,
    PROFILE_DAYS,
    boolean,
    choice,
    field,
    integer,
    moment,
    no_body,
    only,
    page,
    path_id,
    text,
)
from bot.web.errors import Handler, error
from bot.web.login import login_routes

log = logging.getLogger("cobot.dashboard")


# -- the handlers --------------------------------------------------------------------------------------------------


def _dashboard(request: web.Request) -> Dashboard:
    return request.config_dict[DASHBOARD]


def _answer(document: Any) -> web.Response:
    return web.json_response(document, dumps=lambda value: json.dumps(value, ensure_ascii=False))


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
    return _answer(await board.read(profiles.contributors, **params))


@reader
async def contributor(request: web.Request) -> web.Response:
    days = integer(request, "days", PROFILE_DAYS, 1, MAX_DAYS)
    return _answer(await found(_dashboard(request).kept(profiles.profile, request.match_info["who"], days=days)))


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
    return _answer(openapi_document(_dashboard(request).settings))


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


def dashboard_routes(app: web.Application, settings: Settings, db: Database, clock: Clock, pipeline: Pipeline,
                     wake: Callable[[], None]) -> list[web.RouteDef]:
    """The dashboard on `app` (nothing when `dashboard.enabled` is false): its shared state, the login routes and
    the API. `wake` wakes the outbox dispatcher (after a retry, to send it at once). The slow reads of the overview
    and the leaderboard are computed as the dashboard is first read."""
    if not settings.dashboard.enabled:
        return []

    board = Dashboard(settings, db, clock, pipeline, wake)
    app[DASHBOARD] = board

    def warm() -> None:
        board.warm(data.overview, days=OVERVIEW_DAYS)
        board.warm(data.leaderboard, days=settings.commands.leaderboard_days, limit=settings.commands.leaderboard_size)

    async def settle(app: web.Application) -> None:
        await board.memo.close()

    app.middlewares.append(json_refusals)
    board.on_first_visit(warm)
    app.on_shutdown.append(settle)
    return [*login_routes(app, settings, clock, db), *api_routes()]
