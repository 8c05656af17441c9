"""Who may see and change what on the dashboard: the guards its routes go through. (The logins themselves, the
token, sessions and cookie: bot.web.access; logging in and out: bot.web.login.)

Reads are open to everyone while `dashboard.public` is true (false by default); otherwise they need a login too.
A change (a maintainer action) always needs a login, and when that login is the cookie the request must also carry
the session's CSRF token (form field `csrf_token` or header `X-CSRF-Token`), which a page gets from
`csrf_token(request)`. API clients may send `Authorization: Bearer TOKEN` instead of a cookie (no CSRF token then).

Refusals are JSON `{"error": ...}`: 400 for a body that is no readable form or JSON, 401 without valid credentials
(a wrong bearer token included), 403 for a missing or wrong CSRF token, 429 for a wrong token while failed logins
are throttled (and before any of these, bot.web.request_limits: 408 for a body that is late, 413 for one over 64 KB,
415 for a compressed or multipart one). A wrong token at `/login` is answered 401 (or, from a form that names `next`,
a redirect back to the login page).

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

and beside them: the request's form fields or JSON object (bot.web.bodies), where `next` may lead
(bot.web.local_path), the dashboard's Access (bot.web.access), a JSON refusal to raise (bot.web.errors).
"""

from __future__ import annotations

import hmac
from functools import wraps
from typing import Any, Literal

from aiohttp import web

from bot.web.access import COOKIE, Session, access
from bot.web.bodies import FORMS, form_fields
from bot.web.errors import Handler, error

CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_LOGIN: web.RequestKey[Session | None] = web.RequestKey("cobot_dashboard_login")  # the login resolved for a request


# -- what a request carries --------------------------------------------------------------------------------------


def bearer_token(request: web.Request) -> str | None:
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
    bearer = bearer_token(request)
    if bearer is not None:
        found = Session("bearer") if checks.check_token(request, bearer) else None
    else:
        found = await checks.read(request.cookies.get(COOKIE, ""))
    request[_LOGIN] = found
    return found


def current_session(request: web.Request) -> Session | None:
    """The login `login_of` resolved for the request (None before it did)."""
    return request.get(_LOGIN)


def unauthorized(request: web.Request) -> web.HTTPException:
    """401, saying what is missing (a wrong bearer token, or no login)."""
    if bearer_token(request) is not None:
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
    if bearer_token(request) is not None:
        return current_session(request) is not None
    return access(request).public or current_session(request) is not None


async def readable(request: web.Request) -> bool:
    """`may_read`, the request's login resolved first."""
    await login_of(request)
    return may_read(request)


CSRF_REFUSAL = (f"a missing or wrong CSRF token: send the session's in the {CSRF_HEADER} header or the {CSRF_FIELD} "
                "form field")


async def csrf_ok(request: web.Request, session: Session) -> bool:
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
    if session.via == "cookie" and request.method not in SAFE_METHODS and not await csrf_ok(request, session):
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

