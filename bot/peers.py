"""Who is at the other end of a request: the key a client address counts as, wherever clients are counted (failed
logins, webhook bodies held, connections, late bodies in the log)."""

from __future__ import annotations

import ipaddress


def client_key(remote: str | None) -> str:
    """What an address counts as: itself, an IPv6 address its /64, anything unreadable "unknown"."""
    try:
        address = ipaddress.ip_address((remote or "").split("%", 1)[0])
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)
