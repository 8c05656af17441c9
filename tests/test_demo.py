"""`cobot demo`, run as a newcomer runs it: a fresh SQLite file, the server, the demo stream, a summary."""

from __future__ import annotations

import os
import subprocess
import sys

from bot.store.db import Database
from bot.store.tables import Contributor, Delivery, OutboxAction, Thread
from tests.helpers import count


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
