"""Gitee's v5 REST API for the outbox, over aiohttp.

The shapes, as Gitee's own v5 swagger SDKs (gitee python/go clients) define them:

- comment on an issue: `POST /repos/{owner}/{repo}/issues/{number}/comments`, JSON `{"access_token", "body"}`
  (IssueCommentPostParam); on a pull request: `POST /repos/{owner}/{repo}/pulls/{number}/comments`
  (PullRequestCommentPostParam). Issue numbers are strings such as `I4CYEO`, PR numbers integers.
- list them: `GET` on the same paths with `access_token`, `page` (from 1) and `per_page` (at most 100) in the query;
  Gitee also answers `total_page` / `total_count` headers.
- add labels: `POST /repos/{owner}/{repo}/issues/{number}/labels` and `.../pulls/{number}/labels`, JSON
  `{"access_token": ..., "body": ["bug", "performance"]}` (PullRequestLabelPostParam: the names in `body`).
- remove a label: `DELETE /repos/{owner}/{repo}/{issues|pulls}/{number}/labels/{name}`, token in the query.
- an issue has one assignee, and is edited at the owner's level: `PATCH /repos/{owner}/issues/{number}`, JSON
  `{"access_token", "repo": <repo path>, "assignee": <login, "" for none>, "state": ...}`; read it with
  `GET /repos/{owner}/{repo}/issues/{number}`.
- a pull request has several: `POST /repos/{owner}/{repo}/pulls/{number}/assignees`, JSON
  `{"access_token", "assignees": "a,b"}` (comma-separated), and `DELETE` on that path with the same two in the
  query; its state: `PATCH /repos/{owner}/{repo}/pulls/{number}`, JSON `{"access_token", "state"}`.
- someone's permission: `GET /repos/{owner}/{repo}/collaborators/{username}/permission` ->
  `{"permission": ...}` (`GiteeRoles`, blocking, with requests).

The token travels in JSON bodies for writes and in the query for reads and deletes; it is never put in an error
or a log.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import quote

import aiohttp
import requests

from bot.platforms.actions import PermanentFailure, RetryLater, Role, State, check_state
from bot.retry_after import retry_after_seconds

PER_PAGE = 100  # Gitee's maximum
MAX_PAGES = 1000  # a guard against a server that never answers a short page
RATE_LIMIT_WAIT = 60.0
RATE_LIMIT_HINTS = ("rate limit", "too many requests", "频率", "频繁")
RETRYABLE_STATUSES = frozenset({408, 429})
MAINTAINER_PERMISSIONS = frozenset({"admin", "write", "push", "maintain", "master", "developer"})


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


def _logins(users: list[str]) -> str:
    return ", ".join("@" + login for login in users)


class GiteeClient:
    """Comments, labels, assignees and state of Gitee issues and pull requests; one aiohttp session, opened on
    first use."""

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

    def _issue_edit(self, repo: str, number: str, **changes: str) -> tuple[str, dict[str, Any]]:
        """Where and what to PATCH to edit an issue: the owner-level path, the repository's path in the body."""
        owner, name = _split_repo(repo)
        path = f"/repos/{quote(owner, safe='')}/issues/{quote(str(number), safe='')}"
        return path, {"access_token": self._token, "repo": name, **changes}

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout, raise_for_status=False,
                                                  headers={"User-Agent": "cobot", "Accept": "application/json"})
        return self._session

    async def _request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                       body: dict[str, Any] | None = None) -> tuple[Any, Any]:
        """(decoded JSON or None, response headers) of a 2xx answer; anything else raised as Retry/Permanent."""
        _, data, headers = await self._send(method, path, params=params, body=body)
        return data, headers

    async def _send(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                    body: dict[str, Any] | None = None, tolerate: frozenset[int] = frozenset(),
                    ) -> tuple[int, Any, Any]:
        """(status, decoded JSON or None, headers) of a 2xx answer or one whose status is in `tolerate`."""
        try:
            async with self._open().request(method, self._api + path, params=params, json=body) as response:
                text = await response.text()
                if response.status >= 300 and response.status not in tolerate:
                    raise classify(response.status, response.headers, text, self._token)
                return response.status, _decode(text), response.headers
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

    async def remove_label(self, repo: str, number: str, is_pr: bool, label: str) -> str:
        path = self._thread_path(repo, number, is_pr) + "/labels/" + quote(label, safe="")
        status, _, _ = await self._send("DELETE", path, params={"access_token": self._token},
                                        tolerate=frozenset({404}))
        return f"label {label} was not there" if status == 404 else f"label removed: {label}"

    async def assign(self, repo: str, number: str, is_pr: bool, logins: list[str]) -> str:
        if not logins:
            return "no one to assign"
        if is_pr:
            path = self._thread_path(repo, number, is_pr) + "/assignees"
            await self._request("POST", path, body={"access_token": self._token, "assignees": ",".join(logins)})
            return "assigned: " + _logins(logins)
        if len(logins) > 1:
            raise PermanentFailure(f"Gitee issues take one assignee, not {len(logins)}: {_logins(logins)}")
        path, body = self._issue_edit(repo, number, assignee=logins[0])
        await self._request("PATCH", path, body=body)
        return "assigned: " + _logins(logins)

    async def unassign(self, repo: str, number: str, is_pr: bool, logins: list[str]) -> str:
        if not logins:
            return "no one to unassign"
        if is_pr:
            path = self._thread_path(repo, number, is_pr) + "/assignees"
            await self._request("DELETE", path, params={"access_token": self._token, "assignees": ",".join(logins)})
            return "unassigned: " + _logins(logins)
        issue, _ = await self._request("GET", self._thread_path(repo, number, False),
                                       params={"access_token": self._token})
        assignee = _assignee_login(issue)
        if assignee is None or assignee.lower() not in {login.lower() for login in logins}:
            return f"not assigned to {_logins(logins)}" + (f" (assignee: @{assignee})" if assignee else "")
        path, body = self._issue_edit(repo, number, assignee="")
        await self._request("PATCH", path, body=body)
        return f"unassigned: @{assignee}"

    async def set_state(self, repo: str, number: str, is_pr: bool, state: State) -> str:
        state = check_state(state)
        if is_pr:
            path, body = self._thread_path(repo, number, is_pr), {"access_token": self._token, "state": state}
        else:
            path, body = self._issue_edit(repo, number, state=state)
        await self._request("PATCH", path, body=body)
        return f"state set to {state}"

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


def _assignee_login(issue: Any) -> str | None:
    assignee = issue.get("assignee") if isinstance(issue, dict) else None
    login = assignee.get("login") if isinstance(assignee, dict) else None
    return str(login) if login else None


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


class GiteeRoles:
    """Someone's role in a repository, from their permission on it (`GET .../collaborators/{user}/permission`).

    Blocking, for handlers running in a worker thread: one `requests` call, never an event loop. Gitee's
    permission admin, write, push, maintain (or master, developer) makes a maintainer; anything else, or no such
    user (a 404), a contributor. Gitee has no triage permission.
    """

    def __init__(self, token: str, api_url: str, timeout: float = 10.0) -> None:
        self._token = token
        self._api = api_url.rstrip("/")
        self._timeout = timeout
        self._session = requests.Session()
        self._session.headers.update({"User-Agent": "cobot", "Accept": "application/json"})

    def role(self, repo: str, login: str) -> Role:
        owner, name = _split_repo(repo)
        url = (f"{self._api}/repos/{quote(owner, safe='')}/{quote(name, safe='')}/collaborators/"
               f"{quote(login, safe='')}/permission")
        try:
            response = self._session.get(url, params={"access_token": self._token}, timeout=self._timeout)
        except requests.RequestException as error:  # its message holds the URL, and so the token: not shown
            raise RetryLater(f"Gitee unreachable: {type(error).__name__}", 0) from None
        if response.status_code == 404:  # not a member, or no such user: a contributor
            return "contributor"
        if response.status_code >= 300:
            raise classify(response.status_code, response.headers, response.text, self._token)
        answer = _decode(response.text)
        permission = answer.get("permission") if isinstance(answer, dict) else None
        return "maintainer" if str(permission or "").lower() in MAINTAINER_PERMISSIONS else "contributor"

    def close(self) -> None:
        self._session.close()
