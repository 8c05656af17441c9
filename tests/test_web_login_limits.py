"""Guessing the dashboard token costs time, and a login body costs nothing it should not (issue 15, item 15), through
the real app: wrong tokens from one address, and from many (real sockets bound to other loopback addresses), are
throttled with 429 and `Retry-After` on the login form and on the bearer token alike, a burst is logged once, the
right token sent while throttled is not even tried; and any body sent to `POST /login` and `/logout` (a multipart
one cut short, without its boundary or a field's name, an unknown charset, nested JSON) is answered 4xx, never 5xx.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import create_app
from bot.clock import FakeClock
from bot.config import settings_from_mapping
from tests.test_web_auth import COOKIE, set_cookie
from tests.test_web_openapi import NOW, Served

TOKEN = "throttled-maintainers-token-0123"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
LIMIT, OVERALL = 10, 60  # the defaults: failed logins a minute from one address, and from everyone


@pytest.fixture
async def client(aiohttp_client, make_settings, clock):
    settings = make_settings(dashboard={"token": TOKEN, "cache_seconds": 0})
    return await aiohttp_client(create_app(settings, clock, run_workers=False))


def dashboard_lines(caplog: Any) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "cobot.dashboard"]


async def test_a_burst_of_wrong_tokens_is_throttled_and_logged_once(client, clock, caplog):
    caplog.set_level(logging.INFO)
    answers: Counter[int] = Counter()
    waits: set[str] = set()
    for n in range(300):
        response = await client.post("/login", data={"token": f"guess-{n:04d}-abcdefghijkl"})
        answers[response.status] += 1
        if response.status == 429:
            waits.add(response.headers["Retry-After"])
            assert (await response.json())["error"].startswith("too many failed logins: try again in ")
    assert answers == {401: LIMIT, 429: 300 - LIMIT}
    assert waits == {"6"}  # one more failure is allowed each 60 / 10 seconds
    lines = dashboard_lines(caplog)
    assert lines[:LIMIT] == ["dashboard: a login from 127.0.0.1 was refused: a wrong token"] * LIMIT
    assert lines[LIMIT:] == ["dashboard: failed logins from 127.0.0.1 are throttled: further attempts are refused "
                             "for 6 s, without their token being tried"]

    # while throttled the right token is not tried either, on the form nor as a bearer token
    refused = await client.post("/login", data={"token": TOKEN})
    assert (refused.status, refused.headers["Retry-After"], set_cookie(refused)) == (429, "6", None)
    refused = await client.get("/api/session", headers=BEARER)
    assert (refused.status, (await refused.json())["error"]) == (429, "too many failed logins: try again in 6 s")
    assert (await client.post("/api/campaigns/none/close", headers=BEARER)).status == 429

    clock.advance(6)
    response = await client.post("/login", data={"token": TOKEN})
    assert response.status == 200 and set_cookie(response) is not None
    assert dashboard_lines(caplog)[LIMIT + 1:] == [
        "dashboard: 293 login attempts from 127.0.0.1 were refused while throttled",
        "dashboard: a maintainer logged in from 127.0.0.1"]
    # a session once started is not throttled: its cookie works whatever is guessed meanwhile
    for _ in range(LIMIT + 1):
        await client.post("/login", data={"token": "still-guessing-0123456789"})
    assert (await (await client.get("/api/session")).json())["logged_in"] is True


async def test_wrong_bearer_tokens_are_throttled_as_logins_are(client, clock, caplog):
    caplog.set_level(logging.INFO)
    statuses = [(await client.get("/api/overview", headers={"Authorization": f"Bearer nope-{n}"})).status
                for n in range(50)]
    assert statuses == [401] * LIMIT + [429] * (50 - LIMIT)
    assert (await client.get("/api/overview", headers=BEARER)).status == 429
    assert len(dashboard_lines(caplog)) == 1  # the burst, once
    clock.advance(60)
    assert (await client.get("/api/overview", headers=BEARER)).status == 200


async def post_from(client: Any, address: str, token: str) -> aiohttp.ClientResponse:
    """POST /login over a connection whose client end is `address` (another address of the loopback network)."""
    connector = aiohttp.TCPConnector(local_addr=(address, 0))
    async with (aiohttp.ClientSession(connector=connector) as session,
                session.post(client.make_url("/login"), data={"token": token}) as response):
        await response.read()
        return response


async def test_each_address_has_its_limit_and_everyone_together_theirs(client, clock, caplog):
    caplog.set_level(logging.INFO)
    for _ in range(LIMIT):
        assert (await post_from(client, "127.0.0.2", "wrong-wrong-wrong-wrong")).status == 401
    assert (await post_from(client, "127.0.0.2", TOKEN)).status == 429  # this address is throttled
    assert (await post_from(client, "127.0.0.3", TOKEN)).status == 200  # another is not
    # six addresses of ten failures each: everyone's sixty a minute are spent, and everyone waits
    for address in ("127.0.0.4", "127.0.0.5", "127.0.0.6", "127.0.0.7", "127.0.0.8"):
        for _ in range(LIMIT):
            assert (await post_from(client, address, "wrong-wrong-wrong-wrong")).status == 401
    refused = await post_from(client, "127.0.0.9", TOKEN)
    assert (refused.status, refused.headers["Retry-After"]) == (429, "1")
    assert "dashboard: failed logins from everyone are throttled: further attempts are refused for 1 s, without " \
           "their token being tried" in dashboard_lines(caplog)
    clock.advance(1)
    assert (await post_from(client, "127.0.0.9", TOKEN)).status == 200


def test_addresses_are_counted_by_host_and_ipv6_by_its_64():
    from bot.web.throttle import client_key

    assert client_key("203.0.113.7") == "203.0.113.7"
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert client_key("::ffff:203.0.113.7") == "203.0.113.7"
    assert client_key(None) == client_key("not an address") == "unknown"


# -- bodies that are no form ----------------------------------------------------------------------------------------

MULTIPART = "multipart/form-data; boundary=x"
BAD_BODIES = [
    ("multipart/form-data", b"token=abc"),  # no boundary
    (MULTIPART, b"garbage"),  # no starting boundary
    (MULTIPART, b"--x\r\nContent-Disposition: form-data\r\n\r\nv\r\n--x--\r\n"),  # a field without a name
    (MULTIPART, b"--x\r\n\r\nv\r\n--x--\r\n"),  # no Content-Disposition
    (MULTIPART, b"--x\r\nContent-Disposition: form-data; name=token\r\n\r\nv"),  # cut short
    (MULTIPART, b"--x\r\nContent-Disposition: form-data; name=token\r\nContent-Type: text/plain; charset=nope\r\n"
                b"\r\nv\r\n--x--\r\n"),  # an unknown charset
    ("application/x-www-form-urlencoded; charset=nope", b"token=abc"),
    ("application/json", b"[" * 5_000),  # nested too deeply
    ("application/json", b'{"token": 12345678901234567}'),  # no string
    ("application/json", b"\xff\xfe"),
]


@pytest.mark.parametrize(("content_type", "body"), BAD_BODIES, ids=range(len(BAD_BODIES)))
async def test_a_body_that_is_no_form_is_answered_400(client, content_type, body):
    for path in ("/login", "/logout"):
        response = await client.post(path, data=body, headers={"Content-Type": content_type})
        assert response.status == 400, (path, await response.text())
        assert (await response.json())["error"] in ("the body is not a readable form", "the body is not JSON",
                                                    "token: a string")
    # and from a maintainer logged in, whose logout reads the form for its CSRF token
    await client.post("/login", data={"token": TOKEN})
    response = await client.post("/logout", data=body, headers={"Content-Type": content_type})
    assert response.status in (400, 403), await response.text()
    assert (await (await client.get("/api/session")).json())["logged_in"] is True


# -- any body, any content type: never a server error ---------------------------------------------------------------

@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("login-bodies")
    settings_ = settings_from_mapping({"database": {"url": f"sqlite:///{folder / 'cobot.db'}"},
                                       "dashboard": {"token": TOKEN}}, "test", env={})
    with Served(create_app(settings_, FakeClock(NOW), run_workers=False)) as server:
        yield server.base


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as refused:
        refused.read()
        return refused.code


CONTENT_TYPES = st.sampled_from(["multipart/form-data", MULTIPART, "multipart/form-data; boundary=",
                                 "application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=x",
                                 "application/json", "application/json; charset=utf-16", "text/plain", ""])
PIECES = st.sampled_from([b"--x", b"--x--", b"\r\n", b"Content-Disposition: form-data; name=", b"token", b"next",
                          b"csrf_token", b"=", b"&", b'"', b"filename=a", b"Content-Type: text/plain; charset=",
                          b"Content-Transfer-Encoding: base64", b"%", b"%ff", b"{", b"[", b"}", b'"token":', b"\x00"])
BODIES = st.one_of(st.binary(max_size=300), st.lists(PIECES, max_size=30).map(b"".join))


def test_any_body_to_login_and_logout_is_answered_without_a_server_error(served):
    statuses: Counter[int] = Counter()

    @given(path=st.sampled_from(["/login", "/logout"]), content_type=CONTENT_TYPES, body=BODIES,
           cookie=st.booleans())
    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def answered(path: str, content_type: str, body: bytes, cookie: bool) -> None:
        headers = {"Content-Type": content_type} if content_type else {}
        if cookie:
            headers["Cookie"] = f"{COOKIE}=not-a-session"
        status = post(served + path, body, headers)
        statuses[status] += 1
        assert status < 500, (path, content_type, body)

    answered()
    assert statuses[400] > 0 and sum(statuses.values()) >= 300  # it did try bodies that are no form


def test_a_login_body_nested_deeply_is_refused(served):
    status = post(served + "/login", json.dumps({"token": [[[[]]]]}).encode(), {"Content-Type": "application/json"})
    assert status == 400
