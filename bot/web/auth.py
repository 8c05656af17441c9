"""Who may see and change what on the dashboard.

Maintainers log in with the token (`dashboard.token`, from COBOT_DASHBOARD_TOKEN): `POST /login` with the form
field `token` starts a session held by the server (table `dashboard_session`, bot.web.sessions) and sets a cookie
naming it, signed (itsdangerous) with a key derived from the token and dated. A cookie is good while its signature
holds, it is younger than `dashboard.session_hours` and its session is live in the store: `POST /logout` revokes the
session on every replica at once, `POST /api/sessions/revoke` revokes everyone's ("log out everywhere"), and
changing the token logs everyone out too. Without a token nobody can log in.

The right token is always accepted (compared in constant time), so that nobody can lock the maintainers out by
sending wrong ones (behind a proxy every client has the proxy's address). What stops guessing is the token's length:
at least 16 characters, and `openssl rand -hex 32` makes one of 256 bits. Only failures are throttled
(bot.web.throttle), so that a flood of guesses costs a line of log, not one each: a wrong token from an address over
`dashboard.failed_logins_per_minute`, or while everyone is over `dashboard.failed_logins_per_minute_overall`, is
answered 429 with `Retry-After`; that holds for the bearer token on /api as for the login form. A wrong token is
logged without its value, a throttled burst once.

The cookie is `HttpOnly`, `SameSite=Lax`, and `Secure` (sent over HTTPS only) unless cobot is known to be reached
over plain HTTP: `server.public_url` starts with http://, or it is empty, cobot listens on a loopback address only
and the login came straight from a browser on this machine (no proxy's `Forwarded` / `X-Forwarded-*` header). A
login that succeeds over plain HTTP while the cookie is `Secure` (`server.public_url` empty, cobot listening beyond
this machine, no TLS) would loop back to the login page without a word, the browser dropping the cookie: its answer
says so (the login page, or `warning` in JSON), and it is logged.

Reads are open to everyone while `dashboard.public` is true (false by default); otherwise they need a login too.
A change (a maintainer action) always needs a login, and when that login is the cookie the request must also carry
the session's CSRF token (form field `csrf_token` or header `X-CSRF-Token`), which a page gets from
`csrf_token(request)`. API clients may send `Authorization: Bearer TOKEN` instead of a cookie (no CSRF token then).

Refusals are JSON `{"error": ...}`: 400 for a body that is no readable form or JSON, 401 without valid credentials
(a wrong bearer token included), 403 for a missing or wrong CSRF token, 429 for a wrong token while failed logins
are throttled (and before any of these, bot.web.request_limits: 408 for a body that is late, 413 for one over 64 KB,
415 for a compressed or multipart one). A wrong token at `/login` is answered 401 (or, from a form that names `next`,
a redirect back to the login page).

`next` (where a form goes after logging in or out, the login page's "Back" link) is judged in one place,
`local_path`: a path on this site or nothing.

For the pages:

    await login_of(request)       the login the request carries (a Session), or None; resolved once per request
                                  (the decorators below do it), 429 for a wrong bearer token while throttled
    current_session(request)      what login_of resolved (None before)
    require_login(request)        the same, or 401
    csrf_token(request)           the CSRF token the page's forms must carry (None without a cookie login)
    may_read(request)             whether reads are allowed (public, or logged in)
    @reader                       a handler that reads: 401 when the dashboard is not public and nobody logged in
    @maintainer_action            a handler that changes something: 401 without a login, 403 without the CSRF token
    guarded(handler, rule)        how every guard tags what it wraps (`guard_of`: what `cobot serve` says of it)
    await check_change(request)   what @maintainer_action checks, for a handler that answers refusals its own way
    await form_fields(request)    the request's form fields (400 for a body that is no readable form)
    await json_object(request, required)   the request's JSON object (400 for a body that is no JSON object)
    local_path(next)              `next` when it is a path on this site, else None
    access(request)               the dashboard's Access (whether logins are possible, the cookie's settings)
    error(status, message)        a JSON refusal to raise
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import logging
import math
import secrets
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, Literal, Protocol
from urllib.parse import unquote, urlencode

from aiohttp import web
from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer
from multidict import MultiDictProxy

from bot.clock import Clock
from bot.config import Settings
from bot.store.db import Database
from bot.web.sessions import Sessions
from bot.web.throttle import FailedLogins

log = logging.getLogger("cobot.dashboard")

COOKIE = "cobot_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CLOCK_SKEW = timedelta(seconds=60)  # a cookie dated this far ahead (another replica's clock) is still good
LOGIN_PAGE = "/login"
FORMS = ("application/x-www-form-urlencoded",)  # (a multipart body is refused before it is read: request_limits)
PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Real-IP")
MAX_NEXT = 2048  # characters of a `next` path

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Session:
    """A maintainer's login: by the session cookie (with its CSRF token and moments), or by the bearer token."""

    via: Literal["cookie", "bearer"]
    id: str | None = None  # the cookie's random session id
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    csrf_token: str | None = None


class LoginPage(Protocol):
    """The login page (bot.web.pages), for what a login form is answered on it: going on to `after`, with the
    `session` just started, or refused for `retry_after` seconds (429), or logged in with a cookie the browser
    will not keep (`cookie_dropped`)."""

    def __call__(self, request: web.Request, after: str, session: Session | None, *, status: int = 200,
                 retry_after: int | None = None, cookie_dropped: bool = False) -> web.StreamResponse: ...


def _derive(token: str, purpose: str) -> bytes:
    return hmac.new(token.encode(), f"cobot dashboard {purpose} v1".encode(), hashlib.sha256).digest()


class _ClockSigner(TimestampSigner):
    """itsdangerous' dated signer, dating by cobot's clock."""

    def __init__(self, *args: Any, clock: Clock, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock().timestamp())


def loopback(host: str) -> bool:
    """Whether `host` (what cobot listens on) is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Access:
    """The logins of one dashboard: checks the token (throttled), starts, reads and ends sessions, derives CSRF
    tokens, sets the cookie."""

    def __init__(self, settings: Settings, clock: Clock, db: Database) -> None:
        dashboard = settings.dashboard
        self._token = dashboard.token
        self._clock = clock
        self.public = dashboard.public
        self.lifetime = timedelta(hours=dashboard.session_hours)
        self._public_url = settings.server.public_url
        self._loopback = loopback(settings.server.host)
        self._sessions = URLSafeTimedSerializer(_derive(self._token, "sessions"), salt="cobot.dashboard.session",
                                                signer=_ClockSigner, signer_kwargs={"clock": clock})
        self._csrf_key = _derive(self._token, "csrf")
        self.store = Sessions(db)
        self.throttle = FailedLogins(dashboard.failed_logins_per_minute, dashboard.failed_logins_per_minute_overall,
                                     clock)

    @property
    def logins(self) -> bool:
        """Whether anyone can log in (a token is configured)."""
        return bool(self._token)

    def _matches(self, given: str) -> bool:
        """Whether `given` is the token, compared in constant time (a string no UTF-8 can hold, a lone surrogate
        from a JSON escape, is not the token)."""
        try:
            sent = given.encode()
        except UnicodeEncodeError:
            return False
        return self.logins and hmac.compare_digest(sent, self._token.encode())

    def check_token(self, request: web.Request, given: str) -> bool:
        """Whether `given` is the token (compared in constant time; never, when no token is configured). The right
        token is always accepted; a wrong one is counted, and answered 429 while the request's address, or everyone,
        has failed too often (bot.web.throttle)."""
        if self._matches(given):
            return True  # (a burst of wrong tokens under way goes on: the right token does not end it)
        wait = self.throttle.wait(request.remote)
        if wait > 0:
            seconds = math.ceil(wait)
            raise error(429, f"too many failed logins: try again in {seconds} s", **{"Retry-After": str(seconds)})
        self.throttle.passed(request.remote)
        self.throttle.failed(request.remote)
        return False

    def csrf_for(self, session_id: str) -> str:
        return hmac.new(self._csrf_key, session_id.encode(), hashlib.sha256).hexdigest()

    async def start(self, remote: str | None) -> tuple[str, Session]:
        """A new session, stored: the cookie's value and the session."""
        session_id = secrets.token_urlsafe(18)
        issued = self._clock()
        await asyncio.to_thread(self.store.begin, session_id, issued, issued + self.lifetime, remote)
        value = self._sessions.dumps({"sid": session_id})
        return value, Session("cookie", session_id, issued, issued + self.lifetime, self.csrf_for(session_id))

    async def read(self, value: str) -> Session | None:
        """The session a cookie's value names; None for one that is forged, tampered with, signed under another
        token, expired, or whose session was revoked or is unknown to the store."""
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
        session_id = payload["sid"]
        if not await asyncio.to_thread(self.store.live, session_id, now):
            return None
        return Session("cookie", session_id, issued, issued + self.lifetime, self.csrf_for(session_id))

    async def end(self, session: Session) -> None:
        if session.id is not None:
            await asyncio.to_thread(self.store.end, session.id, self._clock())

    async def end_all(self) -> int:
        return await asyncio.to_thread(self.store.end_all, self._clock())

    def secure(self, request: web.Request) -> bool:
        """Whether the cookie is `Secure` (see the module's docstring)."""
        if self._public_url:
            return self._public_url.startswith("https://")
        if not self._loopback:
            return True
        return request.secure or any(header in request.headers for header in PROXY_HEADERS)

    def cookie_dropped(self, request: web.Request) -> bool:
        """Whether a browser will not keep the cookie set on this request's answer: with `server.public_url` empty
        (an https:// one says the browser uses TLS), it is `Secure` while the request came over plain HTTP, straight
        (no proxy header) or through a proxy that says so (`X-Forwarded-Proto: http`, `Forwarded: proto=http`),
        from a browser that is not on this machine (`Host` is no loopback name: browsers keep a Secure cookie from
        http://localhost). Then every login loops back to the login page."""
        if self._public_url or not self.secure(request) or request.secure or loopback(_host_name(request.host)):
            return False
        said = _forwarded_proto(request)
        if said is not None:
            return said != "https"
        return not any(header in request.headers for header in PROXY_HEADERS)  # a proxy that does not say: unknown

    def set_cookie(self, request: web.Request, response: web.StreamResponse, value: str) -> None:
        response.set_cookie(COOKIE, value, max_age=int(self.lifetime.total_seconds()), path="/", httponly=True,
                            samesite="Lax", secure=self.secure(request))

    def clear_cookie(self, request: web.Request, response: web.StreamResponse) -> None:
        response.del_cookie(COOKIE, path="/", httponly=True, samesite="Lax", secure=self.secure(request))


def _host_name(host: str) -> str:
    """`Host`'s name without its port (`[::1]:8080` → `::1`)."""
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def _forwarded_proto(request: web.Request) -> str | None:
    """The scheme a proxy says the client used (`Forwarded: proto=`, else `X-Forwarded-Proto`), if it says."""
    for element in request.forwarded:
        if "proto" in element:
            return element["proto"].lower()
    said = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return said or None


ACCESS = web.AppKey("cobot_dashboard_access", Access)
_LOGIN: web.RequestKey[Session | None] = web.RequestKey("cobot_dashboard_login")  # the login resolved for a request


def access(request: web.Request) -> Access:
    """The dashboard's Access (reachable from sub-applications too)."""
    return request.config_dict[ACCESS]


# -- what a request carries --------------------------------------------------------------------------------------


def _bearer(request: web.Request) -> str | None:
    """The bearer token a request sends, if it sends an Authorization header ("" for another scheme or none)."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


async def login_of(request: web.Request) -> Session | None:
    """The login a request carries: the right bearer token, else a live session cookie; None for neither. Resolved
    once per request; 429 for a wrong bearer token while its address, or everyone, is throttled."""
    if _LOGIN in request:
        return request[_LOGIN]
    request[_LOGIN] = None  # what it stays if this is refused
    checks = access(request)
    bearer = _bearer(request)
    if bearer is not None:
        found = Session("bearer") if checks.check_token(request, bearer) else None
    else:
        found = await checks.read(request.cookies.get(COOKIE, ""))
    request[_LOGIN] = found
    return found


def current_session(request: web.Request) -> Session | None:
    """The login `login_of` resolved for the request (None before it did)."""
    return request.get(_LOGIN)


_KINDS: dict[int, type[web.HTTPException]] = {
    400: web.HTTPBadRequest, 401: web.HTTPUnauthorized, 403: web.HTTPForbidden, 404: web.HTTPNotFound,
    409: web.HTTPConflict, 415: web.HTTPUnsupportedMediaType, 429: web.HTTPTooManyRequests,
    503: web.HTTPServiceUnavailable}


def error(status: int, message: str, **headers: str) -> web.HTTPException:
    """An HTTP error answered as JSON `{"error": message}` (raise it)."""
    return _KINDS[status](text=json.dumps({"error": message}), content_type="application/json", headers=headers)


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
    """The request's login (resolved), or 401."""
    session = current_session(request)
    if session is None:
        raise unauthorized(request)
    return session


def csrf_token(request: web.Request) -> str | None:
    """The CSRF token a page's forms must carry (field `csrf_token`): the cookie session's; None without one."""
    session = current_session(request)
    return session.csrf_token if session is not None else None


def may_read(request: web.Request) -> bool:
    """Whether a request (its login resolved) may read: everyone may while the dashboard is public (unless they send
    a wrong bearer token), else only a login."""
    if _bearer(request) is not None:
        return current_session(request) is not None
    return access(request).public or current_session(request) is not None


async def readable(request: web.Request) -> bool:
    """`may_read`, the request's login resolved first."""
    await login_of(request)
    return may_read(request)


async def form_fields(request: web.Request) -> MultiDictProxy[Any]:
    """The request's urlencoded form fields (none for a body of another type); 400 for a body that cannot be read as
    one (an unknown charset, bytes that are not in it). (A multipart body never gets here: request_limits.)"""
    try:
        return await request.post()
    except web.HTTPException:
        raise
    except (ValueError, LookupError, AssertionError, TypeError, RuntimeError):
        raise error(400, "the body is not a readable form") from None


CSRF_REFUSAL = (f"a missing or wrong CSRF token: send the session's in the {CSRF_HEADER} header or the {CSRF_FIELD} "
                "form field")


async def _csrf_ok(request: web.Request, session: Session) -> bool:
    """Whether the request carries the session's CSRF token (header, else form field)."""
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and request.content_type in FORMS:
        value = (await form_fields(request)).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else ""
    return bool(sent) and session.csrf_token is not None and hmac.compare_digest(sent.encode(),
                                                                                 session.csrf_token.encode())


async def check_change(request: web.Request) -> Session:
    """What a change needs: a login (401 without), and with a cookie login on anything but GET, HEAD and OPTIONS, the
    session's CSRF token in the header or the form (403 without)."""
    session = await login_of(request)
    if session is None:
        raise unauthorized(request)
    if session.via == "cookie" and request.method not in SAFE_METHODS and not await _csrf_ok(request, session):
        raise error(403, CSRF_REFUSAL)
    return session


GUARD = "cobot_guard"  # what a guarded handler carries: "read" (the dashboard's rule) or "change" (a login)


def guarded(handler: Handler, rule: Literal["read", "change"]) -> Handler:
    """`handler`, tagged with the rule that guards it (what `cobot serve` says it serves to whom goes by the tag:
    bot.web.exposure). Every guard of the dashboard's tags the handler it wraps."""
    setattr(handler, GUARD, rule)
    return handler


def guard_of(handler: Any) -> str | None:
    """The rule a route's handler is guarded by ("read" or "change"), None for a handler open to anyone."""
    rule = getattr(handler, GUARD, None)
    return rule if isinstance(rule, str) else None


def reader(handler: Handler) -> Handler:
    """A handler that reads: 401 unless the dashboard is public or the request is logged in."""
    @wraps(handler)
    async def checked(request: web.Request) -> web.StreamResponse:
        if not await readable(request):
            raise unauthorized(request)
        return await handler(request)
    return guarded(checked, "read")


def maintainer_action(handler: Handler) -> Handler:
    """A handler that changes something: 401 without a login, 403 for a cookie login without its CSRF token."""
    @wraps(handler)
    async def checked(request: web.Request) -> web.StreamResponse:
        await check_change(request)
        return await handler(request)
    return guarded(checked, "change")


# -- where `next` may lead ---------------------------------------------------------------------------------------

DECODINGS = 3  # `next` is judged as it is and decoded up to this many times (a proxy or a browser may decode it)


def _hidden(char: str) -> bool:
    """A character a browser drops or reads as a break inside an address, or that cannot be seen: controls (tab,
    CR, LF, ...), format characters (zero-width, direction marks), separators, surrogates, unassigned ones."""
    return unicodedata.category(char)[0] in "CZ"


def local_path(given: Any) -> str | None:
    """`given` when it is a path on this site, else None: it starts with one "/" and holds no character a browser
    or a proxy could turn into another site's address, as it is or percent-decoded (`//` or `/\\` at its start, a
    backslash, a control, format or space character: browsers drop tab, CR and LF inside an address, so `/\\t/x`
    becomes `//x`, another site)."""
    if not isinstance(given, str) or not 1 <= len(given) <= MAX_NEXT or any(_hidden(char) for char in given):
        return None
    form = given
    for _ in range(DECODINGS + 1):
        if not form.startswith("/") or form.startswith(("//", "/\\")) or "\\" in form:
            return None
        decoded = unquote(form)
        if decoded == form:
            return given
        if any(_hidden(char) for char in decoded if char != " "):
            return None
        form = decoded
    return None  # encoded more deeply than any path of ours


# -- logging in and out ------------------------------------------------------------------------------------------

LOGIN_FIELDS = ("token", "next", CSRF_FIELD)


class _RepeatedKey(ValueError):
    """A JSON object that names a key twice."""


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, read by `json.loads` (its `object_pairs_hook`): _RepeatedKey for a key named twice."""
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _RepeatedKey(key)
        found[key] = value
    return found


async def json_object(request: web.Request, required: bool) -> dict[str, Any]:
    """The request's body as a JSON object ({} for no body, unless `required`); 400 for anything else (a body that
    is no JSON, names a key twice in an object, nests too deeply to be one of ours, or holds no object). Every JSON
    body the dashboard reads is read here (the API's actions, logging in and out). The body is read as JSON is
    written (UTF-8, or UTF-16/32 with their marks), whatever charset its Content-Type names.

    A key named twice is refused rather than read as one of its values: `{"dry_run": true, "dry_run": false}` is
    a dry run to one reader and a real one to another (Python's keeps the last), and a proxy or a log in between
    may read it the other way."""
    raw = await request.read()
    if not raw.strip():
        if required:
            raise error(400, "body: a JSON object is needed")
        return {}
    try:
        body = json.loads(raw, object_pairs_hook=_object)
    except _RepeatedKey as repeated:
        raise error(400, f"body: the key {json.dumps(str(repeated)[:100])} appears twice in an object") from None
    except (ValueError, RecursionError):  # (RecursionError: nested too deeply to be a body of ours)
        raise error(400, "body: not JSON") from None
    if not isinstance(body, dict):
        raise error(400, "body: a JSON object is needed")
    return body


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
    """`POST /login`: the token (form field or JSON `token`) starts a session. A form that names `next` (a path
    here) is sent there, or back to the login page (`/login?failed=1&next=…`) for a wrong token; with `page`, the
    login page (bot.web.pages) answers a form while failed logins are throttled (429), and one whose cookie the
    browser will not keep (see `Access.cookie_dropped`: JSON says so under `warning`). 429 while failed logins are
    throttled."""
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
    if session is not None and not await _csrf_ok(request, session):
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
    if _bearer(request) is not None and session is None:
        raise unauthorized(request)
    return web.json_response(session_json(session, access(request).public))


def auth_routes(app: web.Application, settings: Settings, clock: Clock, db: Database) -> list[web.RouteDef]:
    """Install the dashboard's Access on `app`; the routes to log out and to ask about the session (`POST /login`
    is the login page's: bot.web.pages calls `login` with its page)."""
    app[ACCESS] = Access(settings, clock, db)
    return [web.post("/logout", logout), web.get("/api/session", session_info)]
