"""Hackathons: a whole two-week hackathon in simulated time, through the real pipeline and store (SQLite and
PostgreSQL): announcements once each across restarts, claims and their limit, renewals, reminders and expiry,
submissions by `Fixes #N` and their points, late merges, final results with shared ranks, closing early, dry runs.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.settings.campaigns import HackathonSettings
from bot.store.campaign_tables import CampaignEvent, CampaignSubmission, HackathonClaim
from bot.store.db import Database
from bot.store.tables import OutboxAction
from campaigns import hackathon, hackathon_tasks
from campaigns.runner import CampaignRunner, TickResult
from campaigns.views import render_view
from tests.helpers import Harness, shared_fixture
from tests.payloads import comment_event, issue_event, pr_event

NAME = "autumn-hack"
START = datetime(2026, 11, 9, tzinfo=UTC)
END = START + timedelta(days=14)
HALFWAY = START + timedelta(days=7)
LAST_DAY = END - timedelta(days=1)
HACKATHON: dict[str, Any] = {
    "name": NAME, "kind": "hackathon", "title": "Autumn Hackathon", "start": "2026-11-09T00:00:00Z",
    "end": "2026-11-23T00:00:00Z", "repos": ["github:acme/rocket", "acme/engine"],
    "tasks": [{"issue": "github:acme/engine#7", "points": 50, "title": "Speed up the engine"}],
}
COMMUNITY = {"repos": [{"platform": "github", "name": "acme/rocket"}, {"platform": "github", "name": "acme/engine"},
                       {"platform": "github", "name": "acme/other"}]}
NOTIFY = {"channels": {"team": {"kind": "webhook", "url": "https://hooks.example.org/cobot"}},
          "rules": [{"topics": ["campaign"], "channels": ["team"]}]}
MAINTAINER = "maintainer-max"


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def stamp(moment: datetime) -> str:
    """How messages write a moment of a UTC campaign."""
    return f"{moment:%Y-%m-%d %H:%M} (UTC)"


class Hackathon:
    """Issues, comments and PRs delivered at the clock's time, ticks run with it, the outbox read as it grows."""

    def __init__(self, harness: Harness, name: str = NAME) -> None:
        self.harness = harness
        self.name = name
        self.issues: dict[tuple[str, int], tuple[tuple[str, ...], str]] = {}
        self.prs: dict[tuple[str, int], tuple[str, str, str]] = {}
        self.seen: set[int] = set()
        self.delivery: int | None = None  # the last comment's

    @property
    def now(self) -> datetime:
        return self.harness.clock()

    def to(self, moment: datetime) -> None:
        seconds = (moment - self.now).total_seconds()
        assert seconds >= 0, "time only moves forward"
        self.harness.clock.advance(seconds)

    def runner(self, db: Database | None = None) -> CampaignRunner:
        return CampaignRunner(db or self.harness.db, self.harness.settings, self.harness.clock)

    def tick(self, runner: CampaignRunner | None = None, dry_run: bool = False) -> TickResult:
        return (runner or self.runner()).tick(self.name, dry_run=dry_run)

    def new(self) -> list[OutboxAction]:
        """The outbox rows added since the last look."""
        rows = [row for row in self.harness.rows(OutboxAction) if row.id not in self.seen]
        self.seen.update(row.id for row in rows)
        return rows

    def issue(self, number: int, *labels: str, repo: str = "acme/rocket") -> None:
        self.issues[(repo, number)] = (labels, iso(self.now))
        self.harness.deliver("issues", issue_event("opened", number, MAINTAINER, created=iso(self.now),
                                                   labels=labels, repo=repo))
        self.new()

    def say(self, who: str, number: int, body: str, repo: str = "acme/rocket") -> list[OutboxAction]:
        """A comment on an issue (a minute later than the last thing that happened); the rows it added."""
        labels, created = self.issues[(repo, number)]
        self.delivery = self.harness.deliver("issue_comment", comment_event(
            number, MAINTAINER, who, at=iso(self.now), body=body, created=created, labels=labels, repo=repo))
        self.harness.clock.advance(60)
        return self.new()

    def _pr(self, action: str, number: int, repo: str, **fields: Any) -> dict[str, Any]:
        author, body, created = self.prs[(repo, number)]
        payload = pr_event(action, number, author, created=created, updated=iso(self.now), repo=repo, **fields)
        payload["pull_request"]["body"] = body
        return payload

    def open_pr(self, number: int, author: str, body: str, repo: str = "acme/rocket") -> None:
        self.prs[(repo, number)] = (author, body, iso(self.now))
        self.harness.deliver("pull_request", self._pr("opened", number, repo))

    def merge(self, number: int, repo: str = "acme/rocket") -> dict[str, Any]:
        payload = self._pr("closed", number, repo, state="closed", closed=iso(self.now), merged=iso(self.now))
        self.harness.deliver("pull_request", payload)
        return payload

    def close(self, number: int, repo: str = "acme/rocket") -> None:
        self.harness.deliver("pull_request", self._pr("closed", number, repo, state="closed", closed=iso(self.now)))

    def submissions(self) -> list[tuple[str, str, str, str, int]]:
        """(task, PR, login, status, points) of each submission."""
        return [(f"{row.task_repo}#{row.task_number}", f"{row.pr_repo}#{row.pr_number}", row.login, row.status,
                 row.points) for row in self.harness.rows(CampaignSubmission)]

    def claims(self) -> list[tuple[str, str, str | None]]:
        """(task, login, release reason) of each claim."""
        return [(f"{row.repo}#{row.number}", row.login, row.release_reason)
                for row in self.harness.rows(HackathonClaim)]

    def view(self, participant: str | None = None) -> dict[str, Any]:
        campaign = self.harness.settings.campaign(self.name)
        with self.harness.db.session() as session:
            return hackathon.view(campaign, session.connection(), self.harness.settings, self.now, participant)


def kinds(rows: list[OutboxAction]) -> list[str]:
    return [row.kind for row in rows]


def reply(rows: list[OutboxAction]) -> str:
    [found] = [row for row in rows if row.kind == "comment"]
    return found.payload["body"]


def notices(rows: list[OutboxAction]) -> list[str]:
    return [row.key for row in rows if row.kind == "notify"]


@pytest.fixture
def hack(make_harness: Any) -> Hackathon:
    harness = make_harness(community=COMMUNITY, campaigns=[HACKATHON], notify=NOTIFY, welcome={"enabled": False})
    return Hackathon(harness)


def test_a_two_week_hackathon(hack: Hackathon) -> None:
    # A week before: the tasks are filed; nothing is due, claims wait for the start.
    for number, labels in ((1, ("hackathon", "easy")), (2, ("hackathon", "Medium")), (3, ("Hackathon", "hard")),
                           (4, ("hackathon",)), (5, ("bug",)), (6, ("hackathon", "hard"))):
        hack.issue(number, *labels)
    hack.issue(7, repo="acme/engine")  # a task by the task table, with no label
    assert hack.tick().actions == []
    early = hack.say("alice", 1, "/claim")
    assert kinds(early) == ["comment"]
    assert reply(early).startswith("@alice: **Autumn Hackathon** has not started yet")
    assert stamp(START) in reply(early)
    ordinary = hack.say("alice", 5, "/claim")  # not a task: the ordinary /claim
    assert kinds(ordinary) == ["assign", "comment"] and "this issue is yours now" in reply(ordinary)
    hack.open_pr(19, "gina", "Fixes #3")
    hack.to(START - timedelta(days=1))
    hack.merge(19)  # merged before the start: not a submission
    assert hack.submissions() == []

    # The start, announced once however often the scheduler ticks.
    hack.to(START)
    hack.tick()
    hack.tick()
    started = hack.new()
    assert notices(started) == [f"campaign:{NAME}:start@team"]
    [notice] = started
    assert notice.payload["topic"] == "campaign" and notice.channel == "team"
    assert notice.payload["title"] == "Autumn Hackathon has started"
    assert "(6 so far)" in notice.payload["body"] and "`hard` 40" in notice.payload["body"]
    assert f"until {stamp(END)}" in notice.payload["body"]

    # Claims: two at once at most, one holder per task, renewed by claiming again, given back with /unclaim.
    hack.to(START + timedelta(hours=1))
    alice_1, alice_2 = hack.now, hack.now + timedelta(minutes=1)
    claimed = hack.say("alice", 1, "/claim")
    assert kinds(claimed) == ["assign", "comment"] and claimed[0].payload["logins"] == ["alice"]
    assert reply(claimed).startswith(f"@alice: this task of **Autumn Hackathon** is yours until "
                                     f"{stamp(alice_1 + timedelta(hours=72))} (72 hours)")
    assert "remind you 24 hours before" in reply(claimed) and "says `Fixes #1`" in reply(claimed)
    assert kinds(hack.say("alice", 2, "/claim")) == ["assign", "comment"]
    limited = hack.say("alice", 3, "/claim")
    assert kinds(limited) == ["comment"]
    assert "one person may hold 2 tasks at once, and you hold #1, #2" in reply(limited)
    taken = hack.say("bob", 1, "/claim")
    assert kinds(taken) == ["comment"]
    assert f"claimed by @alice until {stamp(alice_1 + timedelta(hours=72))}" in reply(taken)
    bob_3 = hack.now
    assert kinds(hack.say("bob", 3, "/claim")) == ["assign", "comment"]
    assert kinds(hack.say("carol", 4, "/claim")) == ["assign", "comment"]
    given_back = hack.say("carol", 4, "/unclaim")
    assert kinds(given_back) == ["unassign", "comment"] and given_back[0].payload["logins"] == ["carol"]
    assert "you have given this task of **Autumn Hackathon** back" in reply(given_back)
    assert "you have not claimed this task" in reply(hack.say("carol", 4, "/unclaim"))
    hack.to(START + timedelta(hours=2))
    renewed = hack.say("alice", 1, "/claim")
    assert kinds(renewed) == ["comment"]
    assert f"your claim now runs until {stamp(START + timedelta(hours=74))}" in reply(renewed)

    # Alice's PR is a submission: her claim on #1 is released.
    hack.to(START + timedelta(days=1, hours=12))
    hack.open_pr(20, "alice", "Some work.\n\nFixes #1")
    assert hack.submissions() == [("acme/rocket#1", "acme/rocket#20", "alice", "submitted", 0)]
    assert ("acme/rocket#1", "alice", "submitted") in hack.claims()
    assert hack.tick().actions == []

    # A reminder a day before a claim runs out, once; a renewal arms a new one.
    hack.to(alice_2 + timedelta(hours=48, minutes=30))
    hack.tick()
    hack.tick()
    reminders = hack.new()
    assert [(row.kind, row.number) for row in reminders] == [("comment", "2"), ("comment", "3")]
    assert reminders[0].payload["body"].startswith("@alice, a reminder from **Autumn Hackathon**")
    assert stamp(alice_2 + timedelta(hours=72)) in reminders[0].payload["body"]
    assert reminders[1].payload["body"].startswith("@bob, a reminder")
    assert stamp(bob_3 + timedelta(hours=72)) in reminders[1].payload["body"]
    hack.to(START + timedelta(days=2, hours=12))
    assert f"runs until {stamp(hack.now + timedelta(hours=72))}" in reply(hack.say("bob", 3, "/claim"))

    # Alice's claim on #2 runs out: the issue says it is open again, and she is unassigned.
    hack.to(alice_2 + timedelta(hours=72, minutes=29))
    hack.tick()
    hack.tick()
    expired = hack.new()
    assert [(row.kind, row.number) for row in expired] == [("comment", "2"), ("unassign", "2")]
    assert expired[0].payload["body"] == (f"@alice's claim on this task of **Autumn Hackathon** ran out at "
                                          f"{stamp(alice_2 + timedelta(hours=72))}, so the task is open again: "
                                          "comment `/claim` to take it.")
    assert expired[1].payload["logins"] == ["alice"]
    assert ("acme/rocket#2", "alice", "expired") in hack.claims()

    # Merges in the window score by difficulty; a second PR for a done task scores nothing; redelivery is idempotent.
    hack.to(START + timedelta(days=4, hours=10))
    merged_20 = hack.merge(20)
    hack.harness.deliver("pull_request", merged_20)
    hack.open_pr(25, "frank", "fix #1 too")
    hack.merge(25)
    hack.to(START + timedelta(days=4, hours=12, minutes=30))
    hack.tick()  # bob's renewed claim on #3 is reminded again
    assert [(row.kind, row.number) for row in hack.new()] == [("comment", "3")]
    hack.to(START + timedelta(days=5, hours=9))
    hack.open_pr(21, "dave", "This resolves acme/engine#7.")
    hack.merge(21)
    hack.open_pr(24, "bob", "Closes #3")
    hack.to(START + timedelta(days=6, hours=8))
    hack.open_pr(22, "erin", "Fixed https://github.com/acme/rocket/issues/2")
    hack.merge(22)
    hack.open_pr(23, "henry", "fixes #6")
    hack.close(23)
    hack.open_pr(30, "ivan", "Fixes acme/rocket#6", repo="acme/other")  # a repo the hackathon does not cover
    hack.merge(30, repo="acme/other")
    assert hack.submissions() == [
        ("acme/rocket#1", "acme/rocket#20", "alice", "scored", 10),
        ("acme/rocket#1", "acme/rocket#25", "frank", "closed", 0),
        ("acme/engine#7", "acme/rocket#21", "dave", "scored", 50),
        ("acme/rocket#3", "acme/rocket#24", "bob", "submitted", 0),
        ("acme/rocket#2", "acme/rocket#22", "erin", "scored", 20),
        ("acme/rocket#6", "acme/rocket#23", "henry", "closed", 0),
    ]
    assert ("acme/rocket#3", "bob", "submitted") in hack.claims()

    # A restart that spans the halfway mark: the new process announces it, once.
    hack.to(HALFWAY - timedelta(hours=1))
    assert hack.tick().actions == []
    hack.to(HALFWAY + timedelta(hours=5))
    restarted = Database(hack.harness.settings.database.url)
    try:
        runner = hack.runner(restarted)
        hack.tick(runner)
        hack.tick(runner)
        hack.tick()
    finally:
        restarted.dispose()
    halfway = hack.new()
    assert notices(halfway) == [f"campaign:{NAME}:halfway@team"]
    body = halfway[0].payload["body"]
    assert halfway[0].payload["title"] == "Autumn Hackathon: halfway"
    assert "3 of 6 tasks are done" in body
    assert "1. **dave**: 50 points (1 task)\n2. **erin**: 20 points (1 task)\n3. **alice**: 10 points (1 task)" in body

    # The last days: more claims and a merge; a restart spans the start of the last day.
    hack.to(LAST_DAY - timedelta(hours=12))
    assert kinds(hack.say("carol", 6, "/claim")) == ["assign", "comment"]
    assert kinds(hack.say("alice", 4, "/claim")) == ["assign", "comment"]
    hack.open_pr(26, "alice", "Closes #4")
    hack.to(LAST_DAY - timedelta(hours=1))
    assert hack.tick().actions == []
    hack.to(LAST_DAY + timedelta(hours=6))
    restarted = Database(hack.harness.settings.database.url)
    try:
        hack.tick(hack.runner(restarted))
    finally:
        restarted.dispose()
    hack.tick()
    last_day = hack.new()
    assert notices(last_day) == [f"campaign:{NAME}:last_day@team"]
    assert f"ends at {stamp(END)}" in last_day[0].payload["body"]
    hack.to(LAST_DAY + timedelta(hours=12))
    hack.merge(26)
    hack.to(END - timedelta(hours=1))
    assert hack.tick().actions == []

    # Bob's PR is merged after the end, while the scheduler is down: late, recorded, not scored.
    hack.to(END + timedelta(hours=1))
    hack.merge(24)
    assert hack.submissions()[3] == ("acme/rocket#3", "acme/rocket#24", "bob", "late", 0)
    hack.to(END + timedelta(hours=2))
    hack.tick()
    hack.tick()
    ended = hack.new()
    assert notices(ended) == [f"campaign:{NAME}:end@team"]
    final = ended[0].payload["body"]
    assert ended[0].payload["title"] == "Autumn Hackathon: the final results"
    assert f"it ended at {stamp(END)}" in final and "4 of 6 tasks were done by 3 people" in final
    assert "1 pull request was merged too late to score" in final
    assert ("1. **dave**: 50 points (1 task)\n2. **alice**: 20 points (2 tasks)\n"
            "2. **erin**: 20 points (1 task)") in final
    [carols] = [row for row in hack.harness.rows(HackathonClaim) if row.login == "carol" and row.number == "6"]
    assert (carols.release_reason, carols.released_at) == ("ended", END)
    assert [row.key for row in hack.harness.rows(CampaignEvent) if ":" not in row.key] == [
        "start", "halfway", "last_day", "end"]

    # Afterwards: claims are refused, a redelivered merge changes nothing, the standings stay.
    over = hack.say("bob", 3, "/claim")
    assert kinds(over) == ["comment"] and f"is over (it ended at {stamp(END)})" in reply(over)
    before = hack.submissions()
    hack.harness.deliver("pull_request", merged_20)
    assert hack.submissions() == before and hack.new() == []
    campaign = hack.harness.settings.campaign(NAME)
    with hack.harness.db.session() as session:
        ranked = hackathon.standings(session.connection(), campaign)
    assert [(row.rank, row.person, row.points) for row in ranked] == [
        (1, "github:dave", 50), (2, "github:alice", 20), (2, "github:erin", 20)]

    shown = hack.view()
    assert (shown["status"], shown["kind"], shown["start"], shown["end"]) == (
        "ended", "hackathon", START.isoformat(), END.isoformat())
    assert [(task["repo"], task["number"], task["points"], task["state"], task["submitted_by"])
            for task in shown["tasks"]] == [
        ("acme/engine", "7", 50, "done", "dave"), ("acme/rocket", "1", 10, "done", "alice"),
        ("acme/rocket", "2", 20, "done", "erin"), ("acme/rocket", "3", 40, "submitted", "bob"),
        ("acme/rocket", "4", 10, "done", "alice"), ("acme/rocket", "6", 40, "open", None)]
    assert shown["tasks"][0]["title"] == "Item 7" and shown["tasks"][0]["pr"] == "acme/rocket#21"
    assert [row["pr"] for row in shown["late_merges"]] == ["acme/rocket#24"]
    json.dumps(shown)
    text = render_view(shown, "en")
    assert "A hackathon, ended: 2026-11-09 00:00+00:00 to 2026-11-23 00:00+00:00." in text
    assert "- acme/engine#7 Item 7 (50 points): done in acme/rocket#21 by @dave" in text
    assert "2. **alice**: 20 points (2 tasks)" in text and "Merged too late to score: acme/rocket#24 by @bob." in text
    assert "- acme/rocket#6 Item 6（40 分）：开放" in render_view(shown, "zh")
    alices = hack.view("alice")
    assert alices["participant"]["points"] == 20 and alices["participant"]["rank"] == 2
    assert [task["number"] for task in alices["tasks"]] == ["1", "2", "4"]
    assert [row["person"] for row in alices["standings"]] == ["github:alice"] and alices["late_merges"] == []
    assert hack.view("github:bob")["late_merges"][0]["login"] == "bob"


def test_a_scored_task_cannot_be_claimed_and_claims_name_the_holder(hack: Hackathon) -> None:
    hack.issue(1, "hackathon")
    hack.to(START + timedelta(hours=1))
    assert notices(hack.tick().actions and hack.new()) == [f"campaign:{NAME}:start@team"]
    hack.open_pr(8, "alice", "Resolves #1")
    hack.merge(8)
    done = hack.say("bob", 1, "/claim")
    assert kinds(done) == ["comment"]
    assert "this task of **Autumn Hackathon** is done already: #8 by @alice was merged" in reply(done)


def test_a_lapsed_claim_is_free_before_the_tick_and_a_replayed_claim_claims_nothing(hack: Hackathon) -> None:
    hack.issue(1, "hackathon")
    hack.issue(2, "hackathon")
    hack.to(START)
    hack.tick()
    bob_at = hack.now
    hack.say("bob", 1, "/claim")
    hack.new()
    hack.to(bob_at + timedelta(hours=72, minutes=5))  # bob's claim has run out; the scheduler has not ticked yet
    assert kinds(hack.say("carol", 1, "/claim")) == ["assign", "comment"]
    hack.tick()  # bob is unassigned; the issue does not say it is open, carol holds it
    assert [(row.kind, row.number, row.payload["logins"]) for row in hack.new()] == [("unassign", "1", ["bob"])]
    assert hack.claims() == [("acme/rocket#1", "bob", "expired"), ("acme/rocket#1", "carol", None)]
    hack.say("dave", 2, "/claim")
    claimed = hack.delivery
    assert claimed is not None
    hack.say("dave", 2, "/unclaim")
    hack.new()
    hack.harness.pipeline.replay(claimed)
    assert hack.new() == [] and hack.claims()[2:] == [("acme/rocket#2", "dave", "unclaimed")]


def test_closing_early_ends_it_at_once_with_the_final_results(hack: Hackathon) -> None:
    hack.issue(1, "hackathon", "medium")
    hack.issue(2, "hackathon")
    hack.to(START)
    hack.tick()
    hack.say("alice", 1, "/claim")
    hack.say("bob", 2, "/claim")
    hack.open_pr(3, "alice", "Fixes #1")
    hack.to(START + timedelta(days=1))
    hack.merge(3)
    hack.new()
    hack.to(START + timedelta(days=3))
    closed_at = hack.now
    result = hack.runner().close(NAME)
    assert [action.key for action in result.actions] == [f"campaign:{NAME}:end@team"]
    [notice] = hack.new()
    assert f"is over (closed early): it ended at {stamp(closed_at)}" in notice.payload["body"]
    assert "1. **alice**: 20 points (1 task)" in notice.payload["body"]
    assert ("acme/rocket#2", "bob", "ended") in hack.claims()
    for moment in (HALFWAY, LAST_DAY, END):  # the configured moments pass: nothing more to say
        hack.to(moment)
        assert hack.tick().actions == []
    hack.open_pr(4, "bob", "Fixes #2")
    hack.merge(4)
    assert hack.submissions()[-1] == ("acme/rocket#2", "acme/rocket#4", "bob", "late", 0)
    assert "is over" in reply(hack.say("carol", 2, "/claim"))
    assert hack.view()["closed_early"] is True


def test_a_dry_run_stores_nothing(hack: Hackathon) -> None:
    hack.issue(1, "hackathon")
    hack.to(START)
    claimed_at = hack.now
    hack.say("alice", 1, "/claim")
    hack.new()
    hack.to(claimed_at + timedelta(hours=73))
    dry = hack.tick(dry_run=True)
    assert dry.dry_run
    [claim] = hack.harness.rows(HackathonClaim)
    assert [(action.kind, action.key) for action in dry.actions] == [
        ("notify", f"campaign:{NAME}:start@team"), ("comment", f"campaign:{NAME}:expire:{claim.id}"),
        ("unassign", f"campaign:{NAME}:expire:{claim.id}:unassign")]
    assert "open again" in dry.actions[1].body
    assert hack.new() == [] and hack.harness.rows(CampaignEvent) == []
    assert hack.claims() == [("acme/rocket#1", "alice", None)]
    real = hack.tick()
    assert [action.key for action in real.actions] == [action.key for action in dry.actions]
    assert len(hack.new()) == 3 and hack.claims() == [("acme/rocket#1", "alice", "expired")]


REPO = ("github", "acme/rocket")


@pytest.mark.parametrize(("text", "platform", "expected"), [
    ("Fixes #12", "github", [("github", "acme/rocket", "12")]),
    ("fix #12", "github", [("github", "acme/rocket", "12")]),
    ("FIXED #12.", "github", [("github", "acme/rocket", "12")]),
    ("This closes #3 and resolves #4", "github", [("github", "acme/rocket", "3"), ("github", "acme/rocket", "4")]),
    ("Closed: #5", "github", [("github", "acme/rocket", "5")]),
    ("close #5, resolve #6, resolved #7", "github",
     [("github", "acme/rocket", "5"), ("github", "acme/rocket", "6"), ("github", "acme/rocket", "7")]),
    ("resolves acme/engine#9", "github", [("github", "acme/engine", "9")]),
    ("Resolves https://github.com/acme/engine/issues/10", "gitee", [("github", "acme/engine", "10")]),
    ("fixes https://gitee.com/kit101/drone-yml-test/issues/I4CYEO", "github",
     [("gitee", "kit101/drone-yml-test", "I4CYEO")]),
    ("Fixes #I4CYEO", "gitee", [("gitee", "acme/rocket", "I4CYEO")]),
    ("closes kit101/drone-yml-test#I4CF12", "gitee", [("gitee", "kit101/drone-yml-test", "I4CF12")]),
    ("Fixes #1, fixes #1", "github", [("github", "acme/rocket", "1")]),
    ("Fixes #12abc", "github", []),
    ("Fixes #I4CYEO", "github", []),
    ("hotfix #3", "github", []),
    ("prefixes #3", "github", []),
    ("see #12", "github", []),
    ("#12 fixes the build", "github", []),
    ("Fixes https://example.org/acme/rocket/issues/3", "github", []),
])
def test_references(text: str, platform: str, expected: list[tuple[str, str, str]]) -> None:
    assert hackathon_tasks.references(text, platform, "acme/rocket") == expected


def _settings(**changes: Any) -> HackathonSettings:
    return HackathonSettings.model_validate({**HACKATHON, **changes})


@pytest.mark.parametrize(("labels", "where", "expected"), [
    (("hackathon", "Hard", "easy"), ("github", "acme/rocket", "1"), 40),
    (("MEDIUM",), ("github", "acme/rocket", "1"), 20),
    (("hackathon",), ("github", "acme/rocket", "1"), 10),
    (("easy",), ("github", "Acme/Engine", "7"), 50),  # the task table's points win
    (("medium",), ("github", "acme/rocket", "9"), 20),  # listed without points: its labels
], ids=["highest label", "case", "default", "table", "table without points"])
def test_points_of(labels: tuple[str, ...], where: tuple[str, str, str], expected: int) -> None:
    campaign = _settings(tasks=[*HACKATHON["tasks"], {"issue": "github:acme/rocket#9"}], default_points=10)
    assert hackathon_tasks.points_of(campaign, labels, *where) == expected


def test_jobs_wake_the_scheduler_at_each_announcement_still_to_come() -> None:
    campaign = _settings()
    expected = [("start", START), ("halfway", HALFWAY), ("last_day", LAST_DAY), ("end", END)]
    assert [(job.id, job.when.moment) for job in hackathon.jobs(campaign, START - timedelta(days=1))] == [
        (f"campaign:{NAME}:{key}", moment) for key, moment in expected]
    assert [job.id for job in hackathon.jobs(campaign, HALFWAY)] == [
        f"campaign:{NAME}:last_day", f"campaign:{NAME}:end"]
    short = _settings(end="2026-11-10T00:00:00Z")  # a day long: no separate last day
    assert [job.id.rsplit(":", 1)[1] for job in hackathon.jobs(short, START - timedelta(days=1))] == [
        "start", "halfway", "end"]


def test_a_gitee_hackathon_claims_in_chinese_and_scores_a_merge_request(make_harness: Any) -> None:
    note = json.loads(shared_fixture("gitee", "note-1.json").read_text())  # kit101 comments on issue I4CF12
    merge = json.loads(shared_fixture("gitee", "merge_request-6.json").read_text())  # kit101's PR 9, merged
    campaign = {"name": "gitee-hack", "kind": "hackathon", "title": "码云黑客松", "start": "2021-10-01T00:00:00Z",
                "end": "2021-10-15T00:00:00Z", "repos": ["gitee:kit101/drone-yml-test"], "task_label": None,
                "tasks": [{"issue": "gitee:kit101/drone-yml-test#I4CF12"},
                          {"issue": "gitee:kit101/drone-yml-test#I4CYEO", "points": 30}]}
    harness = make_harness(community={"repos": [{"platform": "gitee", "name": "kit101/drone-yml-test",
                                                 "language": "zh"}]},
                           campaigns=[campaign], welcome={"enabled": False})
    note["comment"]["body"] = "/claim"
    harness.deliver("Note Hook", note, platform="gitee")
    assign, answer = harness.rows(OutboxAction)
    assert (assign.kind, assign.payload["logins"], assign.number) == ("assign", ["kit101"], "I4CF12")
    assert answer.payload["body"].startswith("@kit101：**码云黑客松** 的这个任务归你了")
    merge["pull_request"]["body"] = "Resolves https://gitee.com/kit101/drone-yml-test/issues/I4CYEO"
    harness.deliver("Merge Request Hook", merge, platform="gitee")
    [submission] = harness.rows(CampaignSubmission)
    assert (submission.task_number, submission.pr_number, submission.person, submission.status,
            submission.points) == ("I4CYEO", "9", "gitee:kit101", "scored", 30)
    assert submission.merged_at == datetime(2021, 10, 8, 9, 32, 30, tzinfo=UTC)
