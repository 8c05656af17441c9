"""The logins of the dashboard: the token, the sessions it starts and the cookie that names them (`Access`).

Maintainers log in with the token (`dashboard.token`, from COBOT_DASHBOARD_TOKEN): `POST /login` (bot.web.login) with
the form field `token` starts a session held by the server (table `dashboard_session`, bot.web.sessions) and sets a
cookie naming it, signed (itsdangerous) with a key derived from the token and dated. A cookie is good while its
signature holds, it is younger than `dashboard.session_hours` and its session is live in the store: `POST /logout`
revokes the session on every replica at once, `POST /api/sessions/revoke` revokes everyone's ("log out
everywhere"), and changing the token logs everyone out too. Without a token nobody can log in.

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

    access(request)               the dashboard's Access (whether logins are possible, the cookie's settings)
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from aiohttp import web
from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer

from bot.clock import Clock
from bot.config import Settings
from bot.store.db import Database
from bot.web.errors import error
from bot.web.sessions import Sessions
from bot.web.throttle import FailedLogins

COOKIE = "cobot_session"
CLOCK_SKEW = timedelta(seconds=60)  # a cookie dated this far ahead (another replica's clock) is still good
PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Real-IP")


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


def access(request: web.Request) -> Access:
    """The dashboard's Access (reachable from sub-applications too)."""
    return request.config_dict[ACCESS]

