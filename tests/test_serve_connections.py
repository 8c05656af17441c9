"""A real `cobot serve` holds connections only so long and only so many (issue 15, item 20): a connection whose
request head does not arrive in time is closed, beyond `server.max_connections` new ones are answered 503, one
address holds at most `server.max_connections_per_address` of them, and no request body is inflated."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import GITHUB_SECRET, free_port, stop, wait_healthy
from tests.raw_http import connect, exchange, head

HEAD_TIMEOUT = 1
MAX_CONNECTIONS = 5
PER_ADDRESS = 2
HEALTHZ = head("GET", "/healthz", [])


def serving(workdir: Path, server_section: str) -> Iterator[int]:
    """A real `cobot serve` with this `[server]` section, its log in workdir/serve.log; its port."""
    config = workdir / "config.toml"
    config.write_text(f"[community]\nname = 'Connections'\n[server]\n{server_section}\n[inbox]\nworker = 'thread'\n")
    port = free_port()
    env = {**os.environ, "COBOT_DATABASE_URL": f"sqlite:///{workdir / 'cobot.db'}",
           "COBOT_GITHUB_WEBHOOK_SECRET": GITHUB_SECRET}
    for name in ("COBOT_GITHUB_TOKEN", "COBOT_GITEE_TOKEN", "COBOT_CONFIG"):
        env.pop(name, None)
    with (workdir / "serve.log").open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--config", str(config), "--port",
                                    str(port)], env=env, stdout=subprocess.DEVNULL, stderr=log)
    try:
        asyncio.run(wait_healthy(port))
        yield port
    finally:
        stop(process, signal.SIGTERM, 20)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    yield from serving(tmp_path_factory.mktemp("serve"),
                       f"header_timeout_seconds = {HEAD_TIMEOUT}\nmax_connections = {MAX_CONNECTIONS}")


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """At most PER_ADDRESS connections from one address; its log beside it."""
    workdir = tmp_path_factory.mktemp("serve-shared")
    for port in serving(workdir, f"max_connections = {MAX_CONNECTIONS}\n"
                                 f"max_connections_per_address = {PER_ADDRESS}"):
        yield port, workdir / "serve.log"


async def healthy(port: int) -> bool:
    try:
        return (await exchange(port, HEALTHZ, timeout=5)).status == 200
    except (ConnectionError, TimeoutError):
        return False


async def test_a_connection_that_sends_nothing_is_closed(server):
    connection = await connect(server)
    assert await connection.closed_by_server(timeout=HEAD_TIMEOUT + 5)


async def test_a_head_sent_a_byte_at_a_time_does_not_keep_the_connection(server):
    connection = await connect(server)
    await connection.send(b"POST /webhooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\n")

    async def trickle() -> None:
        try:
            for _ in range(100):
                await connection.send(b"X")
                await asyncio.sleep(0.1)
        except ConnectionError:
            pass

    trickling = asyncio.create_task(trickle())
    assert await connection.closed_by_server(timeout=HEAD_TIMEOUT + 5)  # long before the 10 s of trickling end
    trickling.cancel()


async def test_a_keep_alive_connection_serves_requests_sent_in_time(server):
    connection = await connect(server)
    for _ in range(3):
        await connection.send(HEALTHZ)
        assert (await connection.answer(timeout=5)).status == 200
        await asyncio.sleep(HEAD_TIMEOUT / 4)
    connection.close()


async def test_connections_beyond_the_cap_are_answered_503(server):
    idle = [await connect(server) for _ in range(MAX_CONNECTIONS)]
    for connection in idle:  # answered: the server holds each of them (kept alive, idle now)
        await connection.send(HEALTHZ)
        assert (await connection.answer(timeout=5)).status == 200
    extra = await connect(server)
    answer = await extra.answer(timeout=5)  # answered without sending anything
    assert answer.status == 503 and answer.headers["retry-after"] == "5"
    assert await extra.closed_by_server(timeout=5)
    for connection in idle:
        connection.close()
    for _ in range(50):  # once the idle ones are gone, the server answers again
        if await healthy(server):
            break
        await asyncio.sleep(0.1)
    assert await healthy(server)


async def test_one_address_holds_its_share_of_the_connections_and_others_still_connect(shared_server):
    port, _log = shared_server
    held = [await connect(port) for _ in range(PER_ADDRESS)]
    for connection in held:
        await connection.send(HEALTHZ)
        assert (await connection.answer(timeout=5)).status == 200
    extra = await connect(port)
    assert (await extra.answer(timeout=5)).status == 503  # answered without sending anything
    other = await connect(port, source="127.0.0.2")  # another client: the server has room for it
    await other.send(HEALTHZ)
    assert (await other.answer(timeout=5)).status == 200
    for connection in (*held, other):
        connection.close()
    for _ in range(50):  # once the first address's connections are gone, it may connect again
        if await healthy(port):
            break
        await asyncio.sleep(0.1)
    assert await healthy(port)


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br"])
async def test_a_compressed_body_is_refused_and_never_inflated(shared_server, coding):
    """aiohttp would inflate it as it arrives, before any handler (a 1 MB gzip of zeros: 1 GB of work, on the event
    loop); `cobot serve` does not, so even a body that is not valid in its coding meets the clear 415, and the
    server logs no decoding error."""
    port, log = shared_server
    body = b"\x1f\x8b not really " + os.urandom(64)
    request = head("POST", "/login", [("Content-Type", "application/json"), ("Content-Encoding", coding),
                                      ("Content-Length", str(len(body)))]) + body
    assert (await exchange(port, request)).status == 415
    assert "Traceback" not in log.read_text(errors="replace")
