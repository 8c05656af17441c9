"""What anyone can do with the text of a comment, bounded (issue 15, items 1, 2, 17 and 18): signed comment
deliveries through the real pipeline and store (SQLite and PostgreSQL), asserting on the outbox rows they add.

1. One comment is answered by one reply, runs at most `commands.max_per_comment` commands with bounded arguments,
   and makes at most one forge write of each kind; a contributor runs at most `commands.per_person_per_hour`.
2. A hostile comment is read in linear time (the figures are in bench/parser.py; here, what it does, and a guard on
   how many characters normalising it makes: NFKC makes up to 18 of one).
17. `/claim` outside hackathons: a limit of open claims per person, a repeated claim answered once, and two claims
    before the forge reports the assignment assign one person (also with two replicas on PostgreSQL).
18. Commands readers cannot see do not run (in HTML comments, tags and their attributes, CDATA, code, folded
    text, a link's destination, title or label); invisible characters do not make look-alike arguments.
"""

from __future__ import annotations

import itertools
import threading
import time
import unicodedata

import psycopg
import pytest
from sqlalchemy import event

from bot.outbox.dispatcher import Dispatcher, WriteRate
from bot.platforms.registry import forge_clients
from bot.store.community_tables import ThreadClaim
from bot.store.tables import CommandUse, OutboxAction
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
    assert "> `/label l9`\n" in body and "`/label l10`" not in body
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
    parts = ["@bob: this issue is yours now", "> `/claim`\n", "I have not seen `@nobody`", "> `/stats @nobody`\n",
             "only triagers and maintainers may use `/label`", "> `/label bug`\n", "Type `/help`"]
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
    assert "> `/label l0 l1 l2" in many and "…`" in many
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
    assert "> `/leaderboard`" not in cut
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


# what NFKC makes many characters of (U+FDFA: 18, a squared word: up to 5, a ligature: 2), and what cobot answers;
# normalised whole, the first made 1.17 M characters (122 ms, and 0.44 s for the delivery); 512 such lines, as many
EXPANDING = {
    "U+FDFA on one line": ("/label " + "\ufdfa" * 65_000, "`/label` takes at most 10 arguments"),
    "512 lines of 120 U+FDFA": (("/label " + "\ufdfa" * 120 + "\n") * 512, "`/label` takes at most 10 arguments"),
    "squared words U+3300-U+33FF": ("/label " + "".join(chr(0x3300 + n % 256) for n in range(65_000)),
                                    "argument 1 is longer than 100 characters"),
    "ligatures U+FB01": ("/label " + "\ufb01" * 65_000, "argument 1 is longer than 100 characters"),
    "a full-width name": ("／ｌａｂｅｌ　" + "\ufdfa" * 65_000, "`/label` takes at most 10 arguments"),
    "other bots' commands": (("/x " + "\ufdfa" * 120 + "\n") * 512, None),
}
# what normalising one comment may make: about (10 + 1 commands) × what one command can use (its name and 11
# arguments of 101 characters) and what one piece read becomes
NORMALISED_AT_MOST = 100_000


@pytest.fixture
def normalised(monkeypatch) -> list[int]:
    """The characters each call of `unicodedata.normalize` made while the test ran (only the parser calls it)."""
    made: list[int] = []
    normalize = unicodedata.normalize

    def counted(form: str, text: str) -> str:
        result = normalize(form, text)  # type: ignore[arg-type]
        made.append(len(result))
        return result

    monkeypatch.setattr(unicodedata, "normalize", counted)
    return made


@pytest.mark.parametrize(("body", "answer"), EXPANDING.values(), ids=EXPANDING.keys())
def test_a_comment_that_normalises_to_many_times_its_length_is_normalised_only_as_far_as_a_command_reaches(
        talk, normalised, body, answer):
    """Only the commands that run are normalised, each only as far as what a command can use (`command_reach`):
    past that it has too many arguments or too long a one, whatever the rest holds. Their names are read in ASCII
    or full-width forms, without normalising the line."""
    rows = talk.say(TRIAGER, body)
    if answer is None:
        assert rows == []
    else:
        assert kinds(rows) == ["comment"] and answer in reply_of(rows)
    assert sum(normalised) <= NORMALISED_AT_MOST


def test_a_command_whose_arguments_normalise_within_its_reach_runs_as_written(talk, normalised):
    rows = talk.say(TRIAGER, "／ｌａｂｅｌ：「ｇｏｏｄ ｆｉｒｓｔ ｉｓｓｕｅ」，ﬁx" + "\u3000" * 5_000 + "docs")
    assert kinds(rows) == ["label"] and rows[0].payload["labels"] == ["good first issue", "fix", "docs"]


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


WAITING_ON_A_LOCK = ("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                     "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_replicas_deciding_two_claims_at_once_assign_one(make_settings, clock, database_url):
    """Two replicas each take one of two `/claim`s of the same issue. The first to commit holds its transaction
    open until PostgreSQL shows the other waiting on a lock it holds (pg_stat_activity; it is the issue's row, which
    the batch locks): the two decisions really overlap, whatever the threads' timing, and the second, let go when
    the first commits, finds the first's claim."""
    settings = make_settings(commands=COMMANDS)
    replicas = [Harness(settings, clock), Harness(settings, clock)]
    first_commit = threading.Lock()
    overlapped = threading.Event()

    def hold_until_the_other_waits(_connection: object) -> None:
        if not first_commit.acquire(blocking=False):
            return  # the second commit goes through
        with psycopg.connect(database_url, autocommit=True) as watcher:
            for _ in range(2_000):  # up to about 20 s
                if watcher.execute(WAITING_ON_A_LOCK).fetchone()[0]:  # type: ignore[index]
                    overlapped.set()
                    return
                time.sleep(0.01)

    try:
        first = replicas[0]
        first.deliver("issues", issue_event("opened", 1, "alice", created="2026-11-01T10:00:00Z"))
        welcomed = {row.id for row in first.rows(OutboxAction)}
        for minute, who in ((1, "bob"), (2, "carol")):
            first.store("issue_comment", comment_event(1, "alice", who, at=f"2026-11-01T10:0{minute}:00Z",
                                                       body="/claim"))
        for replica in replicas:
            event.listen(replica.db.engine, "commit", hold_until_the_other_waits)
        threads = [threading.Thread(target=replica.pipeline.process_due, kwargs={"limit": 1, "budget_seconds": 10})
                   for replica in replicas]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for replica in replicas:
            event.remove(replica.db.engine, "commit", hold_until_the_other_waits)
        assert overlapped.is_set(), "the second replica never waited for the first: the decisions did not overlap"
        first.process()
        rows = [row for row in first.rows(OutboxAction) if row.id not in welcomed]
        assert sorted(kinds(rows)) == ["assign", "comment", "comment"]
        [assign] = [row for row in rows if row.kind == "assign"]
        [taken] = [row.payload["body"] for row in rows if "already claimed by" in (row.payload.get("body") or "")]
        assert f"already claimed by @{assign.payload['logins'][0]}" in taken
        assert len(first.rows(ThreadClaim, order=ThreadClaim.number)) == 1
    finally:
        for replica in replicas:
            replica.close()


# -- 18. what readers cannot see does not run ----------------------------------------------------------------------

# what a comment hides, and what a `/close` after it (a blank line apart) does: runs, unless the comment hid the rest
HIDDEN = {
    "after an unclosed HTML comment": ("Thanks!\n<!-- a note to myself\n/close", []),
    "inside <pre>": ("<pre>\n/close\n</pre>", ["close"]),
    "inside <code>": ("<code>\n/close\n</code>", ["close"]),
    "inside <details>": ("<details><summary>log</summary>\n\n/close\n\n</details>", ["close"]),
    "behind inline code": ("<code>x</code> /close", ["close"]),
    "after U+2028 on the same line": ("Thanks!\u2028/close", ["close"]),
    "after U+2029 on the same line": ("Thanks!\u2029/close", ["close"]),
    "after a vertical tab": ("Thanks!\x0b/close", ["close"]),
    "after U+0085": ("Thanks!\x85/close", ["close"]),
    "after a zero-width space": ("\u200b/close", ["close"]),
    "a right-to-left mark first": ("\u200f/close", ["close"]),
    "a zero-width space in the name": ("/cl\u200bose", ["close"]),
    # markup that shows nothing of what it holds (or it is unclear what), as an attacker sent it to a real server
    "in a tag's attribute": ('Looks good!\n<div title="\n/claim\n">❤️</div>', ["close"]),
    "in an image's alt text": ('<img alt="\n/assign @mallory\n" src="cat.png">', ["close"]),
    "in an attribute in single quotes": ("<a title='\n/assign @mallory\n'>docs</a>", ["close"]),
    "in an attribute whose value starts on the next line": ('<span title=\n"\n/claim\n">x</span>', ["close"]),
    "in a tag's attributes": ("<img\n/claim\nsrc=cat.png>", ["close"]),
    "in an attribute never closed": ('Thanks <div title="\n/claim', []),
    "in CDATA": ("<![CDATA[\n/claim\n]]>", ["close"]),
    "in a processing instruction": ("<?x\n/claim\n?>", ["close"]),
    "in a declaration": ("<!X\n/claim\n>", ["close"]),
    "inside <script>": ("<script>\n/claim\n</script>", ["close"]),
    "in a link reference definition's title": ('[ref]: https://example.org "\n/help\n"', ["close"]),
    "in a definition's title on the next line": ("[ref]: https://example.org\n(\n/help\n)", ["close"]),
    "as a definition's destination": ("[ref]:\n/claim", ["close"]),
    "in a definition's label": ("[ref\n/claim\n]: https://example.org", ["close"]),
    "in a definition in a list item": ('- [ref]: https://example.org "\n/claim\n"', ["close"]),
    "in an inline link's title": ("[docs](https://example.org '\n/claim\n')", ["close"]),
    "as an inline link's destination": ("![cat](\n/claim\n)", ["close"]),
    "in a reference link's label": ("[docs][\n/claim\n]", ["close"]),
    # read both ways: a tag inside a label that names no definition is a tag; inside a link's title it is text
    "in a tag inside a link's label": ('[docs][<div title="]\n/claim\n">', ["close"]),
    "in a link's title holding a tag": ('[docs](https://example.org "<b>\n/claim\n")', ["close"]),
}


@pytest.mark.parametrize(("body", "then"), HIDDEN.values(), ids=HIDDEN.keys())
def test_commands_readers_cannot_see_do_not_run(talk, body, then):
    assert talk.say(TRIAGER, body) == []
    assert kinds(talk.say(TRIAGER, body + "\n\n/close", number=2)) == then


# what markup does not hide: a command after it, on a line of its own, runs
SHOWN = {
    "after a closed tag": "Thanks, <b>great</b> work!\n/close",
    "after a link": "See [the docs](https://example.org/docs \"Docs\") first.\n/close",
    "after a reference link and its definition": "See [the docs][docs].\n\n[docs]: https://example.org\n/close",
    "after a task list": "- [ ] tests\n- [x] docs\n\n/close",
    "after a comparison": "It is faster when n < 10 and m > 3.\n/close",
    "after a definition's title that a blank line ends": '[ref]: https://example.org "\n\n/close',
}


@pytest.mark.parametrize("body", SHOWN.values(), ids=SHOWN.keys())
def test_commands_after_markup_that_hides_nothing_run(talk, body):
    assert kinds(talk.say(TRIAGER, body)) == ["close"]


@pytest.mark.parametrize(("label", "named"), [
    ("b\u200bug", "U+200B ZERO WIDTH SPACE"), ("\u202egub", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("bug\u2060", "U+2060 WORD JOINER"), ("go\u00adod", "U+00AD SOFT HYPHEN"),
    ("\u3164", "U+1160 HANGUL JUNGSEONG FILLER"),  # U+3164 HANGUL FILLER as NFKC reads it
    ("bug\ufe0f", "U+FE0F VARIATION SELECTOR-16"), ("b\ufe00ug", "U+FE00 VARIATION SELECTOR-1"),
    ("bug\U000e0100", "U+E0100 VARIATION SELECTOR-17"), ("bu\u17b4g", "U+17B4 KHMER VOWEL INHERENT AQ"),
    ("\u17b5bug", "U+17B5 KHMER VOWEL INHERENT AA"), ("bug\u2800", "U+2800 BRAILLE PATTERN BLANK"),
    ("★\u200d★", "U+200D ZERO WIDTH JOINER"), ("b\u034fug", "U+034F COMBINING GRAPHEME JOINER"),
    ("\u115fbug", "U+115F HANGUL CHOSEONG FILLER"), ("bug\uffa0", "U+1160 HANGUL JUNGSEONG FILLER"),
    ("bug\u180e", "U+180E MONGOLIAN VOWEL SEPARATOR"), ("bug\U000e0062", "U+E0062 TAG LATIN SMALL LETTER B"),
    ("bug\x7f", "U+007F CONTROL CHARACTER"), ("1\ufe0f", "U+FE0F VARIATION SELECTOR-16"),
])
def test_look_alike_arguments_are_refused_with_their_usage(talk, label, named):
    rows = talk.say(TRIAGER, f"/label {label}")
    assert kinds(rows) == ["comment"]
    assert f"argument 1 holds an invisible character ({named})" in reply_of(rows)
    assert "Usage: `/label NAME…`" in reply_of(rows)


def test_an_emoji_sequence_is_no_look_alike(talk):
    rows = talk.say(TRIAGER, "/label 👩\u200d💻 🏳️\u200d🌈")
    assert kinds(rows) == ["label"] and rows[0].payload["labels"] == ["👩\u200d💻", "🏳️\u200d🌈"]


def test_emoji_with_their_selectors_and_joiners_are_no_look_alikes(talk):
    labels = ["❤️", "👨\u200d❤️\u200d👨", "🏃\u200d♀️", "🐻\u200d❄️", "1️⃣", "⚠️", "🧑🏽\u200d💻"]
    rows = talk.say(TRIAGER, "/label " + " ".join(labels))
    assert kinds(rows) == ["label"] and rows[0].payload["labels"] == labels
