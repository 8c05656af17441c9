"""Activity, repo activity, OpenRank and the CHAOSS health metrics, on histories delivered through the real pipeline
(SQLite, and PostgreSQL when it is set up) and, for OpenRank's arithmetic, on graphs given as edges. Every expected
value is worked out here by hand."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import pytest

from bot.community.metrics import Health, activity, health, openrank, openrank_of_edges, repo_activity
from tests.payloads import comment_event, issue_event, pr_event, repository, review_comment_event, review_event, user

# OpenDigger's weights, per person, repo and month: sqrt of the weighted sum.
COMMENT, ISSUE, PR, DIFF, MERGED = 0.5252, 2.2235, 4.0679, 0.7427, 2.0339
ROCKET, FUEL = ("github", "acme/rocket"), ("github", "acme/fuel")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def merged_by(number: int, author: str, merger: str, *, created: str, merged: str, repo: str = "acme/rocket"
              ) -> dict[str, Any]:
    """A PR merged by someone else (the payload helper would give the merger its author's account type)."""
    payload = pr_event("closed", number, author, created=created, state="closed", closed=merged, merged=merged,
                       repo=repo)
    payload["sender"] = user(merger)
    return payload


def star(login: str, when: str) -> dict[str, Any]:
    return {"action": "created", "starred_at": when, "repository": repository(), "sender": user(login)}


def reading(harness: Any) -> Any:
    return harness.db.reading()


# -- activity ------------------------------------------------------------------------------------------------------

@pytest.fixture
def history(harness) -> Any:
    """In acme/rocket: alice opens issue 1 just before November (UTC) and comments on it just after; bob opens PR 2
    and maintainer-max merges it; carol comments on a line of its diff, reviews it with a body, and labels it with a
    command; dependabot opens PR 3. In acme/fuel: dave opens issue 5."""
    harness.deliver("issues", issue_event("opened", 1, "alice", created="2026-10-31T23:30:00Z"))
    harness.deliver("issue_comment", comment_event(1, "alice", "alice", at="2026-11-01T00:30:00Z",
                                                   created="2026-10-31T23:30:00Z"))
    harness.deliver("pull_request", pr_event("opened", 2, "bob", created="2026-11-02T10:00:00Z"))
    harness.deliver("pull_request", merged_by(2, "bob", "maintainer-max", created="2026-11-02T10:00:00Z",
                                              merged="2026-11-03T10:00:00Z"))
    harness.deliver("pull_request_review_comment", review_comment_event(2, "bob", "carol", at="2026-11-02T11:00:00Z",
                                                                        created="2026-11-02T10:00:00Z"))
    harness.deliver("pull_request_review", review_event(2, "bob", "carol", at="2026-11-02T11:05:00Z",
                                                        body="Looks good", created="2026-11-02T10:00:00Z"))
    harness.deliver("issue_comment", comment_event(2, "bob", "carol", at="2026-11-02T11:10:00Z", body="/label bug",
                                                   on_pr=True, created="2026-11-02T10:00:00Z"))
    harness.deliver("pull_request", pr_event("opened", 3, "dependabot[bot]", created="2026-11-02T12:00:00Z"))
    harness.deliver("issues", issue_event("opened", 5, "dave", created="2026-11-04T09:00:00Z", repo="acme/fuel"))
    return harness


ALICE = math.sqrt(ISSUE) + math.sqrt(COMMENT)  # 1.4911 in October + 0.7247 in November = 2.2158 (not sqrt(2.7487))
BOB = math.sqrt(PR + MERGED)  # sqrt(4.0679 + 2.0339) = 2.4702: the merge is his, not the merger's
CAROL = math.sqrt(DIFF)  # 0.8618: the review, its body and the command weigh nothing
DAVE = math.sqrt(ISSUE)  # 1.4911, in acme/fuel


def test_activity_per_developer_repo_and_month(history):
    with reading(history) as conn:
        if conn.dialect.name == "postgresql":  # months are UTC months whatever the session's time zone
            conn.exec_driver_sql("SET LOCAL TIME ZONE 'Asia/Shanghai'")  # 2026-10-31 23:30 UTC is 1 November there
        scores = activity(conn, at("2026-10-01T00:00:00Z"), at("2026-12-01T00:00:00Z"))
        november = activity(conn, at("2026-11-01T00:00:00Z"), at("2026-12-01T00:00:00Z"))
        rocket = activity(conn, at("2026-10-01T00:00:00Z"), at("2026-12-01T00:00:00Z"), repo=ROCKET)
    assert {person: round(a.score, 4) for person, a in scores.items()} == {
        "github:alice": round(ALICE, 4), "github:bob": round(BOB, 4), "github:carol": round(CAROL, 4),
        "github:dave": round(DAVE, 4)}  # neither maintainer-max (a merge counts for the author) nor dependabot
    assert scores["github:alice"].score == pytest.approx(2.2158, abs=1e-4)
    assert scores["github:bob"].counts == {"pr.opened": 1, "pr.merged": 1}
    assert scores["github:carol"].counts == {"comment.diff": 1, "review.submitted": 1}
    assert november["github:alice"].score == pytest.approx(math.sqrt(COMMENT))  # her issue is October's
    assert set(rocket) == {"github:alice", "github:bob", "github:carol"}


def test_repo_activity_is_the_sum_over_its_developers(history):
    with reading(history) as conn:
        repos = repo_activity(conn, at("2026-10-01T00:00:00Z"), at("2026-12-01T00:00:00Z"))
        november = repo_activity(conn, at("2026-11-01T00:00:00Z"), at("2026-12-01T00:00:00Z"))
    assert repos == {ROCKET: pytest.approx(ALICE + BOB + CAROL), FUEL: pytest.approx(DAVE)}
    assert repos[ROCKET] == pytest.approx(2.2158 + 2.4702 + 0.8618, abs=1e-3)  # 5.5478
    assert november[ROCKET] == pytest.approx(math.sqrt(COMMENT) + BOB + CAROL)


def test_repo_activity_leaves_out_repos_only_bots_worked_on(harness):
    harness.deliver("pull_request", pr_event("opened", 1, "dependabot[bot]", created="2026-11-02T12:00:00Z"))
    with reading(harness) as conn:
        assert repo_activity(conn, at("2026-11-01T00:00:00Z"), at("2026-12-01T00:00:00Z")) == {}


# -- OpenRank: the arithmetic --------------------------------------------------------------------------------------
# new(v) = retention_v · 1 + (1 − retention_v) · Σ_u (w_uv / Σ_x w_ux) · old(u); developers keep 0.5, repos 0.3.

EXACT = 1e-12  # iterate to the fixed point


def test_openrank_of_one_developer_and_one_repo():
    # d = 0.5 + 0.5·r, r = 0.3 + 0.7·d  →  d = 0.5 + 0.15 + 0.35·d  →  d = 0.65 / 0.65 = 1, r = 1: the start is
    # the fixed point, so the first round changes nothing
    result = openrank_of_edges([("ann", ROCKET, 2.5)])
    assert result.developers == {"ann": pytest.approx(1.0)}
    assert result.repos == {ROCKET: pytest.approx(1.0)}
    assert (result.rounds, result.converged) == (1, True)


def test_openrank_of_two_developers_on_one_repo_weighted_1_and_3():
    # each developer passes all of its value to the repo; the repo passes 1/4 to ann, 3/4 to ben:
    # ann = 0.5 + 0.5·r/4, ben = 0.5 + 0.5·3r/4, r = 0.3 + 0.7·(ann + ben) = 0.3 + 0.7·(1 + r/2) = 1 + 0.35·r
    # → r = 1 / 0.65 = 20/13 = 1.5385; ann = 0.5 + 20/104 = 9/13 = 0.6923; ben = 0.5 + 60/104 = 14/13 = 1.0769
    result = openrank_of_edges([("ann", ROCKET, 1.0), ("ben", ROCKET, 3.0)], tolerance=EXACT)
    assert result.developers == {"ann": pytest.approx(9 / 13), "ben": pytest.approx(14 / 13)}
    assert result.repos == {ROCKET: pytest.approx(20 / 13)}
    assert result.converged


def test_openrank_of_a_star_one_repo_three_developers():
    # weights 1, 1, 2: Σ d = 1.5 + 0.5·r (the repo's shares add up to 1), r = 0.3 + 0.7·Σ d = 1.35 + 0.35·r
    # → r = 1.35 / 0.65 = 27/13; ann = cy = 0.5 + 0.5·(1/4)·27/13 = 79/104 = 0.7596; ben = 0.5 + 0.5·(2/4)·27/13
    # = 53/52 = 1.0192
    result = openrank_of_edges([("ann", ROCKET, 1.0), ("ben", ROCKET, 2.0), ("cy", ROCKET, 1.0)], tolerance=EXACT)
    assert result.repos == {ROCKET: pytest.approx(27 / 13)}
    assert result.developers == {"ann": pytest.approx(79 / 104), "ben": pytest.approx(53 / 52),
                                 "cy": pytest.approx(79 / 104)}


def test_openrank_a_developer_shares_out_by_weight():
    # one developer in two repos, weights 1 and 3 (given as 1 + 0 and 2 + 1: edges given twice add up)
    # rocket = 0.3 + 0.7·d/4, fuel = 0.3 + 0.7·3d/4, d = 0.5 + 0.5·(rocket + fuel) = 0.5 + 0.5·(0.6 + 0.7·d)
    # → 0.65·d = 0.8, d = 16/13; rocket = 0.3 + 0.175·16/13 = 67/130; fuel = 0.3 + 0.525·16/13 = 123/130
    edges = [("ann", ROCKET, 1.0), ("ann", FUEL, 2.0), ("ann", FUEL, 1.0), ("ann", ROCKET, 0.0)]
    result = openrank_of_edges(edges, tolerance=EXACT)
    assert result.developers == {"ann": pytest.approx(16 / 13)}
    assert result.repos == {ROCKET: pytest.approx(67 / 130), FUEL: pytest.approx(123 / 130)}


def test_openrank_other_retentions():
    # developers keep 0.2, repos 0.6, weights 1 and 3: ann = 0.2 + 0.8·r/4, ben = 0.2 + 0.8·3r/4,
    # r = 0.6 + 0.4·(0.4 + 0.8·r) = 0.76 + 0.32·r → r = 0.76 / 0.68 = 19/17; ann = 0.2 + 0.2·19/17 = 36/85;
    # ben = 0.2 + 0.6·19/17 = 74/85
    result = openrank_of_edges([("ann", ROCKET, 1.0), ("ben", ROCKET, 3.0)], developer_retention=0.2,
                               repo_retention=0.6, tolerance=EXACT)
    assert result.developers == {"ann": pytest.approx(36 / 85), "ben": pytest.approx(74 / 85)}
    assert result.repos == {ROCKET: pytest.approx(19 / 17)}


def test_openrank_isolated_nodes_keep_their_initial_value():
    # ann's only edge weighs nothing: she and fuel are isolated; ben and rocket form the pair (1, 1)
    result = openrank_of_edges([("ann", FUEL, 0.0), ("ben", ROCKET, 1.0)], tolerance=EXACT)
    assert result.developers == {"ann": 1.0, "ben": pytest.approx(1.0)}
    assert result.repos == {FUEL: 1.0, ROCKET: pytest.approx(1.0)}
    empty = openrank_of_edges([])
    assert (empty.developers, empty.repos, empty.rounds, empty.converged) == ({}, {}, 0, True)


def by_hand(rounds: int) -> list[tuple[float, float, float, float]]:
    """ann, ben, rocket after each round for weights 1 and 3, and the largest change in that round."""
    ann = ben = rocket = 1.0
    seen = []
    for _ in range(rounds):
        ann, ben, rocket, before = 0.5 + 0.5 * rocket / 4, 0.5 + 0.5 * 3 * rocket / 4, 0.3 + 0.7 * (ann + ben), (
            ann, ben, rocket)
        seen.append((ann, ben, rocket, max(abs(ann - before[0]), abs(ben - before[1]), abs(rocket - before[2]))))
    return seen


def test_openrank_stops_at_max_rounds_unconverged():
    # round 1: ann = 0.5 + 0.125·1 = 0.625, ben = 0.5 + 0.375·1 = 0.875, r = 0.3 + 0.7·2 = 1.7
    # round 2: ann = 0.5 + 0.125·1.7 = 0.7125, ben = 0.5 + 0.375·1.7 = 1.1375, r = 0.3 + 0.7·1.5 = 1.35
    # round 3: ann = 0.5 + 0.125·1.35 = 0.66875, ben = 0.5 + 0.375·1.35 = 1.00625, r = 0.3 + 0.7·1.85 = 1.595
    result = openrank_of_edges([("ann", ROCKET, 1.0), ("ben", ROCKET, 3.0)], max_rounds=3)
    assert (result.rounds, result.converged) == (3, False)  # round 3 still moved r by 1.595 − 1.35 = 0.245
    assert result.developers == {"ann": pytest.approx(0.66875), "ben": pytest.approx(1.00625)}
    assert result.repos == {ROCKET: pytest.approx(1.595)}
    assert by_hand(3)[-1][:3] == pytest.approx((0.66875, 1.00625, 1.595))


@pytest.mark.parametrize(("tolerance", "rounds"), [(0.5, 2), (0.1, 5), (0.01, 10)])
def test_openrank_tolerance_decides_the_rounds(tolerance, rounds):
    # The repo moves most: Δr = 0.7·(Δann + Δben) and Δann + Δben = 0.5·Δr of the round before, so each Δr is
    # 0.35 times the one two rounds earlier: 0.7, 0.35, 0.245, 0.1225, 0.0858, 0.0429, 0.0300, 0.0150, 0.0105,
    # 0.0053 (the developers' moves are smaller: ben's is 0.375·Δr of the round before). The first round whose
    # largest move is under the tolerance is the last: 0.35 < 0.5 in round 2; 0.0858 < 0.1 in round 5; 0.0053 < 0.01
    # in round 10 (0.0105 in round 9 is not).
    changes = [change for *_, change in by_hand(12)]
    assert changes[:10] == pytest.approx([0.7, 0.35, 0.245, 0.1225, 0.08575, 0.042875, 0.0300125, 0.01500625,
                                          0.010504375, 0.0052521875])
    assert next(n for n, change in enumerate(changes, 1) if change < tolerance) == rounds
    result = openrank_of_edges([("ann", ROCKET, 1.0), ("ben", ROCKET, 3.0)], tolerance=tolerance)
    assert (result.rounds, result.converged) == (rounds, True)
    ann, ben, rocket, _ = by_hand(rounds)[-1]
    assert result.developers == {"ann": pytest.approx(ann), "ben": pytest.approx(ben)}
    assert result.repos == {ROCKET: pytest.approx(rocket)}


# -- OpenRank: from the store --------------------------------------------------------------------------------------

def test_openrank_of_the_community_from_its_activity(history):
    # acme/rocket is a star of alice, bob and carol weighted by their activity there (2.2158, 2.4702, 0.8618):
    # r = 0.3 + 0.7·(1.5 + 0.5·r) → r = 27/13, and each of them gets 0.5 + 0.5·(weight / 5.5478)·27/13.
    # acme/fuel and dave are a pair: 1 and 1. Bots and maintainer-max (a merge is its author's) are not in it.
    with reading(history) as conn:
        result = openrank(conn, at("2026-10-01T00:00:00Z"), at("2026-12-01T00:00:00Z"), tolerance=EXACT)
        bounded = openrank(conn, at("2026-10-01T00:00:00Z"), at("2026-12-01T00:00:00Z"), max_rounds=2)
    total = ALICE + BOB + CAROL
    assert result.repos == {ROCKET: pytest.approx(27 / 13), FUEL: pytest.approx(1.0)}
    assert result.developers == {"github:alice": pytest.approx(0.5 + 0.5 * ALICE / total * 27 / 13),
                                 "github:bob": pytest.approx(0.5 + 0.5 * BOB / total * 27 / 13),
                                 "github:carol": pytest.approx(0.5 + 0.5 * CAROL / total * 27 / 13),
                                 "github:dave": pytest.approx(1.0)}
    assert result.developers["github:bob"] == pytest.approx(0.5 + 0.5 * 2.4702 / 5.5478 * 2.0769, abs=1e-4)  # 0.9624
    assert result.converged
    # two rounds: after round 1 the developers hold 0.5 + 0.5·share and rocket 0.3 + 0.7·3 = 2.4, so round 2 moves
    # rocket to 0.3 + 0.7·(1.5 + 0.5) = 1.7, by 0.7
    assert (bounded.rounds, bounded.converged) == (2, False)
    assert bounded.repos[ROCKET] == pytest.approx(1.7)


def test_openrank_of_an_empty_window(history):
    with reading(history) as conn:
        result = openrank(conn, at("2025-01-01T00:00:00Z"), at("2025-02-01T00:00:00Z"))
    assert (result.developers, result.repos, result.rounds, result.converged) == ({}, {}, 0, True)


# -- CHAOSS health -------------------------------------------------------------------------------------------------

WEEK = (at("2026-11-02T00:00:00Z"), at("2026-11-09T00:00:00Z"))


@pytest.fixture
def community(harness) -> Any:
    """A week, 2 to 9 November, in acme/rocket (and one issue in acme/fuel), with what came before and after."""
    deliver = harness.deliver
    # long before (more than 90 days): gina opens issue 10, bob comments on it
    deliver("issues", issue_event("opened", 10, "gina", created="2026-06-01T10:00:00Z"))
    deliver("issue_comment", comment_event(10, "gina", "bob", at="2026-06-02T10:00:00Z",
                                           created="2026-06-01T10:00:00Z"))
    # the 90 days before: dave opens issue 8, carol opens PR 7, henry comments on issue 8
    deliver("issues", issue_event("opened", 8, "dave", created="2026-10-01T10:00:00Z"))
    deliver("pull_request", pr_event("opened", 7, "carol", created="2026-10-20T10:00:00Z"))
    deliver("issue_comment", comment_event(8, "dave", "henry", at="2026-10-21T10:00:00Z",
                                           created="2026-10-01T10:00:00Z"))
    # the week
    deliver("issues", issue_event("opened", 1, "alice", created="2026-11-02T10:00:00Z"))
    deliver("pull_request", merged_by(7, "carol", "maintainer-max", created="2026-10-20T10:00:00Z",
                                      merged="2026-11-02T10:00:00Z"))
    deliver("issue_comment", comment_event(1, "alice", "bob", at="2026-11-02T12:00:00Z",
                                           created="2026-11-02T10:00:00Z"))
    deliver("pull_request", pr_event("opened", 5, "bob", created="2026-11-03T08:00:00Z"))
    deliver("issues", issue_event("opened", 2, "erin", created="2026-11-03T10:00:00Z"))
    deliver("pull_request_review", review_event(5, "bob", "carol", at="2026-11-03T20:00:00Z",
                                                created="2026-11-03T08:00:00Z"))
    deliver("pull_request", pr_event("opened", 9, "dependabot[bot]", created="2026-11-04T00:00:00Z"))
    deliver("issue_comment", comment_event(9, "dependabot[bot]", "carol", at="2026-11-04T00:30:00Z", on_pr=True,
                                           created="2026-11-04T00:00:00Z"))
    deliver("pull_request", merged_by(9, "dependabot[bot]", "maintainer-max", created="2026-11-04T00:00:00Z",
                                      merged="2026-11-04T01:00:00Z"))
    deliver("pull_request", merged_by(5, "bob", "maintainer-max", created="2026-11-03T08:00:00Z",
                                      merged="2026-11-04T08:00:00Z"))
    deliver("issues", issue_event("closed", 1, "alice", created="2026-11-02T10:00:00Z", state="closed",
                                  closed="2026-11-04T10:00:00Z", updated="2026-11-04T10:00:00Z"))
    deliver("issue_comment", comment_event(2, "erin", "carol", at="2026-11-04T16:00:00Z",
                                           created="2026-11-03T10:00:00Z"))
    deliver("issues", issue_event("opened", 3, "frank", created="2026-11-05T10:00:00Z"))
    deliver("issue_comment", comment_event(3, "frank", "ci-bot[bot]", at="2026-11-05T11:00:00Z",
                                           commenter_kind="Bot", created="2026-11-05T10:00:00Z"))
    deliver("issues", issue_event("opened", 20, "kim", created="2026-11-05T10:00:00Z", repo="acme/fuel"))
    deliver("issue_comment", comment_event(20, "kim", "bob", at="2026-11-05T11:00:00Z", repo="acme/fuel",
                                           created="2026-11-05T10:00:00Z"))
    deliver("pull_request", pr_event("opened", 6, "erin", created="2026-11-06T10:00:00Z"))
    deliver("star", star("ivan", "2026-11-06T12:00:00Z"))
    deliver("issues", issue_event("closed", 8, "dave", created="2026-10-01T10:00:00Z", state="closed",
                                  closed="2026-11-07T10:00:00Z", updated="2026-11-07T10:00:00Z"))
    closing = pr_event("closed", 6, "erin", created="2026-11-06T10:00:00Z", state="closed",
                       closed="2026-11-08T10:00:00Z")
    deliver("pull_request", {**closing, "sender": user("maintainer-max")})
    # after: frank comments on his own issue (no response, and not this week's)
    for when in ("2026-11-09T00:00:00Z", "2026-11-10T10:00:00Z"):
        deliver("issue_comment", comment_event(3, "frank", "frank", at=when, created="2026-11-05T10:00:00Z"))
    return harness


def test_health_of_the_community(community):
    with reading(community) as conn:
        got = health(conn, *WEEK)
    assert got == Health(
        # opened in the week by people: issue 1 (bob after 2 h), PR 5 (carol's review after 20:00 − 08:00 = 12 h),
        # issue 2 (carol after 30 h: 3 Nov 10:00 → 4 Nov 16:00), issue 20 (bob after 1 h), issue 3 (only a bot
        # and its author replied), PR 6 (closed without a word); dependabot's PR 9 is not counted.
        # median of 1, 2, 12, 30 = (2 + 12) / 2 = 7; within 24 h: 3 of 6
        first_response_median_hours=7.0,
        first_response_within_24h=0.5,
        # issues closed in the week: 1 after 2 Nov 10:00 → 4 Nov 10:00 = 48 h, 8 after 1 Oct → 7 Nov = 37 days
        # = 888 h: median (48 + 888) / 2 = 468
        issue_resolution_median_hours=468.0,
        # PRs by people ended in the week (dependabot's 9, merged after 1 h, left out): 5 merged after 24 h, 6
        # closed after 48 h, 7 merged after 20 Oct → 2 Nov = 13 days = 312 h: median 48; merged 2 of 3
        pr_resolution_median_hours=48.0,
        pr_acceptance_ratio=pytest.approx(2 / 3),
        # contributions in the week: carol 3 (review, 2 comments), bob 3 (2 comments, PR 5), erin 2 (issue 2,
        # PR 6), alice 1, frank 1, kim 1 = 11. Before: bob (June), carol (PR 7). So new: alice, erin, frank, kim;
        # returning: bob, carol
        new_contributors=4,
        returning_contributors=2,
        # fewer than 3 ever until 9 Nov: alice 1, erin 2, frank 1 (his comments from 9 Nov on are not counted),
        # kim 1; bob 1 + 3 and carol 1 + 3 are not drive-by
        drive_by_contributors=4,
        # in the 90 days before but not in the week: dave (issue 8; closing it is no contribution), henry;
        # gina and bob's June are longer ago, and bob is back anyway
        inactive_contributors=2,
        # 11 / 2 = 5.5: carol's 3 are not half, carol's and bob's 3 + 3 = 6 are
        absence_factor=2,
        # rows in the week: alice issue 1, max merges 7, bob comment, bob PR 5, erin issue 2, carol review,
        # dependabot PR 9, carol comment, max merges 9, max merges 5, alice closes 1, carol comment, frank issue 3,
        # ci-bot comment, kim issue 20, bob comment, erin PR 6, ivan's star, dave closes 8, max closes 6 = 20, of
        # which 2 by bots
        bot_activity_share=0.1,
    )


def test_health_of_one_repo(community):
    with reading(community) as conn:
        rocket = health(conn, *WEEK, repo=ROCKET)
        fuel = health(conn, *WEEK, repo=FUEL)
    # acme/rocket: the community less issue 20 and bob's comment on it. First responses: 2, 12, 30 of 5 opened
    # → median 12, within 24 h 2/5 = 0.4; contributions 11 − 2 = 9: carol 3, bob 2, erin 2, alice 1, frank 1;
    # bob's 1 + 2 = 3 here is not drive-by; half of 9 is 4.5: carol's 3 is not, 3 + 2 = 5 is; 2 bot rows of 18
    assert rocket == Health(first_response_median_hours=12.0, first_response_within_24h=0.4,
                            issue_resolution_median_hours=468.0, pr_resolution_median_hours=48.0,
                            pr_acceptance_ratio=pytest.approx(2 / 3), new_contributors=3, returning_contributors=2,
                            drive_by_contributors=3, inactive_contributors=2, absence_factor=2,
                            bot_activity_share=pytest.approx(2 / 18))
    # acme/fuel: issue 20 answered after 1 h; nothing closed; kim and bob both new here, once each: half of 2 is
    # 1, which kim's (or bob's) 1 makes; no bots in its 2 rows
    assert fuel == Health(first_response_median_hours=1.0, first_response_within_24h=1.0,
                          issue_resolution_median_hours=None, pr_resolution_median_hours=None,
                          pr_acceptance_ratio=None, new_contributors=2, returning_contributors=0,
                          drive_by_contributors=2, inactive_contributors=0, absence_factor=1,
                          bot_activity_share=0.0)


def test_health_a_response_after_exactly_24_hours_is_within_them(harness):
    harness.deliver("issues", issue_event("opened", 1, "alice", created="2026-11-03T10:00:00Z"))
    harness.deliver("issue_comment", comment_event(1, "alice", "bob", at="2026-11-04T10:00:00Z",
                                                   created="2026-11-03T10:00:00Z"))
    harness.deliver("issues", issue_event("opened", 2, "alice", created="2026-11-03T10:00:00Z"))
    harness.deliver("issue_comment", comment_event(2, "alice", "bob", at="2026-11-04T10:01:00Z",
                                                   created="2026-11-03T10:00:00Z"))
    with reading(harness) as conn:
        got = health(conn, *WEEK)
    # 24 h and 24 h 1 min: the first within a day, the second not; median (24 + 24 + 1/60) / 2 = 24 h 30 s
    assert got.first_response_within_24h == 0.5
    assert got.first_response_median_hours == pytest.approx(24 + 1 / 120)


def test_health_of_a_window_with_nothing_in_it(community):
    with reading(community) as conn:
        quiet = health(conn, at("2025-01-01T00:00:00Z"), at("2025-01-08T00:00:00Z"))
        after = health(conn, at("2026-11-09T00:00:00Z"), at("2026-11-16T00:00:00Z"))
    assert quiet == Health(None, None, None, None, None, 0, 0, 0, 0, 0, None)
    # the week after: only frank's two comments on issue 3, at 9 Nov 00:00 (the window's first instant) and on
    # 10 Nov; he contributed before (issue 3), and 1 + 2 = 3 times in all is no drive-by. In the 90 days before:
    # alice, bob, carol, dave, erin, henry, kim (frank is active) = 7 inactive
    assert after == Health(None, None, None, None, None, new_contributors=0, returning_contributors=1,
                           drive_by_contributors=0, inactive_contributors=7, absence_factor=1,
                           bot_activity_share=0.0)
