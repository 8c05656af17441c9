"""Who may see and change what on the dashboard.

Maintainers log in with the token (`dashboard.token`, from COBOT_DASHBOARD_TOKEN): `POST /login` with the form
field `token` sets a session cookie, signed (itsdangerous) with a key derived from the token and dated. So every
replica accepts every other's cookies, a cookie lasts `dashboard.session_hours`, and changing the token logs
everyone out. Without a token nobody can log in. A session is kept by nobody but the browser: `POST /logout` drops
the cookie; a copy of it stays valid until it expires or the token changes.

Reads are open to everyone while `dashboard.public` is true; otherwise they need a login too. A change (a
maintainer action) always needs a login, and when that login is the cookie the request must also carry the
session's CSRF token (form field `csrf_token` or header `X-CSRF-Token`), which a page gets from `csrf_token(request)`.
API clients may send `Authorization: Bearer TOKEN` instead of a cookie (no CSRF token then).

Refusals are JSON `{"error": ...}`: 401 without valid credentials (a wrong bearer token included), 403 for a
missing or wrong CSRF token. A wrong token at `/login` is answered 401 (or, from a form that names `next`, a
redirect back to the login page) and logged without its value.

For the pages:

    current_session(request)      the login the request carries (a Session), or None
    require_login(request)        the same, or 401
    csrf_token(request)           the CSRF token the page's forms must carry (None without a cookie login)
    may_read(request)             whether reads are allowed (public, or logged in)
    @reader                       a handler that reads: 401 when the dashboard is not public and nobody logged in
    @maintainer_action            a handler that changes something: 401 without a login, 403 without the CSRF token
    await check_change(request)   what @maintainer_action checks, for a handler that answers refusals its own way
    access(request)               the dashboard's Access (whether logins are possible, the cookie's settings)
    error(status, message)        a JSON refusal to raise
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, Literal
from urllib.parse import urlencode

from aiohttp import web
from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer

from bot.clock import Clock
from bot.config import Settings

log = logging.getLogger("cobot.dashboard")

COOKIE = "cobot_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CLOCK_SKEW = timedelta(seconds=60)  # a cookie dated this far ahead (another replica's clock) is still good
LOGIN_PAGE = "/login"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Session:
    """A maintainer's login: by the session cookie (with its CSRF token and moments), or by the bearer token."""

    via: Literal["cookie", "bearer"]
    id: str | None = None  # the cookie's random session id
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    csrf_token: str | None = None


def _derive(token: str, purpose: str) -> bytes:
    return hmac.new(token.encode(), f"cobot dashboard {purpose} v1".encode(), hashlib.sha256).digest()


class _ClockSigner(TimestampSigner):
    """itsdangerous' dated signer, dating by cobot's clock."""

    def __init__(self, *args: Any, clock: Clock, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock().timestamp())


class Access:
    """The logins of one dashboard: checks the token, issues and reads session cookies, derives CSRF tokens."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self._token = settings.dashboard.token
        self._clock = clock
        self.public = settings.dashboard.public
        self.lifetime = timedelta(hours=settings.dashboard.session_hours)
        self.secure = settings.server.public_url.startswith("https://")
        self._sessions = URLSafeTimedSerializer(_derive(self._token, "sessions"), salt="cobot.dashboard.session",
                                                signer=_ClockSigner, signer_kwargs={"clock": clock})
        self._csrf_key = _derive(self._token, "csrf")

    @property
    def logins(self) -> bool:
        """Whether anyone can log in (a token is configured)."""
        return bool(self._token)

    def token_matches(self, given: str) -> bool:
        """Whether `given` is the token (compared in constant time); never, when no token is configured."""
        return self.logins and hmac.compare_digest(given.encode(), self._token.encode())

    def csrf_for(self, session_id: str) -> str:
        return hmac.new(self._csrf_key, session_id.encode(), hashlib.sha256).hexdigest()

    def start(self) -> tuple[str, Session]:
        """A new session: the cookie's value and the session."""
        session_id = secrets.token_urlsafe(18)
        value = self._sessions.dumps({"sid": session_id})
        issued = self._clock()
        return value, Session("cookie", session_id, issued, issued + self.lifetime, self.csrf_for(session_id))

    def read(self, value: str) -> Session | None:
        """The session a cookie's value holds; None for one that is forged, tampered with, signed under another
        token, or expired."""
        if not self.logins or not value:
            return None
        try:
            payload, issued = self._sessions.loads(value, return_timestamp=True)
        except BadData:
            return None
        now = self._clock()
        if not isinstance(payload, dict) or not isinstance(payload.get("sid"), str):
            return None
        if issued > now + CLOCK_SKEW or now - issued > self.lifetime:
            return None
        return Session("cookie", payload["sid"], issued, issued + self.lifetime, self.csrf_for(payload["sid"]))

    def set_cookie(self, response: web.StreamResponse, value: str) -> None:
        response.set_cookie(COOKIE, value, max_age=int(self.lifetime.total_seconds()), path="/", httponly=True,
                            samesite="Lax", secure=self.secure)

    def clear_cookie(self, response: web.StreamResponse) -> None:
        response.del_cookie(COOKIE, path="/", httponly=True, samesite="Lax", secure=self.secure)


ACCESS = web.AppKey("cobot_dashboard_access", Access)


def access(request: web.Request) -> Access:
    """The dashboard's Access (reachable from sub-applications too)."""
    return request.config_dict[ACCESS]


# -- what a request carries --------------------------------------------------------------------------------------


def _bearer(request: web.Request) -> str | None:
    """The bearer token a request sends, if it sends an Authorization header of that scheme ("" when empty)."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def current_session(request: web.Request) -> Session | None:
    """The login a request carries: the right bearer token, else a valid session cookie; None for neither."""
    checks = access(request)
    bearer = _bearer(request)
    if bearer is not None:
        return Session("bearer") if checks.token_matches(bearer) else None
    return checks.read(request.cookies.get(COOKIE, ""))


def error(status: int, message: str, **headers: str) -> web.HTTPException:
    """An HTTP error answered as JSON `{"error": message}` (raise it)."""
    kinds: dict[int, type[web.HTTPException]] = {400: web.HTTPBadRequest, 401: web.HTTPUnauthorized,
                                                 403: web.HTTPForbidden, 404: web.HTTPNotFound,
                                                 409: web.HTTPConflict}
    return kinds[status](text=json.dumps({"error": message}), content_type="application/json", headers=headers)


def unauthorized(request: web.Request) -> web.HTTPException:
    """401, saying what is missing (a wrong bearer token, or no login)."""
    if _bearer(request) is not None:
        message = "the bearer token is not right"
    elif not access(request).logins:
        message = "a login is needed, and nobody can log in: no dashboard token is configured"
    else:
        message = "a login is needed: POST /login with the token, or send Authorization: Bearer TOKEN"
    return error(401, message, **{"WWW-Authenticate": 'Bearer realm="cobot"'})


def require_login(request: web.Request) -> Session:
    """The request's login, or 401."""
    session = current_session(request)
    if session is None:
        raise unauthorized(request)
    return session


def csrf_token(request: web.Request) -> str | None:
    """The CSRF token a page's forms must carry (field `csrf_token`): the cookie session's; None without one."""
    session = current_session(request)
    return session.csrf_token if session is not None else None


def may_read(request: web.Request) -> bool:
    """Whether a request may read: everyone may while the dashboard is public (unless they send a wrong bearer
    token), else only a login."""
    if _bearer(request) is not None:
        return current_session(request) is not None
    return access(request).public or current_session(request) is not None


CSRF_REFUSAL = (f"a missing or wrong CSRF token: send the session's in the {CSRF_HEADER} header or the {CSRF_FIELD} "
                "form field")


async def _csrf_ok(request: web.Request, session: Session) -> bool:
    """Whether the request carries the session's CSRF token (header, else form field)."""
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        value = (await request.post()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else ""
    return bool(sent) and session.csrf_token is not None and hmac.compare_digest(sent.encode(),
                                                                                 session.csrf_token.encode())


async def check_change(request: web.Request) -> Session:
    """What a change needs: a login (401 without), and with a cookie login on anything but GET, HEAD and OPTIONS, the
    session's CSRF token in the header or the form (403 without)."""
    session = require_login(request)
    if session.via == "cookie" and request.method not in SAFE_METHODS and not await _csrf_ok(request, session):
        raise error(403, CSRF_REFUSAL)
    return session


def reader(handler: Handler) -> Handler:
    """A handler that reads: 401 unless the dashboard is public or the request is logged in."""
    @wraps(handler)
    async def checked(request: web.Request) -> web.StreamResponse:
        if not may_read(request):
            raise unauthorized(request)
        return await handler(request)
    return checked


def maintainer_action(handler: Handler) -> Handler:
    """A handler that changes something: 401 without a login, 403 for a cookie login without its CSRF token."""
    @wraps(handler)
    async def checked(request: web.Request) -> web.StreamResponse:
        await check_change(request)
        return await handler(request)
    return checked


# -- logging in and out ------------------------------------------------------------------------------------------


def _local(path: str | None) -> str | None:
    """`next` when it is a path on this site (never another site's address, nor what cannot be a header)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path or not path.isprintable():
        return None
    return path


async def _fields(request: web.Request) -> dict[str, str]:
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise error(400, "the body is not JSON") from None
        if not isinstance(body, dict):
            raise error(400, "the body must be a JSON object")
        return {key: value for key, value in body.items() if isinstance(value, str)}
    form = await request.post()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def session_json(session: Session | None, public: bool) -> dict[str, Any]:
    """What `GET /api/session` and logging in answer."""
    return {"logged_in": session is not None, "via": session.via if session else None,
            "expires_at": session.expires_at.isoformat() if session and session.expires_at else None,
            "csrf_token": session.csrf_token if session else None, "public": public}


def _see_other(where: str) -> web.Response:
    return web.Response(status=303, headers={"Location": where})


async def login(request: web.Request) -> web.Response:
    """`POST /login`: the token (form field or JSON `token`) starts a session. A form that names `next` (a path
    here) is sent there, or back to the login page (`/login?failed=1&next=…`) for a wrong token."""
    checks = access(request)
    fields = await _fields(request)
    after = _local(fields.get("next"))
    if not checks.token_matches(fields.get("token", "")):
        if checks.logins:
            log.warning("dashboard: a login from %s was refused: a wrong token", request.remote)
        else:
            log.warning("dashboard: a login from %s was refused: no dashboard token is configured "
                        "(COBOT_DASHBOARD_TOKEN)", request.remote)
        if after is not None:
            return _see_other(f"{LOGIN_PAGE}?{urlencode({'failed': '1', 'next': after})}")
        raise error(401, "the token is not right")
    value, session = checks.start()
    log.info("dashboard: a maintainer logged in from %s", request.remote)
    response = _see_other(after) if after is not None else web.json_response(session_json(session, checks.public))
    checks.set_cookie(response, value)
    return response


async def logout(request: web.Request) -> web.Response:
    """`POST /logout`: drops the session cookie (a valid session's CSRF token is needed: 403 without). A form that
    names `next` (a path here) is sent there."""
    checks = access(request)
    session = checks.read(request.cookies.get(COOKIE, ""))
    if session is not None and not await _csrf_ok(request, session):
        raise error(403, CSRF_REFUSAL)
    after = _local((await _fields(request)).get("next")) if request.body_exists else None
    response = _see_other(after) if after is not None else web.json_response(session_json(None, checks.public))
    checks.clear_cookie(response)
    return response


async def session_info(request: web.Request) -> web.Response:
    """`GET /api/session`: whether the request is logged in, how, until when, and its CSRF token."""
    if _bearer(request) is not None and current_session(request) is None:
        raise unauthorized(request)
    return web.json_response(session_json(current_session(request), access(request).public))


def auth_routes(app: web.Application, settings: Settings, clock: Clock) -> list[web.RouteDef]:
    """Install the dashboard's Access on `app`; the routes to log in and out and to ask about the session."""
    app[ACCESS] = Access(settings, clock)
    return [web.post("/login", login), web.post("/logout", logout), web.get("/api/session", session_info)]
