"""`cobot demo`, run as a newcomer runs it: a fresh SQLite file, the server, the demo stream, a summary; served on, a
private dashboard the printed token logs in to."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from bot.store.community_tables import Contributor, Thread
from bot.store.db import Database
from bot.store.tables import Delivery, OutboxAction
from tests.helpers import count, stop


def test_demo_runs_the_whole_pipeline_without_tokens(tmp_path):
    db_file = tmp_path / "demo.db"
    env = {**os.environ, "COBOT_GITHUB_TOKEN": "must-not-be-used", "COBOT_GITEE_TOKEN": "must-not-be-used",
           "COLUMNS": "160"}
    result = subprocess.run([sys.executable, "-m", "bot", "demo", "--db", str(db_file), "--port", "0", "--exit"],
                            capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "202 × 83" in out and "200 × 2" in out
    assert "Deliveries stored: ignored 1, processed 83" in out
    assert "@priya-k" in out and "@zhang_wei 你好" in out  # an English and a Chinese welcome
    assert "@kenji-w: this issue is yours now" in out  # a /claim, answered
    assert "@mei-lin：@liuyang2024 获得了 **文档英雄** 徽章" in out  # an /award on Gitee, in Chinese
    assert "sorry, only triagers and maintainers may use `/assign`" in out  # a contributor's /assign, refused
    assert "assign @kenji-w on github lumen-ai/lumen#146" in out and "add labels 文档 to gitee" in out
    assert "dry run" in result.stderr  # said at start-up: no tokens are used by the demo

    db = Database(f"sqlite:///{db_file}")
    assert count(db, Delivery, Delivery.status == "received") == 0
    assert count(db, OutboxAction, OutboxAction.status == "pending") == 0
    assert count(db, OutboxAction, OutboxAction.status == "dry_run", OutboxAction.kind == "comment") == 15
    assert count(db, Contributor, Contributor.is_bot) == 2
    assert count(db, Thread, Thread.state == "merged") == 4
    db.dispose()


def test_the_demo_dashboard_is_private_and_the_demo_prints_how_to_log_in(tmp_path):
    """As the README's first command leaves it: serving on, its dashboard private like every cobot's, the address,
    the login page and a token made for this run printed; the token logs in, nothing else does."""
    env = {**os.environ, "COLUMNS": "80", "COBOT_DASHBOARD_TOKEN": "a-token-of-the-environment-never-used"}
    demo = subprocess.Popen([sys.executable, "-m", "bot", "demo", "--db", str(tmp_path / "demo.db"), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=tmp_path)
    watchdog = threading.Timer(120, demo.kill)
    watchdog.start()
    try:
        assert demo.stdout is not None
        printed: list[str] = []
        for line in demo.stdout:
            printed.append(line.rstrip("\n"))
            if line.startswith("Press Ctrl-C to stop."):
                break
        notice = printed[next(n for n, line in enumerate(printed) if line.startswith("The dashboard: ")):]
        base = re.fullmatch(r"The dashboard: (http://127\.0\.0\.1:\d+)/ \(private, as every cobot dashboard is by "
                            r"default\)\. Open", notice[0])[1]
        assert notice[1] == f"  {base}/login?next=%2F"
        token = notice[3].strip()
        assert len(token) >= 32 and notice[4] == (f"Scripts send it as a bearer token: curl -H 'Authorization: "
                                                  f"Bearer {token}' {base}/api/overview")

        assert fetch(f"{base}/api/overview")[0] == 401
        status, headers, _ = fetch(f"{base}/operations")
        assert (status, urllib.parse.unquote(headers["Location"])) == (303, "/login?next=/operations")
        bearer = {"Authorization": f"Bearer {token}"}
        assert fetch(f"{base}/api/overview", headers={"Authorization": "Bearer a-token-of-the-environment-never-used"}
                     )[0] == 401
        status, _, overview = fetch(f"{base}/api/overview", headers=bearer)
        assert status == 200 and json.loads(overview)["community"] == "Lumen AI"
        status, headers, _ = fetch(f"{base}/login", data={"token": token, "next": "/"})
        assert (status, headers["Location"]) == (303, "/")
        cookie = headers["Set-Cookie"].split(";", 1)[0]
        assert "Secure" not in headers["Set-Cookie"]  # http://127.0.0.1: a browser keeps it
        status, _, page = fetch(f"{base}/contributors", headers={"Cookie": cookie})
        assert status == 200 and "priya-k" in page
        status, _, issuer = fetch(f"{base}/badges/issuer")  # badge documents name the demo's own address
        assert status == 200 and json.loads(issuer)["id"] == f"{base}/badges/issuer"
    finally:
        watchdog.cancel()
        stop(demo)


def fetch(url: str, headers: dict[str, str] | None = None, data: dict[str, str] | None = None
          ) -> tuple[int, Any, str]:
    """One request, redirects not followed: the status, the headers and the body."""
    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any) -> None:
            return None
    request = urllib.request.Request(url, headers=headers or {},
                                     data=urllib.parse.urlencode(data).encode() if data else None)
    try:
        with urllib.request.build_opener(Stay).open(request, timeout=30) as answer:
            return answer.status, answer.headers, answer.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.headers, refused.read().decode()
