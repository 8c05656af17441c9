"""The slash-command parser's table of tricky comments."""

from __future__ import annotations

import pytest

from bot.commands.parser import only_commands, parse_commands

CASES = [
    ("plain", "/claim", [("claim", ())]),
    ("arguments", "/assign @alice @bob", [("assign", ("@alice", "@bob"))]),
    ("upper case name", "/Label Bug", [("label", ("Bug",))]),
    ("leading blanks", "   /close", [("close", ())]),
    ("several in one comment", "Thanks!\n/label bug\n/assign @alice\nLooks good.",
     [("label", ("bug",)), ("assign", ("@alice",))]),
    ("the same line twice counts once", "/claim\n/claim", [("claim", ())]),
    ("not at the start of the line", "please /claim this", []),
    ("a path is not a command", "see /docs/setup.md", []),
    ("a path at the start of a line is not a command", "/docs/setup.md", []),
    ("a URL is not a command", "https://example.org/claim", []),
    ("fenced code", "```\n/close\n```\n/reopen", [("reopen", ())]),
    ("tilde fence and a longer closing fence", "~~~sh\n/close\n~~~~\n/claim", [("claim", ())]),
    ("unclosed fence hides the rest", "```\n/close", []),
    ("a backtick fence is not closed by tildes", "```\n~~~\n/close\n```\n/claim", [("claim", ())]),
    ("indented code", "    /close\n\t/close", []),
    ("quoted reply", "> /close\n>/label x\n/reopen", [("reopen", ())]),
    ("html comment (a bot marker)", "<!-- /close -->\n<!--\n/label x\n-->\n/claim", [("claim", ())]),
    ("full-width slash, colon and commas", "／label：bug，docs", [("label", ("bug", "docs"))]),
    ("full-width at sign and ideographic space", "／assign　＠alice　＠bob", [("assign", ("@alice", "@bob"))]),
    ("ASCII colon and commas", "/label: bug, docs", [("label", ("bug", "docs"))]),
    ("straight quotes group words", '/label "good first issue" docs', [("label", ("good first issue", "docs"))]),
    ("curly quotes", "/label “help wanted”", [("label", ("help wanted",))]),
    ("corner quotes", "/label 「新手友好」 文档", [("label", ("新手友好", "文档"))]),
    ("an unbalanced quote takes the words", '/label "good first', [("label", ('"good', "first"))]),
    ("Chinese arguments untouched", "/label 文档", [("label", ("文档",))]),
    ("a name stuck to punctuation is not a command", "/claim!", []),
    ("windows line endings", "/claim\r\n/help\r\n", [("claim", ()), ("help", ())]),
    ("empty comment", "", []),
    ("a tag's quoted attribute hides its lines", 'Hi <div title="\n/close\n">x</div>\n/claim', [("claim", ())]),
    ("a definition's title hides its lines", '[r]: https://e.org "\n/close\n"\n/claim', [("claim", ())]),
    ("a link's destination hides its line", "[x](\n/close\n)\n/claim", [("claim", ())]),
    ("a `<` and a letter, never closed, hides the rest", "a<b\n/claim", []),
    ("a `<` and a blank hides nothing", "a < b\n/claim", [("claim", ())]),
    ("a link on one line hides nothing after it", "see [x](https://e.org)\n/claim", [("claim", ())]),
    ("a name of 32 characters", "/" + "a" * 32, [("a" * 32, ())]),
    ("a longer name is no command", "/" + "a" * 33 + " x", []),
    ("a name is ASCII or full-width, not a ligature", "/ﬁx", []),
    ("arguments are read as NFKC", "/label ﬁx ＠alice ㎏", [("label", ("fix", "@alice", "kg"))]),
]


@pytest.mark.parametrize(("body", "expected"), [(body, expected) for _, body, expected in CASES],
                         ids=[name for name, _, _ in CASES])
def test_comments_parse_to_their_commands(body, expected):
    assert [(c.name, c.args) for c in parse_commands(body)] == expected


def test_each_command_keeps_its_line_as_written_for_the_reply_to_quote():
    [command] = parse_commands("Please:\n  ／label：bug  \n")
    assert command.line == "／label：bug"


@pytest.mark.parametrize(("body", "expected"), [
    ("/claim", True), ("/label bug\n\n/assign @a", True), ("> Can someone take this?\n/claim", True),
    ("/claim\nI'll send a PR tomorrow.", False), ("Thanks!", False), ("", False), ("```\n/close\n```", False),
    ("/claim\n<!--\na note\n-->", True), ('/claim\n<div title="\nhi\n">', False),
])
def test_a_comment_of_nothing_but_commands_is_told_apart(body, expected):
    assert only_commands(body) is expected
