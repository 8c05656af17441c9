"""Request bodies on every route but the webhooks' arrive in time and in a form cobot reads (issue 15, the attack on
its fix), through the real app over real sockets: a body sent a byte at a time to `POST /login`, `/logout`,
`/slack/commands` or an API action is answered 408 at the deadline and its connection closed (it held the
connection, and a slot of `server.max_connections`, with no end); a compressed body is refused 415 on every route,
the webhooks' included; a multipart one 415 (tests/test_web_login_limits.py); a declared length over 64 KB 413
before a byte is read. What arrives in time is read once, and the handlers read the same bytes."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.app.factory import COBOT, create_app
from bot.store.tables import Delivery, OutboxAction
from tests.helpers import count, github_headers
from tests.raw_http import Connection, connect, exchange, head, post
from tests.test_slack_commands import SIGNING_SECRET, form, signed

TOKEN = "request-limits-maintainers-token-01"
DEADLINE = 1.0  # server.body_timeout_seconds, short for the test
BEARER = ("Authorization", f"Bearer {TOKEN}")


@pytest.fixture
def app(make_settings, clock):
    settings = make_settings(server={"body_timeout_seconds": DEADLINE}, dashboard={"token": TOKEN},
                             slack={"signing_secret": SIGNING_SECRET})
    return create_app(settings, clock, run_workers=False)


@pytest.fixture
async def client(aiohttp_client, app):
    return await aiohttp_client(app)


async def trickle(connection: Connection, every: float) -> None:
    """One byte of the body every `every` seconds, until the server hangs up."""
    try:
        while True:
            await asyncio.sleep(every)
            await connection.send(b"x")
    except ConnectionError:
        return


SLOW = {
    "/login": [("Content-Type", "application/x-www-form-urlencoded")],
    "/logout": [("Content-Type", "application/x-www-form-urlencoded")],
    "/slack/commands": [("Content-Type", "application/x-www-form-urlencoded"), ("X-Slack-Signature", "v0=00"),
                        ("X-Slack-Request-Timestamp", "1")],
    "/api/badges/award": [("Content-Type", "application/json"), BEARER],
    "/nowhere": [("Content-Type", "application/json")],  # no route: still no endless body
}


@pytest.mark.parametrize("path", SLOW)
async def test_a_body_sent_a_byte_at_a_time_is_408_at_the_deadline_and_the_connection_closed(client, caplog, path):
    caplog.set_level(logging.INFO)
    connection = await connect(client.port)
    await connection.send(head("POST", path, [*SLOW[path], ("Content-Length", "60000")]) + b"token=")
    sending = asyncio.create_task(trickle(connection, every=0.1))
    answer = await connection.answer(timeout=DEADLINE + 5)  # (a bound: before, no answer came at all)
    assert (answer.status, answer.json()) == (408, {"error": f"the body did not arrive within {DEADLINE:g} seconds"})
    assert answer.headers["connection"] == "close"
    assert await connection.closed_by_server(timeout=5)  # at once: its remaining bytes are not waited for
    sending.cancel()
    connection.close()
    said = [record.getMessage() for record in caplog.records if record.name.startswith("cobot")]
    assert said == [f"a request body from 127.0.0.1 (POST {path}) did not arrive within 1 seconds: 408, "
                    "connection closed"]  # and the handler never ran (no refused login, no refused signature)


async def test_a_silent_body_is_408_too_and_others_are_answered_meanwhile(client):
    silent = [await connect(client.port) for _ in range(20)]
    for connection in silent:
        await connection.send(head("POST", "/login", [("Content-Type", "application/json"),
                                                      ("Content-Length", "1000")]))
    assert (await exchange(client.port, head("GET", "/healthz", []))).status == 200
    right = json.dumps({"token": TOKEN}).encode()
    assert (await exchange(client.port, post("/login", [("Content-Type", "application/json")], right))).status == 200
    answers = await asyncio.gather(*(connection.answer(timeout=DEADLINE + 5) for connection in silent))
    assert {answer.status for answer in answers} == {408}
    for connection in silent:
        connection.close()


async def test_a_body_that_arrives_in_time_is_read_once_by_the_handler(client, clock):
    """The middleware read it; the login form, the JSON reader and Slack's verifier read the same bytes."""
    connection = await connect(client.port)
    body = f"token={TOKEN}".encode()
    await connection.send(head("POST", "/login", [("Content-Type", "application/x-www-form-urlencoded"),
                                                  ("Content-Length", str(len(body)))]) + body[:5])
    await asyncio.sleep(DEADLINE / 4)
    await connection.send(body[5:])
    answer = await connection.answer(timeout=DEADLINE + 5)
    assert answer.status == 200 and answer.json()["logged_in"] is True
    connection.close()
    slack_body = form("help")
    answer = await exchange(client.port, post("/slack/commands", list(signed(slack_body, int(clock().timestamp()))
                                                                      .items()), slack_body))
    assert answer.status == 200 and "/cobot help" in answer.json()["text"]


async def test_a_declared_length_over_64_kb_is_413_before_a_byte_is_read(client):
    answer = await exchange(client.port, head("POST", "/login", [("Content-Type", "application/json"),
                                                                 ("Content-Length", str(64 * 1024 + 1))]))
    assert (answer.status, answer.json()) == (413, {"error": "body larger than 65536 bytes"})


async def chunked(port: int, path: str, headers: list[tuple[str, str]], size: int) -> Any:
    connection = await connect(port)
    try:
        await connection.send(head("POST", path, [*headers, ("Transfer-Encoding", "chunked")]))
        for _ in range(size // 8192 + 1):
            await connection.send(b"2000\r\n" + b"x" * 8192 + b"\r\n")
        await connection.send(b"0\r\n\r\n")
        return await connection.answer(timeout=10)
    finally:
        connection.close()


async def test_a_chunked_body_over_64_kb_is_413_in_json(client):
    answer = await chunked(client.port, "/api/badges/award", [("Content-Type", "application/json"), BEARER],
                           100_000)
    assert (answer.status, answer.json()) == (413, {"error": "body larger than 65536 bytes"})


# -- compressed bodies --------------------------------------------------------------------------------------------

DECODED = ["gzip", "GZIP", "deflate", "identity, gzip", "x-anything"]  # (what aiohttp's parser decodes, or ignores)
ENCODINGS = [*((encoding, True) for encoding in DECODED),
             *((encoding, False) for encoding in (*DECODED, "br", "zstd"))]


@pytest.mark.parametrize(("encoding", "decompress"), ENCODINGS)
async def test_a_compressed_body_is_refused_415_on_every_route(aiohttp_client, app, clock, encoding, decompress):
    """A compressed body is a small request that becomes a large one; no client of cobot's sends one. Refused on
    the routes that would otherwise take it (the right token, a signed Slack command, a signed delivery), whether
    aiohttp decompresses (as in these tests: its parser refuses what it cannot decode, br without Brotli, with 400
    itself) or not (`cobot serve`: auto_decompress off)."""
    server = TestServer(app)
    await server.start_server(auto_decompress=decompress)  # (the runner's settings: given when it starts)
    client = await aiohttp_client(server)
    login = json.dumps({"token": TOKEN}).encode()
    slack_body = form("help")
    delivery = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 1}).encode()
    requests = {
        "/login": ([("Content-Type", "application/json")], login),
        "/api/badges/award": ([("Content-Type", "application/json"), BEARER],
                              json.dumps({"badge": "docs-hero", "user": "github:alice"}).encode()),
        "/slack/commands": (list(signed(gzip.compress(slack_body), int(clock().timestamp())).items()), slack_body),
        "/webhooks/github": (list(github_headers("ping", gzip.compress(delivery), "gz-1").items()), delivery),
    }
    for path, (headers, body) in requests.items():
        answer = await exchange(client.port, post(path, [*headers, ("Content-Encoding", encoding)],
                                                  gzip.compress(body)))
        assert answer.status == 415, (path, answer.body)
        assert answer.json()["error"].startswith("Content-Encoding ")
        assert "set-cookie" not in answer.headers
    assert count(client.app[COBOT].db, Delivery) == 0 and count(client.app[COBOT].db, OutboxAction) == 0


async def test_identity_is_no_compression(client):
    body = json.dumps({"token": TOKEN}).encode()
    answer = await exchange(client.port, post("/login", [("Content-Type", "application/json"),
                                                         ("Content-Encoding", "identity")], body))
    assert answer.status == 200


async def test_a_sender_that_leaves_half_way_is_no_server_error(app, caplog):
    """Served as `cobot serve` serves (aiohttp's runner, whose handlers are not cancelled when their client leaves,
    unlike the test client's): a sender that leaves half-way through its body was logged as a server error, with
    its traceback, once per abandoned connection; it is a 400 that nobody reads."""
    caplog.set_level(logging.INFO)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        for path in ("/login", "/slack/commands", "/api/badges/award"):
            leaving = await connect(port)
            await leaving.send(head("POST", path, [("Content-Type", "application/json"), ("Content-Length", "100")])
                               + b'{"token": ')
            await asyncio.sleep(0.1)
            leaving.close()
        await asyncio.sleep(0.3)
        assert (await exchange(port, head("GET", "/healthz", []))).status == 200
        assert not [record for record in caplog.records if record.levelno >= logging.ERROR], caplog.text
        broken = await exchange(port, head("POST", "/login", [("Content-Type", "application/json"),
                                                              ("Transfer-Encoding", "chunked")])
                                + b'5\r\n{"tok\r\nzz\r\n')
        assert broken.status == 400  # (aiohttp's parser answers a broken chunk itself)
    finally:
        await runner.cleanup()
