"""`cobot stats`, `contributors`, `leaderboard` and `award`, run as users run them, against a store filled by real
deliveries. The CLI reads the real clock, so the deliveries are dated relative to now."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli.main import main
from bot.cli.stats import parse_since
from bot.store.community_tables import BadgeAward
from bot.store.tables import OutboxAction
from tests.helpers import shared_fixture
from tests.payloads import comment_event, issue_event, pr_event, review_comment_event, review_event

# OpenDigger's weights, per person, repo and month: sqrt of the weighted sum.
COMMENT, ISSUE, PR, REVIEW, MERGED = 0.5252, 2.2235, 4.0679, 0.7427, 2.0339
NOTIFY = {"channels": {"team": {"kind": "webhook", "url": "https://hooks.example.org/cobot"}},
          "rules": [{"topics": ["badge"], "channels": ["team"]}]}
SECTIONS: dict[str, Any] = {"community": {"name": "Rocket"}, "notify": NOTIFY, "commands": {"leaderboard_size": 3}}
FORMS = "12h, 7d or 4w"


def toml(data: dict[str, Any], prefix: str = "") -> str:
    """Just enough TOML for a config: tables, arrays of tables, strings, numbers and lists of strings."""
    lines, tables = [], []
    for key, value in data.items():
        if isinstance(value, dict):
            tables.append(f"\n[{prefix}{key}]\n" + toml(value, f"{prefix}{key}."))
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            tables += [f"\n[[{prefix}{key}]]\n" + toml(item, f"{prefix}{key}.") for item in value]
        else:
            lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n" + "".join(tables)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Community:
    harness: Any
    config: Path
    now: datetime  # when the deliveries were dated
    times: dict[str, datetime]

    def cobot(self, *args: str, code: int = 0) -> str:
        result = CliRunner().invoke(main, [*args, "--config", str(self.config)], env={"COLUMNS": "200"})
        assert result.exit_code == code, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        return result.output

    def json(self, *args: str) -> Any:
        return json.loads(self.cobot(*args, "--json"))


def write_config(harness: Any, tmp_path: Path, sections: dict[str, Any]) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(toml({"database": {"url": harness.settings.database.url}, **sections}))
    return config


@pytest.fixture
def store(make_harness, tmp_path) -> Community:
    """dave opened an issue 60 days ago and came back; alice opened an issue, bob opened and merged a PR, carol
    commented on the issue and reviewed the PR (with a comment), all today; a bot opened a PR. Each person's
    recent deliveries share one instant, so that no month boundary splits their activity."""
    harness = make_harness(**SECTIONS)
    now = datetime.now(UTC).replace(microsecond=0)
    times = {"dave_old": now - timedelta(days=60), "bob": now - timedelta(hours=10),
             "bot": now - timedelta(hours=8), "alice": now - timedelta(hours=6), "dave": now - timedelta(hours=2),
             "carol": now - timedelta(hours=1)}
    at = {name: stamp(moment) for name, moment in times.items()}
    harness.deliver("issues", issue_event("opened", 3, "dave", created=at["dave_old"]))
    harness.deliver("pull_request", pr_event("opened", 2, "bob", created=at["bob"]))
    harness.deliver("pull_request", pr_event("closed", 2, "bob", created=at["bob"], state="closed",
                                             closed=at["bob"], merged=at["bob"]))
    harness.deliver("pull_request", pr_event("opened", 4, "dependabot[bot]", created=at["bot"]))
    harness.deliver("issues", issue_event("opened", 1, "alice", created=at["alice"]))
    harness.deliver("issue_comment", comment_event(3, "dave", "dave", at=at["dave"], created=at["dave_old"]))
    harness.deliver("issue_comment", comment_event(1, "alice", "carol", at=at["carol"], created=at["alice"]))
    harness.deliver("pull_request_review", review_event(2, "bob", "carol", at=at["carol"], body="Looks good",
                                                        created=at["bob"]))
    harness.deliver("pull_request_review_comment", review_comment_event(2, "bob", "carol", at=at["carol"],
                                                                        created=at["bob"]))
    return Community(harness, write_config(harness, tmp_path, SECTIONS), now, times)


BOB = math.sqrt(PR + MERGED)  # 2.47
ALICE = math.sqrt(ISSUE)  # 1.49
CAROL = math.sqrt(REVIEW + COMMENT)  # 1.13: a comment and a review comment on the diff (the review weighs nothing)
DAVE = math.sqrt(COMMENT)  # 0.72 over 30 days; his issue is 60 days old


# -- --since -------------------------------------------------------------------------------------------------------

NOW = datetime(2026, 11, 26, 11, 46, 19, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("12h", NOW - timedelta(hours=12)),
    ("7d", NOW - timedelta(days=7)),
    ("4w", NOW - timedelta(days=28)),
    (" 7D ", NOW - timedelta(days=7)),
    ("0d", NOW),
    ("2026-11-01", datetime(2026, 11, 1, tzinfo=UTC)),
    ("2024-02-29", datetime(2024, 2, 29, tzinfo=UTC)),
])
def test_parse_since_reads_hours_days_weeks_and_dates(text, expected):
    assert parse_since(text, NOW) == expected


@pytest.mark.parametrize("text", ["", "7", "d", "7y", "7m", "-7d", "+7d", "7.5d", "7 d", "１d", "99999999d",
                                  "yesterday", "2026-11-1", "2026-13-01", "2026-02-30", "2026-11-01T10:00",
                                  "01/11/2026"])
def test_parse_since_refuses_anything_else_naming_the_forms(text):
    with pytest.raises(ValueError, match=f"{FORMS}.*2026-11-01"):
        parse_since(text, NOW)


# -- stats ---------------------------------------------------------------------------------------------------------

def test_stats_of_the_community(store):
    assert store.json("stats") == {
        "community": "Rocket", "contributors": 4, "issues_opened": 2, "prs_opened": 1, "prs_merged": 1,
        "reviews": 1, "comments": 2, "window_days": 30, "active_people": 4}  # the bot's PR left out; a review's
    # body is the review's, not a comment of the conversation
    table = store.cobot("stats", "--days", "1")
    assert "Rocket" in table
    rows = {line.strip("│ ").split("│")[0].strip(): line.split("│")[2].strip()
            for line in table.splitlines() if line.count("│") == 3}
    assert rows == {"contributors": "4", "issues opened": "2", "PRs opened": "1", "PRs merged": "1",
                    "reviews": "1", "comments": "2", "active over the last 1 days": "4"}


def test_stats_of_a_person(store):
    carol = store.json("stats", "carol")
    assert carol == {
        "person": "github:carol", "name": "carol", "accounts": [{"platform": "github", "login": "carol"}],
        "first_seen": store.times["carol"].isoformat(), "last_seen": store.times["carol"].isoformat(),
        "issues_opened": 0, "prs_opened": 0, "prs_merged": 0, "reviews": 1, "comments": 1,
        "repos": ["github:acme/rocket"], "badges": [], "window_days": 30, "window_score": round(CAROL, 4),
        "window_rank": 3, "ranked_people": 4}
    bob = store.json("stats", "github:BOB")
    assert (bob["person"], bob["prs_opened"], bob["prs_merged"], bob["window_rank"]) == ("github:bob", 1, 1, 1)
    assert bob["window_score"] == pytest.approx(BOB, abs=1e-4)
    table = store.cobot("stats", "@bob")
    assert "bob (GitHub)" in table and "github:acme/rocket" in table
    assert round(BOB, 2) == 2.47 and "2.47, rank 1 of 4" in table
    assert "activity, last 30 days" in table


def test_stats_over_another_window(store):
    dave = store.json("stats", "dave", "--days", "90")  # his old issue counts, in a month of its own
    assert (dave["issues_opened"], dave["comments"], dave["window_days"]) == (1, 1, 90)
    assert dave["window_score"] == pytest.approx(math.sqrt(ISSUE) + DAVE, abs=1e-4)  # 2.22
    assert (dave["window_rank"], dave["ranked_people"]) == (2, 4)
    assert dave["first_seen"] == store.times["dave_old"].isoformat()
    assert "0.72, rank 4 of 4" in store.cobot("stats", "dave")


def test_stats_of_someone_unranked(store):
    found = store.json("stats", "dependabot[bot]")  # bots are tracked, never ranked
    assert (found["prs_opened"], found["window_score"], found["window_rank"], found["ranked_people"]) == (1, 0, None, 4)
    table = store.cobot("stats", "dependabot[bot]")
    assert "dependabot[bot] (GitHub)" in table and "0.00, not ranked (4 people are)" in table


def test_stats_of_someone_unknown_is_one_line_and_exit_1(store):
    output = store.cobot("stats", "nobody", code=1)
    assert output.strip() == "Error: no contributor 'nobody' has been seen yet"
    assert "on gitee" in store.cobot("stats", "gitee:bob", code=1)
    assert "Invalid value for '--days'" in store.cobot("stats", "bob", "--days", "0", code=2)


# -- contributors --------------------------------------------------------------------------------------------------

def row_of(store: Community, name: str, first: str, last: str, contributions: int, issues: int, prs: int,
           comments: int, reviews: int) -> dict[str, Any]:
    return {"person": f"github:{name}", "name": name, "accounts": [{"platform": "github", "login": name}],
            "first_contribution": store.times[first].isoformat(), "last_contribution": store.times[last].isoformat(),
            "contributions": contributions, "issues": issues, "prs": prs, "comments": comments, "reviews": reviews}


def test_contributors_most_recently_active_first(store):
    assert store.json("contributors") == [
        row_of(store, "carol", "carol", "carol", 4, 0, 0, 1, 1),  # a comment, a review, its body, a diff comment
        row_of(store, "dave", "dave_old", "dave", 2, 1, 0, 1, 0),
        row_of(store, "alice", "alice", "alice", 1, 1, 0, 0, 0),
        row_of(store, "bob", "bob", "bob", 1, 0, 1, 0, 0),  # merging (his own PR) is not one more contribution
    ]
    table = store.cobot("contributors")
    lines = [line for line in table.splitlines() if "(GitHub)" in line]
    assert [line.split("│")[1].strip() for line in lines] == ["carol (GitHub)", "dave (GitHub)", "alice (GitHub)",
                                                             "bob (GitHub)"]
    cells = [cell.strip() for cell in lines[1].split("│")[1:-1]]
    assert cells == ["dave (GitHub)", store.times["dave_old"].strftime("%Y-%m-%d %H:%M"),
                     store.times["dave"].strftime("%Y-%m-%d %H:%M"), "2", "1", "0", "1", "0"]
    assert "dependabot" not in table


def names(rows: list[dict[str, Any]]) -> list[str]:
    return [row["name"] for row in rows]


def test_contributors_since_and_new_ones(store):
    assert names(store.json("contributors", "--since", "7d")) == ["carol", "dave", "alice", "bob"]
    assert names(store.json("contributors", "--since", "3h")) == ["carol", "dave"]
    assert names(store.json("contributors", "--new")) == ["carol", "alice", "bob"]  # dave came first 60 days ago
    assert names(store.json("contributors", "--new", "--since", "12h")) == ["carol", "alice", "bob"]
    assert names(store.json("contributors", "--new", "--since", "3h")) == ["carol"]
    long_ago = (store.now - timedelta(days=90)).date().isoformat()
    assert names(store.json("contributors", "--new", "--since", long_ago)) == ["carol", "dave", "alice", "bob"]
    month_ago = (store.now - timedelta(days=30)).date().isoformat()
    assert names(store.json("contributors", "--new", "--since", month_ago)) == ["carol", "alice", "bob"]
    table = store.cobot("contributors", "--new")
    assert "New contributors since" in table and "dave" not in table and "alice (GitHub)" in table
    assert store.cobot("contributors", "--new", "--since", "0h").startswith("no new contributors since ")
    assert store.json("contributors", "--new", "--since", "0h") == []


def test_contributors_limit(store):
    assert names(store.json("contributors", "--limit", "2")) == ["carol", "dave"]
    assert names(store.json("contributors", "--limit", "0")) == ["carol", "dave", "alice", "bob"]
    assert "the 1 most recently active; --limit 0 lists all" in store.cobot("contributors", "--limit", "1")


@pytest.mark.parametrize("since", ["yesterday", "7", "7y", "-7d", "2026-13-01", "2026-11-01T10:00", ""])
def test_contributors_refuse_a_bad_since_in_one_line(store, since):
    output = store.cobot("contributors", "--new", "--since", since, code=1)
    assert output.startswith(f"Error: --since {since!r}: say {FORMS}") and output.count("\n") == 1


# -- leaderboard ---------------------------------------------------------------------------------------------------

def standing(rank: int, name: str, score: float, prs: int = 0, merged: int = 0, issues: int = 0, reviews: int = 0,
             comments: int = 0) -> dict[str, Any]:
    return {"rank": rank, "person": f"github:{name}", "name": name,
            "accounts": [{"platform": "github", "login": name}], "score": round(score, 4), "prs": prs,
            "merged": merged, "issues": issues, "reviews": reviews, "comments": comments}


def test_leaderboard_of_the_last_30_days(store):
    assert store.json("leaderboard", "--limit", "10") == [
        standing(1, "bob", BOB, prs=1, merged=1), standing(2, "alice", ALICE, issues=1),
        standing(3, "carol", CAROL, reviews=1, comments=1), standing(4, "dave", DAVE, comments=1)]
    assert names(store.json("leaderboard")) == ["bob", "alice", "carol"]  # commands.leaderboard_size = 3
    table = store.cobot("leaderboard")
    assert "Most active over the last 30 days" in table
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in table.splitlines() if "(GitHub)" in line]
    assert rows == [["1", "bob (GitHub)", "2.47", "1", "1", "0", "0", "0"],
                    ["2", "alice (GitHub)", "1.49", "0", "0", "1", "0", "0"],
                    ["3", "carol (GitHub)", "1.13", "0", "0", "0", "1", "1"]]


def test_leaderboard_over_another_window(store):
    board = store.json("leaderboard", "--days", "90", "--limit", "2")
    assert names(board) == ["bob", "dave"]  # dave: sqrt(2.2235) in his issue's month + sqrt(0.5252) in this one
    assert board[1]["score"] == round(math.sqrt(ISSUE) + DAVE, 4) and board[1]["issues"] == 1
    assert "Invalid value for '--limit'" in store.cobot("leaderboard", "--limit", "0", code=2)


def test_an_empty_community(make_harness, tmp_path):
    harness = make_harness()
    config = write_config(harness, tmp_path, {})
    empty = Community(harness, config, datetime.now(UTC), {})
    assert "nobody has been active over the last 30 days" in empty.cobot("leaderboard")
    assert empty.json("leaderboard") == [] and empty.json("contributors") == []
    assert empty.cobot("contributors").strip() == "no contributors"
    assert empty.json("stats")["contributors"] == 0


# -- award ---------------------------------------------------------------------------------------------------------

def test_award_once_announced_then_already_held(store):
    output = store.cobot("award", "docs-hero", "bob", "--reason", "Rewrote the guide")
    assert output == "awarded docs-hero to bob\n"
    [held] = store.harness.rows(BadgeAward)
    assert (held.badge, held.person, held.login, held.platform, held.awarded_by, held.reason) == (
        "docs-hero", "github:bob", "bob", "github", "cli", "Rewrote the guide")
    [notice] = store.harness.rows(OutboxAction, OutboxAction.kind == "notify")
    assert (notice.channel, notice.payload["topic"], notice.status) == ("team", "badge", "pending")
    assert "@bob has earned the **Docs hero** badge" in notice.payload["body"]
    assert "Rewrote the guide" in notice.payload["body"]

    again = store.json("award", "DOCS-HERO", "github:bob")
    assert again.pop("assertion").endswith(f"/badges/assertions/{held.uid}")  # its Open Badges assertion
    assert again == {"new": False, "badge": "docs-hero", "person": "github:bob", "login": "bob", "platform": "github",
                     "awarded_by": "cli", "awarded_at": held.awarded_at.isoformat(), "reason": "Rewrote the guide",
                     "revoked_at": None}
    assert store.cobot("award", "docs-hero", "bob") == "bob already holds docs-hero\n"
    assert len(store.harness.rows(BadgeAward)) == 1
    assert len(store.harness.rows(OutboxAction, OutboxAction.kind == "notify")) == 1

    first = store.json("award", "bug-hunter", "carol")
    assert (first["new"], first["badge"], first["person"], first["reason"]) == (True, "bug-hunter", "github:carol",
                                                                                None)
    assert abs(datetime.fromisoformat(first["awarded_at"]) - datetime.now(UTC)) < timedelta(minutes=1)
    assert store.json("stats", "bob")["badges"] == ["docs-hero"]
    assert "docs-hero (Docs hero)" in store.cobot("stats", "bob")


def test_award_without_a_notify_rule_stores_no_notification(make_harness, tmp_path):
    harness = make_harness()
    harness.deliver("issues", issue_event("opened", 1, "alice", created=stamp(datetime.now(UTC))))
    community = Community(harness, write_config(harness, tmp_path, {}), datetime.now(UTC), {})
    assert community.cobot("award", "first-issue", "alice") == "awarded first-issue to alice\n"
    assert harness.rows(OutboxAction, OutboxAction.kind == "notify") == []


def test_award_of_an_unknown_badge_or_to_someone_unknown(store):
    output = store.cobot("award", "gold", "bob", code=1)
    assert output.startswith("Error: unknown badge 'gold' (badges: bug-hunter, camp-graduate, docs-hero,")
    assert output.count("\n") == 1
    assert store.cobot("award", "docs-hero", "zed", code=1) == "Error: no contributor 'zed' has been seen yet\n"
    assert store.harness.rows(BadgeAward) == []
    assert store.harness.rows(OutboxAction, OutboxAction.kind == "notify") == []


# -- linked identities ---------------------------------------------------------------------------------------------

def test_linked_accounts_are_one_person(make_harness, tmp_path):
    sections = {"community": {"identities": [{"name": "Alice", "github": "alice", "gitee": "ali"}]}}
    harness = make_harness(**sections)
    now = datetime.now(UTC).replace(microsecond=0)
    harness.deliver("issues", issue_event("opened", 1, "alice", created=stamp(now - timedelta(hours=2))))
    payload = json.loads(shared_fixture("gitee", "issue-1.json").read_text())
    payload["issue"]["created_at"] = payload["issue"]["updated_at"] = stamp(now - timedelta(hours=1))
    payload["issue"]["user"]["login"] = payload["sender"]["login"] = "ali"
    harness.deliver("Issue Hook", payload, platform="gitee")
    community = Community(harness, write_config(harness, tmp_path, sections), now, {})

    found = community.json("stats", "Alice")
    assert (found["person"], found["issues_opened"]) == ("person:Alice", 2)
    assert found["accounts"] == [{"platform": "gitee", "login": "ali"}, {"platform": "github", "login": "alice"}]
    assert found["repos"] == ["gitee:kit101/drone-yml-test", "github:acme/rocket"]
    assert found["window_score"] == round(2 * ISSUE ** 0.5, 4)  # one issue in each repo
    for name in ("ali", "gitee:ali", "github:alice", "alice"):
        assert community.json("stats", name)["person"] == "person:Alice"
    [row] = community.json("contributors")
    assert (row["person"], row["issues"], row["contributions"]) == ("person:Alice", 2, 2)
    assert "ali (Gitee), alice (GitHub)" in community.cobot("contributors")
    assert "ali (Gitee), alice (GitHub)" in community.cobot("leaderboard")
    awarded = community.json("award", "first-issue", "Alice")
    assert (awarded["new"], awarded["person"]) == (True, "person:Alice")
