"""Translation tables: real Gitee deliveries and GitHub payloads become the platform-neutral Events."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.events import EVENT_KINDS
from bot.platforms.gitee import GiteeWebhooks
from bot.platforms.github import GitHubWebhooks
from tests.helpers import shared_fixture
from tests.payloads import comment_event, issue_event, pr_event, review_event

RECEIVED = datetime(2026, 11, 1, tzinfo=UTC)
T0 = "2026-11-01T10:00:00Z"


def gitee_events(file_name: str, event: str) -> list:
    payload = json.loads(shared_fixture("gitee", file_name).read_text())
    return GiteeWebhooks("secret").translate(event, payload, RECEIVED)


@pytest.mark.parametrize(("file_name", "event", "kind", "number", "state", "actor"), [
    ("issue-1.json", "Issue Hook", "issue.opened", "I4CYEO", "open", "kit101"),
    ("issue-2.json", "Issue Hook", "issue.assigned", "I4CYEO", "open", "kit101"),
    ("issue-3.json", "Issue Hook", "issue.edited", "I4CYEO", "open", "kit101"),  # to "progressing"
    ("merge_request-1.json", "Merge Request Hook", "pr.opened", "9", "open", "kit101"),
    ("merge_request-2.json", "Merge Request Hook", "pr.updated", "7", "open", "kit101"),
    ("merge_request-3.json", "Merge Request Hook", "pr.labeled", "8", "open", "kit101"),
    ("merge_request-4.json", "Merge Request Hook", "pr.labeled", "8", "open", "kit101"),
    ("merge_request-5.json", "Merge Request Hook", "pr.closed", "8", "closed", "kit101"),
    ("merge_request-6.json", "Merge Request Hook", "pr.merged", "9", "merged", "kit101"),
    ("note-1.json", "Note Hook", "comment.created", "I4CF12", None, "kit101"),
    ("note-2.json", "Note Hook", "comment.created", "7", "open", "kit101"),
])
def test_gitee_thread_deliveries(file_name, event, kind, number, state, actor):
    [translated] = gitee_events(file_name, event)
    assert translated.kind == kind and translated.platform == "gitee"
    assert translated.repo.full_name == "kit101/drone-yml-test"
    assert translated.thread.number == number
    assert translated.actor.login == actor
    if state:
        assert translated.thread.state == state
    assert translated.occurred_at.tzinfo is not None


def test_gitee_merge_has_its_merge_time_in_utc():
    [merged] = gitee_events("merge_request-6.json", "Merge Request Hook")
    assert merged.thread.merged_at == datetime(2021, 10, 8, 9, 32, 30, tzinfo=UTC)
    assert merged.occurred_at == merged.thread.merged_at


def test_gitee_labels_and_comment_target():
    [labeled] = gitee_events("merge_request-3.json", "Merge Request Hook")
    assert labeled.thread.labels == ("question",)
    [note] = gitee_events("note-2.json", "Note Hook")
    assert note.thread.is_pr and note.comment.body == "comment"


@pytest.mark.parametrize(("file_name", "event", "kind", "ref"), [
    ("push-1.json", "Push Hook", "push", "refs/heads/feat-2-1"),
    ("push-2.json", "Push Hook", "push", None),
    ("push-3.json", "Push Hook", "push", None),
    ("tag_push-1.json", "Tag Push Hook", "tag.created", "refs/tags/1.3"),
    ("tag_push-2.json", "Tag Push Hook", "tag.deleted", "refs/tags/1.3"),
])
def test_gitee_pushes_and_tags(file_name, event, kind, ref):
    [translated] = gitee_events(file_name, event)
    assert translated.kind == kind
    if ref:
        assert translated.push.ref == ref


def test_gitee_unknown_action_translates_to_nothing():
    assert gitee_events("issue-4.json", "Issue Hook") == []  # `delete`: stored, ignored


GITHUB_CASES = [
    ("issues", issue_event("opened", 1, "a", created=T0), ["issue.opened"]),
    ("issues", issue_event("closed", 1, "a", created=T0, state="closed", closed=T0), ["issue.closed"]),
    ("issues", issue_event("reopened", 1, "a", created=T0), ["issue.reopened"]),
    ("issues", issue_event("edited", 1, "a", created=T0), ["issue.edited"]),
    ("issues", issue_event("labeled", 1, "a", created=T0), ["issue.labeled"]),
    ("issues", issue_event("assigned", 1, "a", created=T0), ["issue.assigned"]),
    ("pull_request", pr_event("opened", 1, "a", created=T0), ["pr.opened"]),
    ("pull_request", pr_event("synchronize", 1, "a", created=T0), ["pr.updated"]),
    ("pull_request", pr_event("closed", 1, "a", created=T0, state="closed", closed=T0), ["pr.closed"]),
    ("pull_request", pr_event("closed", 1, "a", created=T0, state="closed", closed=T0, merged=T0), ["pr.merged"]),
    ("pull_request", pr_event("reopened", 1, "a", created=T0), ["pr.reopened"]),
    ("issue_comment", comment_event(1, "a", "b", at=T0), ["comment.created"]),
    ("pull_request_review", review_event(1, "a", "b", at=T0), ["review.submitted"]),
    ("pull_request_review", review_event(1, "a", "b", at=T0, body="LGTM"), ["review.submitted", "comment.created"]),
    ("watch", {"action": "started", "repository": {"full_name": "a/b"}}, []),
]


@pytest.mark.parametrize(("event", "payload", "kinds"), GITHUB_CASES,
                         ids=[f"{e}-{p.get('action')}-{i}" for i, (e, p, _) in enumerate(GITHUB_CASES)])
def test_github_translation(event, payload, kinds):
    translated = GitHubWebhooks("s").translate(event, payload, RECEIVED)
    assert [t.kind for t in translated] == kinds


def test_every_translated_kind_is_a_known_kind():
    kinds = {event.kind for event_name, payload, _ in GITHUB_CASES
             for event in GitHubWebhooks("s").translate(event_name, payload, RECEIVED)}
    assert kinds <= EVENT_KINDS


def test_github_comment_on_a_pr_knows_it_is_a_pr():
    [comment] = GitHubWebhooks("s").translate("issue_comment", comment_event(3, "a", "b", at=T0, on_pr=True),
                                              RECEIVED)
    assert comment.thread.is_pr and comment.comment.author.login == "b"
