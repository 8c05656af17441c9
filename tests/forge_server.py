"""A local aiohttp server that speaks the GitHub and Gitee REST endpoints cobot's forge clients use.

GitHub is mounted at `{base}/github` (PyGithub's `base_url`), Gitee at `{base}/gitee/api/v5`. State lives in
memory: comments, labels, assignees and state ("open" unless told) per thread, people's permissions per repository,
and every request received, so tests can assert on them.

Knobs:
- `fail_next(status, headers=..., message=..., times=N, method=..., platform=...)`: the next N matching requests
  are answered with that status, headers and `{"message": ...}` body, and not applied.
- `lose_next_answer(times=N)`: the next N writes are applied, then answered 502 (the answer lost on the way).
- `delay_next(seconds)`: the next request waits before it is handled (for client time-outs).
- `valid_tokens`: when set, a request without one of these tokens is answered 401 "Bad credentials".
- `seed_comments(...)`, `seed_thread(...)`: comments, labels, assignees and state that exist before the test
  starts, without any request.
- `permissions[(platform, "owner/repo", login)]`: GitHub's role_name (admin, maintain, write, triage, read, or a
  custom role) or Gitee's permission string. Someone not in it is a reader on GitHub and unknown (404) on Gitee.
- `unknown_users`: logins that do not exist: their permission is a 404, and GitHub silently does not assign them.
- `fail_next(..., when=lambda request: ...)`: only requests the predicate accepts (a path, a page) are failed.
- `answer_headers_next(headers, times=N, when=...)`: the next N answers that succeed carry these headers too (say
  `X-RateLimit-Remaining: 0` with a reset).

History, for `cobot backfill` (read endpoints, paged as the forges page: GitHub's `Link` with `page`/`per_page`,
30 by default; Gitee's `total_count`/`total_page` headers, 20 by default; at most 100 a page; `since` on what the
forge filters by it, `state`, `sort` and `direction` honoured, with each forge's defaults):
- `add_repo(platform, "owner/name")`: listed by `GET /orgs/{owner}/repos` and `/users/{owner}/repos` (GitHub).
- `add_issue(...)`, `add_pull(...)`: shaped as each API answers them (GitHub lists pull requests among the issues
  too, with a `pull_request` key; its lists carry neither `closed_by` nor `merged_by`, the single issue does).
- `add_comment(...)`: a conversation comment (GitHub `issues/comments`, Gitee `{issues|pulls}/{n}/comments`), or
  `on_diff=True`, on a line of a PR's diff (GitHub `pulls/comments`, Gitee a `diff_comment`).
- `add_review(...)`: GitHub `pulls/{n}/reviews` (a PENDING one has no `submitted_at`).
- `add_star(...)`: GitHub `stargazers` (`starred_at` with the star media type), Gitee `stargazers` (`star_at`).
Times are given as ISO 8601 in UTC; Gitee answers them in Beijing time (+08:00), as it does.

Use `start_forge_server()` / `stop()`, or `async with forge_server() as (forge, base): ...`.
"""

from __future__ import annotations

import asyncio
import json
import zlib
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

GITHUB = "github"
GITEE = "gitee"
GITHUB_PREFIX = "/github"
GITEE_PREFIX = "/gitee/api/v5"
GITHUB_PER_PAGE, GITEE_PER_PAGE, MAX_PER_PAGE = 30, 20, 100
CREATED_AT = "2026-11-01T10:00:00Z"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ThreadKey = tuple[str, str, str, str]  # (platform, "owner/repo", "issues" | "pulls", number)
PermissionKey = tuple[str, str, str]  # (platform, "owner/repo", login)
GITHUB_STATES = frozenset({"open", "closed"})
GITEE_ISSUE_STATES = frozenset({"open", "progressing", "closed", "rejected"})
GITEE_PR_STATES = frozenset({"open", "closed"})
# role_name -> the older "permission" field GitHub answers beside it
GITHUB_PERMISSION_OF_ROLE = {"admin": "admin", "maintain": "write", "write": "write", "triage": "read", "read": "read"}
GITHUB_STAR_MEDIA_TYPE = "application/vnd.github.v3.star+json"
BEIJING = timezone(timedelta(hours=8))
RepoKey = tuple[str, str]  # (platform, "owner/repo")


@dataclass
class Request:
    """One request as the server received it."""

    platform: str
    method: str
    path: str
    query: dict[str, str]
    auth: str | None  # the Authorization header, verbatim
    token: str | None  # the token however it came: Authorization header, access_token in query or JSON body
    body: Any  # the decoded JSON body, or None
    raw_path: str = ""  # the path as sent, percent-encoding kept and no query (`path` is decoded)


@dataclass
class Failure:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = field(default_factory=lambda: {"message": "scripted failure"})
    method: str | None = None
    platform: str | None = None
    when: Callable[[Request], bool] | None = None

    def matches(self, platform: str, method: str, request: Request | None = None) -> bool:
        return (self.method in (None, method) and self.platform in (None, platform)
                and (self.when is None or (request is not None and self.when(request))))


@dataclass
class ExtraHeaders:
    headers: dict[str, str]
    when: Callable[[Request], bool] | None = None


def _platform(path: str) -> str:
    return GITHUB if path.startswith(GITHUB_PREFIX + "/") else GITEE


def _token_of(request: web.Request, body: Any) -> str | None:
    if isinstance(body, dict) and isinstance(body.get("access_token"), str):
        return body["access_token"]
    if "access_token" in request.query:
        return request.query["access_token"]
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() in ("token", "bearer") and credentials:
        return credentials
    return None


def _page(request: web.Request, default: int) -> tuple[int, int]:
    try:
        page = max(int(request.query.get("page", "1")), 1)
        per_page = min(max(int(request.query.get("per_page", str(default))), 1), MAX_PER_PAGE)
    except ValueError:
        raise web.HTTPBadRequest(text=json.dumps({"message": "page and per_page are integers"}),
                                 content_type="application/json") from None
    return page, per_page


def _unprocessable(message: str) -> web.Response:
    return web.json_response({"message": message}, status=422)


def _bad_request(message: str) -> web.Response:
    return web.json_response({"message": message}, status=400)


def _logins(value: Any) -> list[str] | None:
    """A comma-separated string of logins (Gitee) as a list; None when it is not a non-empty string."""
    if not isinstance(value, str) or not value.strip():
        return None
    return [login.strip() for login in value.split(",") if login.strip()]


def _id(*parts: str) -> int:
    """A stable id for a thing named by these parts."""
    return zlib.crc32("/".join(parts).encode()) % 10**6 + 1


def _github_user(login: str) -> dict[str, Any]:
    return {"login": login, "id": _id(login), "type": "User",
            "url": f"https://api.github.com/users/{login}", "html_url": f"https://github.com/{login}"}


def _github_account(login: str) -> dict[str, Any]:
    """A user as the REST API shows one in what it lists: a bot's login ends in [bot], and its type says so."""
    return {**_github_user(login), "type": "Bot" if login.endswith("[bot]") else "User", "site_admin": False}


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _gitee_time(text: str | None) -> str | None:
    """Gitee answers times in Beijing time: `2026-10-01T18:00:00+08:00`."""
    return _moment(text).astimezone(BEIJING).isoformat() if text else None


def _since(request: web.Request) -> datetime | None:
    value = request.query.get("since")
    if not value:
        return None
    try:
        return _moment(value)
    except ValueError:
        raise web.HTTPBadRequest(text=json.dumps({"message": "since is an ISO 8601 time"}),
                                 content_type="application/json") from None


def _ordered(request: web.Request, items: list[dict[str, Any]], *, default_sort: str = "created",
             default_direction: str = "desc", since_field: str | None = "updated_at",
             fields: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Filtered by `since` (on `since_field`) and sorted by `sort` (a time field) and `direction`."""
    fields = fields or {"created": "created_at", "updated": "updated_at"}
    since = _since(request) if since_field else None
    if since is not None and since_field is not None:
        items = [item for item in items if _moment(item[since_field]) >= since]
    sort = request.query.get("sort", default_sort)
    direction = request.query.get("direction", default_direction)
    key = fields.get(sort, fields[default_sort])
    return sorted(items, key=lambda item: (_moment(item[key]), item.get("id", 0)), reverse=direction == "desc")


def _github_paged(request: web.Request, items: list[Any]) -> web.Response:
    """A page of a GitHub list, with GitHub's `Link` (first, prev, next, last: only those that apply)."""
    page, per_page = _page(request, GITHUB_PER_PAGE)
    last = max((len(items) + per_page - 1) // per_page, 1)
    links = []
    if page < last:
        links += [f'<{request.url.update_query(page=str(page + 1))}>; rel="next"',
                  f'<{request.url.update_query(page=str(last))}>; rel="last"']
    if page > 1:
        links += [f'<{request.url.update_query(page="1")}>; rel="first"',
                  f'<{request.url.update_query(page=str(min(page - 1, last)))}>; rel="prev"']
    chunk = items[(page - 1) * per_page: page * per_page]
    return web.json_response(chunk, headers={"Link": ", ".join(links)} if links else None)


def _gitee_paged(request: web.Request, items: list[Any]) -> web.Response:
    """A page of a Gitee list, with `total_count` and `total_page`."""
    page, per_page = _page(request, GITEE_PER_PAGE)
    total_pages = (len(items) + per_page - 1) // per_page
    return web.json_response(items[(page - 1) * per_page: page * per_page],
                             headers={"total_count": str(len(items)), "total_page": str(total_pages)})


def _states(request: web.Request, items: list[dict[str, Any]], default: str = "open") -> list[dict[str, Any]]:
    state = request.query.get("state", default)
    return items if state == "all" else [item for item in items if item["state"] == state]


def _gitee_user(login: str) -> dict[str, Any]:
    return {"login": login, "id": _id(login), "name": login, "html_url": f"https://gitee.com/{login}"}


class FakeForge:
    """GitHub and Gitee in memory: what they hold, what they were asked, and what to answer next."""

    def __init__(self) -> None:
        self.comments: dict[ThreadKey, list[dict[str, Any]]] = defaultdict(list)
        self.labels: dict[ThreadKey, list[str]] = defaultdict(list)
        self.assignees: dict[ThreadKey, list[str]] = defaultdict(list)
        self.states: dict[ThreadKey, str] = {}  # a thread not in it is "open"
        self.permissions: dict[PermissionKey, str] = {}
        self.unknown_users: set[str] = set()
        self.requests: list[Request] = []
        self.failures: list[Failure] = []
        self.lost_answers = 0
        self.delays: list[float] = []
        self.valid_tokens: set[str] | None = None
        self.base_url = ""
        self._server: TestServer | None = None
        self._next_id = 1000
        self.extra_headers: list[ExtraHeaders] = []
        self.listed_repos: list[RepoKey] = []
        self.issues: dict[RepoKey, list[dict[str, Any]]] = defaultdict(list)  # GitHub: its PRs too, as issues
        self.pulls: dict[RepoKey, list[dict[str, Any]]] = defaultdict(list)
        self.review_comments: dict[str, list[dict[str, Any]]] = defaultdict(list)  # GitHub, per repository
        self.reviews: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)  # GitHub (repo, number)
        self.stars: dict[RepoKey, list[tuple[str, str]]] = defaultdict(list)  # (login, when)
        self.merged_by: dict[tuple[str, str], str] = {}  # GitHub (repo, number): who merged
        self.closed_by: dict[tuple[str, str], str] = {}  # GitHub (repo, number): who closed

    # -- knobs ------------------------------------------------------------------------------------------------

    def fail_next(self, status: int, headers: dict[str, str] | None = None, message: str = "scripted failure",
                  *, times: int = 1, method: str | None = None, platform: str | None = None,
                  body: Any = None, when: Callable[[Request], bool] | None = None) -> None:
        """The next `times` requests (of that method / platform, if given, and that `when` accepts) get this answer
        and change nothing."""
        answer = body if body is not None else {"message": message}
        self.failures += [Failure(status, dict(headers or {}), answer, method, platform, when) for _ in range(times)]

    def answer_headers_next(self, headers: dict[str, str], *, times: int = 1,
                            when: Callable[[Request], bool] | None = None) -> None:
        """The next `times` answers that succeed (to requests `when` accepts) carry these headers as well."""
        self.extra_headers += [ExtraHeaders(dict(headers), when) for _ in range(times)]

    def lose_next_answer(self, times: int = 1) -> None:
        """The next `times` writes are applied, then answered 502 (as if the answer was lost on the way)."""
        self.lost_answers += times

    def delay_next(self, seconds: float, times: int = 1) -> None:
        self.delays += [seconds] * times

    def seed_comments(self, platform: str, repo: str, number: str, bodies: list[str], *, is_pr: bool = False) -> None:
        key = self.key(platform, repo, number, is_pr)
        for body in bodies:
            self._new_comment(key, body)

    def seed_thread(self, platform: str, repo: str, number: str, *, is_pr: bool = False,
                    labels: list[str] | None = None, assignees: list[str] | None = None,
                    state: str | None = None) -> None:
        """Labels, assignees and state a thread has before the test starts (only those given are set)."""
        key = self.key(platform, repo, number, is_pr)
        if labels is not None:
            self.labels[key] = list(labels)
        if assignees is not None:
            self.assignees[key] = list(assignees)
        if state is not None:
            self.states[key] = state

    # -- what tests read --------------------------------------------------------------------------------------

    @staticmethod
    def key(platform: str, repo: str, number: str, is_pr: bool = False) -> ThreadKey:
        kind = "pulls" if is_pr and platform == GITEE else "issues"
        return platform, repo, kind, str(number)

    def comment_bodies(self, platform: str, repo: str, number: str, is_pr: bool = False) -> list[str]:
        return [c["body"] for c in self.comments.get(self.key(platform, repo, number, is_pr), [])]

    def label_names(self, platform: str, repo: str, number: str, is_pr: bool = False) -> list[str]:
        return list(self.labels.get(self.key(platform, repo, number, is_pr), []))

    def assignee_names(self, platform: str, repo: str, number: str, is_pr: bool = False) -> list[str]:
        return list(self.assignees.get(self.key(platform, repo, number, is_pr), []))

    def state_of(self, platform: str, repo: str, number: str, is_pr: bool = False) -> str:
        return self.states.get(self.key(platform, repo, number, is_pr), "open")

    def writes(self, platform: str | None = None) -> list[Request]:
        return [r for r in self.requests if r.method != "GET" and platform in (None, r.platform)]

    def reads(self, platform: str | None = None) -> list[Request]:
        return [r for r in self.requests if r.method == "GET" and platform in (None, r.platform)]

    # -- serving ----------------------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._record_and_script])
        thread = "/repos/{owner}/{repo}/issues/{number}"
        gitee_thread = "/repos/{owner}/{repo}/{kind:issues|pulls}/{number}"
        gitee_pull = "/repos/{owner}/{repo}/{kind:pulls}/{number}"
        permission = "/repos/{owner}/{repo}/collaborators/{user}/permission"
        label = "/labels/{name:.+}"  # a name may hold a slash: PyGithub leaves it unencoded, as GitHub wants
        repo = "/repos/{owner}/{repo}"
        app.add_routes([  # history reads first: `issues/comments` before `issues/{number}`
            web.get(GITHUB_PREFIX + "/{whose:orgs|users}/{owner}/repos", self._github_repos),
            web.get(GITHUB_PREFIX + repo + "/issues", self._github_issues),
            web.get(GITHUB_PREFIX + repo + "/issues/comments", self._github_all_comments),
            web.get(GITHUB_PREFIX + repo + "/pulls", self._github_pulls),
            web.get(GITHUB_PREFIX + repo + "/pulls/comments", self._github_review_comments),
            web.get(GITHUB_PREFIX + repo + "/pulls/{number}", self._github_pull),
            web.get(GITHUB_PREFIX + repo + "/pulls/{number}/reviews", self._github_reviews),
            web.get(GITHUB_PREFIX + repo + "/stargazers", self._github_stargazers),
            web.get(GITEE_PREFIX + repo, self._gitee_repo),
            web.get(GITEE_PREFIX + repo + "/issues", self._gitee_issues),
            web.get(GITEE_PREFIX + repo + "/pulls", self._gitee_pulls),
            web.get(GITEE_PREFIX + repo + "/stargazers", self._gitee_stargazers),
            web.get(GITHUB_PREFIX + "/repos/{owner}/{repo}", self._github_repo),
            web.get(GITHUB_PREFIX + thread, self._github_issue),
            web.patch(GITHUB_PREFIX + thread, self._github_edit_issue),
            web.get(GITHUB_PREFIX + thread + "/comments", self._github_list_comments),
            web.post(GITHUB_PREFIX + thread + "/comments", self._github_comment),
            web.post(GITHUB_PREFIX + thread + "/labels", self._github_labels),
            web.delete(GITHUB_PREFIX + thread + label, self._github_remove_label),
            web.post(GITHUB_PREFIX + thread + "/assignees", self._github_assignees),
            web.delete(GITHUB_PREFIX + thread + "/assignees", self._github_assignees),
            web.get(GITHUB_PREFIX + permission, self._github_permission),
            web.get(GITEE_PREFIX + thread, self._gitee_issue),
            web.patch(GITEE_PREFIX + "/repos/{owner}/issues/{number}", self._gitee_edit_issue),
            web.patch(GITEE_PREFIX + gitee_pull, self._gitee_edit_pull),
            web.get(GITEE_PREFIX + gitee_thread + "/comments", self._gitee_list_comments),
            web.post(GITEE_PREFIX + gitee_thread + "/comments", self._gitee_comment),
            web.post(GITEE_PREFIX + gitee_thread + "/labels", self._gitee_labels),
            web.delete(GITEE_PREFIX + gitee_thread + label, self._gitee_remove_label),
            web.post(GITEE_PREFIX + gitee_pull + "/assignees", self._gitee_pull_assignees),
            web.delete(GITEE_PREFIX + gitee_pull + "/assignees", self._gitee_pull_assignees),
            web.get(GITEE_PREFIX + permission, self._gitee_permission),
        ])
        return app

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.close()
            self._server = None

    @web.middleware
    async def _record_and_script(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return web.json_response({"message": "Problems parsing JSON"}, status=400)
        platform = _platform(request.path)
        token = _token_of(request, body)
        record = Request(platform, request.method, request.path, dict(request.query),
                         request.headers.get("Authorization"), token, body, request.rel_url.raw_path)
        self.requests.append(record)
        if self.delays:
            await asyncio.sleep(self.delays.pop(0))
        failure = self._take_failure(platform, request.method, record)
        if failure is not None:
            return web.json_response(failure.body, status=failure.status, headers=failure.headers)
        if self.valid_tokens is not None and token not in self.valid_tokens:
            return web.json_response({"message": "Bad credentials"}, status=401)
        response = await handler(request)
        if request.method != "GET" and self.lost_answers and response.status < 300:
            self.lost_answers -= 1
            return web.json_response({"message": "Bad Gateway"}, status=502)
        if response.status < 300:
            for index, extra in enumerate(self.extra_headers):
                if extra.when is None or extra.when(record):
                    response.headers.update(self.extra_headers.pop(index).headers)
                    break
        return response

    def _take_failure(self, platform: str, method: str, request: Request | None = None) -> Failure | None:
        for index, failure in enumerate(self.failures):
            if failure.matches(platform, method, request):
                return self.failures.pop(index)
        return None

    def _key(self, request: web.Request, platform: str) -> ThreadKey:
        info = request.match_info
        kind = info.get("kind", "issues")
        return platform, f"{info['owner']}/{info['repo']}", kind, info["number"]

    def _new_comment(self, key: ThreadKey, body: str) -> dict[str, Any]:
        self._next_id += 1
        platform, repo, kind, number = key
        comment_id = self._next_id
        if platform == GITHUB:
            comment = _github_comment(repo, number, comment_id, body)
        else:
            comment = _gitee_comment(repo, kind, number, comment_id, body)
        self.comments[key].append(comment)
        return comment

    def _add_labels(self, key: ThreadKey, names: list[Any]) -> list[str]:
        for name in names:
            if str(name) not in self.labels[key]:
                self.labels[key].append(str(name))
        return self.labels[key]

    def _remove_label(self, key: ThreadKey, name: str) -> bool:
        """Whether the label was there (and is now gone)."""
        if name not in self.labels.get(key, []):
            return False
        self.labels[key].remove(name)
        return True

    def _assign(self, key: ThreadKey, logins: list[str]) -> None:
        for login in logins:
            if login not in self.assignees[key]:
                self.assignees[key].append(login)

    def _unassign(self, key: ThreadKey, logins: list[str]) -> None:
        remaining = [login for login in self.assignees.get(key, []) if login not in logins]
        if remaining or key in self.assignees:
            self.assignees[key] = remaining

    def _permission(self, platform: str, request: web.Request) -> tuple[str, str | None]:
        """(login, its stored permission or None) for a permission route."""
        info = request.match_info
        login = info["user"]
        return login, self.permissions.get((platform, f"{info['owner']}/{info['repo']}", login))

    # -- GitHub -----------------------------------------------------------------------------------------------

    async def _github_repo(self, request: web.Request) -> web.Response:
        info = request.match_info
        full_name = f"{info['owner']}/{info['repo']}"
        return web.json_response({"id": 1, "name": info["repo"], "full_name": full_name,
                                  "url": f"{self.base_url}{GITHUB_PREFIX}/repos/{full_name}",
                                  "html_url": f"https://github.com/{full_name}"})

    def _github_issue_json(self, key: ThreadKey) -> dict[str, Any]:
        _, repo, _, number = key
        return {"id": int(number), "number": int(number), "state": self.states.get(key, "open"), "title": "an issue",
                "url": f"{self.base_url}{GITHUB_PREFIX}/repos/{repo}/issues/{number}",
                "html_url": f"https://github.com/{repo}/issues/{number}",
                "assignees": [_github_user(login) for login in self.assignees.get(key, [])],
                "labels": [{"id": i, "name": n, "color": "ededed", "default": False}
                           for i, n in enumerate(self.labels.get(key, []), 1)]}

    async def _github_issue(self, request: web.Request) -> web.Response:
        key = self._key(request, GITHUB)
        _, repo, _, number = key
        seeded = self._seeded(GITHUB, repo, number)
        if seeded is not None:
            closer = self.closed_by.get((repo, number))
            return web.json_response({**seeded, "closed_by": _github_account(closer) if closer else None})
        return web.json_response(self._github_issue_json(key))

    async def _github_edit_issue(self, request: web.Request) -> web.Response:
        body = await request.json()
        if not isinstance(body, dict):
            return _bad_request("Problems parsing JSON")
        key = self._key(request, GITHUB)
        if "state" in body:
            if body["state"] not in GITHUB_STATES:
                return _unprocessable("Validation Failed: state is not included in the list")
            self.states[key] = body["state"]
        return web.json_response(self._github_issue_json(key))

    async def _github_remove_label(self, request: web.Request) -> web.Response:
        key = self._key(request, GITHUB)
        if not self._remove_label(key, request.match_info["name"]):
            return web.json_response({"message": "Label does not exist",
                                      "documentation_url": "https://docs.github.com/rest/issues/labels"}, status=404)
        return web.json_response([{"id": i, "name": n, "color": "ededed", "default": False}
                                  for i, n in enumerate(self.labels[key], 1)])

    async def _github_assignees(self, request: web.Request) -> web.Response:
        """POST adds, DELETE removes (both with `{"assignees": [...]}`); whoever does not exist is left out."""
        body = await request.json()
        logins = body.get("assignees") if isinstance(body, dict) else None
        if not isinstance(logins, list) or not all(isinstance(login, str) for login in logins):
            return _unprocessable("Invalid request: assignees must be a list of logins")
        key = self._key(request, GITHUB)
        if request.method == "POST":
            self._assign(key, [login for login in logins if login not in self.unknown_users])
            return web.json_response(self._github_issue_json(key), status=201)
        self._unassign(key, logins)
        return web.json_response(self._github_issue_json(key))

    async def _github_permission(self, request: web.Request) -> web.Response:
        login, role_name = self._permission(GITHUB, request)
        if login in self.unknown_users:
            return web.json_response({"message": "Not Found"}, status=404)
        role_name = role_name or "read"  # anyone can read a public repository
        return web.json_response({"permission": GITHUB_PERMISSION_OF_ROLE.get(role_name, "read"),
                                  "role_name": role_name, "user": _github_user(login)})

    async def _github_comment(self, request: web.Request) -> web.Response:
        body = (await request.json()) or {}
        if not isinstance(body, dict) or not isinstance(body.get("body"), str):
            return _unprocessable("Invalid request: body is required")
        return web.json_response(self._new_comment(self._key(request, GITHUB), body["body"]), status=201)

    async def _github_list_comments(self, request: web.Request) -> web.Response:
        comments = self.comments.get(self._key(request, GITHUB), [])
        page, per_page = _page(request, GITHUB_PER_PAGE)
        chunk = comments[(page - 1) * per_page: page * per_page]
        last = max((len(comments) + per_page - 1) // per_page, 1)
        links = [] if page >= last else [
            f'<{request.url.update_query(page=str(page + 1))}>; rel="next"',
            f'<{request.url.update_query(page=str(last))}>; rel="last"']
        return web.json_response(chunk, headers={"Link": ", ".join(links)} if links else None)

    async def _github_labels(self, request: web.Request) -> web.Response:
        body = await request.json()
        names = body.get("labels") if isinstance(body, dict) else body  # GitHub takes both shapes
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            return _unprocessable("Invalid request: labels must be a list of names")
        labels = self._add_labels(self._key(request, GITHUB), names)
        return web.json_response([{"id": i, "name": n, "color": "ededed", "default": False}
                                  for i, n in enumerate(labels, 1)])

    # -- Gitee ------------------------------------------------------------------------------------------------

    async def _gitee_comment(self, request: web.Request) -> web.Response:
        body = await request.json()
        if not isinstance(body, dict) or not isinstance(body.get("body"), str) or not body["body"]:
            return web.json_response({"message": "body is missing"}, status=400)
        return web.json_response(self._new_comment(self._key(request, GITEE), body["body"]), status=201)

    async def _gitee_list_comments(self, request: web.Request) -> web.Response:
        """Oldest first (`order=desc`: newest first); an issue's comments since `since` (on updated_at)."""
        comments = self.comments.get(self._key(request, GITEE), [])
        since = _since(request) if request.match_info.get("kind") == "issues" else None
        if since is not None:
            comments = [c for c in comments if _moment(c["updated_at"]) >= since]
        if request.query.get("order") == "desc":
            comments = comments[::-1]
        return _gitee_paged(request, comments)

    async def _gitee_labels(self, request: web.Request) -> web.Response:
        body = await request.json()
        names = body.get("body") if isinstance(body, dict) else None  # PullRequestLabelPostParam
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            return web.json_response({"message": "body must be an array of label names"}, status=400)
        labels = self._add_labels(self._key(request, GITEE), names)
        return web.json_response([{"id": i, "name": n, "color": "#ededed"} for i, n in enumerate(labels, 1)],
                                 status=201)

    async def _gitee_remove_label(self, request: web.Request) -> web.Response:
        if not self._remove_label(self._key(request, GITEE), request.match_info["name"]):
            return web.json_response({"message": "Not Found"}, status=404)
        return web.Response(status=204)

    def _gitee_issue_json(self, key: ThreadKey) -> dict[str, Any]:
        _, repo, _, number = key
        assignees = self.assignees.get(key, [])
        return {"id": _id(*key), "number": number, "title": "an issue",
                "state": self.states.get(key, "open"), "html_url": f"https://gitee.com/{repo}/issues/{number}",
                "assignee": _gitee_user(assignees[0]) if assignees else None,
                "labels": [{"id": i, "name": n, "color": "#ededed"} for i, n in enumerate(self.labels.get(key, []), 1)]}

    def _gitee_pull_json(self, key: ThreadKey) -> dict[str, Any]:
        _, repo, _, number = key
        return {"id": _id(*key), "number": int(number), "title": "a pull request",
                "state": self.states.get(key, "open"), "html_url": f"https://gitee.com/{repo}/pulls/{number}",
                "assignees": [_gitee_user(login) for login in self.assignees.get(key, [])],
                "labels": [{"id": i, "name": n, "color": "#ededed"} for i, n in enumerate(self.labels.get(key, []), 1)]}

    async def _gitee_issue(self, request: web.Request) -> web.Response:
        return web.json_response(self._gitee_issue_json(self._key(request, GITEE)))

    async def _gitee_edit_issue(self, request: web.Request) -> web.Response:
        """`PATCH /repos/{owner}/issues/{number}`: the repository's path comes in the body, as `repo`."""
        body = await request.json()
        if not isinstance(body, dict) or not isinstance(body.get("repo"), str) or not body["repo"]:
            return _bad_request("repo is missing")
        info = request.match_info
        key = (GITEE, f"{info['owner']}/{body['repo']}", "issues", info["number"])
        if "state" in body and body["state"] not in GITEE_ISSUE_STATES:
            return _bad_request("state does not have a valid value")
        if "assignee" in body and not isinstance(body["assignee"], str):
            return _bad_request("assignee is a login")
        if "state" in body:
            self.states[key] = body["state"]
        if "assignee" in body:  # one assignee; "" clears it
            self.assignees[key] = [body["assignee"]] if body["assignee"] else []
        return web.json_response(self._gitee_issue_json(key))

    async def _gitee_edit_pull(self, request: web.Request) -> web.Response:
        body = await request.json()
        if not isinstance(body, dict):
            return _bad_request("body is missing")
        key = self._key(request, GITEE)
        if "state" in body:
            if body["state"] not in GITEE_PR_STATES:
                return _bad_request("state does not have a valid value")
            self.states[key] = body["state"]
        return web.json_response(self._gitee_pull_json(key))

    async def _gitee_pull_assignees(self, request: web.Request) -> web.Response:
        """POST adds (JSON `assignees`), DELETE removes (query `assignees`); both comma-separated logins."""
        body = await request.json() if request.method == "POST" else None
        logins = _logins(body.get("assignees") if isinstance(body, dict) else request.query.get("assignees"))
        if logins is None:
            return _bad_request("assignees is missing")
        key = self._key(request, GITEE)
        if request.method == "POST":
            self._assign(key, logins)
            return web.json_response(self._gitee_pull_json(key), status=201)
        self._unassign(key, logins)
        return web.json_response(self._gitee_pull_json(key))

    async def _gitee_permission(self, request: web.Request) -> web.Response:
        login, permission = self._permission(GITEE, request)
        if permission is None or login in self.unknown_users:
            return web.json_response({"message": "Not Found"}, status=404)
        return web.json_response({"permission": permission, **_gitee_user(login)})


    # -- history (cobot backfill) -----------------------------------------------------------------------------

    def add_repo(self, platform: str, full_name: str) -> None:
        self.listed_repos.append((platform, full_name))

    def add_issue(self, platform: str, repo: str, number: str | int, author: str, created: str, *,
                  title: str | None = None, body: str = "", updated: str | None = None, state: str = "open",
                  closed: str | None = None, labels: tuple[str, ...] = (), assignees: tuple[str, ...] = (),
                  closed_by: str | None = None) -> dict[str, Any]:
        """An issue as the API answers it. GitHub: state open or closed (`closed_by` only on the single issue);
        Gitee: open, progressing, closed or rejected, `finished_at` when it was closed."""
        number = str(number)
        if closed_by:
            self.closed_by[(repo, number)] = closed_by
        updated = updated or closed or created
        if platform == GITHUB:
            item = self._github_thread(repo, number, author, created, updated, title or f"Issue {number}", body,
                                       state, closed, labels, assignees)
        else:
            item = {**self._gitee_thread(repo, number, author, created, updated, title or f"Issue {number}", body,
                                         state, labels), "id": _id(repo, "issue", number),
                    "url": f"https://gitee.com/api/v5/repos/{repo}/issues/{number}",
                    "html_url": f"https://gitee.com/{repo}/issues/{number}", "parent_url": None,
                    "assignee": _gitee_user(assignees[0]) if assignees else None, "collaborators": [],
                    "finished_at": _gitee_time(closed), "plan_started_at": None, "deadline": None,
                    "issue_type": "任务", "security_hole": False, "comments": 0,
                    "issue_state": {"open": "待办的", "progressing": "进行中"}.get(state, "已完成")}
        self.issues[(platform, repo)].append(item)
        return item

    def add_pull(self, platform: str, repo: str, number: str | int, author: str, created: str, *,
                 title: str | None = None, body: str = "", updated: str | None = None, state: str = "open",
                 closed: str | None = None, merged: str | None = None, merged_by: str | None = None,
                 labels: tuple[str, ...] = (), assignees: tuple[str, ...] = ()) -> dict[str, Any]:
        """A pull request: open, closed, or merged (`merged` given: merged then, and closed then unless said).
        GitHub also lists it among the issues; its lists carry no `merged_by` (`GET .../pulls/{n}` does)."""
        number = str(number)
        closed = closed or merged
        updated = updated or closed or created
        title = title or f"Pull request {number}"
        if merged_by:
            self.merged_by[(repo, number)] = merged_by
        if platform == GITHUB:
            api = f"https://api.github.com/repos/{repo}"
            pull = {**self._github_thread(repo, number, author, created, updated, title, body,
                                          "closed" if state == "merged" or merged else state, closed, labels,
                                          assignees, pr=True),
                    "merged_at": merged, "merge_commit_sha": f"{_id(repo, number):040x}"[-40:] if merged else None,
                    "draft": False, "head": {"ref": f"topic-{number}", "sha": f"{_id(number):040x}"[-40:]},
                    "base": {"ref": "main"}, "diff_url": f"https://github.com/{repo}/pull/{number}.diff",
                    "issue_url": f"{api}/issues/{number}", "review_comments_url": f"{api}/pulls/{number}/comments"}
            as_issue = {key: value for key, value in pull.items()
                        if key not in ("merged_at", "merge_commit_sha", "draft", "head", "base", "diff_url",
                                       "issue_url", "review_comments_url")}
            as_issue.update(url=f"{api}/issues/{number}", pull_request={
                "url": f"{api}/pulls/{number}", "html_url": f"https://github.com/{repo}/pull/{number}",
                "diff_url": f"https://github.com/{repo}/pull/{number}.diff", "merged_at": merged})
            self.issues[(platform, repo)].append(as_issue)
        else:
            gitee_state = "merged" if merged else state
            pull = {**self._gitee_thread(repo, number, author, created, updated, title, body, gitee_state, labels),
                    "id": _id(repo, "pull", number), "number": int(number),
                    "url": f"https://gitee.com/api/v5/repos/{repo}/pulls/{number}",
                    "html_url": f"https://gitee.com/{repo}/pulls/{number}",
                    "assignees": [_gitee_user(login) for login in assignees], "testers": [],
                    "closed_at": _gitee_time(closed), "merged_at": _gitee_time(merged), "draft": False,
                    "mergeable": not merged, "head": {"ref": f"topic-{number}"}, "base": {"ref": "master"}}
        self.pulls[(platform, repo)].append(pull)
        return pull

    def add_comment(self, platform: str, repo: str, number: str | int, author: str, created: str,
                    body: str = "Thanks!", *, is_pr: bool = False, on_diff: bool = False,
                    updated: str | None = None) -> dict[str, Any]:
        """A comment in an issue's or PR's conversation, or (`on_diff`) on a line of a PR's diff."""
        number, updated = str(number), updated or created
        self._next_id += 1
        comment_id = self._next_id
        if platform == GITHUB:
            api = f"https://api.github.com/repos/{repo}"
            comment: dict[str, Any] = {"id": comment_id, "node_id": f"C_{comment_id}", "body": body,
                                       "user": _github_account(author), "created_at": created, "updated_at": updated,
                                       "author_association": "CONTRIBUTOR"}
            if on_diff:
                comment.update(url=f"{api}/pulls/comments/{comment_id}", pull_request_url=f"{api}/pulls/{number}",
                               html_url=f"https://github.com/{repo}/pull/{number}#discussion_r{comment_id}",
                               path="src/main.py", position=4, line=42, diff_hunk="@@ -40,3 +40,4 @@",
                               commit_id="0" * 40, pull_request_review_id=None)
                self.review_comments[repo].append(comment)
            else:
                comment.update(url=f"{api}/issues/comments/{comment_id}", issue_url=f"{api}/issues/{number}",
                               html_url=f"https://github.com/{repo}/issues/{number}#issuecomment-{comment_id}")
                self.comments[self.key(GITHUB, repo, number)].append(comment)
            return comment
        comment = {"id": comment_id, "body": body, "user": _gitee_user(author), "created_at": _gitee_time(created),
                   "updated_at": _gitee_time(updated)}
        if is_pr or on_diff:
            comment.update(html_url=f"https://gitee.com/{repo}/pulls/{number}#note_{comment_id}",
                           pull_request_url=f"https://gitee.com/api/v5/repos/{repo}/pulls/{number}",
                           comment_type="diff_comment" if on_diff else "pr_comment")
            if on_diff:
                comment.update(path="src/main.py", position=4, commit_id="0" * 40)
        else:
            comment.update(source=None, target={"issue": {"number": number}, "pull_request": None})
        self.comments[self.key(GITEE, repo, number, is_pr or on_diff)].append(comment)
        return comment

    def add_review(self, repo: str, number: str | int, author: str, submitted: str | None, *,
                   state: str = "APPROVED", body: str = "") -> dict[str, Any]:
        """A GitHub review (APPROVED, CHANGES_REQUESTED, COMMENTED; PENDING has no submitted_at)."""
        number = str(number)
        self._next_id += 1
        review: dict[str, Any] = {
            "id": self._next_id, "node_id": f"PRR_{self._next_id}", "user": _github_account(author), "body": body,
            "state": state, "commit_id": "0" * 40, "author_association": "CONTRIBUTOR",
            "html_url": f"https://github.com/{repo}/pull/{number}#pullrequestreview-{self._next_id}",
            "pull_request_url": f"https://api.github.com/repos/{repo}/pulls/{number}"}
        if state != "PENDING" and submitted:
            review["submitted_at"] = submitted
        self.reviews[(repo, number)].append(review)
        return review

    def add_star(self, platform: str, repo: str, login: str, starred: str) -> None:
        self.stars[(platform, repo)].append((login, starred))

    def _seeded(self, platform: str, repo: str, number: str) -> dict[str, Any] | None:
        return next((item for item in self.issues.get((platform, repo), []) if str(item["number"]) == number), None)

    def _github_thread(self, repo: str, number: str, author: str, created: str, updated: str, title: str,
                       body: str, state: str, closed: str | None, labels: tuple[str, ...],
                       assignees: tuple[str, ...], pr: bool = False) -> dict[str, Any]:
        api = f"https://api.github.com/repos/{repo}"
        kind = "pulls" if pr else "issues"
        return {"id": _id(repo, kind, number), "node_id": f"I_{_id(repo, number)}", "number": int(number),
                "title": title, "body": body, "state": "closed" if state == "closed" else "open",
                "state_reason": "completed" if state == "closed" and not pr else None, "locked": False,
                "user": _github_account(author), "author_association": "CONTRIBUTOR",
                "labels": [{"id": _id(name), "name": name, "color": "ededed", "default": False} for name in labels],
                "assignee": _github_account(assignees[0]) if assignees else None,
                "assignees": [_github_account(login) for login in assignees], "milestone": None, "comments": 0,
                "created_at": created, "updated_at": updated, "closed_at": closed, "url": f"{api}/{kind}/{number}",
                "html_url": f"https://github.com/{repo}/{'pull' if pr else 'issues'}/{number}",
                "comments_url": f"{api}/issues/{number}/comments", "repository_url": api}

    def _gitee_thread(self, repo: str, number: str, author: str, created: str, updated: str, title: str,
                      body: str, state: str, labels: tuple[str, ...]) -> dict[str, Any]:
        return {"number": number, "title": title, "body": body, "state": state, "user": _gitee_user(author),
                "labels": [{"id": _id(name), "name": name, "color": "#ededed"} for name in labels],
                "created_at": _gitee_time(created), "updated_at": _gitee_time(updated), "milestone": None,
                "comments_url": f"https://gitee.com/api/v5/repos/{repo}/issues/{number}/comments",
                "repository": {"full_name": repo, "human_name": repo, "html_url": f"https://gitee.com/{repo}"}}

    async def _github_repos(self, request: web.Request) -> web.Response:
        owner = request.match_info["owner"]
        names = sorted(name for platform, name in self.listed_repos
                       if platform == GITHUB and name.split("/", 1)[0] == owner)
        if not names:
            return web.json_response({"message": "Not Found"}, status=404)
        return _github_paged(request, [{"id": _id(name), "name": name.split("/", 1)[1], "full_name": name,
                                        "html_url": f"https://github.com/{name}", "owner": _github_user(owner)}
                                       for name in names])

    def _repo_of(self, request: web.Request) -> str:
        return f"{request.match_info['owner']}/{request.match_info['repo']}"

    async def _github_issues(self, request: web.Request) -> web.Response:
        items = _states(request, self.issues.get((GITHUB, self._repo_of(request)), []))
        return _github_paged(request, _ordered(request, items, fields={
            "created": "created_at", "updated": "updated_at", "comments": "created_at"}))

    async def _github_pulls(self, request: web.Request) -> web.Response:
        """No `since` here (GitHub takes none); `sort=created` (the default) is newest first unless asked."""
        items = _states(request, self.pulls.get((GITHUB, self._repo_of(request)), []))
        return _github_paged(request, _ordered(request, items, since_field=None))

    async def _github_pull(self, request: web.Request) -> web.Response:
        repo, number = self._repo_of(request), request.match_info["number"]
        found = next((p for p in self.pulls.get((GITHUB, repo), []) if str(p["number"]) == number), None)
        if found is None:
            return web.json_response({"message": "Not Found"}, status=404)
        merger = self.merged_by.get((repo, number))
        return web.json_response({**found, "merged": found["merged_at"] is not None,
                                  "merged_by": _github_account(merger) if merger else None})

    async def _github_all_comments(self, request: web.Request) -> web.Response:
        repo = self._repo_of(request)
        items = [c for (platform, name, _, _), found in self.comments.items() if (platform, name) == (GITHUB, repo)
                 for c in found]
        return _github_paged(request, _ordered(request, items, default_direction="asc"))

    async def _github_review_comments(self, request: web.Request) -> web.Response:
        items = self.review_comments.get(self._repo_of(request), [])
        return _github_paged(request, _ordered(request, items, default_direction="asc"))

    async def _github_reviews(self, request: web.Request) -> web.Response:
        repo, number = self._repo_of(request), request.match_info["number"]
        if not any(str(p["number"]) == number for p in self.pulls.get((GITHUB, repo), [])):
            return web.json_response({"message": "Not Found"}, status=404)
        return _github_paged(request, self.reviews.get((repo, number), []))

    async def _github_stargazers(self, request: web.Request) -> web.Response:
        """Oldest star first; with the star media type, `{"starred_at", "user"}`, else the users alone."""
        stars = sorted(self.stars.get((GITHUB, self._repo_of(request)), []), key=lambda star: _moment(star[1]))
        dated = GITHUB_STAR_MEDIA_TYPE in request.headers.get("Accept", "")
        return _github_paged(request, [{"starred_at": when, "user": _github_account(login)} if dated
                                       else _github_account(login) for login, when in stars])

    async def _gitee_repo(self, request: web.Request) -> web.Response:
        name = self._repo_of(request)
        owner, path = name.split("/", 1)
        return web.json_response({"id": _id(name), "full_name": name, "human_name": name, "path": path,
                                  "name": path, "namespace": {"path": owner, "type": "user"},
                                  "html_url": f"https://gitee.com/{name}.git".removesuffix(".git"),
                                  "private": False, "public": True})

    async def _gitee_issues(self, request: web.Request) -> web.Response:
        items = _states(request, self.issues.get((GITEE, self._repo_of(request)), []))
        return _gitee_paged(request, _ordered(request, items))

    async def _gitee_pulls(self, request: web.Request) -> web.Response:
        items = _states(request, self.pulls.get((GITEE, self._repo_of(request)), []))
        return _gitee_paged(request, _ordered(request, items, since_field=None))

    async def _gitee_stargazers(self, request: web.Request) -> web.Response:
        """Each stargazer with `star_at`, the latest first."""
        stars = sorted(self.stars.get((GITEE, self._repo_of(request)), []), key=lambda star: _moment(star[1]),
                       reverse=True)
        return _gitee_paged(request, [{**_gitee_user(login), "star_at": _gitee_time(when)} for login, when in stars])


def _github_comment(repo: str, number: str, comment_id: int, body: str) -> dict[str, Any]:
    return {"id": comment_id, "node_id": f"IC_{comment_id}", "body": body,
            "html_url": f"https://github.com/{repo}/issues/{number}#issuecomment-{comment_id}",
            "url": f"https://api.github.com/repos/{repo}/issues/comments/{comment_id}",
            "issue_url": f"https://api.github.com/repos/{repo}/issues/{number}",
            "user": {"login": "cobot[bot]", "id": 1, "type": "Bot"},
            "created_at": CREATED_AT, "updated_at": CREATED_AT}


def _gitee_comment(repo: str, kind: str, number: str, comment_id: int, body: str) -> dict[str, Any]:
    comment: dict[str, Any] = {"id": comment_id, "body": body, "user": {"login": "cobot", "id": 1},
                               "created_at": CREATED_AT, "updated_at": CREATED_AT}
    if kind == "pulls":  # Gitee's PR comments carry their address; its issue comments (Note) do not
        comment["html_url"] = f"https://gitee.com/{repo}/pulls/{number}#note_{comment_id}"
    else:
        comment["source"], comment["target"] = None, {"issue": {"number": number}}
    return comment


async def start_forge_server() -> tuple[FakeForge, str]:
    """A running fake forge on 127.0.0.1 and a free port, and its base URL; `await forge.stop()` when done."""
    forge = FakeForge()
    server = TestServer(forge.app(), host="127.0.0.1", port=0)
    await server.start_server()
    forge._server = server
    forge.base_url = str(server.make_url("")).rstrip("/")
    return forge, forge.base_url


@asynccontextmanager
async def forge_server() -> AsyncIterator[tuple[FakeForge, str]]:
    """`async with forge_server() as (forge, base_url):` for tests and fixtures."""
    forge, base_url = await start_forge_server()
    try:
        yield forge, base_url
    finally:
        await forge.stop()
