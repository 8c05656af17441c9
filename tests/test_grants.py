"""Role grants name an account on one forge, or a linked identity: the same login on another forge gets nothing
(issue 15, item 4: whoever registered Gitee `boss` had GitHub `boss`'s maintainer rights)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from bot.cli.main import main
from bot.store.community_tables import BadgeAward
from bot.store.tables import OutboxAction
from tests.helpers import shared_fixture
from tests.payloads import comment_event, issue_event

IDENTITY = {"name": "zhangwei", "github": "zhangwei-dev", "gitee": "zhang_wei"}


def gitee_comment(who: str, body: str) -> dict:
    """A real Gitee Note Hook (kit101/drone-yml-test issue) said by `who`, on an open unassigned issue."""
    payload = json.loads(shared_fixture("gitee", "note-1.json").read_text())
    payload["comment"]["body"] = body
    payload["comment"]["user"] = payload["sender"] = {"login": who, "id": 4242, "name": who}
    payload["issue"]["assignee"] = None
    payload["issue"]["state"] = "open"
    return payload


def new_rows(harness, before: set[int]) -> list[OutboxAction]:
    return [row for row in harness.rows(OutboxAction) if row.id not in before]


def say_on_gitee(harness, who: str, body: str) -> list[OutboxAction]:
    before = {row.id for row in harness.rows(OutboxAction)}
    harness.deliver("Note Hook", gitee_comment(who, body), platform="gitee")
    return new_rows(harness, before)


def say_on_github(harness, who: str, body: str, minute: int = 1) -> list[OutboxAction]:
    before = {row.id for row in harness.rows(OutboxAction)}
    harness.deliver("issue_comment", comment_event(1, "alice", who, at=f"2026-11-01T10:{minute:02d}:00Z", body=body))
    return new_rows(harness, before)


@pytest.fixture
def grants(make_harness):
    """`boss` is a maintainer on GitHub only; `tina` a triager on Gitee only; the person `zhangwei` (both forges)
    a maintainer of every repo through [[commands.roles]]."""
    return make_harness(community={"maintainers": ["github:boss"], "identities": [IDENTITY]},
                        commands={"roles": [{"triagers": ["gitee:tina"]}, {"where": "*", "maintainers": ["zhangwei"]}],
                                  "forge_permissions": False})


@pytest.mark.parametrize("body", ["/label urgent", "/close", "/award docs-hero @alice", "/assign @alice"])
def test_a_maintainers_login_registered_on_the_other_forge_gets_nothing(grants, body):
    rows = say_on_gitee(grants, "boss", body)
    assert [row.kind for row in rows] == ["comment"]
    assert "may use" in rows[0].payload["body"]  # the refusal, quoting who may
    assert grants.rows(BadgeAward) == []


def test_the_granted_account_keeps_its_rights(grants):
    assert [row.kind for row in say_on_github(grants, "boss", "/label urgent")] == ["label"]
    assert [row.kind for row in say_on_github(grants, "BOSS", "/close", minute=2)] == ["close"]


def test_a_grant_on_one_forge_does_not_cross_to_the_other(grants):
    assert [row.kind for row in say_on_gitee(grants, "tina", "/label needs-triage")] == ["label"]
    rows = say_on_github(grants, "tina", "/label bug")
    assert [row.kind for row in rows] == ["comment"] and "may use" in rows[0].payload["body"]


def test_an_identity_grant_covers_each_of_its_linked_accounts(grants):
    assert [row.kind for row in say_on_github(grants, "zhangwei-dev", "/label bug")] == ["label"]
    assert [row.kind for row in say_on_gitee(grants, "zhang_wei", "/label needs-triage")] == ["label"]
    rows = say_on_github(grants, "zhang_wei", "/label bug", minute=3)  # that login on the other forge: not linked
    assert [row.kind for row in rows] == ["comment"]


def test_maintainers_named_by_account_are_not_welcomed_as_newcomers(make_harness):
    harness = make_harness(community={"maintainers": ["github:boss", "gitee:carol"]})
    harness.deliver("issues", issue_event("opened", 7, "boss", created="2026-11-01T10:00:00Z"))
    assert harness.rows(OutboxAction) == []
    harness.deliver("issues", issue_event("opened", 8, "carol", created="2026-11-01T10:01:00Z"))  # carol: on Gitee
    assert {row.kind for row in harness.rows(OutboxAction)} == {"comment", "label"}


@pytest.mark.parametrize(("section", "key", "shown"), [
    ('[community]\nmaintainers = ["github:ok", "boss"]\n', "community.maintainers[1]", "'boss' names no forge"),
    ('[[commands.roles]]\nwhere = "acme"\ntriagers = ["kenji"]\n', "commands.roles[0].triagers[0]",
     "write github:kenji or gitee:kenji"),
    ('[[commands.roles]]\nmaintainers = ["gitlab:boss"]\n', "commands.roles[0].maintainers[0]", "unknown forge"),
    ('[community]\nmaintainers = ["github:not a login"]\n', "community.maintainers[0]", "is not a user name"),
], ids=["bare-maintainer", "bare-triager", "unknown-forge", "not-a-login"])
def test_serve_refuses_a_grant_that_names_no_account(tmp_path, section, key, shown):
    path = tmp_path / "config.toml"
    path.write_text(section, encoding="utf-8")
    result = CliRunner().invoke(main, ["serve", "--config", str(path)])
    assert result.exit_code != 0
    assert key in result.output and shown in result.output


def test_an_identitys_name_is_a_valid_grant_at_start_up(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[community]\nmaintainers = ["ZhangWei"]\n[[community.identities]]\nname = "zhangwei"\n'
                    'github = "zhangwei-dev"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["deliveries", "--config", str(path)],
                                env={"COBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}"})
    assert result.exit_code == 0, result.output
