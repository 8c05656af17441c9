"""Badges earned by their rules, through the real pipeline and store (SQLite and PostgreSQL): each built-in rule at
the event that earns it and not before, custom rules, announcements once, redelivery, replay, quiet imports,
`cobot badges recompute` over history stored with badges off, and `cobot badges list|award|revoke`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli.main import main
from bot.config import ConfigError, settings_from_mapping
from bot.events import Action
from bot.outbox.storing import store_actions
from bot.pipeline.dispatch import routes_for
from bot.routing.context import HandlerContext
from bot.store.community_tables import Activity, BadgeAward
from bot.store.deferred import Deferred
from bot.store.tables import OutboxAction
from tests.payloads import comment_event, issue_event, pr_event, repository, review_event, user

MAINTAINER = "maintainer-max"
NOTIFY = {"channels": {"team": {"kind": "webhook", "url": "https://hooks.example.org/cobot"}},
          "rules": [{"topics": ["badge"], "channels": ["team"]}]}
COMMUNITY = {"name": "Rocket", "maintainers": [f"github:{MAINTAINER}", f"gitee:{MAINTAINER}"],
             "repos": [{"platform": "github", "name": "acme/rocket"},
                       {"platform": "github", "name": "acme/docs", "language": "zh"},
                       {"platform": "github", "name": "acme/engine"}, {"platform": "github", "name": "acme/other"}]}
MONDAY = datetime(2026, 11, 2, tzinfo=UTC)  # ISO week 45 of 2026


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def day(number: int, hour: int = 10, minute: int = 0) -> datetime:
    """Day `number` of November 2026 (32 is December 2nd), at the hour."""
    return datetime(2026, 11, 1, hour, minute, tzinfo=UTC) + timedelta(days=number - 1)


def push_event(pusher: str, at: datetime, repo: str = "acme/rocket") -> dict[str, Any]:
    return {"ref": "refs/heads/main", "before": "a" * 40, "after": "b" * 40, "created": False, "deleted": False,
            "commits": [{"id": "b" * 40, "message": "Fix the build"}], "head_commit": {"timestamp": stamp(at)},
            "repository": repository(repo), "sender": user(pusher)}


def merged(number: int, author: str, at: datetime, repo: str = "acme/rocket", labels: tuple[str, ...] = (),
           body: str = "") -> dict[str, Any]:
    payload = pr_event("closed", number, author, sender=MAINTAINER, created=stamp(at - timedelta(hours=2)),
                       updated=stamp(at), state="closed", closed=stamp(at), merged=stamp(at), repo=repo, labels=labels)
    payload["pull_request"]["body"] = body
    return payload


def labelled(payload: dict[str, Any], label: str) -> dict[str, Any]:
    """An `issues`/`pull_request` delivery with action `labeled`: the label added, by a maintainer."""
    return {**payload, "label": {"name": label}, "sender": user(MAINTAINER)}


class World:
    """Deliveries one after another, and what they added: badges held, and the outbox rows about badges."""

    def __init__(self, harness: Any) -> None:
        self.harness = harness
        self.seen: set[int] = set()

    def deliver(self, event: str, payload: dict[str, Any], key: str | None = None) -> list[OutboxAction]:
        self.harness.deliver(event, payload, key)
        return self.new()

    def new(self) -> list[OutboxAction]:
        """The outbox rows about badges added since the last look."""
        rows = [row for row in self.harness.rows(OutboxAction)
                if row.key.startswith("badge:") and row.id not in self.seen]
        self.seen |= {row.id for row in rows}
        return rows

    def awards(self, login: str | None = None) -> list[BadgeAward]:
        where = [BadgeAward.person == f"github:{login}"] if login else []
        return self.harness.rows(BadgeAward, *where, order=BadgeAward.id)

    def held(self, login: str) -> list[str]:
        return [award.badge for award in self.awards(login)]


def said(rows: list[OutboxAction]) -> list[tuple[str, str, str | None]]:
    """(kind, key, number) of each row."""
    return [(row.kind, row.key, row.number) for row in rows]


def announced(badge: str, person: str, number: str) -> list[tuple[str, str, str | None]]:
    """The two rows of an award in an issue or PR: the notification (routed to `team`) and the comment there."""
    return [("notify", f"badge:{badge}:{person}:notify@team", number), ("comment", f"badge:{badge}:{person}:comment",
                                                                         number)]


def comment_of(rows: list[OutboxAction]) -> str:
    [comment] = [row for row in rows if row.kind == "comment"]
    return comment.payload["body"]


@pytest.fixture
def world(make_harness) -> World:
    return World(make_harness(community=COMMUNITY, notify=NOTIFY, badges={"auto_award": True}))


# -- the built-in rules ------------------------------------------------------------------------------------------


def test_first_issue_first_merge_and_first_review_each_at_the_event_that_earns_them(world):
    opened = day(3)
    rows = world.deliver("issues", issue_event("opened", 1, "alice", created=stamp(opened)))
    assert said(rows) == announced("first-issue", "github:alice", "1")
    assert comment_of(rows) == ("Congratulations @alice! You have earned the **First issue** badge of Rocket: "
                                "Opened a first issue 🏅\n\n> Open an issue in Rocket.")
    [notice] = [row for row in rows if row.kind == "notify"]
    assert notice.channel == "team" and "@alice has earned the **First issue** badge" in notice.payload["body"]
    [award] = world.awards("alice")
    assert (award.badge, award.login, award.platform, award.awarded_by, award.awarded_at, award.repo,
            award.number) == ("first-issue", "alice", "github", "rule", opened, "acme/rocket", "1")
    assert len(award.uid) == 32 and int(award.uid, 16) >= 0 and award.revoked_at is None

    # Her PR opened: nothing yet. Merged by a maintainer: hers, not the maintainer's.
    assert world.deliver("pull_request", pr_event("opened", 2, "alice", created=stamp(day(4)))) == []
    assert world.held("alice") == ["first-issue"]
    rows = world.deliver("pull_request", merged(2, "alice", day(5)))
    assert said(rows) == announced("first-pr-merged", "github:alice", "2")
    [comment] = [row for row in rows if row.kind == "comment"]
    assert comment.payload["is_pr"] is True and comment.repo == "acme/rocket"
    assert world.held("alice") == ["first-issue", "first-pr-merged"] and world.held(MAINTAINER) == []

    rows = world.deliver("pull_request_review", review_event(2, "alice", "bob", at=stamp(day(5, 12))))
    assert said(rows) == announced("first-review", "github:bob", "2")
    assert "> Review a pull request in Rocket." in comment_of(rows)
    assert world.held("bob") == ["first-review"]
    assert [award.awarded_at for award in world.awards()] == [opened, day(5), day(5, 12)]


def test_the_tenth_merged_pr_earns_merged_10_and_not_the_ninth(world):
    for number in range(1, 10):
        world.deliver("pull_request", merged(number, "alice", day(3, minute=number)))
    assert world.held("alice") == ["first-pr-merged"]
    world.new()
    rows = world.deliver("pull_request", merged(10, "alice", day(3, minute=10)))
    assert said(rows) == announced("merged-10", "github:alice", "10")
    assert "**10 PRs merged**" in comment_of(rows) and "> Have 10 pull requests merged in Rocket." in comment_of(rows)
    assert [(a.badge, a.awarded_at, a.number) for a in world.awards("alice")] == [
        ("first-pr-merged", day(3, minute=1), "1"), ("merged-10", day(3, minute=10), "10")]


def test_a_hundred_merges_in_one_batch_earn_each_count_at_its_own_pr(world):
    for number in range(1, 101):
        world.harness.store("pull_request", merged(number, "alice", day(3) + timedelta(minutes=number)))
    world.harness.process()
    expected = {"first-pr-merged": 1, "merged-10": 10, "merged-50": 50, "merged-100": 100}
    assert [(a.badge, a.awarded_at, a.number) for a in world.awards("alice")] == [
        (badge, day(3) + timedelta(minutes=number), str(number)) for badge, number in expected.items()]
    rows = world.new()
    assert sorted(said(rows)) == sorted(row for badge, number in expected.items()
                                        for row in announced(badge, "github:alice", str(number)))


def test_the_third_bug_report_earns_bug_hunter_even_when_labelled_later(world):
    world.deliver("issues", issue_event("opened", 1, "alice", created=stamp(day(3)), labels=("bug",)))
    assert world.held("alice") == ["first-issue"]
    world.deliver("issues", issue_event("opened", 2, "alice", created=stamp(day(4))))
    world.deliver("issues", issue_event("opened", 3, "alice", created=stamp(day(5)), labels=("Bug",)))
    world.deliver("issues", issue_event("opened", 4, "alice", created=stamp(day(5, 11)), labels=("bugfix",)))
    assert world.held("alice") == ["first-issue"]  # two bug reports of three (`bugfix` is another label)
    world.new()
    # A maintainer labels the second: the third bug report, hers; announced on that issue.
    labelling = labelled(issue_event("labeled", 2, "alice", created=stamp(day(4)), updated=stamp(day(6)),
                                     labels=("bug",)), "bug")
    rows = world.deliver("issues", labelling)
    assert said(rows) == announced("bug-hunter", "github:alice", "2")
    assert "> Open 3 issues labelled `bug` in Rocket." in comment_of(rows)
    assert [(a.badge, a.awarded_at) for a in world.awards("alice")][-1] == ("bug-hunter", day(6))
    assert world.held(MAINTAINER) == []


def test_docs_hero_counts_merged_prs_with_a_docs_label_and_speaks_the_repos_language(world):
    world.deliver("pull_request", merged(1, "alice", day(3), repo="acme/docs", labels=("documentation",)))
    world.deliver("pull_request", merged(2, "alice", day(4), repo="acme/docs", labels=("文档",)))
    world.deliver("pull_request", pr_event("opened", 3, "alice", created=stamp(day(4, 12)), repo="acme/docs",
                                           labels=("docs",)))  # labelled, not merged
    world.deliver("pull_request", merged(4, "alice", day(5), repo="acme/docs"))
    assert world.held("alice") == ["first-pr-merged"]
    world.new()
    labelling = labelled(merged(4, "alice", day(5), repo="acme/docs", labels=("Docs",)), "Docs")
    labelling["action"] = "labeled"
    labelling["pull_request"]["updated_at"] = stamp(day(6))
    rows = world.deliver("pull_request", labelling)
    assert said(rows) == announced("docs-hero", "github:alice", "4")
    assert comment_of(rows) == ("恭喜 @alice！你获得了 Rocket 的 **文档英雄** 徽章：改进了项目文档 🏅\n\n"
                                "> 在 Rocket 中有 3 个带有 `documentation`、`docs` 或 `文档` 标签的 "
                                "Pull Request 被合并。")


def test_a_scored_hackathon_task_earns_hackathon_finisher(make_harness):
    hackathon = {"name": "autumn-hack", "kind": "hackathon", "title": "Autumn Hackathon",
                 "start": "2026-11-09T00:00:00Z", "end": "2026-11-23T00:00:00Z",
                 "repos": ["github:acme/rocket", "acme/engine"],
                 "tasks": [{"issue": "github:acme/engine#7", "points": 50}]}
    world = World(make_harness(community=COMMUNITY, notify=NOTIFY, badges={"auto_award": True},
                               campaigns=[hackathon]))
    world.deliver("pull_request", merged(21, "dave", day(11), body="Fixes acme/engine#7"))
    world.deliver("pull_request", merged(22, "erin", day(11, 12), body="Tidy the README"))
    assert world.held("dave") == ["first-pr-merged", "hackathon-finisher"]
    assert world.held("erin") == ["first-pr-merged"]
    finisher = world.awards("dave")[1]
    assert (finisher.awarded_at, finisher.repo, finisher.number) == (day(11), "acme/rocket", "21")


def test_a_streak_needs_four_consecutive_iso_weeks_ending_with_the_event(world):
    assert MONDAY.isocalendar().week == 45

    def comment(at: datetime, body: str = "Looks right to me") -> list[OutboxAction]:
        return world.deliver("issue_comment", comment_event(1, "carol", "bob", at=stamp(at), body=body))

    comment(day(3))  # week 45
    world.deliver("push", push_event("bob", day(10)))  # week 46; week 47 idle
    comment(day(24))  # week 48
    world.deliver("pull_request_review", review_event(2, "alice", "bob", at=stamp(day(31))))  # week 49
    comment(day(38))  # week 50: four weeks in a row, but ...
    assert world.held("bob") == ["first-review"]  # ... 48, 49, 50 only
    assert comment(day(45), body="/help") == []  # week 51: a command alone is no contribution
    assert world.held("bob") == ["first-review"]
    world.new()
    rows = comment(day(46))  # week 51, with a real comment: 48 to 51
    assert said(rows) == announced("streak", "github:bob", "1")
    assert ("> Contribute to Rocket (an issue, a pull request, a review, a comment or a push) in each of 4 "
            "consecutive weeks (ISO weeks, UTC).") in comment_of(rows)
    assert world.awards("bob")[-1].awarded_at == day(46)
    assert world.held("carol") == []  # the issue is hers, but she did nothing


def test_custom_rules_with_repos_labels_and_a_window(make_harness):
    custom = [
        {"id": "helper", "name": "Helper", "description": "Answered questions",
         "rule": {"event": "comment.created", "count": 3, "repos": ["acme/rocket"], "labels": ["question"],
                  "within_days": 7}},
        {"id": "docs-lander", "name": "Docs lander", "rule": {"event": "pr.merged", "count": 2,
                                                               "repos": ["github:acme/docs"]}},
        {"id": "gitee-lander", "name": "Gitee lander", "rule": {"event": "pr.merged", "repos": ["gitee:acme/docs"]}},
        {"id": "translator", "name": "Translator"},  # no rule: by hand only
    ]
    world = World(make_harness(community=COMMUNITY, notify=NOTIFY, server={"public_url": "https://cobot.example.org"},
                               badges={"auto_award": True, "custom": custom}))

    def comment(number: int, at: datetime, labels: tuple[str, ...] = ("question",), repo: str = "acme/rocket"
                ) -> list[OutboxAction]:
        return world.deliver("issue_comment", comment_event(number, "carol", "dave", at=stamp(at), labels=labels,
                                                            repo=repo, body="Have you tried a clean build?"))

    comment(1, day(3))  # counts
    comment(2, day(4), labels=())  # not a question
    comment(3, day(5), repo="acme/other")  # another repo
    comment(1, day(12))  # counts: 2 of 3
    comment(1, day(13))  # 3, but over ten days (3rd to 13th)
    assert world.held("dave") == []
    rows = comment(4, day(14), labels=("Question",))  # the 12th, 13th and 14th: within a week
    [award] = world.awards("dave")
    assert (award.badge, award.awarded_at, award.number) == ("helper", day(14), "4")
    assert said(rows) == announced("helper", "github:dave", "4")
    address = f"https://cobot.example.org/badges/assertions/{award.uid}"
    assert comment_of(rows) == (
        "Congratulations @dave! You have earned the **Helper** badge of Rocket: Answered questions 🏅\n\n"
        "> Write 3 comments on issues or pull requests labelled `question` in `acme/rocket`, all within 7 days.\n\n"
        f"It is an [Open Badge]({address}): show it wherever you like, and anyone can check that it is yours.")
    [notice] = [row for row in rows if row.kind == "notify"]
    assert notice.payload["link"] == address

    world.deliver("pull_request", merged(5, "erin", day(6)))  # acme/rocket: not counted
    world.deliver("pull_request", merged(6, "erin", day(7), repo="acme/docs"))
    assert world.held("erin") == ["first-pr-merged"]
    world.deliver("pull_request", merged(7, "erin", day(8), repo="acme/docs"))
    assert world.held("erin") == ["first-pr-merged", "docs-lander"]  # gitee:acme/docs is not github's


def test_a_burst_of_deliveries_processed_together_counts_in_full(make_harness):
    """Tracking writes the activity log at the end of a batch; a burst of reviews still earns at its third."""
    custom = [{"id": "reviewer", "name": "Reviewer", "rule": {"event": "review.submitted", "count": 3}}]
    world = World(make_harness(community=COMMUNITY, notify=NOTIFY, badges={"auto_award": True, "custom": custom}))
    stored = [world.harness.store("pull_request_review",
                                  review_event(number, "alice", "bob", at=stamp(day(3, 10 + number))))
              for number in (1, 2, 3)]
    world.harness.process()
    assert [(a.badge, a.awarded_at, a.number) for a in world.awards("bob")] == [
        ("first-review", day(3, 11), "1"), ("reviewer", day(3, 13), "3")]
    world.harness.pipeline.replay(stored[2])
    reviews = world.harness.rows(Activity, Activity.person == "github:bob")
    assert [(row.kind, row.delivery_id, row.occurred_at) for row in reviews] == [
        ("review.submitted", delivery, day(3, 10 + number)) for number, delivery in zip((1, 2, 3), stored, strict=True)]


@pytest.mark.parametrize(("rule", "message"), [
    ({"event": "pr.closed"}, "badges.custom.0.rule.event: unknown event 'pr.closed' (events: pr.merged, "
                             "issue.opened, pr.opened, review.submitted, comment.created)"),
    ({"event": "pr.merged", "count": 0}, "badges.custom.0.rule.count: must be at least 1"),
    ({"event": "pr.merged", "within_days": 0}, "badges.custom.0.rule.within_days: must be at least 1"),
    ({"event": "pr.merged", "repos": ["acme"]},
     "badges.custom.0.rule.repos: [0]: 'acme' is not OWNER/REPO, github:OWNER/REPO or gitee:OWNER/REPO"),
    ({"event": "pr.merged", "days": 3}, "badges.custom.0.rule.days: Extra inputs are not permitted"),
], ids=["event", "count", "within_days", "repos", "unknown-key"])
def test_a_bad_rule_stops_start_up_naming_the_key(rule, message):
    with pytest.raises(ConfigError) as raised:
        settings_from_mapping({"badges": {"custom": [{"id": "x", "name": "X", "rule": rule}]}}, "test", env={})
    assert message in str(raised.value)


def test_badge_ids_that_are_addresses_and_bad_counts_are_refused():
    with pytest.raises(ConfigError, match=r"badges.custom.0.id: 'issuer' names an address of the badge pages"):
        settings_from_mapping({"badges": {"custom": [{"id": "issuer", "name": "X"}]}}, "test", env={})
    with pytest.raises(ConfigError, match=r"badges.bug_hunter_count: Input should be greater than or equal to 1"):
        settings_from_mapping({"badges": {"bug_hunter_count": 0}}, "test", env={})


# -- once, whatever happens --------------------------------------------------------------------------------------


def test_redelivery_a_duplicate_and_replay_never_award_or_announce_twice(world):
    payload = issue_event("opened", 1, "alice", created=stamp(day(3)))
    delivery = world.harness.deliver("issues", payload, "delivery-1")
    assert said(world.new()) == announced("first-issue", "github:alice", "1")
    assert world.harness.store("issues", payload, "delivery-1") is None  # GitHub's redelivery: the same id
    assert world.deliver("issues", payload, "delivery-2") == []  # the same event in another delivery
    world.harness.pipeline.replay(delivery)
    assert world.new() == [] and world.held("alice") == ["first-issue"]
    assert len([row for row in world.harness.rows(OutboxAction) if row.key.startswith("badge:")]) == 2


def import_quietly(harness: Any, event: str, payload: dict[str, Any]) -> list[Action]:
    """What a history import does: every handler, quiet, in one transaction (their deferred writes flushed as they
    go, as at the end of a batch), and whatever they decide stored."""
    decided: list[Action] = []
    with harness.db.session() as session:
        for translated in harness.platforms["github"].translate(event, payload, harness.clock()):
            ctx = HandlerContext(session=session, db=harness.db, settings=harness.settings, clock=harness.clock,
                                 later=Deferred(harness.db.dialect), quiet=True)
            for route in routes_for(translated):
                decided += list(route.fn(translated, ctx) or ())
                ctx.later.flush(session.connection())
        later = Deferred(harness.db.dialect)
        store_actions(later, decided, None, harness.clock(), harness.settings.notify,
                      harness.settings.community.language)
        later.flush(session.connection())
    return decided


def test_imported_history_is_awarded_silently_and_never_announced_later(world):
    decided = import_quietly(world.harness, "issues", issue_event("opened", 1, "alice", created=stamp(day(3))))
    decided += import_quietly(world.harness, "pull_request", merged(2, "alice", day(4)))
    assert decided == [] and world.new() == []
    assert [(a.badge, a.awarded_at) for a in world.awards("alice")] == [("first-issue", day(3)),
                                                                         ("first-pr-merged", day(4))]
    assert world.deliver("issues", issue_event("opened", 3, "alice", created=stamp(day(5)))) == []
    assert world.deliver("pull_request", merged(4, "alice", day(6))) == []
    assert world.held("alice") == ["first-issue", "first-pr-merged"]


# -- the command line --------------------------------------------------------------------------------------------


def toml(data: dict[str, Any], prefix: str = "") -> str:
    """Just enough TOML for a config: tables, arrays of tables, inline tables in those, scalars and lists."""
    def value(item: Any) -> str:
        if isinstance(item, dict):
            return "{ " + ", ".join(f"{key} = {value(inner)}" for key, inner in item.items()) + " }"
        if isinstance(item, list):
            return "[" + ", ".join(value(inner) for inner in item) + "]"
        return json.dumps(item, ensure_ascii=False)

    lines, tables = [], []
    for key, item in data.items():
        if isinstance(item, dict):
            tables.append(f"\n[{prefix}{key}]\n" + toml(item, f"{prefix}{key}."))
        elif isinstance(item, list) and item and isinstance(item[0], dict):
            tables += [f"\n[[{prefix}{key}]]\n" + "\n".join(f"{inner} = {value(part)}" for inner, part in entry.items())
                       + "\n" for entry in item]
        else:
            lines.append(f"{key} = {value(item)}")
    return "\n".join(lines) + "\n" + "".join(tables)


class Shell:
    """`cobot` as users run it, on the harness's database."""

    def __init__(self, harness: Any, tmp_path: Path, sections: dict[str, Any]) -> None:
        self.config = tmp_path / "config.toml"
        self.config.write_text(toml({"database": {"url": harness.settings.database.url}, **sections}),
                               encoding="utf-8")

    def run(self, *args: str, code: int = 0) -> str:
        result = CliRunner().invoke(main, [*args, "--config", str(self.config)], env={"COLUMNS": "200"})
        assert result.exit_code == code, result.output
        return result.output

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--json"))


PUBLIC = "https://cobot.example.org"
OFF = {"community": COMMUNITY, "notify": NOTIFY, "server": {"public_url": PUBLIC}, "badges": {"auto_award": False}}


def test_recompute_awards_history_stored_with_badges_off_once_and_silently(make_harness, tmp_path):
    harness = make_harness(**OFF)
    world, shell = World(harness), Shell(harness, tmp_path, OFF)
    for number, labels in ((1, ("bug",)), (2, ("bug",)), (3, ())):
        world.deliver("issues", issue_event("opened", number, "alice", created=stamp(day(2 + number)),
                                            labels=labels))
    for number in range(10, 20):
        world.deliver("pull_request", merged(number, "alice", day(5, minute=number)))
    world.deliver("pull_request", merged(30, "dependabot[bot]", day(5, 12)))
    world.deliver("issues", labelled(issue_event("labeled", 3, "alice", created=stamp(day(5)),
                                                 updated=stamp(day(7)), labels=("bug",)), "bug"))
    world.deliver("pull_request_review", review_event(10, "alice", "bob", at=stamp(day(6))))
    for week in range(4):
        world.deliver("issue_comment", comment_event(1, "alice", "carol", at=stamp(day(3 + 7 * week)),
                                                     created=stamp(day(3)), labels=("bug",), body="Same here"))
    assert world.awards() == [] and world.new() == []

    expected = [  # person by person (as ids sort), rule by rule; each dated when it was earned
        ("first-issue", "github:alice", "alice", day(3), "1"),
        ("first-pr-merged", "github:alice", "alice", day(5, minute=10), "10"),
        ("merged-10", "github:alice", "alice", day(5, minute=19), "19"),
        ("bug-hunter", "github:alice", "alice", day(5), "3"),  # labelled later: as of the issue
        ("first-review", "github:bob", "bob", day(6), "10"),
        ("streak", "github:carol", "carol", day(24), "1"),  # weeks 45 to 48
    ]
    due = shell.json("badges", "recompute", "--dry-run")
    assert [(a["badge"], a["person"], a["login"], a["awarded_at"], a["number"]) for a in due] == [
        (badge, person, login, when.isoformat(), number) for badge, person, login, when, number in expected]
    assert all(a["assertion"] is None and a["platform"] == "github" and a["repo"] == "acme/rocket" for a in due)
    assert world.awards() == []

    made = shell.json("badges", "recompute")
    awards = world.awards()
    assert [(a.badge, a.person, a.login, a.awarded_at, a.number, a.awarded_by) for a in awards] == [
        (*row, "rule") for row in expected]
    assert [a["assertion"] for a in made] == [f"{PUBLIC}/badges/assertions/{a.uid}" for a in awards]
    assert world.new() == []  # silently
    assert shell.json("badges", "recompute") == [] and len(world.awards()) == len(expected)
    assert "awarded 0 badge(s)" in shell.run("badges", "recompute")


def test_recompute_announce_stores_the_notifications(make_harness, tmp_path):
    harness = make_harness(**OFF)
    world, shell = World(harness), Shell(harness, tmp_path, OFF)
    world.deliver("issues", issue_event("opened", 1, "alice", created=stamp(day(3))))
    output = shell.run("badges", "recompute", "--announce")
    assert "awarded 1 badge(s) and stored their notifications" in output
    assert "first-issue to alice, earned 2026-11-03 10:00 UTC (github acme/rocket#1)" in output
    [award] = world.awards()
    [notice] = world.new()
    assert (notice.kind, notice.key, notice.channel) == ("notify", "badge:first-issue:github:alice:notify@team",
                                                          "team")
    assert notice.payload["link"] == f"{PUBLIC}/badges/assertions/{award.uid}"
    shell.run("badges", "recompute", "--announce")
    assert world.new() == []


def test_list_award_and_revoke_from_the_command_line(make_harness, tmp_path):
    sections = {**OFF, "badges": {"custom": [{"id": "translator", "name": "Translator",
                                              "description": "Translated the docs"}]}}
    harness = make_harness(**sections)
    world, shell = World(harness), Shell(harness, tmp_path, sections)
    world.deliver("issues", issue_event("opened", 1, "alice", created=stamp(day(3))))

    catalogue = shell.json("badges", "list")
    assert [item["id"] for item in catalogue] == [
        "first-issue", "first-pr-merged", "first-review", "merged-10", "merged-50", "merged-100", "bug-hunter",
        "docs-hero", "hackathon-finisher", "camp-graduate", "streak", "translator"]
    by_id = {item["id"]: item for item in catalogue}
    assert by_id["bug-hunter"] == {"id": "bug-hunter", "name": "Bug hunter", "description": "Found and reported bugs",
                                   "rule": "Open 3 issues labelled `bug` in Rocket.", "holders": 0}
    assert by_id["translator"]["rule"] == "Awarded by the maintainers of Rocket."
    assert by_id["camp-graduate"]["rule"] == "Graduate from a Rocket training camp by meeting all of its milestones."
    table = shell.run("badges", "list")
    assert "Bug hunter" in table and "Open 3 issues labelled `bug` in Rocket." in table

    given = shell.json("badges", "award", "translator", "github:alice", "--reason", "The zh docs")
    [award] = world.awards("alice")
    assert given == {"new": True, "badge": "translator", "person": "github:alice", "login": "alice",
                     "platform": "github", "awarded_by": "cli", "awarded_at": award.awarded_at.isoformat(),
                     "reason": "The zh docs", "assertion": f"{PUBLIC}/badges/assertions/{award.uid}",
                     "revoked_at": None}
    [notice] = world.new()
    assert notice.key == "badge:translator:github:alice:notify@team" and "> The zh docs" in notice.payload["body"]
    assert shell.json("badges", "award", "translator", "alice")["new"] is False
    assert "alice already holds translator" in shell.run("badges", "award", "translator", "alice")
    assert by_id["translator"]["holders"] == 0 and {
        item["id"]: item["holders"] for item in shell.json("badges", "list")}["translator"] == 1

    mine = shell.json("badges", "list", "--person", "alice")
    assert (mine["person"], [item["badge"] for item in mine["badges"]]) == ("github:alice", ["translator"])
    assert mine["badges"][0]["assertion"] == f"{PUBLIC}/badges/assertions/{award.uid}"
    assert mine["badges"][0]["awarded_at"] == award.awarded_at.isoformat()

    revoked = shell.json("badges", "revoke", "translator", "alice", "--reason", "Awarded in error")
    assert (revoked["badge"], revoked["person"], revoked["revocation_reason"]) == (
        "translator", "github:alice", "Awarded in error")
    [award] = world.awards("alice")
    assert award.revocation_reason == "Awarded in error" and award.revoked_at.isoformat() == revoked["revoked_at"]
    assert shell.json("badges", "list", "--person", "alice")["badges"][0]["revoked_at"] == revoked["revoked_at"]
    assert {item["id"]: item["holders"] for item in shell.json("badges", "list")}["translator"] == 0
    assert "it was revoked; it is not awarded again" in shell.run("badges", "award", "translator", "alice")
    assert "alice does not hold translator" in shell.run("badges", "revoke", "translator", "alice", "--reason", "x",
                                                         code=1)
    assert "github:alice does not hold first-issue" in shell.run("badges", "revoke", "first-issue", "github:alice",
                                                                 "--reason", "x", code=1)
    assert "unknown badge 'gold'" in shell.run("badges", "revoke", "gold", "alice", "--reason", "x", code=1)
    assert "no contributor 'zoe'" in shell.run("badges", "award", "translator", "zoe", code=1)
    assert "Missing option '--reason'" in shell.run("badges", "revoke", "translator", "alice", code=2)
