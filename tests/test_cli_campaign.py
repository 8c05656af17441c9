"""`cobot campaign list|show|start|close`, run as users run them: a config file with a hackathon, a training camp and
leaderboards, pointing at a store filled by real deliveries (claims, a merged pull request, a camp joined by command).
The CLI reads the real clock, so the campaigns' windows and the deliveries are dated relative to now."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result

from bot.cli.main import main
from bot.settings.campaigns import WEEKDAYS
from bot.store.campaign_tables import CampaignEvent, CampaignState, CampMilestoneMet, HackathonClaim
from bot.store.tables import OutboxAction
from tests.payloads import comment_event, issue_event, pr_event
from tests.test_cli_community import toml

MAINTAINER = "maintainer-max"
NAMES = ["cli-hack", "next-hack", "cli-camp", "cli-board", "past-board"]


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def when(text: str) -> datetime:
    """A moment as the JSON views write it (the store may hand it back in another offset)."""
    return datetime.fromisoformat(text).astimezone(UTC)


def sections(now: datetime) -> dict[str, Any]:
    """The config: every window is set relative to `now`. The camp's weekly nudge falls on the weekday two days
    ahead, so that none has fallen due since the camp started three days ago, whatever day the tests run."""
    day = timedelta(days=1)
    return {
        "community": {"name": "Rocket", "maintainers": [f"github:{MAINTAINER}", f"gitee:{MAINTAINER}"],
                      "repos": [{"platform": "github", "name": "acme/rocket"},
                                {"platform": "github", "name": "acme/engine"}]},
        "welcome": {"enabled": False},
        "notify": {"channels": {"team": {"kind": "webhook", "url": "https://hooks.example.org/cobot"}},
                   "rules": [{"topics": ["campaign"], "channels": ["team"]}]},
        "campaigns": [
            {"name": "cli-hack", "kind": "hackathon", "title": "CLI Hackathon", "start": stamp(now - 2 * day),
             "end": stamp(now + 5 * day), "repos": ["github:acme/rocket"]},
            {"name": "next-hack", "kind": "hackathon", "title": "Next Hackathon", "start": stamp(now + 10 * day),
             "end": stamp(now + 12 * day), "repos": ["acme/engine"]},
            {"name": "cli-camp", "kind": "training_camp", "title": "CLI Camp", "start": stamp(now - 3 * day),
             "end": stamp(now + 20 * day), "repos": ["acme/rocket"], "participants": ["github:alice", "github:bob"],
             "nudge_weekday": WEEKDAYS[(now.weekday() + 2) % 7],
             "milestones": [
                 {"id": "first-pr", "title": "Open a pull request", "due": stamp(now + 5 * day),
                  "criteria": [{"event": "pr.opened"}]},
                 {"id": "helper", "title": "Answer issues", "due": stamp(now + 15 * day),
                  "criteria": [{"event": "issue.answered", "count": 2}]}]},
            {"name": "cli-board", "kind": "leaderboard", "title": "Hack Points", "period": "campaign",
             "by": "points", "points_from": "cli-hack", "start": stamp(now - 2 * day), "end": stamp(now + 5 * day)},
            {"name": "past-board", "kind": "leaderboard", "title": "Last Month", "period": "campaign",
             "start": stamp(now - 30 * day), "end": stamp(now - 20 * day)},
        ],
    }


@dataclass
class World:
    harness: Any
    config: Path
    now: datetime  # the config's windows and the deliveries are dated from it
    at: dict[str, datetime]

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(main, ["campaign", *args, "--config", str(self.config)], env={"COLUMNS": "200"})

    def cobot(self, *args: str) -> str:
        result = self.run(*args)
        assert result.exit_code == 0, result.output
        assert result.exception is None, result.exception
        return result.output

    def json(self, *args: str) -> Any:
        return json.loads(self.cobot(*args, "--json"))

    def refused(self, *args: str) -> str:
        """A command that fails as users should see it fail: exit 1, a message, no traceback."""
        result = self.run(*args)
        assert result.exit_code == 1, result.output
        assert isinstance(result.exception, SystemExit), result.exception
        assert "Traceback" not in result.output
        return result.output

    def stored(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[tuple[str, Any, Any]]]:
        """The outbox (keys and kinds), the campaigns' ledger and their changed windows."""
        return ([(row.key, row.kind) for row in self.harness.rows(OutboxAction)],
                [(row.campaign, row.key) for row in self.harness.rows(CampaignEvent)],
                [(row.campaign, row.started_at, row.closed_at) for row in self.harness.rows(CampaignState)])


@pytest.fixture
def world(make_harness, clock, tmp_path) -> World:
    """Three days ago a maintainer filed issues 1 to 3 as hackathon tasks (medium, no difficulty, hard) and issue 4,
    a bug. Yesterday alice claimed #1 and carol joined the camp by command; bob claimed #2 twenty hours ago. alice
    answered issue 4 twelve hours ago, opened PR 10 "Fixes #1" ten hours ago, merged five hours ago; carol opened
    PR 11 "Closes #3" four hours ago, not merged."""
    now = datetime.now(UTC).replace(microsecond=0)
    clock.now = now
    config = sections(now)
    harness = make_harness(**config)
    path = tmp_path / "config.toml"
    path.write_text(toml({"database": {"url": harness.settings.database.url}, **config}))
    at = {"filed": now - timedelta(days=3), "alice_claim": now - timedelta(days=1),
          "carol_join": now - timedelta(hours=23), "bob_claim": now - timedelta(hours=20),
          "alice_answer": now - timedelta(hours=12), "pr_10": now - timedelta(hours=10),
          "merged_10": now - timedelta(hours=5), "pr_11": now - timedelta(hours=4)}
    labels = {1: ("hackathon", "medium"), 2: ("hackathon",), 3: ("hackathon", "hard"), 4: ("bug",)}
    filed = stamp(at["filed"])
    for number, names in labels.items():
        harness.deliver("issues", issue_event("opened", number, MAINTAINER, created=filed, labels=names))

    def say(who: str, number: int, body: str, moment: datetime) -> None:
        harness.deliver("issue_comment", comment_event(number, MAINTAINER, who, at=stamp(moment), body=body,
                                                       created=filed, labels=labels[number]))

    def pr(action: str, number: int, author: str, body: str, **fields: Any) -> dict[str, Any]:
        payload = pr_event(action, number, author, created=stamp(at[f"pr_{number}"]), **fields)
        payload["pull_request"]["body"] = body
        return payload

    say("alice", 1, "/claim", at["alice_claim"])
    say("carol", 3, "/campaign join cli-camp", at["carol_join"])
    say("bob", 2, "/claim", at["bob_claim"])
    say("alice", 4, "I can reproduce this on main.", at["alice_answer"])
    harness.deliver("pull_request", pr("opened", 10, "alice", "Fixes #1"))
    merged = stamp(at["merged_10"])
    harness.deliver("pull_request", pr("closed", 10, "alice", "Fixes #1", state="closed", closed=merged,
                                       merged=merged, updated=merged))
    harness.deliver("pull_request", pr("opened", 11, "carol", "Closes #3"))
    return World(harness, path, now, at)


def table_rows(text: str) -> list[list[str]]:
    """The cells of each row of a rich table, its header (ruled ┃) first."""
    return [[cell.strip() for cell in re.split("[│┃]", line)[1:-1]] for line in text.splitlines()
            if len(re.findall("[│┃]", line)) > 1]


def minute(moment: datetime) -> str:
    """How a view writes a moment: to the minute, with its UTC offset."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M+00:00")


def lines(text: str) -> list[str]:
    """The output's lines, with rich's indentation and trailing blanks stripped."""
    return [line.strip() for line in text.splitlines() if line.strip()]


# -- list ----------------------------------------------------------------------------------------------------------

def test_list_shows_each_campaign_with_its_status_by_the_real_clock(world):
    day = timedelta(days=1)
    now = world.now
    windows = {"cli-hack": (now - 2 * day, now + 5 * day), "next-hack": (now + 10 * day, now + 12 * day),
               "cli-camp": (now - 3 * day, now + 20 * day), "cli-board": (now - 2 * day, now + 5 * day),
               "past-board": (now - 30 * day, now - 20 * day)}
    expected = [("cli-hack", "hackathon", "CLI Hackathon", "running"),
                ("next-hack", "hackathon", "Next Hackathon", "scheduled"),
                ("cli-camp", "training_camp", "CLI Camp", "running"),
                ("cli-board", "leaderboard", "Hack Points", "running"),
                ("past-board", "leaderboard", "Last Month", "ended")]
    views = world.json("list")
    assert [(view["name"], view["kind"], view["title"], view["status"]) for view in views] == expected
    assert [(when(view["start"]), when(view["end"])) for view in views] == [windows[name] for name in NAMES]

    rows = table_rows(world.cobot("list"))
    assert rows[0] == ["name", "kind", "title", "start", "end", "status"]
    minute = "%Y-%m-%dT%H:%M"
    assert rows[1:] == [[name, kind, title, windows[name][0].strftime(minute), windows[name][1].strftime(minute),
                         status] for name, kind, title, status in expected]


def test_list_without_campaigns_says_how_to_add_them(make_harness, tmp_path):
    harness = make_harness()
    path = tmp_path / "config.toml"
    path.write_text(toml({"database": {"url": harness.settings.database.url}}))
    result = CliRunner().invoke(main, ["campaign", "list", "--config", str(path)])
    assert result.exit_code == 0 and "no campaigns: add [[campaigns]]" in result.output
    result = CliRunner().invoke(main, ["campaign", "list", "--json", "--config", str(path)])
    assert json.loads(result.output) == []


# -- show ----------------------------------------------------------------------------------------------------------

def test_show_a_hackathon_tasks_and_standings(world):
    view = world.json("show", "cli-hack")
    assert (view["name"], view["kind"], view["status"], view["closed_early"]) == (
        "cli-hack", "hackathon", "running", False)
    # #1 is medium (20), done by alice's merged PR (her claim released by it); #2 has no difficulty (the default,
    # 10), claimed by bob for 72 hours; #3 is hard (40), carol's PR is open. #4 is a bug, not a task.
    tasks = [(task["repo"], task["number"], task["title"], task["points"], task["state"], task["claimed_by"],
              task["submitted_by"], task["pr"]) for task in view["tasks"]]
    assert tasks == [("acme/rocket", "1", "Item 1", 20, "done", None, "alice", "acme/rocket#10"),
                     ("acme/rocket", "2", "Item 2", 10, "claimed", "bob", None, None),
                     ("acme/rocket", "3", "Item 3", 40, "submitted", None, "carol", "acme/rocket#11")]
    assert when(view["tasks"][1]["expires_at"]) == world.at["bob_claim"] + timedelta(hours=72)
    assert view["standings"] == [{"rank": 1, "person": "github:alice", "name": "alice", "points": 20, "tasks": 1}]
    assert view["late_merges"] == []

    shown = lines(world.cobot("show", "cli-hack"))
    assert "CLI Hackathon" in shown[0]
    assert any(line.startswith("A hackathon, running: ") for line in shown)
    for expected in ("acme/rocket#1 Item 1 (20 points): done in acme/rocket#10 by @alice",
                     "acme/rocket#2 Item 2 (10 points): claimed by @bob",
                     "acme/rocket#3 Item 3 (40 points): submitted in acme/rocket#11 by @carol",
                     "1 alice: 20 points (1 task)"):
        assert any(line.endswith(expected) for line in shown), (expected, shown)
    assert not any("#4" in line for line in shown)


def test_show_a_hackathon_for_one_participant(world):
    alice = world.json("show", "cli-hack", "--participant", "github:alice")
    assert [task["number"] for task in alice["tasks"]] == ["1"]
    assert [row["person"] for row in alice["standings"]] == ["github:alice"]
    mine = alice["participant"]
    assert (mine["who"], mine["points"], mine["rank"]) == ("github:alice", 20, 1)
    assert [(c["number"], c["login"], c["release_reason"]) for c in mine["claims"]] == [("1", "alice", "submitted")]
    assert when(mine["claims"][0]["claimed_at"]) == world.at["alice_claim"]
    assert [(s["task"], s["pr"], s["status"], s["points"]) for s in mine["submissions"]] == [
        ("github:acme/rocket#1", "acme/rocket#10", "scored", 20)]
    assert when(mine["submissions"][0]["merged_at"]) == world.at["merged_10"]

    bob = world.json("show", "cli-hack", "--participant", "github:bob")
    assert [task["number"] for task in bob["tasks"]] == ["2"] and bob["standings"] == []
    assert (bob["participant"]["points"], bob["participant"]["rank"], len(bob["participant"]["claims"])) == (
        0, None, 1)

    shown = lines(world.cobot("show", "cli-hack", "--participant", "github:alice"))
    assert "github:alice: 20 points (rank 1), 1 claim, 1 submission." in shown
    assert not any("Item 2" in line or "Item 3" in line for line in shown)


def test_show_a_camp_participants_and_progress(world):
    # Before any tick, only carol (who joined by command) is in; the configured participants are enrolled by the
    # camp's first tick, which `start` runs (the camp is running already: its start is announced).
    before = world.json("show", "cli-camp")
    assert [(p["login"], p["status"], p["source"]) for p in before["participants"]] == [
        ("carol", "enrolled", "command")]
    assert when(before["participants"][0]["joined_at"]) == world.at["carol_join"]
    output = world.cobot("start", "cli-camp")
    assert lines(output) == ["cli-camp: started; did 1 action(s)",
                             "- notify team [campaign] Training camp started: CLI Camp"]
    view = world.json("show", "cli-camp")
    assert (view["kind"], view["status"], view["capacity"]) == ("training_camp", "running", None)
    assert [(m["id"], when(m["due"])) for m in view["milestones"]] == [
        ("first-pr", world.now + timedelta(days=5)), ("helper", world.now + timedelta(days=15))]
    # carol and alice opened a PR (first-pr met); "Open a pull request" is due within a week: bob, without one, is
    # behind. Answering issues is due in 15 days: nobody is behind on it yet.
    assert [(p["login"], p["status"], p["source"], p["milestones_met"], p["behind"])
            for p in view["participants"]] == [("carol", "enrolled", "command", "1/2", False),
                                               ("alice", "enrolled", "config", "1/2", False),
                                               ("bob", "enrolled", "config", "0/2", True)]
    assert view["waiting"] == []
    assert sorted((row.person, row.milestone) for row in world.harness.rows(CampMilestoneMet)) == [
        ("github:alice", "first-pr"), ("github:carol", "first-pr")]

    shown = lines(world.cobot("show", "cli-camp"))
    assert any(line.startswith("A training camp, running: ") for line in shown)
    due = (world.now + timedelta(days=5)).strftime("%Y-%m-%d %H:%M+00:00")
    for expected in (f"Open a pull request (first-pr), due {due}: pull requests opened: 1",
                     "carol (github): enrolled, milestones met 1/2", "alice (github): enrolled, milestones met 1/2",
                     "bob (github): enrolled, milestones met 0/2, behind"):
        assert any(line.endswith(expected) for line in shown), (expected, shown)


def test_show_a_camp_for_one_participant(world):
    world.cobot("start", "cli-camp")
    alice = world.json("show", "cli-camp", "--participant", "github:alice")["participant"]
    assert (alice["person"], alice["login"], alice["status"], alice["position"]) == (
        "github:alice", "alice", "enrolled", None)
    # a PR opened (1 of 1); one answer on someone else's issue (1 of 2): her /claim comments are commands only
    assert [(m["id"], m["met_at"] is not None, m["criteria"]) for m in alice["progress"]] == [
        ("first-pr", True, [{"event": "pr.opened", "reached": 1, "needed": 1}]),
        ("helper", False, [{"event": "issue.answered", "reached": 1, "needed": 2}])]
    [met] = world.harness.rows(CampMilestoneMet, CampMilestoneMet.person == "github:alice")
    assert when(alice["progress"][0]["met_at"]) == met.met_at.astimezone(UTC)
    bob = world.json("show", "cli-camp", "--participant", "bob")["participant"]  # a login will do
    assert bob["person"] == "github:bob" and [m["met_at"] for m in bob["progress"]] == [None, None]
    assert [c["reached"] for m in bob["progress"] for c in m["criteria"]] == [0, 0]

    shown = lines(world.cobot("show", "cli-camp", "--participant", "github:alice"))
    assert "alice: enrolled" in shown
    assert any("Answer issues" in line and line.endswith("not met (answers on others' issues 1/2)")
               for line in shown), shown
    first_pr = f"Open a pull request, due {minute(world.now + timedelta(days=5))}: met {minute(met.met_at)} "
    assert f"{first_pr}(pull requests opened 1/1)" in [line.lstrip("• ") for line in shown]


def test_show_an_unknown_participant_is_a_clear_error(world):
    world.cobot("start", "cli-camp")
    output = world.refused("show", "cli-camp", "--participant", "github:nobody")
    assert "Error: 'github:nobody' is not a participant of 'cli-camp'" in output
    assert "dave" in world.refused("show", "cli-camp", "--participant", "dave", "--json")


def test_show_a_leaderboard(world):
    board = world.json("show", "cli-board")
    assert (board["kind"], board["status"], board["period"], board["by"], board["posts"]) == (
        "leaderboard", "running", "campaign", "points", [])
    assert when(board["since"]) == world.now - timedelta(days=2)
    # points scored in cli-hack since the board's start: alice's medium task
    assert board["standings"] == [{"rank": 1, "person": "github:alice", "name": "alice", "score": 20.0,
                                   "previous": None}]
    shown = lines(world.cobot("show", "cli-board"))
    assert "A campaign-long leaderboard by points, running." in shown
    assert any(line.endswith("alice: 20.00") for line in shown), shown
    assert world.json("show", "cli-board", "--participant", "github:alice")["standings"] == board["standings"]
    assert world.json("show", "cli-board", "--participant", "github:bob")["standings"] == []
    past = world.json("show", "past-board")
    assert (past["status"], past["standings"]) == ("ended", [])
    assert when(past["since"]) == world.now - timedelta(days=30)
    assert "Nobody has scored since" in world.cobot("show", "past-board")


# -- start and close -----------------------------------------------------------------------------------------------

def test_start_dry_run_shows_the_announcement_and_stores_nothing(world):
    before = world.stored()
    output = world.cobot("start", "next-hack", "--dry-run")
    assert lines(output) == ["next-hack: started; would do 1 action(s)",
                             "- notify team [campaign] Next Hackathon has started"]
    assert world.stored() == before
    assert [view["status"] for view in world.json("list") if view["name"] == "next-hack"] == ["scheduled"]


def test_start_starts_it_now_and_starting_again_changes_nothing(world):
    outbox, ledger, states = world.stored()
    earliest = datetime.now(UTC)
    output = world.cobot("start", "next-hack")
    latest = datetime.now(UTC)
    assert lines(output) == ["next-hack: started; did 1 action(s)",
                             "- notify team [campaign] Next Hackathon has started"]
    after = world.stored()
    assert after[0] == [*outbox, ("campaign:next-hack:start@team", "notify")]
    assert after[1] == [*ledger, ("next-hack", "start")]
    [(campaign, started_at, closed_at)] = after[2]
    assert campaign == "next-hack" and closed_at is None and earliest <= started_at <= latest
    [notice] = world.harness.rows(OutboxAction, OutboxAction.key == "campaign:next-hack:start@team")
    assert notice.channel == "team" and notice.payload["title"] == "Next Hackathon has started"
    assert "until " + (world.now + timedelta(days=12)).strftime("%Y-%m-%d %H:%M") + " (UTC)" in notice.payload["body"]
    view = world.json("show", "next-hack")
    assert view["status"] == "running" and when(view["start"]) == started_at.astimezone(UTC)
    window = f"{minute(started_at)} to {minute(world.now + timedelta(days=12))}"
    assert f"A hackathon, running: {window}." in lines(world.cobot("show", "next-hack"))

    again = world.cobot("start", "next-hack")
    assert lines(again) == ["next-hack: started; did 0 action(s)"]
    assert world.stored() == after


def test_close_decides_the_final_results_and_the_hackathon_has_ended(world):
    before = world.stored()
    dry = world.cobot("close", "cli-hack", "--dry-run")
    assert lines(dry) == ["cli-hack: closed; would do 1 action(s)",
                          "- notify team [campaign] CLI Hackathon: the final results"]
    assert world.stored() == before and world.json("show", "cli-hack")["status"] == "running"

    earliest = datetime.now(UTC)
    output = world.cobot("close", "cli-hack")
    latest = datetime.now(UTC)
    assert lines(output) == ["cli-hack: closed; did 1 action(s)",
                             "- notify team [campaign] CLI Hackathon: the final results"]
    [notice] = world.harness.rows(OutboxAction, OutboxAction.key == "campaign:cli-hack:end@team")
    body = notice.payload["body"]
    assert body.startswith("**CLI Hackathon** is over (closed early)")
    assert "1 of 3 tasks were done by 1 person." in body and "1. **alice**: 20 points (1 task)" in body
    [(campaign, started_at, closed_at)] = world.stored()[2]
    assert campaign == "cli-hack" and started_at is None and earliest <= closed_at <= latest
    assert ("cli-hack", "end") in world.stored()[1]
    # bob's claim on #2 ends with the hackathon: the task is open, nobody holds it
    [bobs] = world.harness.rows(HackathonClaim, HackathonClaim.login == "bob")
    assert bobs.release_reason == "ended" and bobs.released_at == closed_at

    view = world.json("show", "cli-hack")
    assert (view["status"], view["closed_early"]) == ("ended", True)
    assert when(view["end"]) == closed_at.astimezone(UTC)
    assert [(task["number"], task["state"]) for task in view["tasks"]] == [("1", "done"), ("2", "open"),
                                                                           ("3", "submitted")]
    assert view["standings"][0]["points"] == 20
    window = f"{minute(world.now - timedelta(days=2))} to {minute(closed_at)}"
    assert f"A hackathon, ended (closed early): {window}." in lines(world.cobot("show", "cli-hack"))
    assert [view["status"] for view in world.json("list") if view["name"] == "cli-hack"] == ["ended"]

    closed = world.stored()
    assert lines(world.cobot("close", "cli-hack")) == ["cli-hack: closed; did 0 action(s)"]
    assert world.stored() == closed


# -- unknown campaigns ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [("show", "nope"), ("show", "nope", "--json"), ("start", "nope"),
                                  ("start", "nope", "--dry-run"), ("close", "nope"), ("close", "nope", "--dry-run")])
def test_an_unknown_campaign_is_an_error_listing_the_campaigns(world, args):
    before = world.stored()
    output = world.refused(*args)
    assert f"Error: no campaign named 'nope' (campaigns: {', '.join(NAMES)})" in output
    assert world.stored() == before


def test_a_camp_in_its_own_time_zone_closed_early_shows_each_moment_with_its_offset(make_harness, clock, tmp_path):
    """The window and due dates are written in Shanghai time (no offset in the config: the camp's zone), the
    moment it was closed in UTC, as the store keeps it: each with its offset, so that none is misread."""
    now = datetime.now(UTC).replace(microsecond=0)
    clock.now = now
    shanghai = ZoneInfo("Asia/Shanghai")
    local = now.astimezone(shanghai).replace(tzinfo=None)
    start, due, end = local - timedelta(days=2), local + timedelta(days=3), local + timedelta(days=10)
    config = {"community": {"repos": [{"platform": "github", "name": "acme/rocket"}]},
              "campaigns": [{"name": "east-camp", "kind": "training_camp", "title": "East Camp",
                             "timezone": "Asia/Shanghai", "start": start.isoformat(), "end": end.isoformat(),
                             "milestones": [{"id": "first-pr", "due": due.isoformat(),
                                             "criteria": [{"event": "pr.opened"}]}]}]}
    harness = make_harness(**config)
    path = tmp_path / "config.toml"
    path.write_text(toml({"database": {"url": harness.settings.database.url}, **config}))
    world = World(harness, path, now, {})
    earliest = datetime.now(UTC)
    world.cobot("close", "east-camp")
    [state] = harness.rows(CampaignState)
    assert earliest <= state.closed_at <= datetime.now(UTC)
    view = world.json("show", "east-camp")
    assert (view["status"], when(view["start"]), when(view["end"])) == (
        "ended", start.replace(tzinfo=shanghai).astimezone(UTC), state.closed_at.astimezone(UTC))
    shown = lines(world.cobot("show", "east-camp"))
    assert f"A training camp, ended: {start:%Y-%m-%d %H:%M}+08:00 to {minute(state.closed_at)}." in shown
    assert f"• first-pr (first-pr), due {due:%Y-%m-%d %H:%M}+08:00: pull requests opened: 1" in shown
