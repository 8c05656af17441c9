"""First-time contributors: who is welcomed, in which language, and never twice."""

from __future__ import annotations

import json

import pytest

from bot.store.community_tables import Milestone
from bot.store.tables import OutboxAction
from tests.helpers import shared_fixture
from tests.payloads import issue_event, pr_event

T0 = "2026-11-01T10:00:00Z"
T1 = "2026-11-02T10:00:00Z"


NOTIFY = {"channels": {"maintainers": {"kind": "webhook", "url": "https://hooks.example.org/cobot"}},
          "rules": [{"topics": ["newcomer"], "channels": ["maintainers"]}]}


@pytest.fixture
def harness(make_harness):
    """Newcomer notices routed to a maintainers' channel, so that they are stored."""
    return make_harness(notify=NOTIFY)


def actions(harness) -> list[tuple[str, str | None, str | None]]:
    return [(a.kind, a.repo, a.number) for a in harness.rows(OutboxAction)]


def test_first_issue_gets_comment_label_and_maintainer_notice(harness):
    harness.deliver("issues", issue_event("opened", 1, "alice", created=T0))
    comment, label, notify = harness.rows(OutboxAction)
    assert (comment.kind, comment.platform, comment.repo, comment.number) == ("comment", "github", "acme/rocket", "1")
    assert "@alice" in comment.payload["body"] and "first issue" in comment.payload["body"]
    assert comment.payload["language"] == "en"
    assert (label.kind, label.payload["labels"]) == ("label", ["first-time-contributor"])
    assert notify.kind == "notify" and notify.payload["topic"] == "newcomer" and "@alice" in notify.payload["body"]
    assert notify.channel == "maintainers"


def test_second_issue_is_not_welcomed(harness):
    harness.deliver("issues", issue_event("opened", 1, "alice", created=T0))
    harness.deliver("issues", issue_event("opened", 2, "alice", created=T1))
    assert [a[2] for a in actions(harness)] == ["1", "1", "1"]


def test_first_pr_is_welcomed_even_after_issues(harness):
    harness.deliver("issues", issue_event("opened", 1, "alice", created=T0))
    harness.deliver("pull_request", pr_event("opened", 2, "alice", created=T1))
    comments = [a for a in harness.rows(OutboxAction) if a.kind == "comment"]
    assert [c.number for c in comments] == ["1", "2"]
    assert "first pull request" in comments[1].payload["body"]


def test_first_merge_is_congratulated_once(harness):
    harness.deliver("pull_request", pr_event("opened", 2, "alice", created=T0))
    merged = pr_event("closed", 2, "alice", created=T0, state="closed", updated=T1, closed=T1, merged=T1)
    harness.deliver("pull_request", merged, key="m1")
    harness.deliver("pull_request", pr_event("closed", 3, "alice", created=T0, state="closed", updated=T1,
                                             closed=T1, merged=T1))
    congratulations = [a for a in harness.rows(OutboxAction) if a.key.endswith("first_merge:comment")]
    assert len(congratulations) == 1
    assert "merged" in congratulations[0].payload["body"] and congratulations[0].number == "2"


def test_an_issue_opened_earlier_but_delivered_later_counts_as_the_first(harness):
    harness.deliver("issues", issue_event("opened", 5, "alice", created=T1))
    harness.deliver("issues", issue_event("opened", 4, "alice", created=T0))
    assert [a.number for a in harness.rows(OutboxAction) if a.kind == "comment"] == ["5"]


def test_never_twice_whatever_is_redelivered_or_replayed(harness):
    payload = issue_event("opened", 1, "alice", created=T0)
    first = harness.deliver("issues", payload, key="d1")
    harness.deliver("issues", payload, key="d1")
    harness.deliver("issues", payload, key="d2")  # the forge re-sent it under a new id
    harness.pipeline.replay(first)
    harness.deliver("issues", issue_event("edited", 1, "alice", created=T0, updated=T1))
    assert len(harness.rows(OutboxAction)) == 3
    assert len(harness.rows(Milestone)) == 2  # first issue in the repo and in the community


@pytest.mark.parametrize(("scope", "expected"), [("repo", ["1", "1"]), ("community", ["1"])])
def test_scope_decides_whether_a_second_repo_greets_again(make_harness, scope, expected):
    harness = make_harness(welcome={"scope": scope})
    harness.deliver("issues", issue_event("opened", 1, "alice", created=T0, repo="acme/rocket"))
    harness.deliver("issues", issue_event("opened", 1, "alice", created=T1, repo="acme/launchpad"))
    assert [a.number for a in harness.rows(OutboxAction) if a.kind == "comment"] == expected


def test_linked_accounts_are_one_newcomer_across_platforms(make_harness):
    harness = make_harness(welcome={"scope": "community"},
                           community={"identities": [{"name": "zhang", "github": "zhang-dev", "gitee": "kit101"}]})
    harness.deliver("issues", issue_event("opened", 1, "zhang-dev", created="2021-10-01T00:00:00Z"))
    body = json.loads(shared_fixture("gitee", "issue-1.json").read_text())  # kit101's issue, 2021-10-08
    harness.deliver("Issue Hook", body, platform="gitee")
    assert [(a.platform, a.number) for a in harness.rows(OutboxAction) if a.kind == "comment"] == [
        ("github", "1")]


def test_gitee_repo_is_welcomed_in_chinese(make_harness):
    harness = make_harness(community={"repos": [{"platform": "gitee", "name": "kit101/drone-yml-test",
                                                 "language": "zh"}]})
    body = json.loads(shared_fixture("gitee", "issue-1.json").read_text())
    harness.deliver("Issue Hook", body, platform="gitee")
    comment = next(a for a in harness.rows(OutboxAction) if a.kind == "comment")
    assert (comment.platform, comment.number, comment.payload["language"]) == ("gitee", "I4CYEO", "zh")
    assert "欢迎" in comment.payload["body"] and "@kit101" in comment.payload["body"]


@pytest.mark.parametrize("author", ["dependabot[bot]", "maintainer-max"])
def test_bots_and_maintainers_are_not_welcomed(harness, author):
    harness.deliver("pull_request", pr_event("opened", 1, author, created=T0))
    assert harness.rows(OutboxAction) == []


def test_welcome_can_be_turned_off(make_harness):
    harness = make_harness(welcome={"enabled": False})
    harness.deliver("issues", issue_event("opened", 1, "alice", created=T0))
    assert harness.rows(OutboxAction) == []
    assert len(harness.rows(Milestone)) == 2  # still recorded: turning it on later greets no veteran
