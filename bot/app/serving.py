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
  One address (an IPv4 address, an IPv6 /64) holds at most `server.max_connections_per_address` of them: one client
  cannot take every connection (behind a proxy, every client is the proxy: raise it, or limit clients there).
- No request body is inflated: a compressed body would be inflated as it arrives, on the event loop, before any
  handler could refuse it; cobot takes none (`415`, bot.web.request_limits).
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
from bot.peers import client_key

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


class _Gate(asyncio.Protocol):
    """A connection judged by its address once the address is known (in `connection_made`): refused when that
    address (an IPv4 address, an IPv6 /64) holds its share of the connections already, else passed to the server's
    own protocol, which the gate hands every call of the transport (and counts the connection while it is open)."""

    def __init__(self, site: CappedSite, server: web.Server) -> None:
        self._site = site
        self._server = server
        self._inner: asyncio.Protocol | None = None
        self._address = ""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        peer = transport.get_extra_info("peername")
        address = client_key(peer[0] if isinstance(peer, tuple) and peer else "")
        if not self._site.admit(address):
            _Refusal().connection_made(transport)
            return
        self._address = address
        self._inner = self._server()
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._inner is not None:
            self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._inner is not None else None

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._inner is not None:
            self._site.release(self._address)
            self._inner.connection_lost(exc)


class CappedSite(web.BaseSite):
    """A TCP site that keeps at most `max_connections` connections open, at most `max_per_address` of them from
    one address."""

    __slots__ = ("_host", "_port", "_max_connections", "max_per_address", "per_address", "refused")

    def __init__(self, runner: web.BaseRunner, host: str, port: int, max_connections: int,
                 max_per_address: int | None = None) -> None:
        super().__init__(runner)
        self._host = host
        self._port = port
        self._max_connections = max_connections
        self.max_per_address = min(max_per_address or max_connections, max_connections)
        self.per_address: dict[str, int] = {}
        self.refused = 0

    def refuse(self, why: str) -> None:
        self.refused += 1
        if self.refused == 1 or self.refused % 1000 == 0:
            log.warning("refused a connection: too many %s; %d refused so far", why, self.refused)

    def admit(self, address: str) -> bool:
        """Count a new connection from `address`; False (and counted as refused) when it holds its share."""
        held = self.per_address.get(address, 0)
        if held >= self.max_per_address:
            self.refuse(f"connections from {address}: {held} (server.max_connections_per_address)")
            return False
        self.per_address[address] = held + 1
        return True

    def release(self, address: str) -> None:
        left = self.per_address.get(address, 1) - 1
        if left > 0:
            self.per_address[address] = left
        else:
            self.per_address.pop(address, None)

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
                self.refuse(f"open connections: {self._max_connections} (server.max_connections)")
                return _Refusal()
            return _Gate(self, server)

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
    # auto_decompress=False: a request body is never inflated on the event loop (a 1 MB gzip of zeros is 1 GB of
    # work before any handler could refuse it); cobot takes no compressed body (415, see bot.web.request_limits).
    runner = web.AppRunner(app, access_log=None, keepalive_timeout=limits.header_timeout_seconds,
                           auto_decompress=False)
    await runner.setup()
    try:
        site = CappedSite(runner, host, port, limits.max_connections, limits.max_connections_per_address)
        await site.start()
        say(f"======== Running on {site.name} ========\n(Press CTRL+C to quit)")
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signal_number, stopping.set)
        await stopping.wait()
    finally:
        await runner.cleanup()
