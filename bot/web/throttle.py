"""Failed logins, throttled: per client address and from everyone together, so that a burst of wrong tokens costs
one log line and a 429, not a line and a 401 each.

Only failures are throttled: the caller accepts the right token whatever this says (bot.web.access), so that wrong
tokens, from anyone, never lock the maintainers out (behind a proxy, every client has the proxy's address). A token
is not found by guessing because it is long (at least 16 characters; `openssl rand -hex 32` makes 256 bits), not
because guesses are slow.

Each limit is a generic cell rate algorithm (GCRA) over a minute: `limit` failures may come at once, then one more
each `60 / limit` seconds. A wrong token from an address over its limit, or while everyone is over theirs, is
refused (the caller answers 429 with `Retry-After`) and not counted. IPv6 addresses count by their /64 (one host
usually holds a whole /64: bot.peers.client_key). At most `REMEMBERED` addresses are remembered (the least recent
forgotten first): the overall limit still holds for the others. Time is cobot's clock; counting is per process (each
replica throttles on its own).

    throttle = FailedLogins(per_address=10, overall=60, clock=clock)
    wait = throttle.wait(address)     # seconds before a failure from `address` is answered 401 again; 0.0: now
    throttle.failed(address)          # a wrong token from `address`, answered 401
    throttle.passed(address)          # a wrong token answered 401 again (logs the refusals of the burst that ended)
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass

from bot.clock import Clock
from bot.peers import client_key

log = logging.getLogger("cobot.dashboard")

PERIOD = 60.0  # seconds: the limits are per minute
REMEMBERED = 10_000  # addresses
EVERYONE = "everyone"


@dataclass(slots=True)
class _Cell:
    """One limit's state: the moment (clock seconds) its bucket is empty again, and the refusals of the current
    burst."""

    empty_at: float = 0.0
    refused: int = 0


class _Limit:
    """`limit` failures at once, then one every PERIOD / limit seconds (GCRA)."""

    def __init__(self, limit: int) -> None:
        self.interval = PERIOD / limit
        self.tolerance = PERIOD - self.interval

    def wait(self, cell: _Cell, now: float) -> float:
        return max(0.0, cell.empty_at - now - self.tolerance)

    def count(self, cell: _Cell, now: float) -> None:
        cell.empty_at = max(cell.empty_at, now) + self.interval


class FailedLogins:
    """The failed logins of one dashboard (see the module's docstring)."""

    def __init__(self, per_address: int, overall: int, clock: Clock) -> None:
        self._per_address = _Limit(per_address)
        self._overall = _Limit(overall)
        self._clock = clock
        self._addresses: OrderedDict[str, _Cell] = OrderedDict()
        self._everyone = _Cell()

    def _now(self) -> float:
        return self._clock().timestamp()

    def _cell(self, key: str) -> _Cell:
        cell = self._addresses.get(key)
        if cell is None:
            cell = self._addresses[key] = _Cell()
            while len(self._addresses) > REMEMBERED:
                self._addresses.popitem(last=False)
        self._addresses.move_to_end(key)
        return cell

    def wait(self, remote: str | None) -> float:
        """Seconds before a wrong token from `remote` is answered 401 again (0.0: now). A refusal is counted, and
        logged once for the burst it starts."""
        now, key = self._now(), client_key(remote)
        cell = self._addresses.get(key)
        waits = [(self._overall.wait(self._everyone, now), EVERYONE, self._everyone)]
        if cell is not None:
            waits.append((self._per_address.wait(cell, now), key, cell))
        wait, who, refused = max(waits, key=lambda found: found[0])
        if wait <= 0:
            return 0.0
        if not refused.refused:
            log.warning("dashboard: failed logins %s are throttled: further wrong tokens are refused for %.0f s",
                        "from everyone" if who == EVERYONE else f"from {who}", wait)
        refused.refused += 1
        return wait

    def failed(self, remote: str | None) -> None:
        """A wrong token from `remote`."""
        now = self._now()
        self._overall.count(self._everyone, now)
        self._per_address.count(self._cell(client_key(remote)), now)

    def passed(self, remote: str | None) -> None:
        """A wrong token from `remote` is answered 401 again: a burst of refusals before it (its own, or everyone's)
        is over, and said so once."""
        key = client_key(remote)
        for who, cell in ((key, self._addresses.get(key)), (EVERYONE, self._everyone)):
            if cell is not None and cell.refused:
                log.warning("dashboard: %d wrong tokens %s were refused while throttled", cell.refused,
                            "from everyone" if who == EVERYONE else f"from {who}")
                cell.refused = 0
