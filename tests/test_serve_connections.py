"""A real `cobot serve` holds connections only so long and only so many (issue 15, item 20): a connection whose
request head does not arrive in time is closed, and beyond `server.max_connections` new ones are answered 503."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import GITHUB_SECRET
from tests.raw_http import connect, exchange, head
from tests.test_crash import free_port, wait_healthy

HEAD_TIMEOUT = 1
MAX_CONNECTIONS = 5
HEALTHZ = head("GET", "/healthz", [])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    workdir: Path = tmp_path_factory.mktemp("serve")
    config = workdir / "config.toml"
    config.write_text(f"[community]\nname = 'Connections'\n[server]\nheader_timeout_seconds = {HEAD_TIMEOUT}\n"
                      f"max_connections = {MAX_CONNECTIONS}\n[inbox]\nworker = 'thread'\n")
    port = free_port()
    env = {**os.environ, "COBOT_DATABASE_URL": f"sqlite:///{workdir / 'cobot.db'}",
           "COBOT_GITHUB_WEBHOOK_SECRET": GITHUB_SECRET}
    for name in ("COBOT_GITHUB_TOKEN", "COBOT_GITEE_TOKEN", "COBOT_CONFIG"):
        env.pop(name, None)
    process = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--config", str(config), "--port", str(port)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        asyncio.run(wait_healthy(port))
        yield port
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()


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
    await asyncio.sleep(0.2)
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
