"""A local aiohttp server that speaks the GitHub and Gitee REST endpoints cobot's outbox uses.

GitHub is served under `/github` (PyGithub's base URL), Gitee under `/gitee/api/v5`. State lives in memory;
tests script failures with `fail_next` and simulate an answer lost after the write with `lose_next_answer`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

GITHUB_PAGE = 30


@dataclass
class Request:
    method: str
    path: str
    token: str | None
    body: Any


@dataclass
class Failure:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=lambda: {"message": "scripted failure"})


class FakeForges:
    def __init__(self) -> None:
        self.comments: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
        self.labels: dict[tuple[str, str, str], list[str]] = defaultdict(list)
        self.requests: list[Request] = []
        self.failures: list[Failure] = []
        self.lose_answers = 0
        self._next_id = 1000

    def fail_next(self, status: int, headers: dict[str, str] | None = None, message: str = "scripted failure",
                  times: int = 1) -> None:
        self.failures += [Failure(status, headers or {}, {"message": message}) for _ in range(times)]

    def lose_next_answer(self) -> None:
        """The next write is applied, then answered 502 (as if the answer was lost on the way)."""
        self.lose_answers += 1

    def writes(self) -> list[Request]:
        return [r for r in self.requests if r.method == "POST"]

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._record_and_fail])
        app.add_routes([
            web.get("/github/repos/{owner}/{repo}/issues/{number}/comments", self._github_list_comments),
            web.post("/github/repos/{owner}/{repo}/issues/{number}/comments", self._github_comment),
            web.post("/github/repos/{owner}/{repo}/issues/{number}/labels", self._github_labels),
            web.get("/gitee/api/v5/repos/{owner}/{repo}/{kind}/{number}/comments", self._gitee_list_comments),
            web.post("/gitee/api/v5/repos/{owner}/{repo}/{kind}/{number}/comments", self._gitee_comment),
            web.post("/gitee/api/v5/repos/{owner}/{repo}/{kind}/{number}/labels", self._gitee_labels),
        ])
        return app

    @web.middleware
    async def _record_and_fail(self, request: web.Request, handler: Any) -> web.StreamResponse:
        raw = await request.read()
        body = json.loads(raw) if raw else None
        token = request.headers.get("Authorization") or request.query.get("access_token")
        if isinstance(body, dict) and "access_token" in body:
            token = body["access_token"]
        self.requests.append(Request(request.method, request.path, token, body))
        if self.failures:
            failure = self.failures.pop(0)
            return web.json_response(failure.body, status=failure.status, headers=failure.headers)
        response = await handler(request)
        if request.method == "POST" and self.lose_answers:
            self.lose_answers -= 1
            return web.json_response({"message": "Bad Gateway"}, status=502)
        return response

    def _thread(self, request: web.Request, platform: str) -> tuple[str, str, str]:
        info = request.match_info
        kind = "pulls" if info.get("kind") == "pulls" else "issues"
        return platform, f"{info['owner']}/{info['repo']}", f"{kind}/{info['number']}"

    def _new_comment(self, key: tuple[str, str, str], body: str) -> dict[str, Any]:
        self._next_id += 1
        platform, repo, thread = key
        host = "github.com" if platform == "github" else "gitee.com"
        comment = {"id": self._next_id, "body": body,
                   "html_url": f"https://{host}/{repo}/{thread}#comment-{self._next_id}",
                   "url": f"https://api.{host}/repos/{repo}/issues/comments/{self._next_id}",
                   "user": {"login": "cobot", "id": 1, "type": "Bot"},
                   "created_at": "2026-11-01T10:00:00Z", "updated_at": "2026-11-01T10:00:00Z"}
        self.comments[key].append(comment)
        return comment

    async def _github_comment(self, request: web.Request) -> web.Response:
        body = (await request.json())["body"]
        return web.json_response(self._new_comment(self._thread(request, "github"), body), status=201)

    async def _github_list_comments(self, request: web.Request) -> web.Response:
        comments = self.comments[self._thread(request, "github")]
        page = int(request.query.get("page", "1"))
        chunk = comments[(page - 1) * GITHUB_PAGE: page * GITHUB_PAGE]
        headers = {}
        if page * GITHUB_PAGE < len(comments):
            headers["Link"] = f'<{request.url.with_query(page=str(page + 1))}>; rel="next"'
        return web.json_response(chunk, headers=headers)

    async def _github_labels(self, request: web.Request) -> web.Response:
        key = self._thread(request, "github")
        for name in await request.json():
            if name not in self.labels[key]:
                self.labels[key].append(name)
        return web.json_response([{"name": n, "color": "ededed"} for n in self.labels[key]])

    async def _gitee_comment(self, request: web.Request) -> web.Response:
        body = (await request.json())["body"]
        return web.json_response(self._new_comment(self._thread(request, "gitee"), body), status=201)

    async def _gitee_list_comments(self, request: web.Request) -> web.Response:
        comments = self.comments[self._thread(request, "gitee")]
        page, per_page = int(request.query.get("page", "1")), int(request.query.get("per_page", "20"))
        return web.json_response(comments[(page - 1) * per_page: page * per_page])

    async def _gitee_labels(self, request: web.Request) -> web.Response:
        key = self._thread(request, "gitee")
        for name in (await request.json())["body"]:
            if name not in self.labels[key]:
                self.labels[key].append(name)
        return web.json_response([{"name": n} for n in self.labels[key]], status=201)


async def start_fake_forges() -> tuple[FakeForges, TestServer]:
    forges = FakeForges()
    server = TestServer(forges.app(), host="127.0.0.1")
    await server.start_server()
    return forges, server
