"""Properties of the slash-command parser for any text (Hypothesis), and of the command handler for any comment:
no exception; commands come only from lines a reader sees as lines starting with a slash; nothing inside fences,
HTML comments, tags and their attributes, CDATA, <pre>, <code>, <details>, a link's destination, title or label
runs; a line read only in part (what NFKC makes of it is bounded) gives the command its whole reading gives, or one
the handler refuses; an invisible character between visible ones is found; one comment gives at most one reply and
one write of each kind. (Its speed, linear in the comment, is measured by bench/parser.py.)"""

from __future__ import annotations

import itertools
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.commands.invisible import invisible_character, is_emoji
from bot.commands.parser import MAX_BODY, only_commands, parse_commands, read_commands
from bot.commands.registry import COMMAND_LIST, COMMANDS
from bot.store.tables import OutboxAction
from tests.payloads import comment_event

NAMES = [spec.name for spec in COMMAND_LIST]
WORDS = st.sampled_from(["bug", "docs", '"good first issue"', "@alice", "@bob", "docs-hero", "join", "x" * 120,
                         "b\u200bug", "文档", "「新手」", "'a b'", '"open'])
COMMAND = st.builds(lambda name, args, spaces: " " * spaces + f"/{name} " + " ".join(args),
                    st.sampled_from(NAMES + ["lgtm", "Label", "CLAIM"]), st.lists(WORDS, max_size=4),
                    st.integers(0, 3))
MARKUP = st.sampled_from(["<!--", "-->", "```", "~~~", "<details>", "</details>", "<pre>", "</pre>", "<code>",
                          "</code>", "> /close", "    /close", "\u2028/close", "\u200b/close", "<!-- /close -->",
                          '<div title="', '">', "<img alt='", "'>", "<![CDATA[", "]]>", "<?x", "?>", "<!X", ">",
                          '[ref]: https://example.org "', '"', "[ref]:", "[docs](", ")", "[docs][", "]", "[x",
                          "- [ ] task", "[docs](https://example.org)"])
# text that opens nothing: no markup (`<`, brackets), no fence, no slash
PLAIN = st.text(st.characters(exclude_characters="\n\r<`~[]"), max_size=30).filter(lambda text: "/" not in text)
LINE = st.one_of(COMMAND, MARKUP, PLAIN, st.text(max_size=20))
ENDINGS = st.sampled_from(["\n", "\r\n", "\r"])


def comment_of(lines: list[str], ending: str) -> str:
    return ending.join(lines)


# the text a block hides from readers: (opening, closing) around any lines
HIDERS = [("```", "```"), ("~~~~", "~~~~"), ("<!--", "-->"), ("<pre>", "</pre>"), ("<code>", "</code>"),
          ("<details><summary>more</summary>", "</details>"), ("<DETAILS open>", "</Details>"),
          ('Looks good! <div title="', '">❤️</div>'), ("<img alt='", "' src=x.png>"), ("<a\n title=", '"x">a</a>'),
          ("<![CDATA[", "]]>"), ("<?x", "?>"), ("<!X", ">"), ("<script>", "</script>"),
          ('[ref]: https://example.org "', '"'), ("[ref]: https://example.org (", ")"),
          ("[ref\nx", "]: https://example.org 't'"), ("[docs](https://example.org '", "')"), ("[docs](", ")"),
          ("see [docs][", "]")]
SAFE = st.one_of(COMMAND, PLAIN)  # lines that open nothing


def visible(lines: list[str]) -> list[tuple[str, tuple[str, ...]]]:
    return [(command.name, command.args) for command in parse_commands("\n".join(lines))]


@given(st.text())
def test_any_text_parses_without_an_exception(body):
    commands = parse_commands(body)
    assert isinstance(only_commands(body), bool)
    for command in commands:
        assert command.line.startswith(("/", "／")) and command.name == command.name.lower()
        assert "\n" not in command.line and "\r" not in command.line


@given(st.lists(LINE, max_size=30), ENDINGS)
def test_any_comment_of_tricky_lines_parses(lines, ending):
    body = comment_of(lines, ending)
    every = parse_commands(body)
    reading = read_commands(body, COMMANDS, limit=3, max_args=2)
    assert len(reading.commands) <= 3 and all(len(command.args) <= 3 for command in reading.commands)
    assert all(command.name in COMMANDS for command in reading.commands)
    assert all(command.line in body for command in every)  # a command is text of the comment, as written
    if only_commands(body):
        assert every


@given(st.lists(st.one_of(COMMAND, PLAIN), max_size=30))
def test_without_markup_the_commands_are_the_lines_that_start_with_a_slash(lines):
    """The plain case, against an oracle that knows nothing of markup: the names of the lines that start `/NAME`."""
    named = [re.match(r" {0,3}/([A-Za-z][A-Za-z0-9_-]*)(?:\s|$)", line) for line in lines]
    expected = dict.fromkeys(found[1].lower() for found in named if found)
    assert dict.fromkeys(command.name for command in parse_commands("\n".join(lines))) == expected


@given(st.lists(LINE, max_size=30))
def test_the_line_endings_a_reader_sees_are_all_alike(lines):
    parsed = {ending: parse_commands(comment_of(lines, ending)) for ending in ("\n", "\r\n", "\r")}
    assert parsed["\n"] == parsed["\r\n"] == parsed["\r"]


@given(st.lists(SAFE, max_size=8), st.lists(LINE, max_size=8), st.lists(SAFE, max_size=8), st.sampled_from(HIDERS))
def test_nothing_inside_a_hiding_block_runs(before, inside, after, hider):
    """Whatever a closed block holds (commands, other markup that opens nothing past its end), it changes nothing."""
    opening, closing = hider
    inner = [line for line in inside if closing not in line and not _opens_or_closes(line, hider)]
    body = [*before, opening, *inner, closing, *after]
    assert visible(body) == visible([*before, *after])


def _opens_or_closes(line: str, hider: tuple[str, str]) -> bool:
    """Whether a line inside a block could end it early or open something that outlives it (a fence inside
    <details> is one: markdown goes on inside it; the parser takes it for one inside any block, hiding more; so is
    markup, a quote, a parenthesis, a blank line, which ends a link's title)."""
    opening, _closing = hider
    if line.lstrip(" ").startswith(("```", "~~~")):
        return True
    return not opening.startswith(("```", "~~~")) and (
        not line.strip() or any(mark in line for mark in "<>[]\"'()\n\r"))


@given(st.lists(SAFE, max_size=8), st.lists(LINE, max_size=8), st.sampled_from([
    ("<!--", "-->"), ('<div title="', '"'), ("<a title='", "'"), ("<![CDATA[", "]]>"), ("<?x", "?>"), ("<!X", ">")]))
def test_nothing_after_unclosed_markup_runs(before, after, markup):
    """A comment, an attribute's value, CDATA, a processing instruction, a declaration: never closed, what follows
    is hidden (GitHub shows nothing of it, or it is unclear what: a command there does not run)."""
    opening, closer = markup
    rest = [line.replace(closer, "") for line in after]
    assert visible([*before, "Thanks! " + opening, *rest]) == visible(before)


@given(st.lists(SAFE, max_size=8), st.lists(LINE, max_size=8))
def test_nothing_after_an_unclosed_html_comment_runs(before, after):
    rest = [line.replace("-->", "") for line in after]
    assert visible([*before, "<!-- a note", *rest]) == visible(before)


@given(st.lists(SAFE, max_size=8), st.lists(LINE, max_size=8), st.sampled_from(["<pre>", "<code>", "<details>"]))
def test_nothing_after_an_unclosed_hiding_tag_runs(before, after, tag):
    rest = [line for line in after if "</" not in line and "<!--" not in line]
    assert visible([*before, tag, *rest]) == visible(before)


@given(PLAIN, COMMAND, st.sampled_from(["\u2028", "\u2029", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85"]))
def test_a_separator_other_than_a_line_end_starts_no_command(text, command, separator):
    """GitHub shows these on the same line: what follows is not at the start of a line."""
    assert parse_commands(text + separator + command) == parse_commands(text)


# what NFKC makes many characters of (U+FDFA: 18), blanks and separators in their forms, quotes, marks, emoji
EXPANDING = st.lists(st.sampled_from(["\ufdfa", "\u3300", "\u3315", "\u33ff", "\ufb01", "\ufb03", "ｘ", "ａ", "\u3000",
                                      " ", "，", ",", "：", '"', "「", "」", "'", "x", "\u00e9", "e\u0301", "\u0301",
                                      "文", "👩\u200d💻", "\u00a8", "\u2474"]), max_size=400).map("".join)


@settings(max_examples=300)
@given(EXPANDING, st.sampled_from(["/label ", "／ｌａｂｅｌ　", "/label：", "/assign "]), st.integers(1, 5),
       st.integers(16, 40))
def test_a_line_read_in_part_gives_its_whole_reading_or_a_refused_command(text, name, max_args, longest):
    """Normalising is bounded (`command_reach`): a line is read up to the point where what it holds could no longer
    make a command the handler runs. So the bounded reading and the whole one agree on whether the command has more
    than `max_args` arguments or one longer than `longest` (which the handler refuses), and when it has not, on
    every argument."""
    body = name + text
    [whole] = read_commands(body, max_args=max_args).commands
    [bounded] = read_commands(body, max_args=max_args, max_length=longest).commands

    def refused(args: tuple[str, ...]) -> bool:
        return len(args) > max_args or any(len(arg) > longest for arg in args)

    assert refused(bounded.args) == refused(whole.args)
    if not refused(whole.args):
        assert bounded.args == whole.args


# visible text and no emoji (‼ and ↔ are some: a joiner or a variation selector may belong to them)
VISIBLE = st.text(st.characters(categories=("L", "N", "P", "Sm", "Sc")), min_size=1, max_size=10).filter(
    lambda text: invisible_character(text) is None and not any(is_emoji(char) for char in text))
HIDDEN_CHARACTERS = st.sampled_from(["\u200b", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e", "\u034f",
                                     "\u115f", "\u1160", "\u3164", "\uffa0", "\u17b4", "\u17b5", "\u180e",
                                     "\u2800", "\ufe0f", "\ufe00", "\U000e0100", "\U000e0041", "\x7f"])


@given(VISIBLE, HIDDEN_CHARACTERS, VISIBLE)
def test_an_invisible_character_between_visible_ones_is_found(before, hidden, after):
    """A look-alike: `before` and `after` joined by something that shows nothing (no emoji around it to join or
    vary: a joiner or a variation selector belongs only to an emoji)."""
    assert invisible_character(before + hidden + after) is not None


@given(st.lists(COMMAND, min_size=1, max_size=10), st.integers(1, 12))
def test_a_limited_reading_is_a_prefix_of_the_whole(lines, limit):
    body = "\n".join(lines)
    whole = [c for c in parse_commands(body) if c.name in COMMANDS]
    reading = read_commands(body, COMMANDS, limit=limit)
    assert list(reading.commands) == whole[:len(reading.commands)]
    known_lines = sum(1 for line in lines if line.strip().split(" ")[0][1:].lower() in COMMANDS)
    assert reading.more is (known_lines > limit)


@given(st.text(min_size=1, max_size=50))
def test_only_the_first_max_body_characters_are_read(tail):
    body = "x" * (MAX_BODY - 1) + "\n" + "/claim " + tail
    assert parse_commands(body) == []


# -- through the handler: one comment, one reply ------------------------------------------------------------------

IDS = itertools.count(1000)
PEOPLE = st.sampled_from(["bob", "tina-triage", "maintainer-max"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.one_of(COMMAND, COMMAND, LINE), max_size=40), who=PEOPLE, ending=ENDINGS)
def test_any_comment_gives_at_most_one_reply_and_one_write_of_each_kind(make_harness, lines, who, ending):
    harness = _harness(make_harness)
    before = {row.id for row in harness.rows(OutboxAction)}
    number = next(IDS)
    harness.deliver("issue_comment", comment_event(number, "alice", who, at="2026-11-01T10:05:00Z",
                                                   body=comment_of(lines, ending), comment_id=number))
    rows = [row for row in harness.rows(OutboxAction) if row.id not in before]
    forge_kinds = [row.kind for row in rows if row.kind != "notify"]
    assert forge_kinds.count("comment") <= 1
    assert len(forge_kinds) == len(set(forge_kinds)) <= 7  # label, unlabel, assign, unassign, close, reopen, reply
    for row in rows:
        if row.kind == "comment":
            assert len(row.payload["body"]) <= 20_000
        if row.kind in ("label", "unlabel"):
            assert len(row.payload["labels"]) <= 10 * 10


_HARNESSES: dict[int, object] = {}


def _harness(make_harness):
    """One harness for all the examples of a test run (Hypothesis calls the test many times with one fixture)."""
    key = id(make_harness)
    if key not in _HARNESSES:
        _HARNESSES.clear()
        _HARNESSES[key] = make_harness(commands={"roles": [{"triagers": ["github:tina-triage"]}],
                                                 "per_person_per_hour": 0})
    return _HARNESSES[key]
