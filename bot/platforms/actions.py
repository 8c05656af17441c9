"""What the outbox asks of a forge: the port each forge's API client implements."""

from __future__ import annotations

from typing import Protocol


class RetryLater(Exception):
    """The forge asked us to wait (rate limit, Retry-After, a 5xx): try again after `delay` seconds."""

    def __init__(self, reason: str, delay: float) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay = delay


class PermanentFailure(Exception):
    """The forge refused in a way retrying cannot fix (404, 422, bad token)."""


class ForgeClient(Protocol):
    """One forge's REST API, as the outbox dispatcher uses it.

    `marker` is a hidden text that the dispatcher puts in every comment body it posts. When `look_first` is true
    (a retry, whose earlier answer may have been lost), the client first looks for a comment holding the marker
    and returns that comment's address instead of posting a second one.
    """

    async def comment(self, repo: str, number: str, is_pr: bool, body: str, marker: str,
                      look_first: bool) -> str: ...

    async def add_labels(self, repo: str, number: str, is_pr: bool, labels: list[str]) -> str: ...

    async def close(self) -> None: ...
