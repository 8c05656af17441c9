"""Logging in to the dashboard, as browsers and API clients do it against the real app: the signed session cookie
(expiry, tampering, a change of token, replicas), CSRF tokens, bearer tokens, logging out, and the token itself,
which no answer and no log line ever holds. Also the helpers the pages are built with (bot.web.auth)."""

from __future__ import annotations

import logging
from datetime import timedelta
from http.cookies import SimpleCookie
from typing import Any

import pytest
from aiohttp import web
from itsdangerous import URLSafeTimedSerializer

from bot.app.factory import create_app
from bot.config import ConfigError, settings_from_mapping
from bot.web.access import COOKIE
from bot.web.auth import csrf_token, current_session, maintainer_action, may_read, reader, require_login

TOKEN = "correct-horse-battery-staple-42"
OTHER_TOKEN = "another-token-after-the-leak-7"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def dashboard(make_settings: Any, **values: Any) -> Any:
    return make_settings(dashboard={"token": TOKEN, "cache_seconds": 0, **values})


@pytest.fixture
def settings(make_settings):
    return dashboard(make_settings)


@pytest.fixture
async def client(aiohttp_client, settings, clock):
    return await aiohttp_client(create_app(settings, clock, run_workers=False))


def set_cookie(response: Any) -> Any:
    """The session cookie the answer sets (None: none)."""
    cookies = SimpleCookie()
    for header in response.headers.getall("Set-Cookie", []):
        cookies.load(header)
    return cookies.get(COOKIE)


async def session_of(client: Any, **kwargs: Any) -> dict[str, Any]:
    response = await client.get("/api/session", **kwargs)
    assert response.status == 200
    return await response.json()


async def close_campaign(client: Any, **kwargs: Any) -> int:
    """A maintainer action (on a campaign that does not exist: 404 once let through)."""
    return (await client.post("/api/campaigns/none/close", **kwargs)).status


# -- logging in ----------------------------------------------------------------------------------------------------

async def test_the_token_starts_a_session_in_a_signed_cookie(client, clock):
    assert await session_of(client) == {"logged_in": False, "via": None, "expires_at": None, "csrf_token": None,
                                        "public": False}
    response = await client.post("/login", data={"token": TOKEN})
    assert response.status == 200
    found = await response.json()
    assert (found["logged_in"], found["via"], found["expires_at"]) == (
        True, "cookie", (clock.now + timedelta(hours=12)).isoformat())
    cookie = set_cookie(response)
    assert (cookie["httponly"], cookie["samesite"], cookie["path"], cookie["max-age"], cookie["secure"]) == (
        True, "Lax", "/", "43200", "")
    assert TOKEN not in cookie.value
    assert await session_of(client) == found
    assert len(found["csrf_token"]) == 64


async def test_a_json_login_works_as_the_form_does(client):
    response = await client.post("/login", json={"token": TOKEN})
    assert response.status == 200 and set_cookie(response) is not None


async def test_a_public_url_over_https_makes_the_cookie_secure(aiohttp_client, make_settings, clock):
    settings = make_settings(server={"public_url": "https://cobot.example.org"},
                             dashboard={"token": TOKEN, "session_hours": 2})
    client = await aiohttp_client(create_app(settings, clock, run_workers=False))
    cookie = set_cookie(await client.post("/login", data={"token": TOKEN}))
    assert (cookie["secure"], cookie["max-age"]) == (True, "7200")


@pytest.mark.parametrize("given", ["guess-1234", "", TOKEN.upper(), TOKEN + " ", TOKEN[:-1]])
async def test_a_wrong_token_starts_nothing_and_is_logged_without_its_value(client, caplog, given):
    caplog.set_level(logging.DEBUG)
    response = await client.post("/login", data={"token": given})
    assert response.status == 401
    assert await response.json() == {"error": "the token is not right"}
    assert set_cookie(response) is None
    assert (await session_of(client))["logged_in"] is False
    refusals = [r.getMessage() for r in caplog.records if r.name == "cobot.dashboard"]
    assert refusals == ["dashboard: a login from 127.0.0.1 was refused: a wrong token"]
    if given:
        assert all(given not in r.getMessage() for r in caplog.records)


async def test_a_login_form_is_sent_on_or_back_with_a_message(client):
    response = await client.post("/login", data={"token": "wrong", "next": "/dashboard/people"},
                                 allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (303, "/login?failed=1&next=%2Fdashboard%2Fpeople")
    assert set_cookie(response) is None
    response = await client.post("/login", data={"token": TOKEN, "next": "/dashboard/people"},
                                 allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (303, "/dashboard/people")
    assert set_cookie(response) is not None
    for elsewhere in ("https://evil.example/", "//evil.example/", "/\\evil.example", "dashboard",
                      "/\x1f", "/a\r\nSet-Cookie: x=1"):  # (nor a header broken by a control character)
        response = await client.post("/login", data={"token": TOKEN, "next": elsewhere}, allow_redirects=False)
        assert response.status == 200, elsewhere  # never sent to another site: answered here instead


async def test_without_a_token_nobody_can_log_in(aiohttp_client, make_settings, clock, caplog):
    caplog.set_level(logging.WARNING)
    client = await aiohttp_client(create_app(make_settings(), clock, run_workers=False))
    response = await client.post("/login", data={"token": ""})
    assert (response.status, await response.json()) == (401, {"error": "the token is not right"})
    assert "no dashboard token is configured" in caplog.records[-1].getMessage()
    response = await client.post("/api/campaigns/none/close", headers={"Authorization": "Bearer "})
    assert response.status == 401
    response = await client.post("/api/campaigns/none/close")
    assert (await response.json())["error"] == ("a login is needed, and nobody can log in: no dashboard token is "
                                                "configured")
    assert (await client.get("/api/overview")).status == 401  # private by default: nobody reads either


# -- the cookie ------------------------------------------------------------------------------------------------------

async def test_a_session_lasts_session_hours(client, clock):
    csrf = (await (await client.post("/login", data={"token": TOKEN})).json())["csrf_token"]
    clock.advance(12 * 3600)
    assert (await session_of(client))["logged_in"] is True
    assert await close_campaign(client, headers={"X-CSRF-Token": csrf}) == 404
    clock.advance(1)
    assert (await session_of(client))["logged_in"] is False
    assert await close_campaign(client, headers={"X-CSRF-Token": csrf}) == 401


async def test_a_cookie_tampered_with_or_forged_is_refused(client, aiohttp_client, settings, clock):
    response = await client.post("/login", data={"token": TOKEN})
    value = set_cookie(response).value
    payload, _, signature = value.rpartition(".")
    forged = [value[:-2] + ("AA" if value[-2:] != "AA" else "BB"), payload + ".", "garbage", "",
              URLSafeTimedSerializer("guessed-secret", salt="cobot.dashboard.session").dumps({"sid": "mine"}),
              URLSafeTimedSerializer(TOKEN, salt="cobot.dashboard.session").dumps({"sid": "mine"})]
    for bad in forged:
        other = await aiohttp_client(create_app(settings, clock, run_workers=False))
        other.session.cookie_jar.update_cookies({COOKIE: bad})
        assert (await session_of(other))["logged_in"] is False, bad
        assert await close_campaign(other) == 401


async def test_replicas_share_sessions_and_a_new_token_logs_everyone_out(aiohttp_client, make_settings, clock):
    first = await aiohttp_client(create_app(dashboard(make_settings), clock, run_workers=False))
    value = set_cookie(await first.post("/login", data={"token": TOKEN})).value
    csrf = (await session_of(first))["csrf_token"]
    replica = await aiohttp_client(create_app(dashboard(make_settings), clock, run_workers=False))
    replica.session.cookie_jar.update_cookies({COOKIE: value})
    assert (await session_of(replica))["csrf_token"] == csrf
    assert await close_campaign(replica, headers={"X-CSRF-Token": csrf}) == 404

    changed = make_settings(dashboard={"token": OTHER_TOKEN, "cache_seconds": 0})
    after = await aiohttp_client(create_app(changed, clock, run_workers=False))
    after.session.cookie_jar.update_cookies({COOKIE: value})
    assert (await session_of(after))["logged_in"] is False
    assert await close_campaign(after, headers={"X-CSRF-Token": csrf}) == 401
    assert await close_campaign(after, headers=BEARER) == 401
    assert await close_campaign(after, headers={"Authorization": f"Bearer {OTHER_TOKEN}"}) == 404


# -- CSRF ----------------------------------------------------------------------------------------------------------

async def test_a_cookie_login_changes_things_only_with_its_csrf_token(client, aiohttp_client, settings, clock):
    csrf = (await (await client.post("/login", data={"token": TOKEN})).json())["csrf_token"]
    assert (await client.get("/api/overview")).status == 200  # reads need none
    refused = await client.post("/api/campaigns/none/close")
    assert (refused.status, (await refused.json())["error"]) == (
        403, "a missing or wrong CSRF token: send the session's in the X-CSRF-Token header or the csrf_token form "
             "field")
    assert await close_campaign(client, headers={"X-CSRF-Token": ""}) == 403
    assert await close_campaign(client, headers={"X-CSRF-Token": csrf.upper()}) == 403
    assert await close_campaign(client, headers={"X-CSRF-Token": csrf}) == 404
    # as a form field: the replay reads no body of its own
    response = await client.post("/api/deliveries/999/replay", data={"csrf_token": csrf})
    assert response.status == 404
    assert (await client.post("/api/deliveries/999/replay", data={"csrf_token": "x"})).status == 403

    other = await aiohttp_client(create_app(settings, clock, run_workers=False))
    theirs = (await (await other.post("/login", data={"token": TOKEN})).json())["csrf_token"]
    assert theirs != csrf  # each session has its own
    assert await close_campaign(client, headers={"X-CSRF-Token": theirs}) == 403


async def test_a_bearer_token_needs_no_csrf_token_and_a_wrong_one_is_refused(client):
    assert await close_campaign(client, headers=BEARER) == 404
    assert await close_campaign(client, headers={"Authorization": f"bearer {TOKEN}"}) == 404
    for wrong in (f"Bearer {TOKEN}x", f"Basic {TOKEN}", "Bearer", TOKEN):
        response = await client.post("/api/campaigns/none/close", headers={"Authorization": wrong})
        assert response.status == 401, wrong
    await client.post("/login", data={"token": TOKEN})
    # a wrong bearer token is refused, whatever cookie comes with it
    assert await close_campaign(client, headers={"Authorization": "Bearer nope"}) == 401
    assert (await client.get("/api/session", headers={"Authorization": "Bearer nope"})).status == 401


# -- logging out -------------------------------------------------------------------------------------------------------

async def test_logging_out_needs_the_csrf_token_and_drops_the_cookie(client):
    csrf = (await (await client.post("/login", data={"token": TOKEN})).json())["csrf_token"]
    refused = await client.post("/logout")
    assert refused.status == 403
    assert (await session_of(client))["logged_in"] is True
    response = await client.post("/logout", data={"csrf_token": csrf, "next": "/"}, allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (303, "/")
    assert set_cookie(response).value == "" and set_cookie(response)["max-age"] == "0"
    assert (await session_of(client))["logged_in"] is False
    assert await close_campaign(client, headers={"X-CSRF-Token": csrf}) == 401
    response = await client.post("/logout")  # nobody to log out: nothing to protect
    assert (response.status, (await response.json())["logged_in"]) == (200, False)


# -- the token is never shown ------------------------------------------------------------------------------------

async def test_the_token_appears_in_no_answer_header_or_log(client, caplog, settings):
    caplog.set_level(logging.DEBUG)
    answers = []
    for method, path, kwargs in [
            ("POST", "/login", {"data": {"token": TOKEN[:-1]}}),
            ("POST", "/login", {"data": {"token": TOKEN}}),
            ("GET", "/api/session", {}),
            ("GET", "/api/openapi.json", {}),
            ("GET", "/api/overview", {"headers": BEARER}),
            ("POST", "/api/campaigns/none/close", {"headers": BEARER}),
            ("POST", "/api/badges/award", {"headers": BEARER, "json": {"badge": TOKEN, "user": TOKEN}}),
            ("GET", "/api/session", {"headers": {"Authorization": f"Bearer {TOKEN}x"}}),
            ("POST", "/logout", {})]:
        response = await client.request(method, path, **kwargs)
        answers.append((path, await response.text(), str(dict(response.headers))))
    # only where a client wrote it into what it asked about itself: the badge it named
    assert [path for path, text, headers in answers if TOKEN in text or TOKEN in headers] == ["/api/badges/award"]
    assert answers[6][1].startswith('{"error": "unknown badge \'' + TOKEN + "' (badges: ")
    assert not [r for r in caplog.records if TOKEN in r.getMessage() or TOKEN[:-1] in r.getMessage()]
    assert TOKEN not in repr(settings) and TOKEN not in str(settings)


def test_the_token_comes_from_the_environment_and_must_be_long(tmp_path):
    settings = settings_from_mapping({}, env={"COBOT_DASHBOARD_TOKEN": TOKEN})
    assert settings.dashboard.token == TOKEN and TOKEN not in repr(settings.dashboard)
    with pytest.raises(ConfigError) as refused:
        settings_from_mapping({}, env={"COBOT_DASHBOARD_TOKEN": "short"})
    assert "dashboard.token: must be at least 16 characters" in str(refused.value)
    assert "short" not in str(refused.value)


# -- the helpers the pages use ---------------------------------------------------------------------------------------

async def test_the_helpers_a_page_is_built_with(aiohttp_client, make_settings, clock):
    settings = dashboard(make_settings, public=False)
    app = create_app(settings, clock, run_workers=False)
    changed: list[str] = []

    @reader
    async def page(request: web.Request) -> web.Response:
        session = current_session(request)
        return web.json_response({"via": session.via if session else None, "csrf": csrf_token(request),
                                  "may_read": may_read(request)})

    @maintainer_action
    async def change(request: web.Request) -> web.Response:
        changed.append(require_login(request).via)
        return web.json_response({"ok": True})

    app.router.add_get("/people", page)
    app.router.add_post("/people/change", change)
    client = await aiohttp_client(app)
    assert (await client.get("/people")).status == 401  # not public: reads need a login
    assert await (await client.get("/people", headers=BEARER)).json() == {"via": "bearer", "csrf": None,
                                                                           "may_read": True}
    csrf = (await (await client.post("/login", data={"token": TOKEN})).json())["csrf_token"]
    assert await (await client.get("/people")).json() == {"via": "cookie", "csrf": csrf, "may_read": True}
    assert (await client.post("/people/change", data={"name": "x"})).status == 403
    assert (await client.post("/people/change", data={"name": "x", "csrf_token": csrf})).status == 200
    assert (await client.post("/people/change", headers=BEARER)).status == 200
    assert changed == ["cookie", "bearer"]
