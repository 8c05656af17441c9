"""Leaderboard campaigns in simulated time: weekly and monthly posts made once each, previous ranks shown,
missed posts made after downtime, maintainers left out on request, a campaign-long board posted at the end."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import ConfigError, settings_from_mapping
from bot.store.campaign_tables import LeaderboardEntry
from bot.store.db import Database
from bot.store.tables import OutboxAction
from campaigns.leaderboard import periods
from campaigns.runner import CampaignRunner
from tests.payloads import comment_event, issue_event, pr_event

NOTIFY = {"channels": {"team": {"kind": "webhook", "url": "https://hooks.example.org/cobot"}},
          "rules": [{"topics": ["campaign"], "channels": ["team"]}]}
WEEKLY = {"name": "weekly-stars", "kind": "leaderboard", "title": "Weekly stars", "period": "weekly",
          "start": "2026-10-19T00:00:00Z", "post_weekday": "monday", "post_time": "09:00", "size": 3}
ISSUE, PR = math.sqrt(2.2235), math.sqrt(4.0679)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def board(make_harness, clock):
    clock.now = datetime(2026, 10, 26, 8, 0, tzinfo=UTC)  # Monday, an hour before the first post
    harness = make_harness(campaigns=[WEEKLY], notify=NOTIFY)
    harness.runner = CampaignRunner(harness.db, harness.settings, clock)
    return harness


def posts(harness) -> list[OutboxAction]:
    return harness.rows(OutboxAction, OutboxAction.kind == "notify")


def test_a_week_is_posted_once_with_previous_ranks_beside_the_new_ones(board, clock):
    week1 = datetime(2026, 10, 20, 12, tzinfo=UTC)
    board.deliver("pull_request", pr_event("opened", 1, "bob", created=iso(week1)))
    board.deliver("issues", issue_event("opened", 2, "alice", created=iso(week1)))
    board.deliver("issues", issue_event("opened", 3, "maintainer-max", created=iso(week1)))
    clock.advance(3600)  # Monday 09:00
    board.runner.tick("weekly-stars")
    board.runner.tick("weekly-stars")
    [first] = posts(board)
    assert first.payload["title"] == "Weekly stars: 2026-10-19 to 2026-10-25"
    lines = first.payload["body"].splitlines()
    assert lines[2] == f"1. **bob**: {PR:.2f} (new)"
    assert lines[3] == f"2. **alice**: {ISSUE:.2f} (new)" and lines[4] == f"2. **maintainer-max**: {ISSUE:.2f} (new)"

    week2 = datetime(2026, 10, 28, 12, tzinfo=UTC)
    for number in (4, 5):
        board.deliver("pull_request", pr_event("opened", number, "alice", created=iso(week2)))
    board.deliver("issues", issue_event("opened", 6, "bob", created=iso(week2)))
    clock.advance(7 * 86400)
    board.runner.tick("weekly-stars")
    second = posts(board)[1]
    assert second.payload["title"] == "Weekly stars: 2026-10-26 to 2026-11-01"
    lines = second.payload["body"].splitlines()
    assert lines[2] == f"1. **alice**: {math.sqrt(2 * 4.0679):.2f} (was 2)"
    assert lines[3] == f"2. **bob**: {ISSUE:.2f} (was 1)"
    entries = board.rows(LeaderboardEntry, LeaderboardEntry.period == "2026-W44")
    assert [(e.person, e.rank) for e in entries] == [("github:alice", 1), ("github:bob", 2)]


def test_posts_missed_while_down_are_all_made_after_a_restart_and_none_twice(board, clock):
    board.deliver("issues", issue_event("opened", 1, "alice", created="2026-10-20T10:00:00Z"))
    clock.advance(3600 + 14 * 86400)  # three Mondays at 09:00 went by while cobot was down
    restarted = CampaignRunner(Database(board.settings.database.url), board.settings, clock)
    restarted.tick("weekly-stars")
    titles = [row.payload["title"] for row in posts(board)]
    assert titles == ["Weekly stars: 2026-10-19 to 2026-10-25", "Weekly stars: 2026-10-26 to 2026-11-01",
                      "Weekly stars: 2026-11-02 to 2026-11-08"]
    assert "Nobody was active" in posts(board)[2].payload["body"]
    board.runner.tick("weekly-stars")
    assert len(posts(board)) == 3


def test_maintainers_can_be_left_out(make_harness, clock):
    clock.now = datetime(2026, 10, 26, 9, 0, tzinfo=UTC)
    harness = make_harness(campaigns=[{**WEEKLY, "exclude_maintainers": True}], notify=NOTIFY)
    harness.deliver("issues", issue_event("opened", 1, "maintainer-max", created="2026-10-20T10:00:00Z"))
    harness.deliver("issue_comment", comment_event(1, "maintainer-max", "carol", at="2026-10-21T10:00:00Z"))
    CampaignRunner(harness.db, harness.settings, clock).tick("weekly-stars")
    body = posts(harness)[0].payload["body"]
    assert "carol" in body and "maintainer-max" not in body


def test_a_monthly_board_posts_on_the_first(make_harness, clock):
    monthly = {**WEEKLY, "name": "monthly", "title": "Monthly", "period": "monthly", "start": "2026-10-01T00:00:00Z"}
    clock.now = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    harness = make_harness(campaigns=[monthly], notify=NOTIFY)
    harness.deliver("issues", issue_event("opened", 1, "alice", created="2026-10-15T10:00:00Z"))
    CampaignRunner(harness.db, harness.settings, clock).tick("monthly")
    [post] = posts(harness)
    assert post.payload["title"] == "Monthly: 2026-10-01 to 2026-10-31" and "1. **alice**" in post.payload["body"]


def test_a_campaign_long_board_posts_once_at_the_end_in_chinese(make_harness, clock):
    whole = {**WEEKLY, "name": "camp-board", "title": "训练营排行", "period": "campaign", "language": "zh",
             "start": "2026-10-01T00:00:00Z", "end": "2026-11-01T00:00:00Z"}
    clock.now = datetime(2026, 10, 31, 23, 0, tzinfo=UTC)
    harness = make_harness(campaigns=[whole], notify={**NOTIFY, "channels": {"team": {
        **NOTIFY["channels"]["team"], "language": "zh"}}})
    harness.deliver("issues", issue_event("opened", 1, "alice", created="2026-10-15T10:00:00Z"))
    runner = CampaignRunner(harness.db, harness.settings, clock)
    runner.tick("camp-board")
    assert posts(harness) == []
    clock.advance(3600)
    runner.tick("camp-board")
    [post] = posts(harness)
    assert post.payload["title"] == "训练营排行：2026-10-01 至 2026-10-31"
    assert f"1. **alice**：{ISSUE:.2f}（新上榜）" in post.payload["body"]


def test_periods_of_each_kind():
    settings = settings_from_mapping({"campaigns": [WEEKLY]}, env={})
    weekly = settings.campaigns[0]
    start = weekly.start
    found = periods(weekly, start, None, datetime(2026, 11, 9, 9, 0, tzinfo=UTC))
    # posted on Mondays at 09:00, each for the calendar week before (the start's own Monday has no week yet)
    assert [(p.key, p.start.isoformat(), p.end.isoformat()) for p in found] == [
        ("2026-W43", "2026-10-19T00:00:00+00:00", "2026-10-26T00:00:00+00:00"),
        ("2026-W44", "2026-10-26T00:00:00+00:00", "2026-11-02T00:00:00+00:00"),
        ("2026-W45", "2026-11-02T00:00:00+00:00", "2026-11-09T00:00:00+00:00")]
    assert periods(weekly, start, None, datetime(2026, 10, 26, 8, 59, tzinfo=UTC)) == []
    shanghai = settings_from_mapping({"campaigns": [{**WEEKLY, "timezone": "Asia/Shanghai"}]}, env={}).campaigns[0]
    assert periods(shanghai, shanghai.start, None, datetime(2026, 10, 26, 0, 59, tzinfo=UTC)) == []
    [first] = periods(shanghai, shanghai.start, None, datetime(2026, 10, 26, 1, 0, tzinfo=UTC))  # 09:00 there
    assert (first.start, first.end) == (shanghai.start, datetime(2026, 10, 25, 16, 0, tzinfo=UTC))  # their midnight


@pytest.mark.parametrize(("changes", "key"), [
    ({"by": "points"}, "points_from"),
    ({"by": "points", "points_from": "nothing-here"}, "campaigns[0].points_from"),
    ({"period": "campaign"}, "end"),
    ({"post_time": "9am"}, "campaigns.0.leaderboard.post_time"),
    ({"timezone": "Mars/Olympus"}, "campaigns.0.leaderboard.timezone"),
    ({"end": "2026-10-01T00:00:00Z"}, "end: must be after start"),
    ({"name": "Weekly Stars"}, "campaigns.0.leaderboard.name"),
])
def test_bad_leaderboard_config_names_the_key(changes, key):
    with pytest.raises(ConfigError) as error:
        settings_from_mapping({"campaigns": [{**WEEKLY, **changes}]}, env={})
    assert key in str(error.value)


def test_two_campaigns_with_one_name_are_refused():
    with pytest.raises(ConfigError) as error:
        settings_from_mapping({"campaigns": [WEEKLY, WEEKLY]}, env={})
    assert "campaigns[1].name: 'weekly-stars' is already campaigns[0]" in str(error.value)


def test_a_fresh_week_with_no_post_due_yet(board, clock):
    assert board.runner.tick("weekly-stars").actions == []
    clock.advance(timedelta(minutes=59).total_seconds())
    assert board.runner.tick("weekly-stars").actions == []


def test_a_board_by_hackathon_points_counts_merges_inside_the_hackathon(make_harness, clock):
    """Points come from the hackathon's scored submissions: a hard task (40) beats an easy one (10)."""
    hack = {"name": "hack", "kind": "hackathon", "start": "2026-10-19T00:00:00Z", "end": "2026-11-02T00:00:00Z",
            "repos": ["github:acme/rocket"]}
    ranked = {**WEEKLY, "name": "hack-board", "title": "Hackathon points", "period": "campaign", "by": "points",
              "points_from": "hack", "start": "2026-10-19T00:00:00Z", "end": "2026-11-02T00:00:00Z"}
    clock.now = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)
    harness = make_harness(community={"repos": [{"platform": "github", "name": "acme/rocket"}]},
                           campaigns=[hack, ranked], notify=NOTIFY)
    at = iso(clock.now)
    for number, difficulty in ((1, "hard"), (2, "easy")):
        harness.deliver("issues", issue_event("opened", number, "maintainer-max", created=at,
                                              labels=("hackathon", difficulty)))
    for number, (author, task) in {10: ("bob", 1), 11: ("alice", 2)}.items():
        merged = pr_event("closed", number, author, created=at, updated=at, state="closed", closed=at, merged=at)
        merged["pull_request"]["body"] = f"Fixes #{task}"
        harness.deliver("pull_request", merged)
    clock.now = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
    CampaignRunner(harness.db, harness.settings, clock).tick("hack-board")
    [post] = [row for row in posts(harness) if row.key.startswith("campaign:hack-board:")]
    assert "1. **bob**: 40 points (new)" in post.payload["body"]
    assert "2. **alice**: 10 points (new)" in post.payload["body"]
