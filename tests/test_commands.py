"""Slash commands in comments: each allowed, refused and malformed, through the real pipeline and store."""

from __future__ import annotations

import itertools
import json

import pytest

from bot.commands.registry import COMMAND_LIST, COMMANDS
from bot.store.community_tables import BadgeAward
from bot.store.tables import OutboxAction
from handlers.commands import RUNNERS
from tests.helpers import shared_fixture
from tests.payloads import comment_event, issue_event, pr_event

T0 = "2026-11-01T10:00:00Z"
NOTIFY = {"channels": {"team": {"kind": "webhook", "url": "https://hooks.example.org/cobot"}},
          "rules": [{"topics": ["badge"], "channels": ["team"]}]}
MAINTAINER, TRIAGER = "maintainer-max", "tina-triage"


class Conversation:
    """Comments on one repo's issues and PRs, each a new delivery one minute after the last."""

    def __init__(self, harness) -> None:
        self.harness = harness
        self.minutes = itertools.count(1)

    def say(self, who: str, body: str, number: int = 1, author: str = "alice", on_pr: bool = False,
            **thread) -> list[OutboxAction]:
        """The outbox rows this comment added."""
        before = {row.id for row in self.harness.rows(OutboxAction)}
        minute = next(self.minutes)
        at = f"2026-11-01T{10 + minute // 60:02d}:{minute % 60:02d}:00Z"
        self.harness.deliver("issue_comment", comment_event(number, author, who, at=at, body=body, on_pr=on_pr,
                                                            **thread))
        return [row for row in self.harness.rows(OutboxAction) if row.id not in before]


@pytest.fixture
def harness(make_harness):
    return make_harness(commands={"roles": [{"where": "acme", "triagers": [f"github:{TRIAGER}", f"gitee:{TRIAGER}"]}]},
                        notify=NOTIFY)


@pytest.fixture
def talk(harness):
    return Conversation(harness)


def kinds(rows) -> list[str]:
    return [row.kind for row in rows]


def reply_of(rows) -> str:
    [reply] = [row for row in rows if row.kind == "comment"]
    return reply.payload["body"]


def test_every_registered_command_has_a_runner_and_the_other_way_round():
    assert set(RUNNERS) == set(COMMANDS)


# -- /claim and /unclaim ------------------------------------------------------------------------------------------


def test_claim_assigns_the_commenter_and_thanks_them(talk):
    rows = talk.say("bob", "/claim")
    assert kinds(rows) == ["assign", "comment"]
    assert rows[0].payload["logins"] == ["bob"] and (rows[0].repo, rows[0].number) == ("acme/rocket", "1")
    body = reply_of(rows)
    assert body.startswith("@bob: this issue is yours now")
    assert "In response to [this](https://github.com/acme/rocket/issues/1#c)" in body and "> `/claim`" in body


@pytest.mark.parametrize(("thread", "expected"), [
    ({"assignees": ("carol",)}, "already claimed by @carol"),
    ({"assignees": ("bob",)}, "you have already claimed this issue"),
    ({"state": "closed", "closed": "2026-11-01T10:00:30Z"}, "this issue is closed"),
], ids=["taken", "own", "closed"])
def test_claim_that_cannot_be_granted_is_answered_and_changes_nothing(talk, thread, expected):
    rows = talk.say("bob", "/claim", **thread)
    assert kinds(rows) == ["comment"] and expected in reply_of(rows)


def test_claim_on_a_pull_request_says_where_it_works(talk):
    rows = talk.say("bob", "/claim", number=5, on_pr=True)
    assert kinds(rows) == ["comment"] and "`/claim` works on issues only" in reply_of(rows)


def test_claim_refused_when_config_requires_more(make_harness):
    talk = Conversation(make_harness(commands={"require": {"claim": "triager"}}))
    rows = talk.say("bob", "/claim")
    assert kinds(rows) == ["comment"]
    assert "only triagers and maintainers may use `/claim`" in reply_of(rows) and "> `/claim`" in reply_of(rows)


def test_claim_with_arguments_is_malformed(talk):
    rows = talk.say("bob", "/claim @carol")
    assert kinds(rows) == ["comment"]
    assert "`/claim` takes no arguments" in reply_of(rows) and "Usage: `/claim`" in reply_of(rows)


def test_unclaim_gives_the_issue_back(talk):
    rows = talk.say("bob", "/unclaim", assignees=("Bob",))
    assert kinds(rows) == ["unassign", "comment"] and rows[0].payload["logins"] == ["Bob"]
    assert "you have given this issue back" in reply_of(rows)


def test_unclaim_without_a_claim_and_malformed(talk):
    assert "you have not claimed this issue" in reply_of(talk.say("bob", "/unclaim", assignees=("carol",)))
    assert "takes no arguments" in reply_of(talk.say("bob", "/unclaim now"))


# -- /assign and /unassign ----------------------------------------------------------------------------------------


def test_triager_assigns_others_silently(talk):
    rows = talk.say(TRIAGER, "/assign @carol dave", assignees=("dave",))
    assert kinds(rows) == ["assign"] and rows[0].payload["logins"] == ["carol"]


def test_assign_without_a_name_assigns_yourself(talk):
    rows = talk.say(MAINTAINER, "/assign")
    assert rows[0].payload["logins"] == [MAINTAINER]


def test_assign_by_a_contributor_is_refused_with_a_pointer_to_claim(talk):
    rows = talk.say("bob", "/assign @bob")
    assert kinds(rows) == ["comment"]
    assert "only triagers and maintainers may use `/assign`" in reply_of(rows) and "`/claim`" in reply_of(rows)


def test_assign_malformed_user_name(talk):
    rows = talk.say(TRIAGER, "/assign @carol @not/a-user")
    assert kinds(rows) == ["comment"] and "`@not/a-user` is not a user name" in reply_of(rows)


def test_unassign(talk):
    rows = talk.say(TRIAGER, "/unassign @Carol @eve", assignees=("carol",))
    assert kinds(rows) == ["unassign"] and rows[0].payload["logins"] == ["carol"]
    assert "@eve is not assigned here" in reply_of(talk.say(TRIAGER, "/unassign @eve"))
    assert "only triagers and maintainers" in reply_of(talk.say("bob", "/unassign @carol", assignees=("carol",)))
    assert "is not a user name" in reply_of(talk.say(TRIAGER, "/unassign @"))


# -- labels -------------------------------------------------------------------------------------------------------


def test_label_adds_the_labels_not_there_yet(talk):
    rows = talk.say(TRIAGER, '/label bug "needs review" Docs', labels=("docs",))
    assert kinds(rows) == ["label"] and rows[0].payload["labels"] == ["bug", "needs review"]


def test_label_refused_and_malformed(talk):
    rows = talk.say("bob", "/label bug")
    assert kinds(rows) == ["comment"] and "only triagers and maintainers may use `/label`" in reply_of(rows)
    rows = talk.say(TRIAGER, "/label")
    assert kinds(rows) == ["comment"] and "`/label` needs 1 argument" in reply_of(rows)


def test_label_outside_the_allowed_list_is_named_and_the_rest_added(make_harness):
    talk = Conversation(make_harness(commands={"roles": [{"triagers": [f"github:{TRIAGER}", f"gitee:{TRIAGER}"]}],
                                               "labels": ["bug", "docs"]}))
    rows = talk.say(TRIAGER, "/label BUG urgent")
    assert kinds(rows) == ["label", "comment"] and rows[0].payload["labels"] == ["bug"]
    assert "`urgent` cannot be added here (the others were)" in reply_of(rows)


def test_remove_label(talk):
    rows = talk.say(TRIAGER, "/remove-label Bug wontfix", labels=("bug", "docs"))
    assert kinds(rows) == ["unlabel", "comment"] and rows[0].payload["labels"] == ["bug"]
    assert "`wontfix` is not on this issue" in reply_of(rows)
    assert "only triagers" in reply_of(talk.say("bob", "/remove-label bug", labels=("bug",)))
    assert "needs 1 argument" in reply_of(talk.say(TRIAGER, "/remove-label"))


@pytest.mark.parametrize(("command", "label"), [("/good-first-issue", "good first issue"),
                                                ("/help-wanted", "help wanted")])
def test_good_first_issue_and_help_wanted(talk, command, label):
    rows = talk.say(TRIAGER, command)
    assert kinds(rows) == ["label"] and rows[0].payload["labels"] == [label]
    assert kinds(talk.say(TRIAGER, command, labels=(label,))) == []  # already there: nothing to do
    assert "only triagers" in reply_of(talk.say("bob", command))
    assert "takes no arguments" in reply_of(talk.say(TRIAGER, f"{command} please"))
    assert "works on issues only" in reply_of(talk.say(TRIAGER, command, number=9, on_pr=True))


# -- /close and /reopen --------------------------------------------------------------------------------------------


def test_the_author_and_triagers_may_close_others_may_not(talk):
    assert kinds(talk.say("alice", "/close", author="alice")) == ["close"]
    assert kinds(talk.say(TRIAGER, "/close", number=2)) == ["close"]
    rows = talk.say("bob", "/close", number=3)
    assert kinds(rows) == ["comment"] and "only triagers and maintainers and the author" in reply_of(rows)
    assert "takes no arguments" in reply_of(talk.say("alice", "/close now", number=4))


def test_close_an_already_closed_issue_does_nothing(talk):
    assert talk.say(TRIAGER, "/close", state="closed", closed="2026-11-01T10:00:30Z") == []


def test_reopen(harness, talk):
    closed = {"state": "closed", "closed": "2026-11-01T10:00:30Z"}
    assert kinds(talk.say("alice", "/reopen", **closed)) == ["reopen"]
    assert "only triagers" in reply_of(talk.say("bob", "/reopen", number=2, **closed))
    assert "takes no arguments" in reply_of(talk.say("alice", "/reopen x", number=3, **closed))
    assert talk.say(TRIAGER, "/reopen", number=4) == []  # open already
    harness.deliver("pull_request", pr_event("closed", 7, "alice", created=T0, state="closed",
                                             updated="2026-11-01T10:00:30Z", closed="2026-11-01T10:00:30Z",
                                             merged="2026-11-01T10:00:30Z"))
    rows = talk.say(TRIAGER, "/reopen", number=7, on_pr=True, state="closed", closed="2026-11-01T10:00:30Z")
    assert "a merged pull request cannot be reopened" in reply_of(rows)


# -- /stats, /leaderboard, /award, /help ---------------------------------------------------------------------------


def test_stats_of_yourself_and_of_someone_else(harness, talk):
    harness.deliver("issues", issue_event("opened", 1, "alice", created=T0))
    harness.deliver("issues", issue_event("opened", 2, "alice", created=T0))
    harness.deliver("pull_request", pr_event("opened", 3, "bob", created=T0))
    own = reply_of(talk.say("alice", "/stats"))
    assert "here is what you have done in **Test Community**" in own
    assert "- issues opened: 2" in own and "- pull requests opened: 0, merged: 0" in own
    other = reply_of(talk.say("alice", "/stats @BOB"))
    assert "what @bob has done" in other and "- pull requests opened: 1, merged: 0" in other
    # alice: sqrt(2·2.2235 + 2·0.5252) = 2.34 (two issues, two comments); bob: sqrt(4.0679) = 2.02 (a PR)
    assert "activity over the last 30 days: 2.02 (rank 2 of 2)\n- repositories: github:acme/rocket" in other


def test_stats_of_someone_unknown_and_malformed(talk):
    assert "I have not seen `@nobody` in this community yet" in reply_of(talk.say("alice", "/stats @nobody"))
    assert "takes at most 1 argument" in reply_of(talk.say("alice", "/stats @a @b"))


def test_leaderboard_ranks_by_activity(harness, talk):
    harness.deliver("pull_request", pr_event("opened", 3, "bob", created=T0))
    harness.deliver("issues", issue_event("opened", 1, "carol", created=T0))
    talk.say("dave", "Nice work!")
    body = reply_of(talk.say("dave", "/leaderboard"))
    lines = [line for line in body.splitlines() if line[:2] in ("1.", "2.", "3.")]
    # sqrt(4.0679) for a PR, sqrt(2.2235) for an issue, sqrt(0.5252) for the first comment (as of the second)
    assert lines[0].startswith("1. **bob**: 2.02 (1 PRs, 0 merged, 0 issues")
    assert lines[1].startswith("2. **carol**: 1.49") and lines[2].startswith("3. **dave**: 0.72")
    assert "takes no arguments" in reply_of(talk.say("dave", "/leaderboard all"))


def test_award_is_recorded_once_announced_and_answered(harness, talk):
    rows = talk.say(MAINTAINER, "/award docs-hero @alice")
    assert sorted(kinds(rows)) == ["comment", "notify"]
    assert "@alice has earned the **Docs hero** badge" in reply_of(rows)
    [notice] = [row for row in rows if row.kind == "notify"]
    assert notice.channel == "team" and notice.payload["topic"] == "badge"
    [held] = harness.rows(BadgeAward)
    assert (held.badge, held.person, held.awarded_by) == ("docs-hero", "github:alice", f"github:{MAINTAINER}")
    again = talk.say(MAINTAINER, "/award docs-hero alice", number=2)
    assert kinds(again) == ["comment"] and "already holds the **Docs hero** badge" in reply_of(again)
    assert len(harness.rows(BadgeAward)) == 1


def test_award_refused_unknown_and_malformed(harness, talk):
    assert "only maintainers may use `/award`" in reply_of(talk.say(TRIAGER, "/award docs-hero @alice"))
    unknown = reply_of(talk.say(MAINTAINER, "/award gold @alice"))
    assert "there is no badge `gold`" in unknown and "`docs-hero`" in unknown
    assert "needs 2 arguments" in reply_of(talk.say(MAINTAINER, "/award docs-hero"))
    assert harness.rows(BadgeAward) == []


def test_custom_badges_can_be_awarded(make_harness):
    talk = Conversation(make_harness(badges={"custom": [{"id": "translator", "name": "Translator",
                                                          "description": "Translated the docs"}]}))
    assert "earned the **Translator** badge: Translated the docs" in reply_of(
        talk.say(MAINTAINER, "/award translator @alice"))


def test_help_lists_every_command_from_the_registry(talk):
    body = reply_of(talk.say("bob", "/help"))
    for spec in COMMAND_LIST:
        assert f"| `{spec.usage.replace('|', chr(92) + '|')}` |" in body
    assert "takes no arguments" in reply_of(talk.say("bob", "/help me"))


def test_help_shows_the_roles_config_requires(make_harness):
    talk = Conversation(make_harness(commands={"require": {"close": "maintainer"}}))
    assert "| `/close` | maintainers and the author |" in reply_of(talk.say("bob", "/help"))


# -- the comment as a whole ----------------------------------------------------------------------------------------


def test_several_commands_in_one_comment_each_act_once(talk):
    rows = talk.say(TRIAGER, "Thanks!\n/label bug\n/assign @carol\n> /close\n```\n/reopen\n```")
    assert kinds(rows) == ["label", "assign"]


def test_unknown_commands_and_bots_are_ignored(talk):
    assert talk.say("bob", "/lgtm\n/retest") == []
    assert talk.say("dependabot[bot]", "/close", commenter_kind="Bot") == []


def test_blocked_logins_are_ignored(make_harness):
    talk = Conversation(make_harness(commands={"blocked": ["spammer"]}))
    assert talk.say("spammer", "/claim") == []


def test_commands_can_be_switched_off(make_harness):
    assert Conversation(make_harness(commands={"enabled": False})).say("bob", "/claim") == []


def test_redelivery_and_replay_change_nothing_twice(harness):
    payload = comment_event(1, "alice", "bob", at="2026-11-01T10:05:00Z", body="/claim", comment_id=77)
    delivery = harness.deliver("issue_comment", payload, key="d-1")
    assert harness.deliver("issue_comment", payload, key="d-1") is None  # the same delivery: a duplicate
    harness.deliver("issue_comment", payload, key="d-2")  # the same comment delivered again under a new id
    harness.pipeline.replay(delivery)
    assert kinds(harness.rows(OutboxAction)) == ["assign", "comment"]


def test_gitee_commands_reply_in_the_repos_language(make_harness):
    harness = make_harness(community={"maintainers": [f"github:{MAINTAINER}", f"gitee:{MAINTAINER}"],
                                      "repos": [{"platform": "gitee", "name": "kit101/drone-yml-test",
                                                 "language": "zh"}]})
    payload = json.loads(shared_fixture("gitee", "note-1.json").read_text())
    payload["comment"]["body"] = "/claim\n/assign @kit101 @zhangsan"
    payload["comment"]["user"] = payload["sender"] = {"login": MAINTAINER, "id": 9, "name": "Max"}
    payload["issue"]["assignee"] = None
    payload["issue"]["state"] = "open"
    harness.deliver("Note Hook", payload, platform="gitee")
    rows = harness.rows(OutboxAction)
    assert kinds(rows) == ["assign", "comment"]  # one reply answers both commands
    assert rows[0].payload["logins"] == [MAINTAINER] and rows[0].platform == "gitee"
    claimed, one_assignee = rows[1].payload["body"].split("</details>")[:2]
    assert claimed.startswith(f"@{MAINTAINER}：这个 Issue 已分配给你") and "回复[这条评论]" in claimed
    assert "> `/claim`" in claimed and "> `/assign @kit101 @zhangsan`" in one_assignee
    assert "Gitee 的 Issue 只能有一个负责人" in one_assignee and "`/assign @kit101`" in one_assignee


@pytest.mark.parametrize(("note", "thread", "expected"), [("note-1.json", "issue", ["zhangsan"]),
                                                          ("note-2.json", "pull_request", ["kit101", "zhangsan"])],
                         ids=["issue: the last one", "pull request: both"])
def test_two_assigns_in_one_gitee_comment(make_harness, note, thread, expected):
    """A Gitee issue takes one assignee (`bot.platforms.registry.single_assignee`): of two `/assign`s in a comment,
    the last is the one write; a Gitee pull request takes both, merged into one write."""
    harness = make_harness()
    payload = json.loads(shared_fixture("gitee", note).read_text())
    payload["comment"]["body"] = "/assign @kit101\n/assign @zhangsan"
    payload["comment"]["user"] = payload["sender"] = {"login": MAINTAINER, "id": 9}
    payload[thread]["assignee"], payload[thread]["assignees"] = None, []
    payload[thread]["state"] = "open"
    harness.deliver("Note Hook", payload, platform="gitee")
    [assign] = harness.rows(OutboxAction)
    assert (assign.kind, assign.payload["logins"]) == ("assign", expected)


def test_gitee_pull_requests_take_several_assignees(make_harness):
    harness = make_harness()
    payload = json.loads(shared_fixture("gitee", "note-2.json").read_text())
    payload["comment"]["body"] = "/assign @kit101 @zhangsan"
    payload["comment"]["user"] = payload["sender"] = {"login": MAINTAINER, "id": 9}
    payload["pull_request"]["assignees"] = []
    harness.deliver("Note Hook", payload, platform="gitee")
    [assign] = harness.rows(OutboxAction)
    assert (assign.kind, assign.payload["logins"], assign.number) == ("assign", ["kit101", "zhangsan"], "7")


# -- every command, refused and malformed (table-driven from the registry) ----------------------------------------

MALFORMED = {
    "claim": "/claim now", "unclaim": "/unclaim now", "assign": "/assign @bad!name", "unassign": "/unassign @",
    "label": "/label", "remove-label": "/remove-label", "good-first-issue": "/good-first-issue x",
    "help-wanted": "/help-wanted x", "close": "/close x", "reopen": "/reopen x", "stats": "/stats a b",
    "leaderboard": "/leaderboard x", "award": "/award docs-hero", "campaign": "/campaign join", "help": "/help x",
}


@pytest.mark.parametrize("spec", COMMAND_LIST, ids=lambda spec: spec.name)
def test_every_command_is_refused_to_whoever_lacks_the_role_config_requires(make_harness, spec):
    talk = Conversation(make_harness(commands={"require": {spec.name: "maintainer"}}))
    example = spec.examples[0]
    rows = talk.say("bob", example, author="carol", state="closed", closed="2026-11-01T10:00:30Z")
    assert kinds(rows) == ["comment"]
    who = "maintainers and the author" if spec.author_may else "maintainers"
    assert f"only {who} may use `/{spec.name}` here, so I left things as they are" in reply_of(rows)
    assert f"> `{example}`" in reply_of(rows)


@pytest.mark.parametrize("spec", COMMAND_LIST, ids=lambda spec: spec.name)
def test_every_command_malformed_gets_its_usage_and_changes_nothing(talk, spec):
    rows = talk.say(MAINTAINER, MALFORMED[spec.name])
    assert kinds(rows) == ["comment"]
    assert f"Usage: `{spec.usage}`" in reply_of(rows)


def test_the_malformed_table_covers_every_command():
    assert set(MALFORMED) == set(COMMANDS)
