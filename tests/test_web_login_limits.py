"""Wrong dashboard tokens cost a log line, never the maintainers' access, and a login body costs nothing it should not
(issue 15, item 15, and the attack on its fix), through the real app: wrong tokens from one address, and from many
(real sockets bound to other loopback addresses), are throttled with 429 and `Retry-After` on the login form and on
the bearer token alike, and a burst is logged once; the right token is accepted all the while (behind a proxy every
client has one address: wrong tokens from anyone must not lock everyone out; the token's length, not the throttle,
is what stops guessing). Any body sent to `POST /login`, `/logout` and an API action (a multipart one, without
its boundary, an unknown charset, nested JSON, a key named twice, a lone surrogate) is answered 4xx, never 5xx.
"""

from __future__ import annotations

import json
import logging
import re
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app.factory import create_app
from bot.clock import FakeClock
from bot.config import settings_from_mapping
from tests.test_web_auth import COOKIE, set_cookie
from tests.test_web_openapi import NOW, Served

TOKEN = "throttled-maintainers-token-0123"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
LIMIT, OVERALL = 10, 60  # the defaults: failed logins a minute from one address, and from everyone
TEMPLATES = Path(__file__).resolve().parents[1] / "bot" / "templates" / "web"


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
    assert lines[LIMIT:] == ["dashboard: failed logins from 127.0.0.1 are throttled: further wrong tokens are "
                             "refused for 6 s"]

    # The right token is accepted all the while, on the form and as a bearer token: wrong tokens (anyone's: behind
    # a proxy, every client has its address) never lock a maintainer out. Guessing is stopped by the token's
    # length (16 characters at least), not by the throttle.
    accepted = await client.post("/login", data={"token": TOKEN})
    assert accepted.status == 200 and set_cookie(accepted) is not None
    assert (await client.get("/api/session", headers=BEARER)).status == 200
    assert (await client.post("/api/campaigns/none/close", headers=BEARER)).status == 404  # (tried: no such campaign)
    refused = await client.post("/login", data={"token": "still-guessing-0123456789"})
    assert (refused.status, refused.headers["Retry-After"]) == (429, "6")  # the burst goes on
    assert dashboard_lines(caplog)[LIMIT + 1:] == ["dashboard: a maintainer logged in from 127.0.0.1"]

    clock.advance(6)
    assert (await client.post("/login", data={"token": "still-guessing-0123456789"})).status == 401
    assert dashboard_lines(caplog)[LIMIT + 2:] == [
        "dashboard: 291 wrong tokens from 127.0.0.1 were refused while throttled",
        "dashboard: a login from 127.0.0.1 was refused: a wrong token"]
    # a session once started is not throttled: its cookie works whatever is guessed meanwhile
    for _ in range(LIMIT + 1):
        await client.post("/login", data={"token": "still-guessing-0123456789"})
    assert (await (await client.get("/api/session")).json())["logged_in"] is True


async def test_wrong_bearer_tokens_are_throttled_as_logins_are(client, clock, caplog):
    caplog.set_level(logging.INFO)
    statuses = [(await client.get("/api/overview", headers={"Authorization": f"Bearer nope-{n}"})).status
                for n in range(50)]
    assert statuses == [401] * LIMIT + [429] * (50 - LIMIT)
    assert (await client.get("/api/overview", headers=BEARER)).status == 200  # the right one, while throttled
    assert (await client.get("/api/overview", headers={"Authorization": "Bearer nope"})).status == 429
    assert len(dashboard_lines(caplog)) == 1  # the burst, once
    clock.advance(60)
    assert (await client.get("/api/overview", headers={"Authorization": "Bearer nope"})).status == 401


async def post_from(client: Any, address: str, token: str) -> aiohttp.ClientResponse:
    """POST /login over a connection whose client end is `address` (another address of the loopback network)."""
    connector = aiohttp.TCPConnector(local_addr=(address, 0))
    async with (aiohttp.ClientSession(connector=connector) as session,
                session.post(client.make_url("/login"), data={"token": token}) as response):
        await response.read()
        return response


async def get_from(client: Any, address: str, path: str, headers: dict[str, str]) -> int:
    connector = aiohttp.TCPConnector(local_addr=(address, 0))
    async with (aiohttp.ClientSession(connector=connector) as session,
                session.get(client.make_url(path), headers=headers) as response):
        await response.read()
        return response.status


async def test_each_address_has_its_limit_and_everyone_together_theirs(client, clock, caplog):
    caplog.set_level(logging.INFO)
    for _ in range(LIMIT):
        assert (await post_from(client, "127.0.0.2", "wrong-wrong-wrong-wrong")).status == 401
    assert (await post_from(client, "127.0.0.2", "wrong-wrong-wrong-wrong")).status == 429  # this address is throttled
    assert (await post_from(client, "127.0.0.3", "wrong-wrong-wrong-wrong")).status == 401  # another is not
    assert (await post_from(client, "127.0.0.2", TOKEN)).status == 200  # and the right token is taken from both
    # five more addresses of ten failures each: everyone's sixty a minute are spent, and every wrong token waits
    for address in ("127.0.0.4", "127.0.0.5", "127.0.0.6", "127.0.0.7", "127.0.0.8"):
        for _ in range(LIMIT):
            await post_from(client, address, "wrong-wrong-wrong-wrong")
    refused = await post_from(client, "127.0.0.9", "wrong-wrong-wrong-wrong")
    assert (refused.status, refused.headers["Retry-After"]) == (429, "1")
    assert "dashboard: failed logins from everyone are throttled: further wrong tokens are refused for 1 s" \
           in dashboard_lines(caplog)
    assert (await post_from(client, "127.0.0.9", TOKEN)).status == 200
    clock.advance(1)
    assert (await post_from(client, "127.0.0.9", "wrong-wrong-wrong-wrong")).status == 401


async def test_wrong_tokens_from_many_addresses_lock_no_maintainer_out(client, clock):
    """The attack on the throttle itself: 72 wrong bearer tokens from 12 addresses, 6 each (under the per-address
    limit), spend everyone's 60 a minute; the maintainer's right token, from any address, is still accepted."""
    statuses: Counter[int] = Counter()
    for host in range(10, 22):
        for n in range(6):
            statuses[await get_from(client, f"127.0.0.{host}", "/api/overview",
                                    {"Authorization": f"Bearer guess-{host}-{n}-0123456789"})] += 1
    assert statuses == {401: OVERALL, 429: 72 - OVERALL}
    for address in ("127.0.0.10", "127.0.0.30", "127.0.0.1"):
        assert await get_from(client, address, "/api/overview", BEARER) == 200
        assert (await post_from(client, address, TOKEN)).status == 200


def test_addresses_are_counted_by_host_and_ipv6_by_its_64():
    from bot.peers import client_key

    assert client_key("203.0.113.7") == "203.0.113.7"
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert client_key("::ffff:203.0.113.7") == "203.0.113.7"
    assert client_key(None) == client_key("not an address") == "unknown"


# -- bodies that are no form ----------------------------------------------------------------------------------------

MULTIPART = "multipart/form-data; boundary=x"
BAD_BODIES = [
    ("application/x-www-form-urlencoded; charset=nope", b"token=abc"),  # an unknown charset
    ("application/x-www-form-urlencoded; charset=bogus-enc", b"token=abc"),
    ("application/x-www-form-urlencoded; charset=utf-16", b"token=abc"),  # bytes that are not in it
    ("application/json", b"[" * 5_000),  # nested too deeply
    ("application/json", b'{"token": 12345678901234567}'),  # no string
    ("application/json; charset=bogus-enc", b'{"token": 12345678901234567}'),  # (JSON is UTF-8: charset unread)
    ("application/json", b"\xff\xfe"),
]
MULTIPART_BODIES = [
    ("multipart/form-data", b"token=abc"),  # no boundary
    (MULTIPART, b"garbage"),  # no starting boundary
    (MULTIPART, b"--x\r\nContent-Disposition: form-data\r\n\r\nv\r\n--x--\r\n"),  # a field without a name
    (MULTIPART, b"--x\r\n\r\nv\r\n--x--\r\n"),  # no Content-Disposition
    (MULTIPART, b"--x\r\nContent-Disposition: form-data; name=token\r\n\r\nv"),  # cut short
    (MULTIPART, b"--x\r\nContent-Disposition: form-data; name=token\r\nContent-Type: text/plain; charset=nope\r\n"
                b"\r\nv\r\n--x--\r\n"),  # an unknown charset
    (MULTIPART, f"--x\r\nContent-Disposition: form-data; name=token\r\n\r\n{TOKEN}\r\n--x--\r\n".encode()),  # right
    ("multipart/mixed; boundary=x", b"--x\r\n\r\nv\r\n--x--\r\n"),
]


@pytest.mark.parametrize(("content_type", "body"), BAD_BODIES, ids=range(len(BAD_BODIES)))
async def test_a_body_that_is_no_form_is_answered_400(client, content_type, body):
    for path in ("/login", "/logout"):
        response = await client.post(path, data=body, headers={"Content-Type": content_type})
        assert response.status == 400, (path, await response.text())
        assert (await response.json())["error"] in ("the body is not a readable form", "body: not JSON",
                                                    "token: a string")
    # and from a maintainer logged in, whose logout reads the form for its CSRF token
    await client.post("/login", data={"token": TOKEN})
    response = await client.post("/logout", data=body, headers={"Content-Type": content_type})
    assert response.status in (400, 403), await response.text()
    assert (await (await client.get("/api/session")).json())["logged_in"] is True


@pytest.mark.parametrize(("content_type", "body"), MULTIPART_BODIES, ids=range(len(MULTIPART_BODIES)))
async def test_a_multipart_body_is_refused_415_before_it_is_read(client, content_type, body):
    """No form of cobot's is multipart, and aiohttp's multipart reader reads the stream itself (past the deadline
    every other body is read within): refused, whatever it holds (the right token too), on every route."""
    for path, extra in (("/login", {}), ("/logout", {}), ("/api/badges/award", BEARER), ("/slack/commands", {})):
        response = await client.post(path, data=body, headers={"Content-Type": content_type, **extra})
        assert response.status == 415, (path, await response.text())
        assert (await response.json())["error"] == ("a multipart body: cobot reads JSON and "
                                                    "application/x-www-form-urlencoded forms only")
        assert set_cookie(response) is None


def test_no_form_of_the_dashboard_sends_a_multipart_body():
    """What the 415 above relies on: every form in the dashboard's templates posts a urlencoded body."""
    forms = [match for template in TEMPLATES.glob("*.j2")
             for match in re.findall(r"<form\b[^>]*>", template.read_text(encoding="utf-8"))]
    assert forms and all("enctype" not in form.lower() for form in forms), forms


JSON_BODIES = [(b"[" * 5_000, "body: not JSON"), (b"{" * 60_000, "body: not JSON"), (b"not json", "body: not JSON"),
               (b"\xff\xfe", "body: not JSON"), (b'"token"', "body: a JSON object is needed"),
               (b"[1, 2]", "body: a JSON object is needed"), (b"  ", "body: a JSON object is needed"),
               (b'{"token": "a", "token": "b"}', 'body: the key "token" appears twice in an object'),
               (b'{"a": {"b": 1, "b": 2}}', 'body: the key "b" appears twice in an object')]


@pytest.mark.parametrize(("body", "message"), JSON_BODIES, ids=range(len(JSON_BODIES)))
async def test_a_json_body_is_read_alike_by_the_login_and_the_api(client, body, message):
    """One reader for every JSON body: the login and the API's actions refuse a bad one with the same 400."""
    headers = {"Content-Type": "application/json"}
    for path, extra in (("/login", {}), ("/api/badges/award", BEARER), ("/api/campaigns/nope/close", BEARER)):
        if path == "/api/campaigns/nope/close" and not body.strip():
            continue  # (closing takes no body: none is no fault)
        response = await client.post(path, data=body, headers={**headers, **extra})
        assert (response.status, (await response.json())["error"]) == (400, message), path


UNENCODABLE = [b'{"token": "\\ud800"}', b'{"token": "\\udfff\\ud800"}',
               b'{"token": "' + TOKEN.encode() + b'\\ud800"}', b'{"token": "\\ud83d", "next": "/\\ud800"}']


@pytest.mark.parametrize("body", UNENCODABLE, ids=range(len(UNENCODABLE)))
async def test_a_token_no_utf8_can_hold_is_a_wrong_token(client, caplog, body):
    """A JSON escape of a lone surrogate makes a string that cannot be encoded (it was a 500): it is not the token."""
    caplog.set_level(logging.INFO)
    response = await client.post("/login", data=body, headers={"Content-Type": "application/json"})
    assert (response.status, await response.json()) == (401, {"error": "the token is not right"})
    assert dashboard_lines(caplog) == ["dashboard: a login from 127.0.0.1 was refused: a wrong token"]
    form = await client.post("/login", data=b"token=%ED%A0%80&next=%ED%A0%80",
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status == 401


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


CHARSETS = ["", "; charset=x", "; charset=bogus-enc", "; charset=utf-16", "; charset=utf-32", "; charset=latin-1",
            "; charset=idna", "; charset=rot13", "; charset=utf-8-sig", '; charset="utf-8"', "; charset=", "; charset"]
CONTENT_TYPES = st.one_of(
    st.sampled_from(["multipart/form-data", MULTIPART, "multipart/form-data; boundary=", "text/plain", ""]),
    st.builds(str.__add__, st.sampled_from(["application/x-www-form-urlencoded", "application/json", "text/plain"]),
              st.sampled_from(CHARSETS)))
PIECES = st.sampled_from([b"--x", b"--x--", b"\r\n", b"Content-Disposition: form-data; name=", b"token", b"next",
                          b"csrf_token", b"=", b"&", b'"', b"filename=a", b"Content-Type: text/plain; charset=",
                          b"Content-Transfer-Encoding: base64", b"%", b"%ff", b"%ED%A0%80", b"{", b"[", b"}",
                          b'"token":', b'"dry_run":', b"true", b",", b'"\\ud800"', b'"\\udfff"', b"\x00", b"\xff"])
SURROGATES = st.integers(0xD800, 0xDFFF).map(chr)  # lone surrogates: what a JSON escape such as \ud800 makes
STRINGS = st.lists(st.characters() | SURROGATES, max_size=12).map("".join)
KEYS = st.sampled_from(["token", "next", "csrf_token", "dry_run"]) | STRINGS
VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | STRINGS,
                      lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
                      max_leaves=8)
PAIRS = st.lists(st.tuples(KEYS, VALUES), max_size=5).map(  # an object that may name a key twice
    lambda pairs: ("{" + ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in pairs) + "}").encode())
BODIES = st.one_of(st.binary(max_size=300), st.lists(PIECES, max_size=30).map(b"".join), PAIRS,
                   VALUES.map(lambda value: json.dumps(value).encode()))
ACTION = "/api/campaigns/nope/close"


def test_any_body_to_login_logout_and_an_action_is_answered_without_a_server_error(served):
    """Any bytes, in any content type with any charset (odd ones too), compressed or not, logged in or not, to
    `POST /login`, `/logout` and an API action: a 2xx, 3xx or 4xx answer, never a 5xx."""
    statuses: Counter[int] = Counter()

    @given(path=st.sampled_from(["/login", "/logout", ACTION]), content_type=CONTENT_TYPES, body=BODIES,
           cookie=st.booleans(), bearer=st.sampled_from([None, TOKEN, "wrong-token-0123456789"]),
           encoding=st.sampled_from([None, "identity", "gzip", "br, gzip"]))
    @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def answered(path: str, content_type: str, body: bytes, cookie: bool, bearer: str | None,
                 encoding: str | None) -> None:
        headers = {"Content-Type": content_type} if content_type else {}
        if cookie:
            headers["Cookie"] = f"{COOKIE}=not-a-session"
        if bearer is not None and path == ACTION:
            headers["Authorization"] = f"Bearer {bearer}"
        if encoding is not None:
            headers["Content-Encoding"] = encoding
        status = post(served + path, body, headers)
        statuses[status] += 1
        assert status < 500, (path, content_type, body)

    answered()
    assert statuses[400] > 0 and statuses[415] > 0 and sum(statuses.values()) >= 400  # it tried bodies of each kind


def test_a_login_body_nested_deeply_is_refused(served):
    status = post(served + "/login", json.dumps({"token": [[[[]]]]}).encode(), {"Content-Type": "application/json"})
    assert status == 400
