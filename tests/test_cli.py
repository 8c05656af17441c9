"""The `cobot` command line, run as users run it, against a real database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.main import main
from bot.store.tables import Delivery, OutboxAction
from tests.payloads import issue_event

EXAMPLE = str(Path(__file__).resolve().parents[1] / "config.toml")
T0 = "2026-11-01T10:00:00Z"


@pytest.fixture
def cobot(settings):
    def run(*args: str, code: int = 0) -> str:
        result = CliRunner().invoke(main, list(args), env={"COBOT_DATABASE_URL": settings.database.url,
                                                           "COBOT_CONFIG": EXAMPLE}, catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result.output
    return run


@pytest.fixture
def seeded(harness):
    harness.deliver("issues", issue_event("opened", 1, "alice", created=T0), key="ok-1")
    harness.deliver("gollum", {"repository": {"full_name": "acme/rocket"}}, key="wiki-1")
    harness.deliver("issues", {"action": "opened", "repository": {"full_name": "acme/rocket"}}, key="broken-1")
    return harness


def test_deliveries_json_lists_every_delivery(cobot, seeded):
    rows = json.loads(cobot("deliveries", "--json"))
    assert [(r["key"], r["platform"], r["event"], r["status"]) for r in rows] == [
        ("broken-1", "github", "issues", "failed"), ("wiki-1", "github", "gollum", "ignored"),
        ("ok-1", "github", "issues", "processed")]
    assert {"id", "platform", "event", "status", "error"} <= rows[0].keys()
    assert "cannot read the payload" in rows[0]["error"]


@pytest.mark.parametrize(("status", "keys"), [("failed", ["broken-1"]), ("ignored", ["wiki-1"]),
                                              ("processed", ["ok-1"]), ("rejected", [])])
def test_deliveries_filtered_by_status(cobot, seeded, status, keys):
    assert [r["key"] for r in json.loads(cobot("deliveries", "--status", status, "--json"))] == keys


def test_deliveries_table(cobot, seeded):
    output = cobot("deliveries")
    assert "gollum" in output and "processed" in output and "failed" in output


def test_unknown_status_is_refused(cobot, seeded):
    assert "Invalid value for '--status'" in cobot("deliveries", "--status", "lost", code=2)


def test_replay_runs_a_delivery_again_without_repeating_actions(cobot, seeded):
    [ok] = seeded.rows(Delivery, Delivery.key == "ok-1")
    before = len(seeded.rows(OutboxAction))
    result = json.loads(cobot("deliveries", "replay", str(ok.id), "--json"))
    assert (result["id"], result["status"]) == (ok.id, "processed")
    assert len(seeded.rows(OutboxAction)) == before


def test_replay_of_a_broken_delivery_says_why_and_exits_1(cobot, seeded):
    [broken] = seeded.rows(Delivery, Delivery.key == "broken-1")
    assert "cannot read the payload" in cobot("deliveries", "replay", str(broken.id), code=1)


def test_replay_of_an_unknown_id(cobot, seeded):
    assert "no delivery with id 999" in cobot("deliveries", "replay", "999", code=1)


def test_db_upgrade(cobot):
    assert "up to date" in cobot("db", "upgrade")
    assert json.loads(cobot("deliveries", "--json")) == []


def test_bad_config_is_reported_naming_the_key(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[welcome]\nscope = "planet"')
    result = CliRunner().invoke(main, ["deliveries", "--config", str(path)])
    assert result.exit_code == 1 and "welcome.scope" in result.output
