"""Gitee's v5 REST API for the outbox, over aiohttp.

Issue comments: POST /repos/{owner}/{repo}/issues/{number}/comments; PR comments: .../pulls/{number}/comments
(both `access_token`, `body`; GET lists them, `page`/`per_page`). Labels: POST .../issues/{number}/labels and
.../pulls/{number}/labels with `{"access_token": ..., "body": [names]}` (the v5 SDK's PullRequestLabelPostParam).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import aiohttp

from bot.platforms.actions import PermanentFailure, RetryLater

PER_PAGE = 100


class GiteeClient:
    def __init__(self, token: str, api_url: str, timeout: float = 30.0) -> None:
        self._token = token
        self._api = api_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _thread_path(self, repo: str, number: str, is_pr: bool) -> str:
        owner, name = repo.split("/", 1)
        kind = "pulls" if is_pr else "issues"
        return f"{self._api}/repos/{quote(owner, safe='')}/{quote(name, safe='')}/{kind}/{quote(number, safe='')}"

    async def _request(self, method: str, url: str, *, params: dict[str, Any] | None = None,
                       json: dict[str, Any] | None = None) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout, headers={"User-Agent": "cobot"})
        try:
            async with self._session.request(method, url, params=params, json=json) as response:
                text = await response.text()
                if response.status < 300:
                    return await response.json(content_type=None) if text else None
                raise _refusal(response.status, response.headers.get("Retry-After"), text)
        except (TimeoutError, aiohttp.ClientConnectionError) as error:
            raise RetryLater(f"Gitee unreachable: {type(error).__name__}", 0) from None

    async def comment(self, repo: str, number: str, is_pr: bool, body: str, marker: str, look_first: bool) -> str:
        url = self._thread_path(repo, number, is_pr) + "/comments"
        if look_first:
            found = await self._find_comment(url, marker)
            if found:
                return found
        created = await self._request("POST", url, json={"access_token": self._token, "body": body})
        return _comment_address(created)

    async def _find_comment(self, url: str, marker: str) -> str | None:
        page = 1
        while True:
            comments = await self._request("GET", url, params={"access_token": self._token, "page": page,
                                                               "per_page": PER_PAGE}) or []
            for comment in comments:
                if marker in str(comment.get("body", "")):
                    return _comment_address(comment)
            if len(comments) < PER_PAGE:
                return None
            page += 1

    async def add_labels(self, repo: str, number: str, is_pr: bool, labels: list[str]) -> str:
        url = self._thread_path(repo, number, is_pr) + "/labels"
        await self._request("POST", url, json={"access_token": self._token, "body": labels})
        return "labels added: " + ", ".join(labels)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def _comment_address(comment: Any) -> str:
    if isinstance(comment, dict):
        return str(comment.get("html_url") or comment.get("id") or "comment posted")
    return "comment posted"


def _refusal(status: int, retry_after: str | None, text: str) -> Exception:
    """Gitee's answer as RetryLater (rate limit, Retry-After, 5xx) or PermanentFailure (the rest)."""
    detail = text[:200]
    if retry_after is not None and retry_after.isdigit():
        return RetryLater(f"Gitee {status}: asked to retry after {retry_after}s", float(retry_after))
    if status == 429 or (status == 403 and "rate limit" in text.lower()):
        return RetryLater(f"Gitee {status}: rate limited", 60.0)
    if status >= 500:
        return RetryLater(f"Gitee {status}: {detail}", 0)
    return PermanentFailure(f"Gitee {status}: {detail}")
