"""Logging in and out of the dashboard, and asking about the session: `POST /login` (the login page's:
bot.web.dashboard.pages calls `login` with its page), `POST /logout`, `GET /api/session`. How a login is checked and
held: bot.web.access.

A wrong token at `/login` is answered 401 (or, from a form that names `next`, a redirect back to the login page),
429 while failed logins are throttled; a login whose cookie the browser will not keep (plain HTTP while it is
Secure) says so (the login page, or `warning` in JSON), and it is logged.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol
from urllib.parse import urlencode

from aiohttp import web

from bot.clock import Clock
from bot.config import Settings
from bot.store.db import Database
from bot.web.access import ACCESS, COOKIE, Access, Session, access
from bot.web.auth import CSRF_FIELD, CSRF_REFUSAL, bearer_token, csrf_ok, login_of, unauthorized
from bot.web.bodies import form_fields, json_object
from bot.web.errors import error
from bot.web.local_path import local_path

log = logging.getLogger("cobot.dashboard")

LOGIN_PAGE = "/login"
LOGIN_FIELDS = ("token", "next", CSRF_FIELD)


class LoginPage(Protocol):
    """The login page (bot.web.dashboard.pages), for what a login form is answered on it: going on to `after`, with the
    `session` just started, or refused for `retry_after` seconds (429), or logged in with a cookie the browser
    will not keep (`cookie_dropped`)."""

    def __call__(self, request: web.Request, after: str, session: Session | None, *, status: int = 200,
                 retry_after: int | None = None, cookie_dropped: bool = False) -> web.StreamResponse: ...


async def _fields(request: web.Request) -> dict[str, str]:
    """The login and logout fields a form or a JSON object sends (400 for a body that is neither, or a field that
    is no string)."""
    if request.content_type == "application/json":
        found: dict[str, Any] = await json_object(request, required=True)
    else:
        found = dict((await form_fields(request)).items())
    fields = {name: found[name] for name in LOGIN_FIELDS if name in found}
    for name, value in fields.items():
        if not isinstance(value, str):
            raise error(400, f"{name}: a string")
    return fields


def session_json(session: Session | None, public: bool) -> dict[str, Any]:
    """What `GET /api/session` and logging in answer."""
    return {"logged_in": session is not None, "via": session.via if session else None,
            "expires_at": session.expires_at.isoformat() if session and session.expires_at else None,
            "csrf_token": session.csrf_token if session else None, "public": public}


def _see_other(where: str) -> web.Response:
    return web.Response(status=303, headers={"Location": where})


COOKIE_DROPPED = ("the session cookie is Secure (HTTPS only) but this login came over plain HTTP, so the browser "
                  "will not keep it and the next page asks for a login again: open cobot over HTTPS (behind TLS), "
                  "or set server.public_url to the address browsers use")


async def login(request: web.Request, page: LoginPage | None = None) -> web.StreamResponse:
    """`POST /login`: the token (form field or JSON `token`) starts a session. A form that names `next` (a path here) is
    sent there, or back to the login page (`/login?failed=1&next=…`) for a wrong token; with `page`, the login page
    (bot.web.dashboard.pages) answers a form while failed logins are throttled (429), and one whose cookie the browser
    will not keep (see `Access.cookie_dropped`: JSON says so under `warning`). 429 while failed logins are throttled."""
    checks = access(request)
    fields = await _fields(request)
    after = local_path(fields.get("next"))
    try:
        right = checks.check_token(request, fields.get("token", ""))
    except web.HTTPException as throttled:
        if after is not None and page is not None:
            return page(request, after, None, status=throttled.status,
                        retry_after=int(throttled.headers["Retry-After"]))
        raise
    if not right:
        if checks.logins:
            log.warning("dashboard: a login from %s was refused: a wrong token", request.remote)
        else:
            log.warning("dashboard: a login from %s was refused: no dashboard token is configured "
                        "(COBOT_DASHBOARD_TOKEN)", request.remote)
        if after is not None:
            return _see_other(f"{LOGIN_PAGE}?{urlencode({'failed': '1', 'next': after})}")
        raise error(401, "the token is not right")
    value, session = await checks.start(request.remote)
    log.info("dashboard: a maintainer logged in from %s", request.remote)
    dropped = checks.cookie_dropped(request)
    if dropped:
        log.warning("dashboard: a login from %s came over plain HTTP: %s", request.remote, COOKIE_DROPPED)
    response: web.StreamResponse
    if after is None:
        answer = session_json(session, checks.public)
        response = web.json_response({**answer, "warning": COOKIE_DROPPED} if dropped else answer)
    elif dropped and page is not None:
        response = page(request, after, session, cookie_dropped=True)
    else:
        response = _see_other(after)
    checks.set_cookie(request, response, value)
    return response


async def logout(request: web.Request) -> web.Response:
    """`POST /logout`: ends the cookie's session, on every replica, and drops the cookie (a live session's CSRF
    token is needed: 403 without). A form that names `next` (a path here) is sent there."""
    checks = access(request)
    session = await checks.read(request.cookies.get(COOKIE, ""))
    if session is not None and not await csrf_ok(request, session):
        raise error(403, CSRF_REFUSAL)
    after = local_path((await _fields(request)).get("next")) if request.body_exists else None
    if session is not None:
        await checks.end(session)
        log.info("dashboard: a maintainer logged out from %s", request.remote)
    response = _see_other(after) if after is not None else web.json_response(session_json(None, checks.public))
    checks.clear_cookie(request, response)
    return response


async def session_info(request: web.Request) -> web.Response:
    """`GET /api/session`: whether the request is logged in, how, until when, and its CSRF token."""
    session = await login_of(request)
    if bearer_token(request) is not None and session is None:
        raise unauthorized(request)
    return web.json_response(session_json(session, access(request).public))


def login_routes(app: web.Application, settings: Settings, clock: Clock, db: Database) -> list[web.RouteDef]:
    """Install the dashboard's Access on `app`; the routes to log out and to ask about the session (`POST /login`
    is the login page's: bot.web.dashboard.pages calls `login` with its page)."""
    app[ACCESS] = Access(settings, clock, db)
    return [web.post("/logout", logout), web.get("/api/session", session_info)]
