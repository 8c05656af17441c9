"""Gitee's history for `cobot backfill`, over its v5 API with requests: a repository's issues, pull requests, their
comments and its stargazers, as the Events the webhooks produce (bot.platforms.gitee reads both shapes).

Every list is read by page number (`page` from 1, `per_page` at most 100), oldest first where Gitee sorts, and
`total_page` (with `total_count`) in the answer's headers says how many pages there are. The token goes as
`access_token` in the query, and is never part of an error. The stages:

- issues: `GET /repos/{o}/{r}/issues?state=all&sort=created&direction=asc&since=`: `issue.opened` at created_at,
  then, for an issue closed or rejected, `issue.closed` at `finished_at` (Gitee's closing time). Gitee does not say
  who closed it: its author.
- pulls: `GET /repos/{o}/{r}/pulls?state=all&sort=created&direction=asc` (no `since`: filtered on updated_at):
  `pr.opened`, then `pr.merged` at merged_at or `pr.closed` at closed_at.
- comments: for each issue and PR in the store, `GET /repos/{o}/{r}/issues/{number}/comments?since=&order=asc`
  and `GET /repos/{o}/{r}/pulls/{number}/comments`: `comment.created`; a PR comment on a line of the diff
  (`comment_type` "diff_comment", or a path and position) has `place = "diff"`.
- stargazers: `GET /repos/{o}/{r}/stargazers`: each user with `star_at`, `star.created` then.

Refusals: Retry-After, and a 403/429 that says no request is left (`X-RateLimit-Remaining: 0` with a reset) are
waited out; any other 429 or a 403 about the rate is waited a minute (bot.platforms.gitee_api.classify); 5xx and
lost connections are retried with backoff (`Patience`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import requests

from bot.events import Comment, Event, RepoRef, Thread
from bot.platforms.actions import PermanentFailure, RetryLater
from bot.platforms.base import parse_time
from bot.platforms.gitee import DIFF_COMMENT_KEYS, _actor, _issue, _pull
from bot.platforms.gitee_api import _decode, _split_repo, _total_pages, classify
from bot.platforms.history_reading import (
    Cursor,
    Fetched,
    NotATarget,
    Page,
    Patience,
    ThreadSource,
    Translate,
    flat_pages,
    later_of,
    per_thread_pages,
    thread_history,
    translated,
)

PER_PAGE = 100


def _path(full_name: str) -> str:
    owner, name = _split_repo(full_name)
    return f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}"


class GiteeHistory:
    """Reads a Gitee repository's history page by page (see the module docstring); blocking."""

    platform = "gitee"
    stages = ("issues", "pulls", "comments", "stargazers")

    def __init__(self, token: str, api_url: str, timeout: float = 30.0, patience: Patience | None = None,
                 per_page: int = PER_PAGE) -> None:
        self._token = token
        self._api = api_url.rstrip("/")
        self._timeout = timeout
        self._session = requests.Session()
        self._session.headers.update({"User-Agent": "cobot", "Accept": "application/json"})
        self.patience = patience or Patience()
        self._per_page = per_page

    def close(self) -> None:
        self._session.close()

    # -- requests ---------------------------------------------------------------------------------------------

    def _get(self, path: str, params: dict[str, Any] | None = None, missing_ok: bool = False) -> tuple[Any, Any]:
        """(decoded JSON, headers) of a GET, after whatever waiting and retrying it takes; `missing_ok`: a 404
        answers (None, {})."""
        query = {**({"access_token": self._token} if self._token else {}), **(params or {})}

        def send() -> tuple[Any, Any]:
            try:
                response = self._session.get(self._api + path, params=query, timeout=self._timeout)
            except requests.RequestException as error:  # its message holds the URL, and so the token: not shown
                raise RetryLater(f"Gitee unreachable: {type(error).__name__}", 0) from None
            if missing_ok and response.status_code == 404:
                return None, {}
            if response.status_code >= 300:
                raise self._refusal(response)
            return _decode(response.text), response.headers

        return self.patience.call(send)

    def _refusal(self, response: requests.Response) -> RetryLater | PermanentFailure:
        status, headers = response.status_code, response.headers
        if status in (403, 429) and headers.get("X-RateLimit-Remaining") == "0":
            try:
                delay = max(float(headers["X-RateLimit-Reset"]) - self.patience.now(), 1.0)
            except (KeyError, ValueError):
                delay = 0.0
            if delay:
                return RetryLater(f"Gitee {status}: rate limit exhausted until the reset", delay)
        return classify(status, headers, response.text, self._token, self.patience.now())

    def _list(self, path: str, params: dict[str, Any], page: int, missing_ok: bool = False
              ) -> tuple[list[dict[str, Any]], bool, int | None]:
        """(items, more pages?, how many pages) of one page of a list."""
        data, headers = self._get(path, {**params, "page": page, "per_page": self._per_page}, missing_ok)
        items = [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []
        total = _total_pages(headers) if headers else None
        more = bool(items) and (page < total if total is not None else len(items) >= self._per_page)
        return items, more, total

    # -- repositories -----------------------------------------------------------------------------------------

    def repos(self, target: str) -> list[RepoRef]:
        owner, slash, name = target.strip().strip("/").partition("/")
        if not slash or not owner or not name or "/" in name:
            raise NotATarget(f"Gitee repositories are named owner/name, not {target!r}")
        data, _ = self._get(_path(f"{owner}/{name}"))
        if not isinstance(data, dict):
            raise PermanentFailure("Gitee answered no repository")
        full_name = data.get("full_name") or data.get("path_with_namespace") or f"{owner}/{name}"
        return [RepoRef(full_name=str(full_name), url=data.get("html_url"))]

    # -- stages -----------------------------------------------------------------------------------------------

    def read(self, repo: RepoRef, stage: str, cursor: Cursor, since: datetime | None,
             threads: ThreadSource) -> Iterator[Page]:
        path = _path(repo.full_name)
        oldest_first = {"sort": "created", "direction": "asc"}
        if stage == "issues":
            window = {"since": since.astimezone(UTC).isoformat()} if since else {}
            return self._flat(path + "/issues", {"state": "all", **oldest_first, **window}, cursor,
                              lambda item: self._issue(repo, item))
        if stage == "pulls":
            return self._flat(path + "/pulls", {"state": "all", **oldest_first}, cursor,
                              lambda item: self._pull(repo, item, since))
        if stage == "comments":
            return per_thread_pages(threads.listed(None, since), cursor,
                                    lambda thread, page: self._comments(repo, thread, page, since))
        if stage == "stargazers":
            return self._flat(path + "/stargazers", {}, cursor, lambda item: self._star(repo, item, since))
        raise ValueError(f"Gitee has no backfill stage {stage!r} (stages: {', '.join(self.stages)})")

    def _flat(self, path: str, params: dict[str, Any], cursor: Cursor, translate: Translate) -> Iterator[Page]:
        def fetch(page: int) -> Fetched:
            items, more, total = self._list(path, params, page)
            return (*translated(items, translate), more, total)
        return flat_pages(cursor, fetch)

    def _issue(self, repo: RepoRef, item: dict[str, Any]) -> tuple[list[Event], datetime | None]:
        thread = _issue(item)
        return thread_history(self.platform, repo, thread), thread.updated_at

    def _pull(self, repo: RepoRef, item: dict[str, Any], since: datetime | None
              ) -> tuple[list[Event], datetime | None]:
        thread = _pull(item)
        if since is not None and thread.updated_at < since:
            return [], None
        merger = _actor(item["merged_by"]) if isinstance(item.get("merged_by"), dict) else None
        return thread_history(self.platform, repo, thread, merged_by=merger), thread.updated_at

    def _comments(self, repo: RepoRef, thread: Thread, page: int, since: datetime | None) -> Fetched:
        kind = "pulls" if thread.is_pr else "issues"
        params: dict[str, Any] = {}
        if not thread.is_pr:
            params["order"] = "asc"
            if since is not None:
                params["since"] = since.astimezone(UTC).isoformat()
        items, more, total = self._list(f"{_path(repo.full_name)}/{kind}/{quote(thread.number, safe='')}/comments",
                                        params, page, missing_ok=True)
        events: list[Event] = []
        newest: datetime | None = None
        for raw in items:
            created = parse_time(raw.get("created_at"))
            updated = parse_time(raw.get("updated_at")) or created
            if created is None or updated is None or (since is not None and updated < since):
                continue
            on_diff = thread.is_pr and (raw.get("comment_type") == "diff_comment"
                                        or any(raw.get(key) for key in DIFF_COMMENT_KEYS))
            comment = Comment(id=str(raw.get("id")), body=str(raw.get("body") or ""), author=_actor(raw.get("user")),
                              created_at=created, url=raw.get("html_url"), place="diff" if on_diff else "thread")
            events.append(Event(kind="comment.created", platform=self.platform, repo=repo, actor=comment.author,
                                occurred_at=created, thread=thread, comment=comment))
            newest = later_of(newest, updated)
        return events, newest, more, total

    def _star(self, repo: RepoRef, item: dict[str, Any], since: datetime | None
              ) -> tuple[list[Event], datetime | None]:
        when = parse_time(item.get("star_at"))
        if when is None or (since is not None and when < since):
            return [], None  # Gitee names no time: a star cannot be placed
        return [Event(kind="star.created", platform=self.platform, repo=repo, actor=_actor(item),
                      occurred_at=when)], when
