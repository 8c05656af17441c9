"""Tracking through the real pipeline and store: threads, contributors, activity, convergence."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.store.community_tables import Activity, Contributor, Repo, Thread
from bot.store.tables import Delivery
from tests.payloads import comment_event, issue_event, pr_event, review_comment_event, review_event

T0 = "2026-11-01T10:00:00Z"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def test_issue_lifecycle_is_tracked(harness):
    harness.deliver("issues", issue_event("opened", 1, "alice", created=T0))
    harness.deliver("issues", issue_event("labeled", 1, "alice", sender="max", created=T0,
                                          updated="2026-11-01T11:00:00Z", labels=("bug",)))
    harness.deliver("issues", issue_event("assigned", 1, "alice", sender="max", created=T0,
                                          updated="2026-11-01T11:05:00Z", labels=("bug",), assignees=("bob",)))
    harness.deliver("issue_comment", comment_event(1, "alice", "bob", at="2026-11-01T12:00:00Z"))
    harness.deliver("issues", issue_event("closed", 1, "alice", sender="bob", created=T0, state="closed",
                                          updated="2026-11-02T10:00:00Z", closed="2026-11-02T10:00:00Z",
                                          labels=("bug",), assignees=("bob",)))

    [thread] = harness.rows(Thread)
    assert (thread.state, thread.labels, thread.assignees, thread.author) == ("closed", ["bug"], ["bob"], "alice")
    assert thread.first_response_at == at("2026-11-01T12:00:00Z") and thread.first_responder == "bob"
    assert thread.closed_at == at("2026-11-02T10:00:00Z")
    kinds = [a.kind for a in harness.rows(Activity)]
    assert kinds == ["issue.opened", "issue.labeled", "issue.assigned", "comment.created", "issue.closed"]
    assert {c.login for c in harness.rows(Contributor)} == {"alice", "max", "bob"}
    [repo] = harness.rows(Repo)
    assert (repo.platform, repo.full_name) == ("github", "acme/rocket")
    assert {d.status for d in harness.rows(Delivery)} == {"processed"}


def test_closed_before_opened_converges_to_closed(harness):
    closed = issue_event("closed", 7, "alice", created=T0, state="closed", updated="2026-11-01T12:00:00Z",
                         closed="2026-11-01T12:00:00Z")
    harness.deliver("issues", closed)
    harness.deliver("issues", issue_event("opened", 7, "alice", created=T0))
    [thread] = harness.rows(Thread)
    assert thread.state == "closed"
    assert thread.closed_at == at("2026-11-01T12:00:00Z")


def test_reopened_after_closed_is_open_whatever_the_arrival_order(harness):
    closed = issue_event("closed", 3, "alice", created=T0, state="closed", updated="2026-11-01T12:00:00Z",
                         closed="2026-11-01T12:00:00Z")
    reopened = issue_event("reopened", 3, "alice", created=T0, updated="2026-11-01T13:00:00Z")
    harness.deliver("issues", reopened)
    harness.deliver("issues", closed)
    [thread] = harness.rows(Thread)
    assert (thread.state, thread.closed_at) == ("open", None)


def test_older_snapshot_does_not_overwrite_newer_labels(harness):
    harness.deliver("issues", issue_event("labeled", 2, "alice", created=T0, updated="2026-11-01T12:00:00Z",
                                          labels=("bug", "docs")))
    harness.deliver("issues", issue_event("labeled", 2, "alice", created=T0, updated="2026-11-01T11:00:00Z",
                                          labels=("bug",)))
    assert harness.rows(Thread)[0].labels == ["bug", "docs"]


def test_merged_pr_records_merge_time_and_stays_merged(harness):
    harness.deliver("pull_request", pr_event("closed", 5, "carol", created=T0, state="closed",
                                             updated="2026-11-03T10:00:00Z", closed="2026-11-03T10:00:00Z",
                                             merged="2026-11-03T10:00:00Z"))
    harness.deliver("pull_request", pr_event("synchronize", 5, "carol", created=T0, updated="2026-11-02T10:00:00Z"))
    [pr] = harness.rows(Thread)
    assert (pr.is_pr, pr.state, pr.merged_at) == (True, "merged", at("2026-11-03T10:00:00Z"))
    assert pr.merged_at - pr.created_at == at("2026-11-03T10:00:00Z") - at(T0)


def test_first_response_ignores_the_author_and_bots(harness):
    harness.deliver("pull_request", pr_event("opened", 9, "carol", created=T0))
    harness.deliver("issue_comment", comment_event(9, "carol", "carol", at="2026-11-01T10:05:00Z", on_pr=True))
    harness.deliver("issue_comment", comment_event(9, "carol", "ci-bot[bot]", at="2026-11-01T10:06:00Z", on_pr=True))
    assert harness.rows(Thread)[0].first_response_at is None
    harness.deliver("pull_request_review", review_event(9, "carol", "dave", at="2026-11-01T15:00:00Z"))
    assert harness.rows(Thread)[0].first_responder == "dave"


def test_review_with_a_body_is_also_a_comment_of_the_review(harness):
    harness.deliver("pull_request_review", review_event(4, "carol", "dave", at="2026-11-01T15:00:00Z",
                                                        state="changes_requested", body="Please add a test"))
    assert sorted(a.kind for a in harness.rows(Activity)) == ["comment.review", "review.submitted"]


def test_comments_are_told_apart_for_the_activity_measures(harness):
    harness.deliver("pull_request_review_comment", review_comment_event(4, "carol", "dave", at="2026-11-01T15:00:00Z"))
    harness.deliver("issue_comment", comment_event(4, "carol", "dave", at="2026-11-01T15:01:00Z", on_pr=True))
    harness.deliver("issue_comment", comment_event(4, "carol", "erin", at="2026-11-01T15:02:00Z", on_pr=True,
                                                   body="/label bug\n/assign @erin"))
    kinds = [(a.actor, a.kind) for a in harness.rows(Activity, order=Activity.occurred_at)]
    assert kinds == [("dave", "comment.diff"), ("dave", "comment.created"), ("erin", "command")]


def test_bots_are_recorded_but_flagged(make_harness):
    harness = make_harness(community={"bots": ["renovate-helper"]})
    harness.deliver("pull_request", pr_event("opened", 1, "dependabot[bot]", created=T0))
    harness.deliver("issue_comment", comment_event(1, "dependabot[bot]", "renovate-helper", at=T0, on_pr=True))
    harness.deliver("issue_comment", comment_event(1, "dependabot[bot]", "erin", at=T0, on_pr=True))
    flags = {c.login: c.is_bot for c in harness.rows(Contributor)}
    assert flags == {"dependabot[bot]": True, "renovate-helper": True, "erin": False}
    assert {a.actor: a.is_bot for a in harness.rows(Activity)}["renovate-helper"] is True


def test_linked_accounts_share_one_person(make_harness):
    harness = make_harness(community={"identities": [{"name": "zhangwei", "github": "zw-dev", "gitee": "zhang_wei"}]})
    harness.deliver("issues", issue_event("opened", 1, "zw-dev", created=T0))
    [contributor] = harness.rows(Contributor)
    assert contributor.person == "person:zhangwei"


def test_redelivered_and_replayed_events_are_logged_once(harness):
    payload = issue_event("opened", 1, "alice", created=T0)
    first = harness.deliver("issues", payload, key="same")
    assert harness.deliver("issues", payload, key="same") is None
    harness.pipeline.replay(first)
    assert len(harness.rows(Activity)) == 1
    assert len(harness.rows(Thread)) == 1


def test_unknown_events_are_stored_and_ignored(harness):
    harness.deliver("gollum", {"pages": [], "repository": {"full_name": "acme/rocket"}})
    harness.deliver("issues", {**issue_event("deleted", 1, "alice", created=T0)})
    statuses = [(d.event, d.action, d.status, d.error) for d in harness.rows(Delivery)]
    assert statuses == [("gollum", None, "ignored", "not tracked: gollum"),
                        ("issues", "deleted", "ignored", "not tracked: issues/deleted")]


def test_a_payload_missing_what_its_event_needs_is_failed_with_the_reason(harness):
    harness.deliver("issues", {"action": "opened", "repository": {"full_name": "acme/rocket"}})
    [delivery] = harness.rows(Delivery)
    assert delivery.status == "failed"
    assert "cannot read the payload" in delivery.error and "issue" in delivery.error


def test_star_fork_release_member_and_push_are_tracked(harness):
    base = {"repository": {"full_name": "acme/rocket"}, "sender": {"login": "frank", "id": 5, "type": "User"}}
    harness.deliver("star", {**base, "action": "created", "starred_at": T0})
    harness.deliver("fork", {**base, "forkee": {"full_name": "frank/rocket", "created_at": T0}})
    harness.deliver("release", {**base, "action": "published",
                                "release": {"tag_name": "v1.0", "published_at": T0}})
    harness.deliver("member", {**base, "action": "added", "member": {"login": "gina"}})
    harness.deliver("push", {**base, "ref": "refs/heads/main", "before": "a", "after": "b", "commits": [{}, {}],
                             "head_commit": {"timestamp": T0}})
    harness.deliver("push", {**base, "ref": "refs/tags/v1.0", "before": "0", "after": "b", "commits": [],
                             "created": True})
    assert [a.kind for a in harness.rows(Activity)] == [
        "star.created", "fork.created", "release.published", "member.added", "push", "tag.created"]
