"""GitHub's REST API for the outbox, through PyGithub.

PyGithub blocks, so every call runs in a small thread pool the client owns. PyGithub's own retries and
throttling are off: the outbox dispatcher retries and spaces writes itself. GitHub's answers become
`RetryLater` (rate limits, Retry-After, 5xx, no connection) or `PermanentFailure` (the rest); the token never
appears in either. `GitHubRoles` reads someone's role in a repository, blocking, for handlers in a worker thread.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import requests
from github import Auth, Github, GithubException
from github.Issue import Issue

from bot.platforms.actions import PermanentFailure, RetryLater, Role, State, check_state
from bot.retry_after import retry_after_seconds

T = TypeVar("T")

SECONDARY_LIMIT_WAIT = 60.0  # GitHub: "wait at least one minute" when a secondary limit names no time
PER_PAGE = 100  # the most GitHub gives per page: fewer GETs when looking for a marker
WORKERS = 4
RETRYABLE_STATUSES = frozenset({408})
RATE_LIMIT_HINTS = ("rate limit", "please retry your request again later",
                    "please wait a few minutes before you try again", "abuse detection")
MAINTAINER_ROLES = frozenset({"admin", "maintain", "write"})  # role_name; custom roles count as contributors
TRIAGER_ROLES = frozenset({"triage"})


def _headers(error: GithubException) -> dict[str, str]:
    return {str(key).lower(): str(value) for key, value in (error.headers or {}).items()}


def _message(error: GithubException) -> str:
    data = error.data if isinstance(error.data, Mapping) else {}
    return str(data.get("message") or error.message or "").strip()


def _redact(text: str, secret: str) -> str:
    return text.replace(secret, "***") if secret else text


def _primary_limit_delay(headers: Mapping[str, str], now: float) -> float:
    try:
        return max(float(headers["x-ratelimit-reset"]) - now, 1.0)
    except (KeyError, ValueError):
        return SECONDARY_LIMIT_WAIT


def classify(error: GithubException, now: float, token: str = "") -> RetryLater | PermanentFailure:
    """GitHub's refusal as RetryLater (rate limits, Retry-After, 5xx) or PermanentFailure (the rest)."""
    status, headers = error.status, _headers(error)
    message = _redact(_message(error), token)[:200]
    lowered = message.lower()
    waited = retry_after_seconds(headers.get("retry-after"), now)
    if waited is not None:
        return RetryLater(f"GitHub {status}: asked to retry after {waited:g}s", waited)
    if status in (403, 429) and headers.get("x-ratelimit-remaining") == "0":
        return RetryLater(f"GitHub {status}: rate limit exhausted until the reset", _primary_limit_delay(headers, now))
    if status == 429 or (status == 403 and any(hint in lowered for hint in RATE_LIMIT_HINTS)):
        kind = "secondary rate limit" if "secondary" in lowered else "rate limited"
        return RetryLater(f"GitHub {status}: {kind}", SECONDARY_LIMIT_WAIT)
    if status >= 500 or status in RETRYABLE_STATUSES:
        return RetryLater(f"GitHub {status}: {message or 'server error'}", 0)
    return PermanentFailure(f"GitHub {status}: {message or 'refused'}")


def _issue_number(number: str) -> int:
    try:
        return int(str(number).lstrip("#"))
    except ValueError:
        raise PermanentFailure(f"GitHub issue numbers are integers, not {number!r}") from None


def _check_repo(repo: str) -> str:
    owner, _, name = repo.partition("/")
    if not owner or not name or "/" in name:
        raise PermanentFailure(f"GitHub repositories are named owner/name, not {repo!r}")
    return repo


def _new_github(token: str, api_url: str, timeout: float) -> Github:
    """PyGithub without its own retries or throttling, and lazy: objects are not fetched until read."""
    return Github(auth=Auth.Token(token), base_url=api_url.rstrip("/"), timeout=max(1, math.ceil(timeout)),
                  user_agent="cobot", per_page=PER_PAGE, retry=None, pool_size=WORKERS, seconds_between_requests=0,
                  seconds_between_writes=0, lazy=True)


def _logins(users: list[str]) -> str:
    return ", ".join("@" + login for login in users)


class GitHubClient:
    """Comments, labels, assignees and state of GitHub issues and pull requests (PRs are issues to this API)."""

    def __init__(self, token: str, api_url: str, timeout: float = 30.0) -> None:
        self._token = token
        self._github = _new_github(token, api_url, timeout)
        self._pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="github-api")

    async def _call(self, work: Callable[[], T]) -> T:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, work)
        except GithubException as error:
            raise classify(error, time.time(), self._token) from None
        except requests.RequestException as error:  # refused, reset, timed out: the caller backs off
            raise RetryLater(f"GitHub unreachable: {type(error).__name__}", 0) from None

    def _issue(self, repo: str, number: str) -> Issue:
        """The issue or PR without fetching it or its repository (lazy objects: only the write is sent)."""
        return self._github.get_repo(_check_repo(repo)).get_issue(_issue_number(number))

    async def comment(self, repo: str, number: str, is_pr: bool, body: str, marker: str, look_first: bool) -> str:
        issue = self._issue(repo, number)

        def post() -> str:
            if look_first:
                found = _find_marker(issue, marker)
                if found is not None:
                    return found
            return issue.create_comment(body).html_url

        return await self._call(post)

    async def add_labels(self, repo: str, number: str, is_pr: bool, labels: list[str]) -> str:
        if not labels:
            return "no labels to add"
        issue = self._issue(repo, number)

        def add() -> str:
            issue.add_to_labels(*labels)
            return "labels added: " + ", ".join(labels)

        return await self._call(add)

    async def remove_label(self, repo: str, number: str, is_pr: bool, label: str) -> str:
        issue = self._issue(repo, number)

        def remove() -> str:
            try:
                issue.remove_from_labels(label)
            except GithubException as error:
                if error.status == 404:  # "Label does not exist" (on this issue): nothing to remove
                    return f"label {label} was not there"
                raise
            return f"label removed: {label}"

        return await self._call(remove)

    async def assign(self, repo: str, number: str, is_pr: bool, logins: list[str]) -> str:
        if not logins:
            return "no one to assign"
        issue = self._issue(repo, number)

        def add() -> str:
            issue.add_to_assignees(*logins)
            return _assigned(logins, [user.login for user in issue.assignees])

        return await self._call(add)

    async def unassign(self, repo: str, number: str, is_pr: bool, logins: list[str]) -> str:
        if not logins:
            return "no one to unassign"
        issue = self._issue(repo, number)

        def remove() -> str:
            issue.remove_from_assignees(*logins)
            return "unassigned: " + _logins(logins)

        return await self._call(remove)

    async def set_state(self, repo: str, number: str, is_pr: bool, state: State) -> str:
        state = check_state(state)
        issue = self._issue(repo, number)

        def edit() -> str:
            issue.edit(state=state)
            return f"state set to {state}"

        return await self._call(edit)

    async def close(self) -> None:
        """Let calls under way finish, then drop the pool and PyGithub's connections."""
        await asyncio.to_thread(self._pool.shutdown, wait=True, cancel_futures=True)
        self._github.close()


def _assigned(asked: list[str], now: list[str]) -> str:
    """What an assignment did: GitHub silently leaves out whoever cannot be assigned (no access to the repo)."""
    present = {login.lower() for login in now}
    done = [login for login in asked if login.lower() in present]
    left_out = [login for login in asked if login.lower() not in present]
    parts = ["assigned: " + _logins(done)] if done else []
    if left_out:
        parts.append(f"GitHub did not assign {_logins(left_out)} (no access to the repository?)")
    return "; ".join(parts)


def _find_marker(issue: Issue, marker: str) -> str | None:
    """The address of the first comment (oldest first, every page) whose body holds the marker."""
    for existing in issue.get_comments():
        if marker and marker in (existing.body or ""):
            return existing.html_url
    return None


class GitHubRoles:
    """Someone's role in a repository, from their permission on it (`GET .../collaborators/{user}/permission`).

    Blocking, for handlers running in a worker thread: one PyGithub request per call, never an event loop.
    GitHub's `role_name` admin, maintain and write make a maintainer, triage a triager, and anything else (read,
    none, a custom role, or no such user) a contributor.
    """

    def __init__(self, token: str, api_url: str, timeout: float = 10.0) -> None:
        self._token = token
        self._github = _new_github(token, api_url, timeout)

    def role(self, repo: str, login: str) -> Role:
        try:
            role_name = self._github.get_repo(_check_repo(repo)).get_collaborator_role_name(login)
        except GithubException as error:
            if error.status == 404:  # no such user: a stranger is a contributor
                return "contributor"
            raise classify(error, time.time(), self._token) from None
        except requests.RequestException as error:
            raise RetryLater(f"GitHub unreachable: {type(error).__name__}", 0) from None
        return _role(str(role_name or ""))

    def close(self) -> None:
        self._github.close()


def _role(role_name: str) -> Role:
    role_name = role_name.lower()
    if role_name in MAINTAINER_ROLES:
        return "maintainer"
    if role_name in TRIAGER_ROLES:
        return "triager"
    return "contributor"
