"""The outbound URL guard (`bot.notifiers.urls`): which URLs `check_url` refuses, what its messages say (never the
path or query, which hold webhook keys), and the outbound session against real aiohttp servers on 127.0.0.1:
refused internal addresses unless allow-listed, redirects returned instead of followed, schemes other than
http(s) refused. Nothing here needs the network: public addresses appear only as IP literals, which are judged
without DNS, and the one name looked up is under .invalid (RFC 6761: never resolves)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestServer

from bot.notifiers.urls import (
    AllowList,
    GuardedResolver,
    RefusedAddressError,
    RefusedURL,
    check_url,
    check_url_async,
    describe_url,
    is_forbidden_address,
    outbound_session,
)

SECRET_URL_TAIL = "/services/T000/B000/KEYKEYKEYKEYKEY?access_token=SECRET"

REFUSED = [
    "http://127.0.0.1/x",
    "http://localhost/",
    "http://LOCALHOST./",
    "http://10.0.0.5/",
    "http://192.168.1.1/",
    "http://172.16.0.1/",
    "http://169.254.169.254/latest/meta-data",
    "http://100.100.100.200/latest/meta-data",
    "http://[::1]/",
    "http://[fd00:ec2::254]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[fe80::1%25eth0]/",
    "http://0.0.0.0/",
    "http://100.64.0.1/",
    "http://224.0.0.1/",
    "http://127.1/",  # socket reads it as 127.0.0.1
    "http://2130706433/",  # and this
    "ftp://example.org/",
    "file:///etc/passwd",
    "gopher://x",
    "ws://example.org/",
    "javascript:alert(1)",
    "http:///no-host",
    "http://",
    "//example.org/no-scheme",
    "http://[::1",
]

PUBLIC_LITERALS = [
    "http://8.8.8.8/",
    "https://1.1.1.1:8443/path?q=1",
    "https://[2001:4860:4860::8888]/",
    "http://[::ffff:8.8.8.8]/",
]


def causes(error: BaseException) -> Iterator[BaseException]:
    """`error` and everything it wraps (aiohttp's `os_error`, causes and contexts)."""
    pending: list[BaseException | None] = [error]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [getattr(current, "os_error", None), current.__cause__, current.__context__]


def refusal_in(error: BaseException) -> RefusedURL | None:
    return next((cause for cause in causes(error) if isinstance(cause, RefusedURL)), None)


# --- describe_url and is_forbidden_address ---------------------------------------------------------------------


@pytest.mark.parametrize(("url", "described"), [
    ("https://user:pa55@hooks.example.org:8443" + SECRET_URL_TAIL, "https://hooks.example.org:8443/…"),
    ("HTTPS://Hooks.Example.org/x#frag", "https://hooks.example.org/…"),
    ("http://[::1]/x?token=SECRET", "http://[::1]/…"),
    ("file:///etc/passwd", "file:///…"),
    ("relative/path?token=SECRET", "(a relative URL)"),
    ("http://[::1", "(an invalid URL)"),
])
def test_describe_url_keeps_only_scheme_host_and_port(url: str, described: str) -> None:
    assert describe_url(url) == described


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.255.0.9", "10.0.0.5", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.1.1",
    "169.254.169.254", "100.64.0.1", "100.100.100.200", "100.127.255.255", "0.0.0.0", "224.0.0.1", "240.0.0.1",
    "255.255.255.255", "192.0.2.1", "::1", "::", "fe80::1", "fe80::1%eth0", "fc00::1", "fd00:ec2::254",
    "ff02::1", "fec0::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:100.64.0.1", "::127.0.0.1",
    "2002:7f00:1::", "64:ff9b::a9fe:a9fe", "2001:db8::1",
])
def test_forbidden_addresses(address: str) -> None:
    assert is_forbidden_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", [
    "8.8.8.8", "1.1.1.1", "100.63.255.255", "100.128.0.1", "172.32.0.1", "2001:4860:4860::8888",
    "::ffff:8.8.8.8", "2002:808:808::", "64:ff9b::808:808",
])
def test_public_addresses(address: str) -> None:
    assert not is_forbidden_address(ipaddress.ip_address(address))


# --- check_url and check_url_async -----------------------------------------------------------------------------


@pytest.mark.parametrize("url", REFUSED)
def test_check_url_refuses(url: str) -> None:
    with pytest.raises(RefusedURL):
        check_url(url, ())


@pytest.mark.parametrize("url", REFUSED)
async def test_check_url_async_refuses(url: str) -> None:
    with pytest.raises(RefusedURL):
        await check_url_async(url, ())


@pytest.mark.parametrize("url", PUBLIC_LITERALS)
async def test_public_ip_literals_are_allowed_without_dns(url: str) -> None:
    check_url(url, ())
    await check_url_async(url, ())


@pytest.mark.parametrize(("url", "named"), [
    ("http://127.0.0.1:8080" + SECRET_URL_TAIL, ["127.0.0.1", "loopback"]),
    ("http://localhost" + SECRET_URL_TAIL, ["localhost", "127.0.0.1", "loopback"]),
    ("http://169.254.169.254" + SECRET_URL_TAIL, ["169.254.169.254", "metadata"]),
    ("http://[::ffff:10.0.0.1]" + SECRET_URL_TAIL, ["::ffff:", "10.0.0.1", "private"]),
    ("http://no-such-host.invalid" + SECRET_URL_TAIL, ["no-such-host.invalid", "does not resolve"]),
    ("ftp://files.example.org" + SECRET_URL_TAIL, ["files.example.org", "'ftp'"]),
    ("https://user:pa55word@10.1.2.3" + SECRET_URL_TAIL, ["10.1.2.3", "private"]),
])
async def test_messages_name_host_and_reason_never_path_or_query(url: str, named: list[str]) -> None:
    with pytest.raises(RefusedURL) as sync_refusal:
        check_url(url, ())
    with pytest.raises(RefusedURL) as async_refusal:
        await check_url_async(url, ())
    for message in (str(sync_refusal.value), str(async_refusal.value)):
        for part in named:
            assert part in message
        for secret in ("SECRET", "access_token", "KEYKEYKEY", "T000", "services", "pa55word"):
            assert secret not in message


@pytest.mark.parametrize(("url", "allow_hosts"), [
    ("http://127.0.0.1:8080/hook", ["127.0.0.1"]),
    ("http://localhost/hook", ["localhost"]),
    ("http://LocalHost./hook", ["LOCALHOST"]),
    ("http://[::1]/hook", ["[::1]"]),
    ("http://[0:0::1]/hook", ["::1"]),
    ("http://10.0.0.5/hook", ["intranet.example", "10.0.0.5"]),
])
async def test_allow_hosts_let_internal_hosts_through(url: str, allow_hosts: list[str]) -> None:
    check_url(url, allow_hosts)
    await check_url_async(url, allow_hosts)


def test_allow_hosts_are_exact_host_names() -> None:
    """Allowing 127.0.0.1 does not allow a name resolving to it, nor does allowing one name allow another."""
    with pytest.raises(RefusedURL):
        check_url("http://localhost/", ["127.0.0.1"])
    with pytest.raises(RefusedURL):
        check_url("http://127.0.0.1/", ["localhost"])
    with pytest.raises(RefusedURL):
        check_url("http://10.0.0.6/", ["10.0.0.5"])
    with pytest.raises(RefusedURL, match="scheme"):
        check_url("ftp://localhost/", ["localhost"])  # the scheme is checked whatever the host


# --- the resolver ----------------------------------------------------------------------------------------------


class FixedResolver(AbstractResolver):
    """Stands in for DNS (there is none here): answers every name with the given addresses."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = addresses

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        return [ResolveResult(hostname=host, host=address, port=port,
                              family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                              proto=0, flags=socket.AI_NUMERICHOST) for address in self.addresses]

    async def close(self) -> None:
        pass


async def test_resolver_drops_forbidden_addresses() -> None:
    """A name rebound to answer both a public and an internal address is connected to the public one only."""
    resolver = GuardedResolver(AllowList(()), FixedResolver("127.0.0.1", "8.8.8.8", "::1", "169.254.169.254"))
    answer = await resolver.resolve("rebound.example", 443, family=socket.AF_UNSPEC)
    assert [result["host"] for result in answer] == ["8.8.8.8"]


async def test_resolver_refuses_a_name_with_only_forbidden_addresses() -> None:
    resolver = GuardedResolver(AllowList(()), FixedResolver("10.0.0.5", "fd00:ec2::254"))
    with pytest.raises(RefusedAddressError) as refused:
        await resolver.resolve("rebound.example", 443)
    assert isinstance(refused.value, OSError)
    assert isinstance(refused.value.refusal, RefusedURL)
    assert refused.value.__cause__ is refused.value.refusal
    assert "rebound.example resolves to 10.0.0.5" in str(refused.value)


async def test_resolver_passes_allow_listed_names_through() -> None:
    resolver = GuardedResolver(AllowList(["Chat.Intranet.Example"]), FixedResolver("10.0.0.5"))
    answer = await resolver.resolve("chat.intranet.example.", 443)
    assert [result["host"] for result in answer] == ["10.0.0.5"]


# --- the outbound session against a local server ---------------------------------------------------------------


@dataclass
class LocalServer:
    server: TestServer
    calls: list[str] = field(default_factory=list)

    @property
    def port(self) -> int:
        assert self.server.port is not None
        return self.server.port

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
async def local() -> AsyncIterator[LocalServer]:
    """A server on 127.0.0.1: "/" and "/target" answer 200, "/moved" and "/moved-away" redirect to "/target"
    (relative and absolute Location), "/temporary" answers 307; every request's path is recorded."""
    app = web.Application()
    local = LocalServer(TestServer(app, host="127.0.0.1"))

    async def hello(request: web.Request) -> web.Response:
        local.calls.append(request.path)
        return web.Response(text="hello")

    async def moved(request: web.Request) -> web.Response:
        local.calls.append(request.path)
        return web.Response(status=302, headers={"Location": "/target"})

    async def moved_away(request: web.Request) -> web.Response:
        local.calls.append(request.path)
        return web.Response(status=301, headers={"Location": local.url("/target", host="localhost")})

    async def temporary(request: web.Request) -> web.Response:
        local.calls.append(request.path)
        return web.Response(status=307, headers={"Location": "/target"})

    app.router.add_route("*", "/", hello)
    app.router.add_route("*", "/target", hello)
    app.router.add_route("*", "/moved", moved)
    app.router.add_route("*", "/moved-away", moved_away)
    app.router.add_route("*", "/temporary", temporary)
    await local.server.start_server()
    yield local
    await local.server.close()


@pytest.fixture
async def sessions() -> AsyncIterator[list[aiohttp.ClientSession]]:
    """Outbound sessions a test opens, closed after it."""
    opened: list[aiohttp.ClientSession] = []
    yield opened
    for session in opened:
        await session.close()


def open_session(opened: list[aiohttp.ClientSession], *allow_hosts: str) -> aiohttp.ClientSession:
    session = outbound_session(allow_hosts, timeout_seconds=5)
    opened.append(session)
    return session


async def test_loopback_literal_is_refused_unless_allowed(local: LocalServer,
                                                          sessions: list[aiohttp.ClientSession]) -> None:
    with pytest.raises(RefusedURL, match="127.0.0.1 is a loopback address"):
        await open_session(sessions).get(local.url("/"))
    assert local.calls == []

    async with open_session(sessions, "127.0.0.1").get(local.url("/")) as response:
        assert response.status == 200
        assert await response.text() == "hello"
    assert local.calls == ["/"]


async def test_internal_literals_are_refused_before_connecting(sessions: list[aiohttp.ClientSession]) -> None:
    """aiohttp does not ask the resolver about IP literals: the session checks them itself."""
    session = open_session(sessions, "localhost")
    for url in ("http://10.0.0.5/", "http://169.254.169.254/latest/meta-data", "http://[::1]:9/",
                "http://[::ffff:127.0.0.1]/", "http://[fd00:ec2::254]/", "http://0.0.0.0/", "http://127.1/"):
        with pytest.raises(RefusedURL):
            await session.post(url, data=b"{}")


async def test_name_resolving_to_loopback_is_refused_at_connection(local: LocalServer,
                                                                   sessions: list[aiohttp.ClientSession]) -> None:
    """The resolver refuses: aiohttp reports a DNS error that wraps the refusal, and names no path or query."""
    with pytest.raises(aiohttp.ClientConnectorDNSError) as failed:
        await open_session(sessions, "127.0.0.1").post(local.url(SECRET_URL_TAIL, host="localhost"), data=b"{}")
    refusal = refusal_in(failed.value)
    assert refusal is not None
    assert "localhost resolves to 127.0.0.1, a loopback address" in str(refusal)
    assert isinstance(failed.value.os_error, RefusedAddressError)
    for error in causes(failed.value):
        assert "SECRET" not in str(error)
        assert "KEYKEYKEY" not in str(error)
    assert local.calls == []


async def test_allow_listed_name_is_reached(local: LocalServer, sessions: list[aiohttp.ClientSession]) -> None:
    async with open_session(sessions, "LocalHost").get(local.url("/", host="localhost")) as response:
        assert response.status == 200
    assert local.calls == ["/"]


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/moved", 302),
    ("POST", "/moved", 302),
    ("HEAD", "/moved", 302),
    ("PUT", "/temporary", 307),
    ("GET", "/moved-away", 301),
])
async def test_redirects_are_returned_not_followed(local: LocalServer, sessions: list[aiohttp.ClientSession],
                                                   method: str, path: str, status: int) -> None:
    session = open_session(sessions, "127.0.0.1", "localhost")
    async with session.request(method, local.url(path), data=b"{}") as response:
        assert response.status == status
        assert response.headers["Location"].endswith("/target")
        assert response.history == ()
    assert local.calls == [path]


async def test_redirects_are_not_followed_by_shortcuts_or_on_request(local: LocalServer,
                                                                     sessions: list[aiohttp.ClientSession]) -> None:
    """`get()` and `post()` follow redirects by default in aiohttp, and a caller may even ask: still not."""
    session = open_session(sessions, "127.0.0.1")
    async with session.get(local.url("/moved")) as response:
        assert response.status == 302
    async with session.post(local.url("/moved"), data=b"{}") as response:
        assert response.status == 302
    async with session.get(local.url("/moved"), allow_redirects=True) as response:
        assert response.status == 302
    assert "/target" not in local.calls
    assert local.calls == ["/moved"] * 3


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/", "ws://127.0.0.1/", "file:///etc/passwd", "http:///x"])
async def test_session_refuses_other_schemes_and_missing_hosts(sessions: list[aiohttp.ClientSession],
                                                               url: str) -> None:
    with pytest.raises(RefusedURL):
        await open_session(sessions, "127.0.0.1").get(url)


async def test_session_refuses_proxies(local: LocalServer, sessions: list[aiohttp.ClientSession]) -> None:
    """A proxy would resolve the names itself, out of the resolver's sight."""
    with pytest.raises(RefusedURL, match="proxy"):
        await open_session(sessions, "127.0.0.1").get("http://8.8.8.8/", proxy=local.url("/"))
    assert local.calls == []
