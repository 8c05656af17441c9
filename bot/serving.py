"""How `cobot serve` holds its connections: a request head must arrive in time, and only so many connections are
open at once.

- Head timeout: aiohttp's keep-alive timer (`keepalive_timeout`) starts when a connection opens and again after
  each answer, and closes the connection if no complete request head has arrived when it runs out: a connection
  that sends nothing, or sends its head a byte at a time, is closed after `server.header_timeout_seconds`. (It is
  also how long an idle keep-alive connection stays open: a proxy in front that keeps connections to cobot should
  drop idle ones sooner.) The body of a webhook has its own deadline (`server.body_timeout_seconds`).
- Connection cap: `CappedSite` is a TCP site whose protocol factory answers `503` and closes when
  `server.max_connections` connections are open already, so that a flood of connections costs a bounded number of
  file descriptors and buffers, and the connections it refuses cost nothing more than being accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import signal
from collections.abc import Callable

from aiohttp import web

from bot.config import ServerSettings

log = logging.getLogger("cobot.serving")
_REFUSAL_BODY = b'{"error": "too many open connections; try again shortly"}'
REFUSAL = (b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Type: application/json\r\n"
           b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(_REFUSAL_BODY), _REFUSAL_BODY))
SPARE_DESCRIPTORS = 200  # beyond the connections: the databases, the worker's pipes, logs


class _Refusal(asyncio.Protocol):
    """A connection beyond the cap: answered 503 and closed, whatever it sends."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(REFUSAL)
        transport.close()


class CappedSite(web.BaseSite):
    """A TCP site that keeps at most `max_connections` connections open."""

    __slots__ = ("_host", "_port", "_max_connections", "refused")

    def __init__(self, runner: web.BaseRunner, host: str, port: int, max_connections: int) -> None:
        super().__init__(runner)
        self._host = host
        self._port = port
        self._max_connections = max_connections
        self.refused = 0

    @property
    def name(self) -> str:
        port = self._server.sockets[0].getsockname()[1] if self._server and self._server.sockets else self._port
        return f"http://{self._host}:{port}"

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None

        def connection() -> asyncio.BaseProtocol:
            if len(server.connections) >= self._max_connections:
                self.refused += 1
                if self.refused == 1 or self.refused % 1000 == 0:
                    log.warning("%d open connections (server.max_connections): refused %d so far",
                                self._max_connections, self.refused)
                return _Refusal()
            return server()

        self._server = await asyncio.get_running_loop().create_server(connection, self._host, self._port,
                                                                      backlog=self._backlog)


def enough_descriptors(max_connections: int) -> None:
    """Raise the soft limit on open files to fit `max_connections` (and the rest), if the hard limit allows."""
    needed = max_connections + SPARE_DESCRIPTORS
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        raised = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
        if raised < needed:
            log.warning("server.max_connections is %d, but this process may open only %d files: lower it, or raise "
                        "the limit (ulimit -n)", max_connections, raised)


def run(app: web.Application, host: str, port: int, limits: ServerSettings, say: Callable[[str], None]) -> None:
    """Serve `app` until SIGINT or SIGTERM (also while it starts), then shut down cleanly."""
    with contextlib.suppress(KeyboardInterrupt):  # during start-up: asyncio cancelled it, the app's clean-up ran
        asyncio.run(serve(app, host, port, limits, say))


async def serve(app: web.Application, host: str, port: int, limits: ServerSettings,
                say: Callable[[str], None]) -> None:
    """Serve `app` until SIGINT or SIGTERM, then shut down cleanly (the app's clean-up runs)."""
    enough_descriptors(limits.max_connections)
    runner = web.AppRunner(app, access_log=None, keepalive_timeout=limits.header_timeout_seconds)
    await runner.setup()
    try:
        site = CappedSite(runner, host, port, limits.max_connections)
        await site.start()
        say(f"======== Running on {site.name} ========\n(Press CTRL+C to quit)")
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signal_number, stopping.set)
        await stopping.wait()
    finally:
        await runner.cleanup()
