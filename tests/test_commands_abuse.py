"""What anyone can do with the text of a comment, bounded (issue 15, items 1, 2, 17 and 18): signed comment
deliveries through the real pipeline and store (SQLite and PostgreSQL), asserting on the outbox rows they add.

1. One comment is answered by one reply, runs at most `commands.max_per_comment` commands with bounded arguments,
   and makes at most one forge write of each kind; a contributor runs at most `commands.per_person_per_hour`.
2. A hostile comment is read in linear time (the figures are in bench/parser.py; here, a guard of CPU seconds).
17. `/claim` outside hackathons: a limit of open claims per person, a repeated claim answered once, and two claims
    before the forge reports the assignment assign one person (also with two replicas on PostgreSQL).
18. Commands readers cannot see do not run; invisible characters do not make look-alike arguments.
"""

from __future__ import annotations

import itertools
import threading

import pytest

from bot.outbox import Dispatcher, WriteRate
from bot.platforms.registry import forge_clients
from bot.store.tables import CommandUse, OutboxAction, ThreadClaim
from tests.helpers import Harness
from tests.payloads import comment_event, issue_event
from tests.test_commands import Conversation, kinds, reply_of

TRIAGER = "tina-triage"
COMMANDS = {"roles": [{"where": "acme", "triagers": [f"github:{TRIAGER}"]}]}
UNREAD = "I read at most 10 commands in one comment, so I left the others alone."


@pytest.fixture
def harness(make_harness):
    return make_harness(commands=COMMANDS)


@pytest.fixture
def talk(harness):
    return Conversation(harness)


def label_lines(count: int) -> str:
    return "\n".join(f"/label l{n}" for n in range(count))


def later(talk: Conversation, minutes: int) -> None:
    """The next comments are written `minutes` later."""
    talk.minutes = itertools.count(next(talk.minutes) + minutes)


# -- 1. one comment: at most a handful of writes and one reply -----------------------------------------------------


def test_a_strangers_5000_label_lines_queue_one_short_reply(talk):
    rows = talk.say("mallory", label_lines(5000))
    assert kinds(rows) == ["comment"]
    body = reply_of(rows)
    assert body.count("only triagers and maintainers may use `/label`") == 10
    assert "> /label l9\n" in body and "> /label l10" not in body
    assert body.endswith(UNREAD) and body.count("Type `/help`") == 1
    assert len(body) < 3_000


def test_a_triagers_5000_label_lines_make_one_write_and_one_reply(talk):
    rows = talk.say(TRIAGER, label_lines(5000))
    assert kinds(rows) == ["label", "comment"]
    assert rows[0].payload["labels"] == [f"l{n}" for n in range(10)]
    assert reply_of(rows) == f"@{TRIAGER}: {UNREAD}"


def test_one_reply_answers_every_command_in_the_order_written(talk):
    rows = talk.say("bob", "/claim\n/stats @nobody\n/label bug\n/lgtm")
    assert kinds(rows) == ["assign", "comment"]
    body = reply_of(rows)
    parts = ["@bob: this issue is yours now", "> /claim\n", "I have not seen @nobody", "> /stats @nobody\n",
             "only triagers and maintainers may use `/label`", "> /label bug\n", "Type `/help`"]
    assert [body.index(part) for part in parts] == sorted(body.index(part) for part in parts)
    assert body.count("<details>") == 3 and "/lgtm" not in body  # another bot's command: not ours to answer


def test_the_writes_of_a_comment_are_merged_by_kind(talk):
    rows = talk.say(TRIAGER, "/label bug\n/assign @carol\n/label docs\n/help-wanted\n/assign @dave @Carol\n/close")
    assert kinds(rows) == ["label", "assign", "close"]
    assert rows[0].payload["labels"] == ["bug", "docs", "help wanted"]
    assert rows[1].payload["logins"] == ["carol", "dave"]


def test_the_cap_on_commands_per_comment_is_config(make_harness):
    talk = Conversation(make_harness(commands={**COMMANDS, "max_per_comment": 2}))
    rows = talk.say(TRIAGER, "/label a\n/label b\n/label c")
    assert kinds(rows) == ["label", "comment"] and rows[0].payload["labels"] == ["a", "b"]
    assert "I read at most 2 commands in one comment" in reply_of(rows)


def test_arguments_are_bounded_in_number_and_length(talk):
    many = reply_of(talk.say(TRIAGER, "/label " + " ".join(f"l{n}" for n in range(5000))))
    assert "`/label` takes at most 10 arguments" in many and len(many) < 1_000  # the quoted line is cut short
    assert "> /label l0 l1 l2" in many and "…" in many
    long = talk.say(TRIAGER, "/label " + "x" * 101, number=2)
    assert kinds(long) == ["comment"] and "argument 1 is longer than 100 characters" in reply_of(long)
    assert kinds(talk.say(TRIAGER, "/label " + "x" * 100, number=3)) == ["label"]


def test_the_bounds_on_arguments_are_config(make_harness):
    talk = Conversation(make_harness(commands={**COMMANDS, "max_arguments": 2, "max_argument_length": 20}))
    assert "`/label` takes at most 2 arguments" in reply_of(talk.say(TRIAGER, "/label a b c"))
    assert "argument 2 is longer than 20 characters" in reply_of(talk.say(TRIAGER, "/label a " + "b" * 21))
    assert "`/award` needs 2 arguments" in reply_of(talk.say("maintainer-max", "/award docs-hero"))


def test_a_comment_with_many_commands_redelivered_and_replayed_changes_nothing_twice(harness):
    payload = comment_event(1, "alice", TRIAGER, at="2026-11-01T10:05:00Z", body=label_lines(50), comment_id=501)
    delivery = harness.deliver("issue_comment", payload, key="d-1")
    harness.deliver("issue_comment", payload, key="d-2")
    harness.pipeline.replay(delivery)
    assert kinds(harness.rows(OutboxAction)) == ["label", "comment"]


def test_a_contributor_past_the_hourly_limit_is_ignored_and_told_once(make_harness):
    talk = Conversation(make_harness(commands={**COMMANDS, "per_person_per_hour": 5}))
    first = talk.say("bob", "/stats\n/leaderboard\n/help")
    assert kinds(first) == ["comment"] and "Told" not in reply_of(first)
    cut = reply_of(talk.say("bob", "/stats @bob\n/claim\n/leaderboard\n/help", number=2))
    assert "here is what you have done" in cut and "this issue is yours now" in cut
    assert "you have run 5 commands in the last hour, as many as I take from one person, so I left the rest" in cut
    assert "> /leaderboard" not in cut
    assert talk.say("bob", "/claim", number=3) == []  # told once in the hour: now ignored without a word
    assert talk.say("bob", "/claim\n/help", number=4) == []
    assert kinds(talk.say("carol", "/claim", number=3)) == ["assign", "comment"]  # others are not limited by it
    later(talk, 60)
    assert kinds(talk.say("bob", "/claim", number=5)) == ["assign", "comment"]


def test_a_comment_past_the_limit_redelivered_is_not_answered_again(make_harness):
    harness = make_harness(commands={**COMMANDS, "per_person_per_hour": 1})
    harness.deliver("issue_comment", comment_event(1, "alice", "bob", at="2026-11-01T10:01:00Z", body="/help"))
    payload = comment_event(2, "alice", "bob", at="2026-11-01T10:02:00Z", body="/claim", comment_id=9)
    harness.deliver("issue_comment", payload, key="d-1")
    harness.deliver("issue_comment", payload, key="d-2")
    replies = [row.payload["body"] for row in harness.rows(OutboxAction) if row.kind == "comment"]
    assert len(replies) == 2 and "you have run 1 commands in the last hour" in replies[1]
    assert [row.command for row in harness.rows(CommandUse)] == ["help", "(told)"]


def test_triagers_and_maintainers_are_not_limited(make_harness):
    talk = Conversation(make_harness(commands={**COMMANDS, "per_person_per_hour": 2}))
    for number in range(1, 6):
        assert kinds(talk.say(TRIAGER, f"/label a{number}\n/label b{number}", number=number)) == ["label"]
    assert kinds(talk.say("maintainer-max", "/close\n/help", number=6)) == ["close", "comment"]


def test_the_hourly_limit_can_be_switched_off(make_harness):
    talk = Conversation(make_harness(commands={**COMMANDS, "per_person_per_hour": 0}))
    for number in range(1, 13):
        assert kinds(talk.say("bob", "/leaderboard\n/stats\n/help", number=number)) == ["comment"]


# -- 2. a hostile comment costs milliseconds, not seconds ----------------------------------------------------------

HOSTILE = {  # no commands in them: what is measured is the reading alone
    "unclosed HTML comments": "<!--" * 16_384,
    "closed HTML comments": "<!---->" * 9_362,
    "fences": "```\n" * 16_384,
    "hiding tags": "<details>" * 7_281,
    "short lines": "x\n" * 32_768,
    "one long line": "a " * 32_768,
}


def test_hostile_comments_run_nothing_and_hide_what_follows_an_unclosed_html_comment(talk):
    """What they cost is measured by bench/parser.py (a 64 KB hostile comment in milliseconds; the old quadratic
    HTML-comment pattern spent over 10 s on the first one, in the command handler and again in tracking). Here:
    what they do. After an unclosed `<!--` GitHub shows nothing, so a maintainer's `/close` there does not run."""
    for number, body in enumerate(HOSTILE.values(), 1):
        assert talk.say("mallory", body, number=number) == []
    hidden = talk.say("maintainer-max", "<!--" * 16_384 + "\n/close", number=len(HOSTILE) + 1)
    assert hidden == []


# -- 17. /claim outside hackathons ---------------------------------------------------------------------------------


def test_a_repeated_claim_assigns_once_and_is_answered_once(talk):
    # none of the comments' payloads shows bob assigned: the forge's `assigned` webhook has not come yet
    rows = [row for _ in range(30) for row in talk.say("bob", "/claim")]
    assert kinds(rows) == ["assign", "comment"] and "this issue is yours now" in reply_of(rows)


def test_two_claims_before_the_assigned_webhook_assign_one(talk):
    assert kinds(talk.say("bob", "/claim")) == ["assign", "comment"]
    second = talk.say("carol", "/claim")
    assert kinds(second) == ["comment"] and "already claimed by @bob" in reply_of(second)


def test_two_claims_in_one_batch_assign_one(harness):
    for minute, who in ((1, "bob"), (2, "carol")):
        harness.store("issue_comment", comment_event(1, "alice", who, at=f"2026-11-01T10:0{minute}:00Z",
                                                     body="/claim"))
    harness.process()
    rows = harness.rows(OutboxAction)
    assert kinds(rows) == ["assign", "comment", "comment"] and rows[0].payload["logins"] == ["bob"]
    assert "already claimed by @bob" in rows[2].payload["body"]


def test_a_person_holds_at_most_max_open_claims(harness, make_harness):
    talk = Conversation(make_harness(commands={**COMMANDS, "max_open_claims": 2}))
    for number in (1, 2):
        assert kinds(talk.say("bob", "/claim", number=number)) == ["assign", "comment"]
    refused = talk.say("bob", "/claim", number=3)
    assert kinds(refused) == ["comment"]
    assert "you already hold 2 issues claimed with `/claim` (#1, #2), as many as one person may" in reply_of(refused)
    talk.harness.deliver("issues", issue_event("closed", 1, "alice", created="2026-11-01T10:00:00Z",
                                               updated="2026-11-01T11:00:00Z", closed="2026-11-01T11:00:00Z",
                                               state="closed", assignees=("bob",)))
    assert kinds(talk.say("bob", "/claim", number=3)) == ["assign", "comment"]  # the closed one counts no more
    assert kinds(talk.say("bob", "/unclaim", number=2)) == ["unassign", "comment"]
    assert kinds(talk.say("bob", "/claim", number=4)) == ["assign", "comment"]
    assert kinds(talk.say("bob", "/claim", number=5)) == ["comment"]


def test_unclaim_before_the_assigned_webhook_frees_the_issue(talk):
    talk.say("bob", "/claim")
    rows = talk.say("bob", "/unclaim")
    assert kinds(rows) == ["unassign", "comment"] and rows[0].payload["logins"] == ["bob"]
    assert kinds(talk.say("carol", "/claim")) == ["assign", "comment"]


async def test_a_claim_lapses_once_the_forge_shows_the_issue_without_its_holder(harness, clock):
    talk = Conversation(harness)
    talk.say("bob", "/claim")
    assert "already claimed by @bob" in reply_of(talk.say("carol", "/claim"))
    dispatcher = Dispatcher(harness.db, harness.settings.outbox, clock, forge_clients(harness.settings),
                            WriteRate({"github": 100}))
    await dispatcher.dispatch_due()  # no token: a dry run, done now
    assert "already claimed by @bob" in reply_of(talk.say("carol", "/claim"))  # the forge has said nothing since
    harness.deliver("issues", issue_event("unassigned", 1, "alice", created="2026-11-01T10:00:00Z",
                                          updated="2026-11-02T10:00:00Z"))
    rows = talk.say("carol", "/claim")
    assert kinds(rows) == ["assign", "comment"] and rows[0].payload["logins"] == ["carol"]
    [claim] = harness.rows(ThreadClaim, order=ThreadClaim.number)
    assert (claim.number, claim.login) == ("1", "carol")


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_replicas_deciding_two_claims_at_once_assign_one(make_settings, clock):
    settings = make_settings(commands=COMMANDS)
    replicas = [Harness(settings, clock), Harness(settings, clock)]
    try:
        first = replicas[0]
        first.deliver("issues", issue_event("opened", 1, "alice", created="2026-11-01T10:00:00Z"))
        welcomed = {row.id for row in first.rows(OutboxAction)}
        for minute, who in ((1, "bob"), (2, "carol")):
            first.store("issue_comment", comment_event(1, "alice", who, at=f"2026-11-01T10:0{minute}:00Z",
                                                       body="/claim"))
        start = threading.Barrier(2)

        def work(replica: Harness) -> None:
            start.wait()
            replica.pipeline.process_due(limit=1, budget_seconds=10)

        threads = [threading.Thread(target=work, args=(replica,)) for replica in replicas]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        first.process()
        rows = [row for row in first.rows(OutboxAction) if row.id not in welcomed]
        assert sorted(kinds(rows)) == ["assign", "comment", "comment"]
        assert sum("already claimed by" in (row.payload.get("body") or "") for row in rows) == 1
    finally:
        for replica in replicas:
            replica.close()


# -- 18. what readers cannot see does not run ----------------------------------------------------------------------

HIDDEN = {
    "after an unclosed HTML comment": "Thanks!\n<!-- a note to myself\n/close",
    "inside <pre>": "<pre>\n/close\n</pre>",
    "inside <code>": "<code>\n/close\n</code>",
    "inside <details>": "<details><summary>log</summary>\n\n/close\n\n</details>",
    "behind inline code": "<code>x</code> /close",
    "after U+2028 on the same line": "Thanks!\u2028/close",
    "after U+2029 on the same line": "Thanks!\u2029/close",
    "after a vertical tab": "Thanks!\x0b/close",
    "after U+0085": "Thanks!\x85/close",
    "after a zero-width space": "\u200b/close",
    "a right-to-left mark first": "\u200f/close",
    "a zero-width space in the name": "/cl\u200bose",
}


@pytest.mark.parametrize("body", HIDDEN.values(), ids=HIDDEN.keys())
def test_commands_readers_cannot_see_do_not_run(talk, body):
    assert talk.say(TRIAGER, body) == []
    assert kinds(talk.say(TRIAGER, body + "\n\n/close", number=2)) == (
        [] if "<!--" in body or body.startswith(("<pre>", "<code>\n", "<details>")) and "</" not in body else
        ["close"])


@pytest.mark.parametrize(("label", "named"), [
    ("b\u200bug", "U+200B ZERO WIDTH SPACE"), ("\u202egub", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("bug\u2060", "U+2060 WORD JOINER"), ("go\u00adod", "U+00AD SOFT HYPHEN"),
    ("\u3164", "U+1160 HANGUL JUNGSEONG FILLER"),  # U+3164 HANGUL FILLER as NFKC reads it
])
def test_look_alike_arguments_are_refused_with_their_usage(talk, label, named):
    rows = talk.say(TRIAGER, f"/label {label}")
    assert kinds(rows) == ["comment"]
    assert f"argument 1 holds an invisible character ({named})" in reply_of(rows)
    assert "Usage: `/label NAME…`" in reply_of(rows)


def test_an_emoji_sequence_is_no_look_alike(talk):
    rows = talk.say(TRIAGER, "/label 👩\u200d💻 🏳️\u200d🌈")
    assert kinds(rows) == ["label"] and rows[0].payload["labels"] == ["👩\u200d💻", "🏳️\u200d🌈"]
