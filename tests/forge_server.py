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

    def matches(self, platform: str, method: str) -> bool:
        return self.method in (None, method) and self.platform in (None, platform)


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

    # -- knobs ------------------------------------------------------------------------------------------------

    def fail_next(self, status: int, headers: dict[str, str] | None = None, message: str = "scripted failure",
                  *, times: int = 1, method: str | None = None, platform: str | None = None,
                  body: Any = None) -> None:
        """The next `times` requests (of that method / platform, if given) get this answer and change nothing."""
        answer = body if body is not None else {"message": message}
        self.failures += [Failure(status, dict(headers or {}), answer, method, platform) for _ in range(times)]

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
        app.add_routes([
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
        self.requests.append(Request(platform, request.method, request.path, dict(request.query),
                                     request.headers.get("Authorization"), token, body, request.rel_url.raw_path))
        if self.delays:
            await asyncio.sleep(self.delays.pop(0))
        failure = self._take_failure(platform, request.method)
        if failure is not None:
            return web.json_response(failure.body, status=failure.status, headers=failure.headers)
        if self.valid_tokens is not None and token not in self.valid_tokens:
            return web.json_response({"message": "Bad credentials"}, status=401)
        response = await handler(request)
        if request.method != "GET" and self.lost_answers and response.status < 300:
            self.lost_answers -= 1
            return web.json_response({"message": "Bad Gateway"}, status=502)
        return response

    def _take_failure(self, platform: str, method: str) -> Failure | None:
        for index, failure in enumerate(self.failures):
            if failure.matches(platform, method):
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
        return web.json_response(self._github_issue_json(self._key(request, GITHUB)))

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
        comments = self.comments.get(self._key(request, GITEE), [])
        page, per_page = _page(request, GITEE_PER_PAGE)
        total_pages = (len(comments) + per_page - 1) // per_page
        return web.json_response(comments[(page - 1) * per_page: page * per_page],
                                 headers={"total_count": str(len(comments)), "total_page": str(total_pages)})

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
