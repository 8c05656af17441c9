"""Gitee's v5 REST API for the outbox, over aiohttp.

The shapes, as Gitee's own v5 swagger SDKs (gitee python/go clients) define them:

- comment on an issue: `POST /repos/{owner}/{repo}/issues/{number}/comments`, JSON `{"access_token", "body"}`
  (IssueCommentPostParam); on a pull request: `POST /repos/{owner}/{repo}/pulls/{number}/comments`
  (PullRequestCommentPostParam). Issue numbers are strings such as `I4CYEO`, PR numbers integers.
- list them: `GET` on the same paths with `access_token`, `page` (from 1) and `per_page` (at most 100) in the query;
  Gitee also answers `total_page` / `total_count` headers.
- add labels: `POST /repos/{owner}/{repo}/issues/{number}/labels` and `.../pulls/{number}/labels`, JSON
  `{"access_token": ..., "body": ["bug", "performance"]}` (PullRequestLabelPostParam: the names in `body`).

The token travels in JSON bodies for writes and in the query for reads; it is never put in an error or a log.
"""

from __future__ import annotations

import json
import time
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import aiohttp

from bot.platforms.actions import PermanentFailure, RetryLater

PER_PAGE = 100  # Gitee's maximum
MAX_PAGES = 1000  # a guard against a server that never answers a short page
RATE_LIMIT_WAIT = 60.0
RATE_LIMIT_HINTS = ("rate limit", "too many requests", "频率", "频繁")
RETRYABLE_STATUSES = frozenset({408, 429})


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """A Retry-After header in seconds: either delay-seconds or an HTTP date; None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max(parsedate_to_datetime(value).timestamp() - now, 0.0)
    except (TypeError, ValueError):
        return None


def _error_message(text: str) -> str:
    try:
        data = json.loads(text)
    except ValueError:
        return text.strip()
    if isinstance(data, dict):
        return str(data.get("message") or data.get("error") or text).strip()
    return text.strip()


def classify(status: int, headers: Any, text: str, token: str = "", now: float | None = None,
             ) -> RetryLater | PermanentFailure:
    """Gitee's refusal as RetryLater (rate limit, Retry-After, 5xx) or PermanentFailure (the rest)."""
    message = _error_message(text)
    message = (message.replace(token, "***") if token else message)[:200]
    waited = retry_after_seconds(headers.get("Retry-After"), time.time() if now is None else now)
    if waited is not None:
        return RetryLater(f"Gitee {status}: asked to retry after {waited:g}s", waited)
    if status == 429 or (status == 403 and any(hint in message.lower() for hint in RATE_LIMIT_HINTS)):
        return RetryLater(f"Gitee {status}: rate limited", RATE_LIMIT_WAIT)
    if status >= 500 or status in RETRYABLE_STATUSES:
        return RetryLater(f"Gitee {status}: {message or 'server error'}", 0)
    return PermanentFailure(f"Gitee {status}: {message or 'refused'}")


def _split_repo(repo: str) -> tuple[str, str]:
    owner, _, name = repo.partition("/")
    if not owner or not name or "/" in name:
        raise PermanentFailure(f"Gitee repositories are named owner/name, not {repo!r}")
    return owner, name


def _total_pages(headers: Any) -> int | None:
    try:
        return int(headers.get("total_page", ""))
    except ValueError:
        return None


class GiteeClient:
    """Comments and labels on Gitee issues and pull requests; one aiohttp session, opened on first use."""

    def __init__(self, token: str, api_url: str, timeout: float = 30.0) -> None:
        self._token = token
        self._api = api_url.rstrip("/")
        self._web = self._api.removesuffix("/api/v5")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _thread_path(self, repo: str, number: str, is_pr: bool) -> str:
        """`/repos/{owner}/{repo}/{issues|pulls}/{number}`, each part URL-quoted."""
        owner, name = _split_repo(repo)
        kind = "pulls" if is_pr else "issues"
        return f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}/{kind}/{quote(str(number), safe='')}"

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout, raise_for_status=False,
                                                  headers={"User-Agent": "cobot", "Accept": "application/json"})
        return self._session

    async def _request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                       body: dict[str, Any] | None = None) -> tuple[Any, Any]:
        """(decoded JSON or None, response headers) of a 2xx answer; anything else raised as Retry/Permanent."""
        try:
            async with self._open().request(method, self._api + path, params=params, json=body) as response:
                text = await response.text()
                if response.status >= 300:
                    raise classify(response.status, response.headers, text, self._token)
                return _decode(text), response.headers
        except (TimeoutError, aiohttp.ClientError) as error:  # refused, reset, timed out: the caller backs off
            raise RetryLater(f"Gitee unreachable: {type(error).__name__}", 0) from None

    async def comment(self, repo: str, number: str, is_pr: bool, body: str, marker: str, look_first: bool) -> str:
        path = self._thread_path(repo, number, is_pr) + "/comments"
        if look_first:
            found = await self._find_comment(path, marker)
            if found is not None:
                return self._comment_address(found, repo, number, is_pr)
        created, _ = await self._request("POST", path, body={"access_token": self._token, "body": body})
        return self._comment_address(created, repo, number, is_pr)

    async def _find_comment(self, path: str, marker: str) -> dict[str, Any] | None:
        """The first comment (every page) whose body holds the marker."""
        if not marker:
            return None
        for page in range(1, MAX_PAGES + 1):
            params = {"access_token": self._token, "page": page, "per_page": PER_PAGE}
            comments, headers = await self._request("GET", path, params=params)
            comments = comments if isinstance(comments, list) else []
            for comment in comments:
                if isinstance(comment, dict) and marker in str(comment.get("body") or ""):
                    return comment
            if not _more_pages(page, len(comments), _total_pages(headers)):
                return None
        return None

    async def add_labels(self, repo: str, number: str, is_pr: bool, labels: list[str]) -> str:
        if not labels:
            return "no labels to add"
        path = self._thread_path(repo, number, is_pr) + "/labels"
        await self._request("POST", path, body={"access_token": self._token, "body": list(labels)})
        return "labels added: " + ", ".join(labels)

    def _comment_address(self, comment: Any, repo: str, number: str, is_pr: bool) -> str:
        """The comment's web address: Gitee's `html_url` when given (PR comments), else built from its id."""
        if not isinstance(comment, dict):
            return "comment posted"
        if comment.get("html_url"):
            return str(comment["html_url"])
        kind = "pulls" if is_pr else "issues"
        anchor = f"#note_{comment['id']}" if comment.get("id") is not None else ""
        return f"{self._web}/{repo}/{kind}/{number}{anchor}"

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _decode(text: str) -> Any:
    try:
        return json.loads(text) if text.strip() else None
    except ValueError:
        return None


def _more_pages(page: int, count: int, total_pages: int | None) -> bool:
    if count == 0:
        return False
    if total_pages is not None:
        return page < total_pages
    return count >= PER_PAGE
