"""Dashboard sessions held by the server, the cookie's `Secure` rule, and answers no cache keeps (issue 15, item 20),
through the real app: logging out on one replica ends the session on every other (a copy of the cookie is refused
after), a cookie signed right whose session the store does not know is refused, "log out everywhere" revokes every
session; the cookie is `Secure` unless cobot is known to be reached over plain HTTP; every JSON answer, and whatever
/api/, /login and /logout answer, carries `Cache-Control: no-store` (the webhooks' answers to a POST need not: see
bot/web/no_store.py and tests/test_webhook_abuse.py)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.app.factory import create_app
from tests.test_web_auth import COOKIE, set_cookie

TOKEN = "sessions-maintainers-token-01234"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def dashboard(make_settings: Any, **sections: Any) -> Any:
    return make_settings(dashboard={"token": TOKEN, "cache_seconds": 0}, **sections)


async def login(client: Any) -> tuple[str, str]:
    """Log in: the cookie's value and the session's CSRF token."""
    response = await client.post("/login", data={"token": TOKEN})
    assert response.status == 200
    return set_cookie(response).value, (await response.json())["csrf_token"]


async def logged_in(client: Any) -> bool:
    return (await (await client.get("/api/session")).json())["logged_in"]


async def close(client: Any, csrf: str) -> int:
    """A maintainer action (on a campaign that does not exist: 404 once let through, 401 without a login)."""
    return (await client.post("/api/campaigns/none/close", headers={"X-CSRF-Token": csrf})).status


async def test_logging_out_on_one_replica_ends_the_session_on_every_other(aiohttp_client, make_settings, clock):
    settings = dashboard(make_settings)
    first = await aiohttp_client(create_app(settings, clock, run_workers=False))
    replica = await aiohttp_client(create_app(settings, clock, run_workers=False))
    value, csrf = await login(first)
    replica.session.cookie_jar.update_cookies({COOKIE: value})  # the same browser, served by the other replica
    stolen = await aiohttp_client(create_app(settings, clock, run_workers=False))
    stolen.session.cookie_jar.update_cookies({COOKIE: value})  # a copy of the cookie, taken before the logout
    assert await logged_in(replica) and await close(replica, csrf) == 404
    response = await first.post("/logout", data={"csrf_token": csrf})
    assert response.status == 200 and set_cookie(response).value == ""
    for other in (replica, stolen):
        assert not await logged_in(other)
        assert await close(other, csrf) == 401
        assert (await other.get("/api/overview")).status == 401


async def test_a_cookie_signed_right_for_a_session_the_store_does_not_know_is_refused(aiohttp_client, make_settings,
                                                                                     clock, tmp_path):
    elsewhere = make_settings(dashboard={"token": TOKEN}, database={"url": f"sqlite:///{tmp_path / 'other.db'}"})
    other = await aiohttp_client(create_app(elsewhere, clock, run_workers=False))
    value, csrf = await login(other)  # signed with the same token, its session stored in another database
    client = await aiohttp_client(create_app(dashboard(make_settings), clock, run_workers=False))
    client.session.cookie_jar.update_cookies({COOKIE: value})
    assert not await logged_in(client)
    assert await close(client, csrf) == 401


async def test_log_out_everywhere_revokes_every_session(aiohttp_client, make_settings, clock):
    settings = dashboard(make_settings)
    browsers = [await aiohttp_client(create_app(settings, clock, run_workers=False)) for _ in range(3)]
    logins = [await login(browser) for browser in browsers]
    assert (await browsers[0].post("/api/sessions/revoke")).status == 403  # a cookie without its CSRF token
    assert (await browsers[0].post("/api/sessions/revoke", headers={"Authorization": "Bearer nope"})).status == 401
    response = await browsers[0].post("/api/sessions/revoke", headers={"X-CSRF-Token": logins[0][1]})
    assert (response.status, await response.json()) == (200, {"revoked": 3})
    assert set_cookie(response).value == ""  # the caller's own is dropped too
    for browser, (_, csrf) in zip(browsers, logins, strict=True):
        assert not await logged_in(browser) and await close(browser, csrf) == 401
    await login(browsers[1])  # logging in again starts a new one
    response = await browsers[2].post("/api/sessions/revoke", headers=BEARER)  # an operator, by the token
    assert (response.status, await response.json()) == (200, {"revoked": 1})
    assert set_cookie(response) is None and not await logged_in(browsers[1])


@pytest.mark.parametrize(("server", "headers", "secure"), [
    ({}, {}, False),  # the default: 127.0.0.1, a browser on this machine
    ({}, {"X-Forwarded-Proto": "https"}, True),  # a TLS proxy in front of a cobot on 127.0.0.1
    ({}, {"X-Forwarded-For": "198.51.100.7"}, True),
    ({}, {"Forwarded": "for=198.51.100.7;proto=https"}, True),
    ({"host": "::1"}, {}, False),
    ({"host": "localhost"}, {}, False),
    ({"host": "0.0.0.0"}, {}, True),  # reachable from elsewhere, perhaps over TLS: always
    ({"host": "::"}, {}, True),
    ({"host": "10.0.0.5"}, {}, True),
    ({"host": "0.0.0.0", "public_url": "http://cobot.lan:8080"}, {}, False),  # plain HTTP, as the operator says
    ({"public_url": "https://cobot.example.org"}, {}, True),
])
async def test_the_cookie_is_secure_unless_cobot_is_known_to_be_reached_over_plain_http(
        aiohttp_client, make_settings, clock, server, headers, secure):
    client = await aiohttp_client(create_app(dashboard(make_settings, server=server), clock, run_workers=False))
    response = await client.post("/login", data={"token": TOKEN}, headers=headers)
    cookie = set_cookie(response)
    assert bool(cookie["secure"]) is secure
    assert (cookie["httponly"], cookie["samesite"]) == (True, "Lax")
    response = await client.post("/logout", headers={**headers, "X-CSRF-Token": (await response.json())["csrf_token"]},
                                 cookies={COOKIE: cookie.value})
    assert bool(set_cookie(response)["secure"]) is secure  # dropped with the attributes it was set with


DROPPED = "the session cookie is Secure (HTTPS only) but this login came over plain HTTP"


@pytest.mark.parametrize(("server", "headers", "dropped"), [
    ({"host": "0.0.0.0"}, {"Host": "cobot.example.org:8080"}, True),  # a browser elsewhere, over plain HTTP
    ({"host": "10.0.0.5"}, {"Host": "10.0.0.5:8080"}, True),
    ({"host": "0.0.0.0"}, {"Host": "cobot.example.org", "X-Forwarded-Proto": "http"}, True),  # a proxy says so
    ({}, {"Host": "cobot.example.org", "Forwarded": "for=198.51.100.7;proto=http"}, True),
    ({"host": "0.0.0.0"}, {"Host": "cobot.example.org", "X-Forwarded-Proto": "https"}, False),  # behind TLS
    ({"host": "0.0.0.0"}, {"Host": "cobot.example.org", "Forwarded": "for=198.51.100.7;proto=https"}, False),
    ({"host": "0.0.0.0"}, {"Host": "cobot.example.org", "X-Forwarded-For": "198.51.100.7"}, False),  # (unknown)
    ({"host": "0.0.0.0"}, {"Host": "localhost:8080"}, False),  # a browser on this machine keeps it
    ({"host": "0.0.0.0"}, {"Host": "[::1]:8080"}, False),
    ({}, {"Host": "cobot.example.org"}, False),  # cobot on loopback, straight: the cookie is not Secure
    ({"host": "0.0.0.0", "public_url": "http://cobot.lan:8080"}, {"Host": "cobot.lan:8080"}, False),  # not Secure
    ({"host": "0.0.0.0", "public_url": "https://cobot.example.org"}, {"Host": "cobot.example.org"}, False),
])
async def test_a_login_whose_cookie_the_browser_drops_says_so(aiohttp_client, make_settings, clock, caplog,
                                                              server, headers, dropped):
    """`Secure` cookie, plain HTTP: the browser drops the cookie and the login would loop without a word. The
    login succeeds and says why it will not hold: in JSON (`warning`), on the login page, and in the log."""
    client = await aiohttp_client(create_app(dashboard(make_settings, server=server), clock, run_workers=False))
    response = await client.post("/login", json={"token": TOKEN}, headers=headers)
    answer = await response.json()
    assert response.status == 200 and answer["logged_in"] is True and set_cookie(response) is not None
    assert answer.get("warning", "").startswith(DROPPED) is dropped
    assert (DROPPED in caplog.text) is dropped

    response = await client.post("/login", data={"token": TOKEN, "next": "/operations"}, headers=headers,
                                 allow_redirects=False)
    assert set_cookie(response) is not None
    if not dropped:
        assert (response.status, response.headers["Location"]) == (303, "/operations")
        return
    page = await response.text()
    assert response.status == 200 and response.content_type == "text/html"
    assert "your browser will not keep this login" in page and "set server.public_url" in page
    assert 'href="/operations"' in page  # and where it was going
    zh = await client.post("/login?lang=zh", data={"token": TOKEN, "next": "/"}, headers=headers,
                           cookies={"cobot_lang": "zh"}, allow_redirects=False)
    assert "浏览器不会保存这次登录" in await zh.text()


async def test_json_answers_and_the_login_routes_are_never_cached(aiohttp_client, make_settings, clock):
    settings = dashboard(make_settings, badges={"auto_award": True})
    client = await aiohttp_client(create_app(settings, clock, run_workers=False))
    requests: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/api/overview", {}),  # 401: private
        ("GET", "/api/overview", {"headers": BEARER}),
        ("GET", "/api/session", {}),
        ("GET", "/api/nothing-here", {}),
        ("DELETE", "/api/overview", {}),
        ("POST", "/api/campaigns/none/close", {"headers": BEARER}),
        ("GET", "/api/openapi.json", {"headers": BEARER}),
        ("POST", "/login", {"data": {"token": "wrong-wrong-wrong-wrong"}}),
        ("POST", "/login", {"data": {"token": "wrong-wrong-wrong-wrong", "next": "/"}}),  # 303 back to the form
        ("POST", "/login", {"data": {"token": TOKEN, "next": "/"}}),  # 303 with the cookie
        ("POST", "/login", {"json": {"token": TOKEN}}),
        ("POST", "/logout", {}),
        ("GET", "/healthz", {}),
        ("GET", "/badges/nope", {}),  # 404 in JSON
    ]
    for method, path, kwargs in requests:
        response = await client.request(method, path, allow_redirects=False, **kwargs)
        assert response.headers.get("Cache-Control") == "no-store", (method, path, response.status)
    # what says how it may be cached keeps it
    image = await client.get("/badges/first-issue.svg")
    assert image.headers["Cache-Control"] == "public, max-age=3600"
