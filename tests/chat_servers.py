"""One local aiohttp app that speaks the chat platforms cobot notifies, the way they answer.

Endpoints (all POST, under `base_url`):
- Slack Web API `/slack/api/chat.postMessage`: `Authorization: Bearer <token>` must be one of `slack_tokens`
  (else HTTP 200 `{"ok": false, "error": "invalid_auth"}`); answers `{"ok": true, "channel": ..., "ts": ...}`.
- Slack incoming webhook `/slack/webhook/T/B/X`: answers "ok" (any other path: 404 "no_service").
- Feishu custom bot `/feishu/hook/<id>`: when `feishu_secrets` has a secret for `<id>`, checks `timestamp`
  (within an hour of `clock`) and `sign` as Feishu does (else code 19021); a body over 20,000 bytes or of the
  wrong shape is code 9499 "Bad Request".
- DingTalk robot `/dingtalk/robot/send?access_token=...`: when `dingtalk_secrets` has a secret for the token,
  checks the `timestamp` (ms, within an hour) and `sign` query parameters as DingTalk does (else errcode 310000).
- WeCom robot `/wecom/webhook/send?key=...`: the key must be in `wecom_keys` when that is set (else errcode
  93000); markdown content over 4096 bytes is errcode 40058.
- A generic webhook `/hook`: with `webhook_secret` set, `X-Cobot-Signature-256` must be its HMAC (else 401).

Every request is recorded in `requests` (platform, path, query, headers, JSON body, raw bytes, and `clock()` at
receipt). `fail_next(platform, status, body=None, headers=None, times=1)` scripts the next answers of a platform
(a dict body is sent as JSON, a str as text); scripted requests are recorded but not checked.
`delay_next(platform, seconds)` makes the next request to a platform wait before it is answered (time-outs).

    async with chat_servers() as servers:
        url = f"{servers.base_url}/hook"
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

SLACK, SLACK_WEBHOOK, FEISHU = "slack", "slack_webhook", "feishu"
DINGTALK, WECOM, WEBHOOK = "dingtalk", "wecom", "webhook"
SLACK_WEBHOOK_PATH = "T/B/X"
FEISHU_MAX_BYTES = 20_000
WECOM_MAX_CONTENT_BYTES = 4096
SIGNATURE_WINDOW_SECONDS = 3600

Handler = Callable[[web.Request, "Received"], Awaitable[web.StreamResponse]]


@dataclass
class Received:
    """One request as a platform received it."""

    platform: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any  # the decoded JSON body, or None
    raw: bytes
    at: float  # the server's clock at receipt


@dataclass
class Scripted:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> web.Response:
        if isinstance(self.body, str):
            return web.Response(status=self.status, text=self.body, headers=self.headers)
        body = self.body if self.body is not None else {"error": "scripted failure"}
        return web.json_response(body, status=self.status, headers=self.headers)


def feishu_expected_sign(secret: str, timestamp: str) -> str:
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def dingtalk_expected_sign(secret: str, timestamp: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _same(a: object, b: str) -> bool:
    return isinstance(a, str) and hmac.compare_digest(a.encode(), b.encode())


class ChatServers:
    """The fake platforms' state: what they accept, what they received, what to answer next."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.clock: Callable[[], float] = time.time
        self.slack_tokens: set[str] = set()
        self.feishu_secrets: dict[str, str] = {}
        self.dingtalk_secrets: dict[str, str] = {}
        self.wecom_keys: set[str] | None = None
        self.webhook_secret: str | None = None
        self.base_url = ""
        self._scripted: dict[str, list[Scripted]] = defaultdict(list)
        self._delays: dict[str, list[float]] = defaultdict(list)
        self._server: TestServer | None = None

    # -- knobs ------------------------------------------------------------------------------------------------

    def fail_next(self, platform: str, status: int, body: Any = None, headers: dict[str, str] | None = None,
                  times: int = 1) -> None:
        """The next `times` requests to `platform` get this answer (a dict body as JSON, a str as text)."""
        self._scripted[platform] += [Scripted(status, body, dict(headers or {})) for _ in range(times)]

    def delay_next(self, platform: str, seconds: float, times: int = 1) -> None:
        """The next `times` requests to `platform` wait `seconds` before they are answered."""
        self._delays[platform] += [seconds] * times

    def received(self, platform: str) -> list[Received]:
        return [request for request in self.requests if request.platform == platform]

    # -- the app ----------------------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application()
        routes = [
            ("/slack/api/chat.postMessage", SLACK, self._slack),
            ("/slack/webhook/{path:.*}", SLACK_WEBHOOK, self._slack_webhook),
            ("/feishu/hook/{hook}", FEISHU, self._feishu),
            ("/dingtalk/robot/send", DINGTALK, self._dingtalk),
            ("/wecom/webhook/send", WECOM, self._wecom),
            ("/hook", WEBHOOK, self._webhook),
        ]
        for path, platform, handler in routes:
            app.router.add_post(path, self._recorded(platform, handler))
        return app

    def _recorded(self, platform: str, handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            raw = await request.read()
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            received = Received(platform, request.method, request.path, dict(request.query), dict(request.headers),
                                body, raw, self.clock())
            self.requests.append(received)
            if self._delays[platform]:
                await asyncio.sleep(self._delays[platform].pop(0))
            if self._scripted[platform]:
                return self._scripted[platform].pop(0).response()
            return await handler(request, received)

        return handle

    async def _slack(self, request: web.Request, received: Received) -> web.Response:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or token not in self.slack_tokens:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        body = received.body if isinstance(received.body, dict) else {}
        if not body.get("channel"):
            return web.json_response({"ok": False, "error": "channel_not_found"})
        if not body.get("text") and not body.get("blocks"):
            return web.json_response({"ok": False, "error": "no_text"})
        return web.json_response({"ok": True, "channel": body["channel"], "ts": f"{self.clock():.6f}",
                                  "message": {"text": body.get("text"), "blocks": body.get("blocks")}})

    async def _slack_webhook(self, request: web.Request, received: Received) -> web.Response:
        if request.match_info["path"] != SLACK_WEBHOOK_PATH:
            return web.Response(status=404, text="no_service")
        if not isinstance(received.body, dict) or not (received.body.get("text") or received.body.get("blocks")):
            return web.Response(status=400, text="invalid_payload")
        return web.Response(text="ok")

    async def _feishu(self, request: web.Request, received: Received) -> web.Response:
        body = received.body
        bad_request = web.json_response({"code": 9499, "msg": "Bad Request", "data": {}}, status=400)
        if len(received.raw) > FEISHU_MAX_BYTES or not isinstance(body, dict):
            return bad_request
        secret = self.feishu_secrets.get(request.match_info["hook"])
        if secret is not None and not self._feishu_signed(body, secret):
            return web.json_response({"code": 19021, "data": {},
                                      "msg": "sign match fail or timestamp is not within one hour from current time"})
        if body.get("msg_type") == "post":
            post = (body.get("content") or {}).get("post") or {}
            if not post or not all(isinstance(part.get("content"), list) for part in post.values()):
                return bad_request
        elif body.get("msg_type") == "interactive":
            if not isinstance(body.get("card"), dict):
                return bad_request
        elif body.get("msg_type") != "text":
            return bad_request
        return web.json_response({"code": 0, "msg": "success", "data": {}, "StatusCode": 0,
                                  "StatusMessage": "success"})

    def _feishu_signed(self, body: dict[str, Any], secret: str) -> bool:
        timestamp = body.get("timestamp")
        if not isinstance(timestamp, str) or not timestamp.isdigit():
            return False
        if abs(self.clock() - int(timestamp)) > SIGNATURE_WINDOW_SECONDS:
            return False
        return _same(body.get("sign"), feishu_expected_sign(secret, timestamp))

    async def _dingtalk(self, request: web.Request, received: Received) -> web.Response:
        token = request.query.get("access_token")
        if not token:
            return web.json_response({"errcode": 300001, "errmsg": "token is not exist"})
        secret = self.dingtalk_secrets.get(token)
        if secret is not None:
            timestamp = request.query.get("timestamp", "")
            if not timestamp.isdigit() or abs(self.clock() * 1000 - int(timestamp)) > SIGNATURE_WINDOW_SECONDS * 1000:
                return web.json_response({"errcode": 310000, "errmsg": "invalid timestamp, more: [help link]"})
            if not _same(request.query.get("sign"), dingtalk_expected_sign(secret, timestamp)):
                return web.json_response({"errcode": 310000, "errmsg": "sign not match, more: [help link]"})
        body = received.body if isinstance(received.body, dict) else {}
        markdown = body.get("markdown") or {}
        if body.get("msgtype") != "markdown" or not markdown.get("title") or not markdown.get("text"):
            return web.json_response({"errcode": 40035, "errmsg": "缺少参数 json"})
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _wecom(self, request: web.Request, received: Received) -> web.Response:
        key = request.query.get("key")
        if not key or (self.wecom_keys is not None and key not in self.wecom_keys):
            return web.json_response({"errcode": 93000, "errmsg": "invalid webhook url, hint: [1700000000_1], "
                                      "from ip: 127.0.0.1, more info at https://open.work.weixin.qq.com/devtool"})
        body = received.body if isinstance(received.body, dict) else {}
        content = (body.get("markdown") or {}).get("content")
        if body.get("msgtype") != "markdown" or not isinstance(content, str) or not content:
            return web.json_response({"errcode": 40008, "errmsg": "invalid message type"})
        if len(content.encode()) > WECOM_MAX_CONTENT_BYTES:
            return web.json_response({"errcode": 40058, "errmsg": "markdown.content exceed max length 4096. "
                                      "invalid Request Parameter, hint: [1700000000_2]"})
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _webhook(self, request: web.Request, received: Received) -> web.Response:
        if self.webhook_secret is not None:
            expected = "sha256=" + hmac.new(self.webhook_secret.encode(), received.raw, hashlib.sha256).hexdigest()
            if not _same(request.headers.get("X-Cobot-Signature-256"), expected):
                return web.json_response({"error": "bad signature"}, status=401)
        return web.json_response({"ok": True})

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.close()
            self._server = None


async def start_chat_servers() -> ChatServers:
    """The fake platforms running on 127.0.0.1 and a free port; `await servers.stop()` when done."""
    servers = ChatServers()
    server = TestServer(servers.app(), host="127.0.0.1", port=0)
    await server.start_server()
    servers._server = server
    servers.base_url = str(server.make_url("")).rstrip("/")
    return servers


@asynccontextmanager
async def chat_servers() -> AsyncIterator[ChatServers]:
    """`async with chat_servers() as servers:` for tests and fixtures."""
    servers = await start_chat_servers()
    try:
        yield servers
    finally:
        await servers.stop()
