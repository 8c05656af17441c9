"""Training camps in simulated time, on a real store through the real pipeline: a four-week camp with a capacity
and a waiting list, `/campaign join|leave` comments, milestones met as people work, weekly nudges to those
behind, graduation with a badge, the end, and a restart in the middle that repeats nothing."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from bot.messages.render import render
from bot.settings.campaigns import CampSettings
from bot.store.campaign_tables import CampaignEvent, CampMilestoneMet, CampParticipant
from bot.store.community_tables import BadgeAward
from bot.store.db import Database
from bot.store.tables import OutboxAction
from campaigns import camp, camp_milestones
from campaigns.base import At, Weekly
from campaigns.runner import CampaignRunner
from tests.payloads import comment_event, issue_event, pr_event, review_event

NAME = "winter-camp"
HOME = 100  # the home issue, opened by a maintainer
MAINTAINER = "maintainer-max"
COMMUNITY = {"repos": [{"platform": "github", "name": "acme/rocket"}, {"platform": "github", "name": "acme/other"}],
             "maintainers": [f"github:{MAINTAINER}", f"gitee:{MAINTAINER}"]}
NOTIFY = {"channels": {"team": {"kind": "webhook", "url": "https://hooks.example.org/cobot"}},
          "rules": [{"topics": ["campaign", "badge"], "channels": ["team"]}]}
START, END = datetime(2026, 11, 2, 12, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC)
DUE = {"first-pr": datetime(2026, 11, 10, tzinfo=UTC), "merged-review": datetime(2026, 11, 20, tzinfo=UTC),
       "helper": datetime(2026, 11, 27, tzinfo=UTC)}
CAMP = {
    "name": NAME, "kind": "training_camp", "title": "Winter Camp", "start": START.isoformat(),
    "end": END.isoformat(), "capacity": 3, "repos": ["acme/rocket"], "home": f"github:acme/rocket#{HOME}",
    "participants": ["github:alice", "github:bob", "github:carol", "github:dave"],
    "nudge_weekday": "monday", "nudge_time": "09:00",
    "milestones": [
        {"id": "first-pr", "title": "Open a pull request", "due": DUE["first-pr"].isoformat(),
         "criteria": [{"event": "pr.opened"}]},
        {"id": "merged-review", "title": "Get one merged, review one", "due": DUE["merged-review"].isoformat(),
         "criteria": [{"event": "pr.merged"}, {"event": "review.submitted"}]},
        {"id": "helper", "title": "Answer an issue", "due": DUE["helper"].isoformat(),
         "criteria": [{"event": "issue.answered", "count": 1}]},
    ],
}
INVITED = {"name": "invited-only", "kind": "training_camp", "start": START.isoformat(), "end": END.isoformat(),
           "open_enrolment": False, "milestones": [{"id": "one", "due": END.isoformat(),
                                                    "criteria": [{"event": "pr.opened"}]}]}


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class Camp:
    """The camp's world: the clock moved forward, people acting through deliveries, ticks, and what they added."""

    def __init__(self, harness, clock) -> None:
        self.harness = harness
        self.clock = clock
        self.runner = CampaignRunner(harness.db, harness.settings, clock)
        self.seen = {row.id for row in harness.rows(OutboxAction)}
        self.comment_ids = itertools.count(1)
        self.opened: dict[int, datetime] = {}

    @property
    def settings(self) -> CampSettings:
        found = self.harness.settings.campaign(NAME)
        assert isinstance(found, CampSettings)
        return found

    def at(self, moment: datetime) -> None:
        assert moment >= self.clock(), "time only moves forward"
        self.clock.advance((moment - self.clock()).total_seconds())

    def new(self) -> list[OutboxAction]:
        """The outbox rows added since the last look."""
        rows = [row for row in self.harness.rows(OutboxAction) if row.id not in self.seen]
        self.seen |= {row.id for row in rows}
        return rows

    def tick(self, runner: CampaignRunner | None = None) -> list[OutboxAction]:
        (runner or self.runner).tick(NAME)
        return self.new()

    def open_pr(self, number: int, author: str) -> None:
        self.opened[number] = self.clock()
        self.harness.deliver("pull_request", pr_event("opened", number, author, created=iso(self.clock())))

    def merge(self, number: int, author: str) -> None:
        now = iso(self.clock())
        self.harness.deliver("pull_request", pr_event("closed", number, author, sender=MAINTAINER,
                                                      created=iso(self.opened[number]), updated=now,
                                                      state="closed", closed=now, merged=now))

    def review(self, number: int, author: str, reviewer: str) -> None:
        self.harness.deliver("pull_request_review", review_event(number, author, reviewer, at=iso(self.clock()),
                                                                 created=iso(self.opened[number])))

    def open_issue(self, number: int, author: str, repo: str = "acme/rocket") -> None:
        self.opened[number] = self.clock()
        self.harness.deliver("issues", issue_event("opened", number, author, created=iso(self.clock()), repo=repo))

    def say(self, who: str, body: str, number: int = HOME, author: str = MAINTAINER, on_pr: bool = False,
            repo: str = "acme/rocket") -> list[OutboxAction]:
        """A comment a minute after the clock's time (the clock moves with it); the outbox rows it added."""
        self.clock.advance(60)
        created = iso(self.opened.get(number, datetime(2026, 11, 1, 10, tzinfo=UTC)))
        self.harness.deliver("issue_comment", comment_event(number, author, who, at=iso(self.clock()), body=body,
                                                            on_pr=on_pr, created=created, repo=repo,
                                                            comment_id=next(self.comment_ids)))
        return self.new()

    def participants(self) -> dict[str, tuple[str, str]]:
        return {row.login: (row.status, row.source) for row in self.harness.rows(CampParticipant,
                                                                                  CampParticipant.campaign == NAME)}

    def met(self) -> dict[tuple[str, str], datetime]:
        return {(row.person, row.milestone): row.met_at for row in self.harness.rows(CampMilestoneMet)}

    def progress(self, login: str) -> list[camp_milestones.MilestoneProgress]:
        with self.harness.db.reading() as conn:
            return camp.progress(conn, self.settings, f"github:{login}", self.clock())

    def view(self, participant: str | None = None) -> dict:
        with self.harness.db.reading() as conn:
            return camp.view(self.settings, conn, self.harness.settings, self.clock(), participant)


@pytest.fixture
def world(make_harness, clock) -> Camp:
    assert clock() == START - timedelta(hours=3)  # Monday 09:00, three hours before the camp starts
    return Camp(make_harness(community=COMMUNITY, campaigns=[CAMP, INVITED], notify=NOTIFY,
                             welcome={"enabled": False}), clock)


def reply(rows: list[OutboxAction], number: int = HOME) -> str:
    [row] = rows
    assert row.kind == "comment" and (row.repo, row.number) == ("acme/rocket", str(number))
    return row.payload["body"]


def notices(rows: list[OutboxAction]) -> dict[str, OutboxAction]:
    assert all(row.kind == "notify" and row.channel == "team" for row in rows)
    return {row.key: row for row in rows}


def criteria(milestone: camp_milestones.MilestoneProgress) -> list[tuple[str, int, int]]:
    return [(c.event, c.reached, c.needed) for c in milestone.criteria]


def test_jobs_are_the_moments_to_come_and_the_weekly_nudge(world):
    settings = world.settings
    prefix = f"campaign:{NAME}"
    nudge = (f"{prefix}:nudge", Weekly("monday", "09:00", "UTC"))
    before = {spec.id: spec.when for spec in camp.jobs(settings, world.clock())}
    assert before == {f"{prefix}:start": At(START), **{f"{prefix}:due:{key}": At(due) for key, due in DUE.items()},
                      f"{prefix}:end": At(END), nudge[0]: nudge[1]}
    midway = DUE["first-pr"] + timedelta(days=1)
    assert {spec.id for spec in camp.jobs(settings, midway)} == {
        f"{prefix}:due:merged-review", f"{prefix}:due:helper", f"{prefix}:end", nudge[0]}
    assert camp.jobs(settings, END) == []
    assert {spec.id for spec in world.runner.jobs()} >= set(before)


def test_a_four_week_camp(world):
    # Before the start: nothing happens, and a PR opened now will not count.
    assert world.tick() == [] and world.participants() == {}
    world.at(START - timedelta(hours=2))
    world.open_pr(50, "bob")

    # The start: three seats for four configured participants, announced once.
    world.at(START)
    start = notices(world.tick())
    assert list(start) == [f"campaign:{NAME}:start@team"]
    body = start[f"campaign:{NAME}:start@team"].payload["body"]
    assert "Participants: @alice, @bob, @carol" in body and "Waiting list: @dave" in body
    assert "**Open a pull request**, due 2026-11-10 00:00 (UTC): pull requests opened: 1" in body
    assert start[f"campaign:{NAME}:start@team"].payload["title"] == "Training camp started: Winter Camp"
    assert world.tick() == []
    assert world.participants() == {"alice": ("enrolled", "config"), "bob": ("enrolled", "config"),
                                    "carol": ("enrolled", "config"), "dave": ("waiting", "config")}

    # Joining and leaving by comment: the waiting list, a seat handed on, a second try, unknown and closed camps.
    assert "number 2 on its waiting list" in reply(world.say("erin", f"/campaign join {NAME}"))
    left = reply(world.say("carol", f"/campaign leave {NAME}"))
    assert "you have left **Winter Camp**. @dave: a seat has freed up, you are now enrolled." in left
    assert "> `/campaign leave winter-camp`" in left
    again = reply(world.say("erin", f"/campaign join {NAME}"))
    assert "already on the waiting list of **Winter Camp** (number 1)" in again
    assert "number 2 on its waiting list" in reply(world.say("carol", f"/campaign join {NAME}"))
    # (on his own issue: a command is a comment, and one on someone else's issue would count as an answer)
    mine = world.say("dave", f"/campaign join {NAME}", number=HOME + 1, author="dave")
    assert "already enrolled in **Winter Camp**" in reply(mine, HOME + 1)
    assert "there is no training camp `summer-camp`" in reply(world.say("frank", "/campaign join summer-camp"))
    assert "not open for enrolment" in reply(world.say("frank", "/campaign join invited-only"))
    assert "you are not taking part in **Winter Camp**" in reply(world.say("gina", f"/campaign leave {NAME}"))
    assert "you have left the waiting list of **Winter Camp**." in reply(world.say("carol", f"/campaign leave {NAME}"))
    assert world.participants() == {"alice": ("enrolled", "config"), "bob": ("enrolled", "config"),
                                    "carol": ("left", "command"), "dave": ("enrolled", "config"),
                                    "erin": ("waiting", "command")}

    # Week one: everyone opens a PR; a tick sees the first milestone met.
    world.at(datetime(2026, 11, 3, 10, tzinfo=UTC))
    world.open_pr(1, "alice")
    world.at(datetime(2026, 11, 4, 10, tzinfo=UTC))
    world.open_pr(2, "bob")
    world.at(datetime(2026, 11, 5, 10, tzinfo=UTC))
    world.open_pr(3, "dave")
    first_seen = datetime(2026, 11, 5, 12, tzinfo=UTC)
    world.at(first_seen)
    assert world.tick() == []
    assert world.met() == {(f"github:{who}", "first-pr"): first_seen for who in ("alice", "bob", "dave")}

    # Monday of week two: the first milestone is due within the week, and everyone met it: no nudge.
    world.at(datetime(2026, 11, 9, 9, tzinfo=UTC))
    assert world.tick() == []

    # Week two: alice's PR is reviewed by bob and merged; alice reviews bob's.
    world.at(datetime(2026, 11, 10, 10, tzinfo=UTC))
    world.review(1, "alice", "bob")
    world.clock.advance(3600)
    world.merge(1, "alice")
    world.at(datetime(2026, 11, 11, 10, tzinfo=UTC))
    world.review(2, "bob", "alice")
    second_seen = datetime(2026, 11, 11, 12, tzinfo=UTC)
    world.at(second_seen)
    assert world.tick() == []
    assert world.met()[("github:alice", "merged-review")] == second_seen
    bob = world.progress("bob")
    assert [(m.id, m.met_at) for m in bob] == [("first-pr", first_seen), ("merged-review", None), ("helper", None)]
    assert [criteria(m) for m in bob] == [[("pr.opened", 1, 1)], [("pr.merged", 0, 1), ("review.submitted", 1, 1)],
                                          [("issue.answered", 0, 1)]]
    shown = world.view("bob")
    assert (shown["name"], shown["kind"], shown["status"], shown["capacity"]) == (NAME, "training_camp", "running", 3)
    assert (shown["start"], shown["end"]) == (START.isoformat(), END.isoformat())
    assert [(m["id"], m["due"]) for m in shown["milestones"]] == [(key, due.isoformat()) for key, due in DUE.items()]
    # Due within a week of now (Nov 11): only the first milestone, which all have met.
    assert [(p["login"], p["status"], p["milestones_met"], p["behind"]) for p in shown["participants"]] == [
        ("alice", "enrolled", "2/3", False), ("bob", "enrolled", "1/3", False), ("dave", "enrolled", "1/3", False),
        ("carol", "left", "0/3", False)]
    assert [(p["position"], p["login"]) for p in shown["waiting"]] == [(1, "erin")]
    assert shown["participant"]["progress"] == [m.as_dict() for m in bob]
    assert world.view("dave")["participant"]["login"] == "dave"
    with pytest.raises(camp.UnknownParticipant):
        world.view("github:zoe")

    # Monday of week three: the second milestone is due within the week; bob and dave have not met it.
    nudged_at = datetime(2026, 11, 16, 9, tzinfo=UTC)
    world.at(nudged_at)
    rows = world.tick()
    [home] = [row for row in rows if row.kind == "comment"]
    assert (home.repo, home.number, home.key) == ("acme/rocket", str(HOME), f"campaign:{NAME}:nudge:2026-11-16:home")
    assert "@bob: **Get one merged, review one** (due 2026-11-20 00:00 (UTC); still to do: pull requests merged 0/1)" \
        in home.payload["body"]
    assert "@dave: **Get one merged, review one**" in home.payload["body"]
    assert "reviews 0/1" in home.payload["body"] and "@alice" not in home.payload["body"]
    [summary] = notices([row for row in rows if row.kind == "notify"]).values()
    assert summary.payload["title"] == "Winter Camp: 2 behind this week"
    assert world.tick() == []
    world.at(nudged_at + timedelta(hours=6))
    assert world.tick() == []

    # A restart: another database connection and another runner decide nothing again.
    events = len(world.harness.rows(CampaignEvent))
    reopened = Database(world.harness.settings.database.url)
    try:
        assert world.tick(CampaignRunner(reopened, world.harness.settings, world.clock)) == []
    finally:
        reopened.dispose()
    assert len(world.harness.rows(CampaignEvent)) == events

    # Week three: bob and dave catch up; alice answers someone's issue (her own and a PR do not count).
    world.at(datetime(2026, 11, 17, 10, tzinfo=UTC))
    world.review(3, "dave", "bob")
    world.review(2, "bob", "dave")
    world.clock.advance(3600)
    world.merge(2, "bob")
    world.at(datetime(2026, 11, 18, 10, tzinfo=UTC))
    world.merge(3, "dave")
    world.open_issue(10, MAINTAINER)
    world.open_issue(11, "alice")
    world.say("alice", "Any logs?", number=11, author="alice")
    world.say("alice", "Looks good", number=1, author="alice", on_pr=True)
    assert criteria(world.progress("alice")[2]) == [("issue.answered", 0, 1)]
    world.say("alice", "Try a clean build", number=10)
    graduated_at = datetime(2026, 11, 18, 13, tzinfo=UTC)
    world.at(graduated_at)
    news = notices(world.tick())
    badge, graduation = "badge:camp-graduate:github:alice:notify@team", f"campaign:{NAME}:graduated:github:alice@team"
    assert set(news) == {badge, graduation}
    assert "@alice has graduated from **Winter Camp**" in news[graduation].payload["body"]
    assert "the **Training camp graduate** badge" in news[graduation].payload["body"]
    assert "@alice has earned the **Training camp graduate** badge" in news[badge].payload["body"]
    assert [(a.badge, a.person, a.awarded_by, a.awarded_at) for a in world.harness.rows(BadgeAward)] == [
        ("camp-graduate", "github:alice", f"campaign:{NAME}", graduated_at)]
    assert world.tick() == []
    assert world.met()[("github:bob", "merged-review")] == graduated_at
    assert world.met()[("github:dave", "merged-review")] == graduated_at

    world.at(datetime(2026, 11, 19, 10, tzinfo=UTC))
    world.say("bob", "Same here: a clean build fixed it", number=10)
    world.open_issue(7, MAINTAINER, repo="acme/other")
    world.say("dave", "I can look", number=7, repo="acme/other")  # not one of the camp's repos
    world.at(datetime(2026, 11, 19, 12, tzinfo=UTC))
    assert set(notices(world.tick())) == {"badge:camp-graduate:github:bob:notify@team",
                                          f"campaign:{NAME}:graduated:github:bob@team"}
    assert criteria(world.progress("dave")[2]) == [("issue.answered", 0, 1)]

    # Monday of week four: only dave is behind.
    world.at(datetime(2026, 11, 23, 9, tzinfo=UTC))
    rows = world.tick()
    [home] = [row for row in rows if row.kind == "comment"]
    assert "@dave: **Answer an issue** (due 2026-11-27 00:00 (UTC); still to do: answers on others' issues 0/1)" \
        in home.payload["body"]
    assert "@bob" not in home.payload["body"] and "@alice" not in home.payload["body"]
    assert [row.kind for row in rows] == ["comment", "notify"]

    # The end: who graduated and who did not, once; late work and late joiners change nothing.
    world.at(END)
    [end] = notices(world.tick()).values()
    assert end.key == f"campaign:{NAME}:end@team" and end.payload["title"] == "Training camp ended: Winter Camp"
    assert "Graduated (2): @alice, @bob." in end.payload["body"]
    assert "Not graduated: @dave (2/3 milestones)" in end.payload["body"]
    assert world.tick() == []
    world.say("dave", "Late, but here is the fix", number=10)
    world.clock.advance(3600)
    assert world.tick() == []
    assert criteria(world.progress("dave")[2]) == [("issue.answered", 0, 1)]
    assert "**Winter Camp** has ended." in reply(world.say("erin", f"/campaign join {NAME}"))
    final = world.view()
    assert final["status"] == "ended"
    assert [(p["login"], p["status"], p["milestones_met"], p["graduated_at"]) for p in final["participants"]] == [
        ("alice", "graduated", "3/3", graduated_at.isoformat()),
        ("bob", "graduated", "3/3", datetime(2026, 11, 19, 12, tzinfo=UTC).isoformat()),
        ("dave", "enrolled", "2/3", None), ("carol", "left", "0/3", None)]
    assert [row.key for row in world.harness.rows(CampaignEvent, CampaignEvent.campaign == NAME)] == [
        "start", "nudge:2026-11-09", "nudge:2026-11-16", "graduated:github:alice", "graduated:github:bob",
        "nudge:2026-11-23", "end"]


def test_the_view_renders_in_both_languages(world):
    world.at(START)
    world.tick()
    view = world.view("alice")
    english, chinese = render("campaigns/camp_view", "en", view=view), render("campaigns/camp_view", "zh", view=view)
    assert "- alice (github): enrolled, milestones met 0/3" in english and "1. dave (github)" in english
    assert "- alice（github）：在读，完成里程碑 0/3" in chinese and "1. dave（github）" in chinese
    assert "not met (pull requests opened 0/1)" in english


def test_seats_are_kept_for_configured_participants_and_a_camp_closed_early_ends_at_once(world):
    # Before the start, the four configured participants hold the three seats: a joiner waits, ahead of dave.
    assert "you are number 1 on its waiting list" in reply(world.say("zed", f"/campaign join {NAME}"))
    world.at(START)
    world.tick()
    assert [(p["position"], p["login"]) for p in world.view()["waiting"]] == [(1, "zed"), (2, "dave")]

    world.at(START + timedelta(days=1))
    world.open_pr(1, "alice")
    world.clock.advance(3600)
    world.new()
    world.runner.close(NAME)
    [end] = notices(world.new()).values()
    assert end.key == f"campaign:{NAME}:end@team" and "Nobody graduated this time." in end.payload["body"]
    assert "Not graduated: @alice (1/3 milestones), @bob (0/3 milestones), @carol (0/3 milestones)" \
        in end.payload["body"]
    assert world.view()["status"] == "ended" and world.view()["end"] == world.clock().isoformat()
    world.at(datetime(2026, 11, 9, 9, tzinfo=UTC))
    assert world.tick() == []
