"""Which outbound URLs cobot calls: the guard against server-side request forgery for notifier URLs.

A channel URL comes from configuration, but whoever writes it (or can change where its host name points) must not
be able to make cobot call an internal service: the loopback interface, the private network, a cloud provider's
metadata endpoint (which hands out credentials). So a URL is refused unless its scheme is http or https and its host
is public, or the operator listed the host in `[notify] allow_hosts` (an intranet chat server, the tests' 127.0.0.1).

Two checks, because a name can resolve differently from one moment to the next (DNS rebinding):

- `check_url()` / `check_url_async()` at start-up: every address the host resolves to must be public, so a bad
  configuration is reported at once, naming the key.
- `outbound_session()` at send time, connection by connection: its resolver drops forbidden addresses from every
  answer before aiohttp connects, so what is connected to is what was checked. aiohttp does not ask the resolver
  about IP literals (`http://10.0.0.5/`), so the session checks those itself before each request. It also never
  follows redirects: a public endpoint answering "302 Location: http://169.254.169.254/" is answered with the 302.

Messages name the scheme, host and port only (`describe_url()`): a webhook URL's path or query carries its key.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Collection, Iterable
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

__all__ = [
    "RefusedAddressError",
    "RefusedURL",
    "check_url",
    "check_url_async",
    "describe_url",
    "is_forbidden_address",
    "outbound_session",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

SCHEMES = frozenset({"http", "https"})

# Cloud metadata endpoints (AWS/GCP/Azure/OpenStack, AWS over IPv6, Alibaba Cloud). All are also link-local,
# unique-local or shared addresses, but they are named so that a refusal says what was at stake.
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(address)
                               for address in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200"))
SHARED_ADDRESS_SPACE = ipaddress.IPv4Network("100.64.0.0/10")  # RFC 6598, carrier-grade NAT; not is_private
NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: a NAT64 gateway forwards to the embedded IPv4


class RefusedURL(Exception):
    """An outbound URL cobot will not call; the message names the host and the reason, never the path or query
    (which may hold a key)."""


class UnresolvedURL(RefusedURL):
    """The host does not resolve (now): not proof of anything, so start-up only warns; sending retries."""


class RefusedAddressError(OSError):
    """What `outbound_session()`'s resolver raises when a host name resolves only to forbidden addresses.

    aiohttp expects resolvers to raise OSError and wraps it as `aiohttp.ClientConnectorDNSError` (whose
    `os_error` is this error); the `RefusedURL` saying why is `refusal`, and also this error's `__cause__`.
    """

    def __init__(self, refusal: RefusedURL) -> None:
        super().__init__(errno.EACCES, str(refusal))
        self.refusal = refusal
        self.__cause__ = refusal


# -- naming a URL without its secrets ---------------------------------------------------------------------------

def describe_url(url: str) -> str:
    """scheme://host[:port]/… : safe to log (no path, no query, no userinfo)."""
    try:
        parsed = URL(url)
    except (TypeError, ValueError):
        return "(an invalid URL)"
    host = parsed.raw_host or ""
    if ":" in host:
        host = f"[{host}]"
    if not parsed.scheme and not host:
        return "(a relative URL)"
    port = f":{parsed.explicit_port}" if parsed.explicit_port is not None else ""
    return f"{parsed.scheme}://{host}{port}/…" if parsed.scheme else f"//{host}{port}/…"


# -- which addresses are forbidden ------------------------------------------------------------------------------

def _problem(ip: IPAddress) -> str | None:
    """Why cobot must not connect to `ip` ("a loopback address", ...), None when it is a public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv6 address that carries an IPv4 one reaches that IPv4 address: judge the IPv4 address.
        embedded = [("IPv4-mapped", ip.ipv4_mapped), ("6to4", ip.sixtofour),
                    ("NAT64", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in NAT64_PREFIX else None)]
        for kind, inner in embedded:
            if inner is not None:
                problem = _problem(inner)
                return f"{kind} {inner}, {problem}" if problem else None
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if ip.is_unspecified:
        return "the unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in SHARED_ADDRESS_SPACE:
        return "a shared (carrier-grade NAT) address"
    if ip.is_multicast:
        return "a multicast address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
        return "a site-local address"
    if ip.is_private:
        return "a private address"
    if ip.is_reserved:
        return "a reserved address"
    if not ip.is_global:  # documentation, benchmarking and other special-purpose ranges
        return "not a public address"
    return None


def is_forbidden_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """loopback, private (RFC 1918, fc00::/7), link-local (169.254/16, fe80::/10), cloud metadata (169.254.169.254,
    fd00:ec2::254, 100.100.100.200), unspecified, multicast, reserved, shared address space 100.64/10, IPv4-mapped
    IPv6 of any of those, site-local.

    Also forbidden: what Python does not count as global (documentation and benchmarking ranges, ...), and the
    6to4 (2002::/16) and NAT64 (64:ff9b::/96) forms of forbidden IPv4 addresses. An IPv4-mapped address of a
    public IPv4 address is allowed: connecting to it is connecting to that address.
    """
    return _problem(ip) is not None


def _address(text: str) -> IPAddress | None:
    """`text` as an IP address (an IPv6 zone such as `%eth0` allowed), None when it is not one."""
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


# -- the allow-list ---------------------------------------------------------------------------------------------

def _host_name(host: str) -> str:
    """A host name as compared with the allow-list: lower case, no brackets, no final dot."""
    return host.strip().strip("[]").rstrip(".").lower()


class AllowList:
    """Hosts called although they are (or resolve to) forbidden addresses: exact host names, case-insensitive,
    and IP literals (compared as addresses, so "::1" and "0:0::1" are the same entry)."""

    def __init__(self, hosts: Iterable[str]) -> None:
        names = {_host_name(host) for host in hosts} - {""}
        self.addresses = frozenset(ip for ip in map(_address, names) if ip is not None)
        self.names = frozenset(names)

    def allows(self, host: str) -> bool:
        name = _host_name(host)
        if name in self.names:
            return True
        ip = _address(name)
        return ip is not None and ip in self.addresses


# -- checking a URL ---------------------------------------------------------------------------------------------

def _target(url: str, allow: AllowList) -> tuple[str, int | None] | None:
    """The checks that need no DNS. Raises RefusedURL for a bad scheme, no host, or a forbidden IP literal;
    returns None when the URL is allowed as it is (allow-listed host, public IP literal), else the (host, port)
    whose addresses decide."""
    where = describe_url(url)
    try:
        parsed = URL(url)
    except (TypeError, ValueError):
        raise RefusedURL(f"{where}: not a valid URL") from None
    if parsed.scheme not in SCHEMES:
        scheme = f"the scheme {parsed.scheme!r}" if parsed.scheme else "no scheme"
        raise RefusedURL(f"{where}: {scheme}, only http and https are called")
    host = parsed.raw_host
    if not host:
        raise RefusedURL(f"{where}: the URL has no host")
    if allow.allows(host):
        return None
    ip = _address(host)
    if ip is not None:
        problem = _problem(ip)
        if problem:
            raise RefusedURL(f"{where}: {host} is {problem}")
        return None
    if ":" in host or host.replace(".", "").isdigit():
        # aiohttp takes these for IP literals and skips the resolver; socket would read "127.1" as 127.0.0.1.
        raise RefusedURL(f"{where}: {host} is not a canonical IP address")
    return host, parsed.port


def _judge(where: str, host: str, infos: Iterable[tuple[Any, ...]]) -> None:
    """Raise RefusedURL unless `host` resolved (getaddrinfo results `infos`) and only to allowed addresses."""
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise UnresolvedURL(f"{where}: {host} does not resolve")
    for text in addresses:
        ip = _address(text)
        problem = "not an IP address" if ip is None else _problem(ip)
        if problem:
            raise RefusedURL(f"{where}: {host} resolves to {text}, {problem}")


def check_url(url: str, allow_hosts: Collection[str]) -> None:
    """Raise RefusedURL unless: scheme is http or https; there is a host; and the host is in allow_hosts
    (case-insensitive, exact host name or IP literal) OR every address it resolves to (socket.getaddrinfo) is
    allowed. A literal IP is checked without DNS. A host that does not resolve raises RefusedURL("... does not
    resolve"). Synchronous; used at start-up."""
    target = _target(url, AllowList(allow_hosts))
    if target is None:
        return
    host, port = target
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise UnresolvedURL(f"{describe_url(url)}: {host} does not resolve") from None
    _judge(describe_url(url), host, infos)


async def check_url_async(url: str, allow_hosts: Collection[str]) -> None:
    """The same without blocking the event loop (loop.getaddrinfo)."""
    target = _target(url, AllowList(allow_hosts))
    if target is None:
        return
    host, port = target
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise UnresolvedURL(f"{describe_url(url)}: {host} does not resolve") from None
    _judge(describe_url(url), host, infos)


# -- the outbound session ---------------------------------------------------------------------------------------

class GuardedResolver(AbstractResolver):
    """A resolver that answers only with allowed addresses, so aiohttp cannot connect to a forbidden one however
    the name resolves at that moment. Allow-listed hosts are passed through as resolved. When no allowed address
    remains, `RefusedAddressError` (an OSError, as aiohttp expects from a resolver)."""

    def __init__(self, allow: AllowList, resolver: AbstractResolver | None = None) -> None:
        self._allow = allow
        self._resolver = resolver if resolver is not None else DefaultResolver()

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        results = await self._resolver.resolve(host, port, family=family)
        if self._allow.allows(host):
            return results
        allowed: list[ResolveResult] = []
        refused: list[str] = []
        for result in results:
            ip = _address(result["host"])
            problem = "not an IP address" if ip is None else _problem(ip)
            if problem:
                refused.append(f"{result['host']}, {problem}")
            else:
                allowed.append(result)
        if not allowed:
            reason = f"resolves to {refused[0]}" if refused else "does not resolve"
            raise RefusedAddressError(RefusedURL(f"{host} {reason}"))
        return allowed

    async def close(self) -> None:
        await self._resolver.close()


_Request = Callable[..., Awaitable[aiohttp.ClientResponse]]


def _guarded(send: _Request, allow: AllowList) -> _Request:
    """`ClientSession._request` with the URL checked first (scheme, host, IP literal: what the resolver does not
    see), no proxy (a proxy resolves names where cobot cannot check the addresses), and no redirects."""

    async def request(method: str, str_or_url: str | URL, **kwargs: Any) -> aiohttp.ClientResponse:
        _target(str(str_or_url), allow)  # a host name's addresses are the resolver's affair
        if kwargs.get("proxy") is not None:
            raise RefusedURL(f"{describe_url(str(str_or_url))}: requests through a proxy are refused")
        kwargs["allow_redirects"] = False
        return await send(method, str_or_url, **kwargs)

    return request


def outbound_session(allow_hosts: Collection[str], timeout_seconds: float = 30.0) -> aiohttp.ClientSession:
    """An aiohttp ClientSession for notifiers that (1) resolves host names through a resolver that refuses
    forbidden addresses at connection time (so DNS rebinding between check and connect cannot reach an internal
    address), unless the host is allow-listed; (2) refuses non-http(s) schemes; (3) never follows redirects: every
    request made through it behaves as allow_redirects=False even when the caller (e.g. slack-sdk's AsyncWebClient,
    which we give this session) does not pass it. Must be created inside a running event loop.

    Refusals: a name resolving only to forbidden addresses fails as `aiohttp.ClientConnectorDNSError` whose
    `os_error` is a `RefusedAddressError` (its `__cause__` the `RefusedURL`); a bad scheme, a forbidden IP
    literal or a proxy fail as `RefusedURL` before anything is sent. Environment proxies are ignored.

    aiohttp (3.x) has no session-wide default for `allow_redirects`, and it warns against subclassing
    ClientSession; its middlewares and trace hooks run inside the redirect loop and cannot stop it while still
    returning the redirect. So this session's `_request` (behind `request()`, `get()`, `post()`, ... and
    `ws_connect()`) is replaced by a wrapper that checks the URL and forces `allow_redirects=False`.
    """
    if not callable(getattr(aiohttp.ClientSession, "_request", None)):  # pragma: no cover - aiohttp changed
        raise RuntimeError("this aiohttp's ClientSession has no _request to guard")
    allow = AllowList(allow_hosts)
    connector = aiohttp.TCPConnector(resolver=GuardedResolver(allow))
    session = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=timeout_seconds),
                                    trust_env=False)
    send = session._request
    # object.__setattr__: in debug mode ClientSession warns about setting any attribute it does not declare;
    # replacing this one method on this one instance is deliberate.
    object.__setattr__(session, "_request", _guarded(send, allow))
    return session
