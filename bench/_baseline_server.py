"""The baseline for bench/ingest.py: bare aiohttp that only checks the GitHub signature and answers 202."""

from __future__ import annotations

import hashlib
import hmac
import sys

from aiohttp import web


def make_app(secret: bytes) -> web.Application:
    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("X-Hub-Signature-256", "")):
            return web.json_response({"error": "bad signature"}, status=401)
        return web.json_response({"status": "accepted"}, status=202)

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application(client_max_size=25 * 1024 * 1024)
    app.add_routes([web.post("/webhooks/github", receive), web.get("/healthz", healthz)])
    return app


if __name__ == "__main__":
    web.run_app(make_app(sys.argv[1].encode()), host="127.0.0.1", port=int(sys.argv[2]), access_log=None,
                print=None)
