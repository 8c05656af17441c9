"""What cobot asks of a forge: the ports each forge's API client and role reader implement."""

from __future__ import annotations

from typing import Literal, Protocol, cast, get_args

Role = Literal["maintainer", "triager", "contributor"]
State = Literal["open", "closed"]


class RetryLater(Exception):
    """The forge asked us to wait (rate limit, Retry-After, a 5xx): try again after `delay` seconds."""

    def __init__(self, reason: str, delay: float) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay = delay


class PermanentFailure(Exception):
    """The forge refused in a way retrying cannot fix (404, 422, bad token)."""


def check_state(state: str) -> State:
    """The state itself, or PermanentFailure for anything but "open" and "closed" (a payload from the store)."""
    if state not in get_args(State):
        raise PermanentFailure(f"an issue or pull request is open or closed, not {state!r}")
    return cast(State, state)


class ForgeClient(Protocol):
    """One forge's REST API, as the outbox dispatcher uses it.

    `marker` is a hidden text that the dispatcher puts in every comment body it posts. When `look_first` is true
    (a retry, whose earlier answer may have been lost), the client first looks for a comment holding the marker
    and returns that comment's address instead of posting a second one.
    """

    async def comment(self, repo: str, number: str, is_pr: bool, body: str, marker: str,
                      look_first: bool) -> str: ...

    async def add_labels(self, repo: str, number: str, is_pr: bool, labels: list[str]) -> str: ...

    async def remove_label(self, repo: str, number: str, is_pr: bool, label: str) -> str:
        """Take one label off; a label that was not there is no failure (removing is idempotent)."""
        ...

    async def assign(self, repo: str, number: str, is_pr: bool, logins: list[str]) -> str: ...

    async def unassign(self, repo: str, number: str, is_pr: bool, logins: list[str]) -> str: ...

    async def set_state(self, repo: str, number: str, is_pr: bool, state: State) -> str:
        """Close ("closed") or reopen ("open") the issue or pull request."""
        ...

    async def close(self) -> None: ...


class ForgeRoles(Protocol):
    """Who someone is in a repository, as the forge says: for handlers, which run in a worker thread.

    Blocking on purpose: `role` must not touch an event loop. It answers "maintainer" (may merge and administer),
    "triager" (may label, assign, close) or "contributor" (anyone else, strangers included), and raises
    `RetryLater` or `PermanentFailure` like the clients do.
    """

    def role(self, repo: str, login: str) -> Role: ...

    def close(self) -> None: ...
