"""GitHub's history for `cobot backfill`, read through PyGithub's requester: a repository's issues, pull requests,
comments, reviews and stargazers, as the Events the webhooks produce (bot.platforms.github reads both shapes).

Lists are read oldest first, by page number (the backfill resumes at a page), 100 a page; GitHub's `Link` header
names the last page, for the progress bar. The stages:

- issues: `GET /repos/{o}/{r}/issues?state=all&sort=created&direction=asc&since=` (GitHub lists pull requests there
  too: they are left to `pulls`). `issue.opened` at created_at by the author, then `issue.closed` at closed_at by
  `closed_by` when GitHub says who, else by the author.
- pulls: `GET /repos/{o}/{r}/pulls?state=all&sort=created&direction=asc` (GitHub takes no `since` here: filtered on
  updated_at). `pr.opened`, then `pr.merged` at merged_at by `merged_by` when given (else the author), or `pr.closed`.
- comments: `GET /repos/{o}/{r}/issues/comments?sort=created&direction=asc&since=`: the conversation of the issue
  or PR that `issue_url` names.
- review_comments: `GET /repos/{o}/{r}/pulls/comments?sort=created&direction=asc&since=`: on a line of a PR's diff
  (`Comment.place = "diff"`).
- reviews: `GET /repos/{o}/{r}/pulls/{n}/reviews` for each PR in the store: `review.submitted`, and its body as a
  `comment.created` (place "review"), as the webhook has it. A pending review has no time yet: skipped.
- stargazers: `GET /repos/{o}/{r}/stargazers` with `Accept: application/vnd.github.v3.star+json`, as PyGithub's
  `get_stargazers_with_dates` asks: `star.created` at starred_at.

An owner instead of a repository: every repository of the organisation (`/orgs/{org}/repos`), or of the user.
Refusals are classified as the outbox's client does (bot.platforms.github_api.classify): a rate limit is waited
out until the reset GitHub names, a 5xx or a lost connection retried with backoff (`Patience`); an answer that says
no request is left (`X-RateLimit-Remaining: 0`) is followed by a wait until `X-RateLimit-Reset` before the next
request. The token is never part of an error.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import requests
from github import Auth, Consts, Github, GithubException

from bot.events import Comment, Event, RepoRef, Review, Thread
from bot.platforms.actions import PermanentFailure, RetryLater
from bot.platforms.base import actor_or_ghost, parse_time
from bot.platforms.github import _comment_event, _thread
from bot.platforms.github_api import classify
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
STAR_MEDIA_TYPE = Consts.mediaTypeStarringPreview  # starred_at with each stargazer
_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="([^"]+)"')


def _links(header: str) -> dict[str, str]:
    """`Link: <...>; rel="next", <...>; rel="last"` as {rel: url}."""
    return {rel: url for url, rel in _LINK.findall(header or "")}


def _page_of(url: str | None) -> int | None:
    if not url:
        return None
    try:
        return int(parse_qs(urlsplit(url).query)["page"][0])
    except (KeyError, ValueError, IndexError):
        return None


def _number_in(url: Any) -> str | None:
    """The issue or PR number at the end of an API address (`.../issues/12`, `.../pulls/12`)."""
    tail = str(url or "").rstrip("/").rsplit("/", 1)[-1]
    return tail if tail.isdigit() else None


def _path(full_name: str) -> str:
    owner, _, name = full_name.partition("/")
    return f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}"


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


class GitHubHistory:
    """Reads one forge's history page by page (see the module docstring); blocking, for the backfill's thread."""

    platform = "github"
    stages = ("issues", "pulls", "comments", "review_comments", "reviews", "stargazers")

    def __init__(self, token: str, api_url: str, timeout: float = 30.0, patience: Patience | None = None,
                 per_page: int = PER_PAGE) -> None:
        self._token = token
        self._github = Github(auth=Auth.Token(token) if token else None, base_url=api_url.rstrip("/"),
                              timeout=max(1, math.ceil(timeout)), user_agent="cobot", per_page=per_page, retry=None,
                              seconds_between_requests=0, seconds_between_writes=0, lazy=True)
        self._requester = self._github.requester
        self.patience = patience or Patience()
        self._per_page = per_page
        self._resume_at: float | None = None  # GitHub said no request is left until then
        self._fetched: dict[tuple[str, str], Thread | None] = {}  # threads read one by one, not in the store

    def close(self) -> None:
        self._github.close()

    # -- requests ---------------------------------------------------------------------------------------------

    def _get(self, path: str, params: dict[str, Any] | None = None, accept: str | None = None,
             missing_ok: bool = False) -> tuple[Any, dict[str, str]]:
        """(JSON, lower-cased headers) of a GET, after whatever waiting and retrying it takes; `missing_ok`: a 404
        answers (None, {})."""
        if self._resume_at is not None:
            delay, self._resume_at = self._resume_at - self.patience.now(), None
            if delay > 0:
                self.patience.wait(delay, "GitHub rate limit: no request left until the reset")
        headers = {"Accept": accept} if accept else None

        def send() -> tuple[Any, dict[str, str]]:
            try:
                answer, data = self._requester.requestJsonAndCheck("GET", path, parameters=params, headers=headers)
            except GithubException as error:
                if missing_ok and error.status == 404:
                    return None, {}
                raise classify(error, self.patience.now(), self._token) from None
            except requests.RequestException as error:
                raise RetryLater(f"GitHub unreachable: {type(error).__name__}", 0) from None
            return data, {str(key).lower(): str(value) for key, value in (answer or {}).items()}

        data, answer = self.patience.call(send)
        if answer.get("x-ratelimit-remaining") == "0":
            with contextlib.suppress(KeyError, ValueError):
                self._resume_at = float(answer["x-ratelimit-reset"])
        return data, answer

    def _list(self, path: str, params: dict[str, Any], page: int, accept: str | None = None,
              missing_ok: bool = False) -> tuple[list[dict[str, Any]], bool, int | None]:
        """(items, more pages?, the last page's number) of one page of a list."""
        data, headers = self._get(path, {**params, "per_page": self._per_page, "page": page}, accept, missing_ok)
        items = [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []
        links = _links(headers.get("link", ""))
        more = "next" in links and bool(items)
        return items, more, _page_of(links.get("last")) or (None if more else page)

    # -- repositories -----------------------------------------------------------------------------------------

    def repos(self, target: str) -> list[RepoRef]:
        owner, slash, name = target.strip().strip("/").partition("/")
        if slash:
            if not owner or not name or "/" in name:
                raise NotATarget(f"GitHub repositories are named owner/name, not {target!r}")
            data, _ = self._get(_path(f"{owner}/{name}"))
            return [_repo_ref(data)]
        if not owner:
            raise NotATarget("name a repository (owner/name) or an owner")
        found: list[RepoRef] = []
        for listing in (f"/orgs/{quote(owner, safe='')}/repos", f"/users/{quote(owner, safe='')}/repos"):
            page, more = 1, True
            while more:
                items, more, _ = self._list(listing, {"type": "all", "sort": "full_name", "direction": "asc"}, page,
                                            missing_ok=True)
                found += [_repo_ref(item) for item in items]
                page += 1
            if found:
                return found
        raise PermanentFailure(f"GitHub: {owner} has no repositories this token can see")

    # -- stages -----------------------------------------------------------------------------------------------

    def read(self, repo: RepoRef, stage: str, cursor: Cursor, since: datetime | None,
             threads: ThreadSource) -> Iterator[Page]:
        path = _path(repo.full_name)
        window = {"since": _iso(since)} if since else {}
        oldest_first = {"sort": "created", "direction": "asc"}
        if stage == "issues":
            return self._flat(path + "/issues", {"state": "all", **oldest_first, **window}, cursor,
                              lambda item: self._issue(repo, item))
        if stage == "pulls":
            return self._flat(path + "/pulls", {"state": "all", **oldest_first}, cursor,
                              lambda item: self._pull(repo, item, since))
        if stage == "comments":
            return self._flat(path + "/issues/comments", {**oldest_first, **window}, cursor,
                              lambda item: self._comment(repo, item, "issue_url", "thread", threads))
        if stage == "review_comments":
            return self._flat(path + "/pulls/comments", {**oldest_first, **window}, cursor,
                              lambda item: self._comment(repo, item, "pull_request_url", "diff", threads))
        if stage == "reviews":
            return per_thread_pages(threads.listed(True, since), cursor,
                                    lambda thread, page: self._reviews(repo, thread, page, since))
        if stage == "stargazers":
            return self._flat(path + "/stargazers", {}, cursor, lambda item: self._star(repo, item, since),
                              STAR_MEDIA_TYPE)
        raise ValueError(f"GitHub has no backfill stage {stage!r} (stages: {', '.join(self.stages)})")

    def _flat(self, path: str, params: dict[str, Any], cursor: Cursor, translate: Translate,
              accept: str | None = None) -> Iterator[Page]:
        def fetch(page: int) -> Fetched:
            items, more, total = self._list(path, params, page, accept)
            return (*translated(items, translate), more, total)
        return flat_pages(cursor, fetch)

    def _issue(self, repo: RepoRef, item: dict[str, Any]) -> tuple[list[Event], datetime | None]:
        if "pull_request" in item:  # a PR as the issues API shows it: read with the pulls
            return [], None
        thread = _thread(item, False)
        closer = actor_or_ghost(item["closed_by"]) if isinstance(item.get("closed_by"), dict) else None
        return thread_history(self.platform, repo, thread, closed_by=closer), thread.updated_at

    def _pull(self, repo: RepoRef, item: dict[str, Any], since: datetime | None
              ) -> tuple[list[Event], datetime | None]:
        thread = _thread(item, True)
        if since is not None and thread.updated_at < since:
            return [], None
        merger = actor_or_ghost(item["merged_by"]) if isinstance(item.get("merged_by"), dict) else None
        return thread_history(self.platform, repo, thread, merged_by=merger), thread.updated_at

    def _comment(self, repo: RepoRef, item: dict[str, Any], link: str, place: str, threads: ThreadSource
                 ) -> tuple[list[Event], datetime | None]:
        number = _number_in(item.get(link))
        thread = self._thread_of(repo, number, threads) if number else None
        if thread is None:
            return [], None
        payload = {"comment": item, "repository": {"full_name": repo.full_name, "html_url": repo.url}}
        event = _comment_event(payload, thread, self._now(), "diff" if place == "diff" else "thread")
        return [event], parse_time(item.get("updated_at")) or event.occurred_at

    def _thread_of(self, repo: RepoRef, number: str, threads: ThreadSource) -> Thread | None:
        """The issue or PR a comment belongs to: as stored, else as GitHub shows it (a thread not backfilled)."""
        stored = threads.find(number)
        if stored is not None:
            return stored
        key = (repo.full_name, number)
        if key not in self._fetched:
            data, _ = self._get(f"{_path(repo.full_name)}/issues/{number}", missing_ok=True)
            self._fetched[key] = _issue_thread(data) if isinstance(data, dict) else None
        return self._fetched[key]

    def _reviews(self, repo: RepoRef, thread: Thread, page: int, since: datetime | None) -> Fetched:
        items, more, total = self._list(f"{_path(repo.full_name)}/pulls/{quote(thread.number, safe='')}/reviews",
                                        {}, page, missing_ok=True)
        events: list[Event] = []
        newest: datetime | None = None
        for raw in items:
            submitted = parse_time(raw.get("submitted_at"))
            if submitted is None or (since is not None and submitted < since):
                continue  # pending (not submitted yet), or before the window
            events += _review_events(repo, thread, raw, submitted)
            newest = later_of(newest, submitted)
        return events, newest, more, total

    def _star(self, repo: RepoRef, item: dict[str, Any], since: datetime | None
              ) -> tuple[list[Event], datetime | None]:
        when = parse_time(item.get("starred_at"))
        if when is None or (since is not None and when < since):
            return [], None
        return [Event(kind="star.created", platform=self.platform, repo=repo, actor=actor_or_ghost(item.get("user")),
                      occurred_at=when)], when

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.patience.now(), UTC)


def _issue_thread(data: dict[str, Any]) -> Thread:
    """An issue, or a PR as the issues API shows it (its merge time under `pull_request`)."""
    pull = data.get("pull_request")
    if not isinstance(pull, dict):
        return _thread(data, False)
    return _thread({**data, "merged_at": data.get("merged_at") or pull.get("merged_at")}, True)


def _repo_ref(data: Any) -> RepoRef:
    if not isinstance(data, dict) or not data.get("full_name"):
        raise PermanentFailure("GitHub answered a repository without its full_name")
    return RepoRef(full_name=str(data["full_name"]), url=data.get("html_url"))


def _review_events(repo: RepoRef, thread: Thread, raw: dict[str, Any], submitted: datetime) -> list[Event]:
    """A review as the `pull_request_review` webhook gives it: the review, and its body as a comment."""
    author = actor_or_ghost(raw.get("user"))
    review = Review(id=str(raw.get("id")), state=str(raw.get("state") or "").lower(), body=str(raw.get("body") or ""),
                    author=author, submitted_at=submitted)
    events = [Event(kind="review.submitted", platform="github", repo=repo, actor=author, occurred_at=submitted,
                    thread=thread, review=review)]
    if review.body.strip():
        comment = Comment(id=f"review-{review.id}", body=review.body, author=author, created_at=submitted,
                          url=raw.get("html_url"), place="review")
        events.append(Event(kind="comment.created", platform="github", repo=repo, actor=author,
                            occurred_at=submitted, thread=thread, comment=comment))
    return events
