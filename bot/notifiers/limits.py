"""Per-channel rate limits: at most COUNT messages in any SECONDS, for each (count, seconds) a channel has.

Messages over the limit are not dropped: the dispatcher is told how long to wait and leaves them in the outbox
until then. Time comes from the dispatcher's (injected) clock.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Mapping

from bot.settings.notify import RateLimit


class ChannelLimits:
    def __init__(self, limits: Mapping[str, list[RateLimit]]) -> None:
        self._limits = {channel: list(windows) for channel, windows in limits.items()}
        self._sent: dict[str, deque[float]] = defaultdict(deque)

    def reserve(self, channel: str, now: float) -> float:
        """0 when a message may go to `channel` at `now` (it is counted as sent); else the seconds to wait."""
        windows = self._limits.get(channel, [])
        if not windows:
            return 0.0
        sent = self._sent[channel]
        longest = max(seconds for _, seconds in windows)
        while sent and sent[0] <= now - longest:
            sent.popleft()
        wait = 0.0
        for count, seconds in windows:
            recent = [moment for moment in sent if moment > now - seconds]
            if len(recent) >= count:
                wait = max(wait, recent[-count] + seconds - now)
        if wait > 0:
            return wait
        sent.append(now)
        return 0.0

    def release(self, channel: str, now: float) -> None:
        """Forget a reservation whose message was not sent after all (the platform refused it outright)."""
        sent = self._sent.get(channel)
        if sent and sent[-1] == now:
            sent.pop()
