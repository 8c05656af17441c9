"""GitHub's REST API for the outbox, through PyGithub (blocking, so run in a thread of its own)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import requests
from github import Auth, Github, GithubException

from bot.platforms.actions import PermanentFailure, RetryLater

T = TypeVar("T")
SECONDARY_LIMIT_WAIT = 60.0


def _header(error: GithubException, name: str) -> str | None:
    headers = {key.lower(): value for key, value in (error.headers or {}).items()}
    return headers.get(name)


def _message(error: GithubException) -> str:
    data = error.data if isinstance(error.data, dict) else {}
    return str(data.get("message") or error.message or "")


def classify(error: GithubException, now: float) -> Exception:
    """GitHub's answer as RetryLater (rate limits, Retry-After, 5xx) or PermanentFailure (the rest)."""
    status, message = error.status, _message(error)
    retry_after = _header(error, "retry-after")
    if retry_after is not None and retry_after.isdigit():
        return RetryLater(f"GitHub {status}: asked to retry after {retry_after}s", float(retry_after))
    if status in (403, 429) and _header(error, "x-ratelimit-remaining") == "0":
        reset = _header(error, "x-ratelimit-reset")
        delay = max(float(reset) - now, 1.0) if reset and reset.isdigit() else SECONDARY_LIMIT_WAIT
        return RetryLater(f"GitHub {status}: rate limit exhausted until the reset", delay)
    if status in (403, 429) and "rate limit" in message.lower():
        return RetryLater(f"GitHub {status}: secondary rate limit", SECONDARY_LIMIT_WAIT)
    if status >= 500 or status == 429:
        return RetryLater(f"GitHub {status}: {message}", 0)
    return PermanentFailure(f"GitHub {status}: {message}")


class GitHubClient:
    """Comments and labels on GitHub issues and pull requests (PRs are issues to this API)."""

    def __init__(self, token: str, api_url: str, timeout: float = 30.0) -> None:
        self._github = Github(auth=Auth.Token(token), base_url=api_url.rstrip("/"), timeout=int(timeout),
                              retry=None, seconds_between_requests=None, seconds_between_writes=None, lazy=True,
                              user_agent="cobot")
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="github-api")

    async def _call(self, work: Callable[[], T]) -> T:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, work)
        except GithubException as error:
            raise classify(error, time.time()) from None
        except requests.RequestException as error:  # connection refused, timeout: try again later
            raise RetryLater(f"GitHub unreachable: {type(error).__name__}", 0) from None

    async def comment(self, repo: str, number: str, is_pr: bool, body: str, marker: str, look_first: bool) -> str:
        def post() -> str:
            issue = self._github.get_repo(repo).get_issue(int(number))
            if look_first:
                for existing in issue.get_comments():
                    if marker in (existing.body or ""):
                        return existing.html_url
            return issue.create_comment(body).html_url
        return await self._call(post)

    async def add_labels(self, repo: str, number: str, is_pr: bool, labels: list[str]) -> str:
        def add() -> str:
            self._github.get_repo(repo).get_issue(int(number)).add_to_labels(*labels)
            return "labels added: " + ", ".join(labels)
        return await self._call(add)

    async def close(self) -> None:
        self._pool.shutdown(wait=False)
        self._github.close()
