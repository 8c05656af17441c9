"""What cobot posts on a forge in answer to commands carries nothing live that the commenter wrote (issue 15, item 6,
for cobot's own comments): signed comment deliveries through the real pipeline and store, and the reply (the outbox
row's body) read as GitHub reads a comment: CommonMark with HTML, then, in the text outside code spans and links,
the @-mentions (`@user`, `@org/team`) and bare addresses GitHub makes live. The only live things a reply may hold
are the commenter's mention, the link to the comment it answers and its own `<details>`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from tests.test_commands import Conversation, reply_of

TRIAGER, MAINTAINER = "tina-triage", "maintainer-max"
COMMANDS = {"roles": [{"where": "acme", "triagers": [f"github:{TRIAGER}"]}]}
COMMENT_URL = "https://github.com/acme/rocket/issues/1#c"
# one backtick: between a template's own backticks, it would end the span and free what follows
HOSTILE = "x` @org/team [y](https://evil.example) <img src=x> ![i](https://evil.example/i.png)"

GITHUB = MarkdownIt("commonmark", {"html": True}).enable(["strikethrough", "table"])
# GitHub's mentions, in text outside code and links: "@" not after a word character, a login, maybe "/team"
MENTION = re.compile(r"(?:^|\W)@([A-Za-z0-9][A-Za-z0-9-]*(?:/[A-Za-z0-9][A-Za-z0-9_-]*)?)")
ADDRESS = re.compile(r"(?:https?://|www\.)[^\s<]+", re.IGNORECASE)  # what GitHub autolinks in text


def live(body: str) -> set[str]:
    """What GitHub makes live of a comment's Markdown: raw HTML, link and image targets, and the mentions and bare
    addresses of its text outside code spans and links."""
    found: set[str] = set()
    for block in GITHUB.parse(body):
        if block.type == "html_block":
            found.add(f"html {block.content.strip()}")
        texts: list[str] = []
        in_link = False
        for token in block.children or []:
            if token.type == "link_open":
                found.add(f"link {token.attrs['href']}")
                in_link = True
            elif token.type == "link_close":
                in_link = False
            elif token.type == "image":
                found.add(f"image {token.attrs['src']}")
            elif token.type == "html_inline":
                found.add(f"html {token.content}")
            texts.append(token.content if token.type == "text" and not in_link else "\n")
        text = "".join(texts)
        found.update(f"mention @{name}" for name in MENTION.findall(text))
        found.update(f"address {address}" for address in ADDRESS.findall(text))
    return found


def may_be_live(commenter: str) -> set[str]:
    return {f"mention @{commenter}", f"link {COMMENT_URL}", "html <details>", "html </details>"}


# (who comments, what): each quoted in the reply, its arguments named in the answer
HOSTILE_COMMANDS = {
    "a refused command's line": ("mallory", "/label x @org/everyone [y](https://evil.example) <img src=x>"),
    "a line closing the reply's details": ("mallory", "/label </details> @org/team <img src=x>"),
    "a line with backticks": ("mallory", f"/claim {HOSTILE}"),
    "a user name": (TRIAGER, f'/assign "{HOSTILE}"'),
    "a label": (TRIAGER, f'/remove-label "{HOSTILE}"'),
    "a badge": (MAINTAINER, f'/award "{HOSTILE}" alice'),
    "a training camp": ("mallory", f'/campaign join "{HOSTILE}"'),
    "a campaign's verb": ("mallory", f'/campaign "{HOSTILE}" spring'),
    "a user unknown here": ("mallory", "/stats @org"),
}


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize(("who", "command"), HOSTILE_COMMANDS.values(), ids=HOSTILE_COMMANDS.keys())
def test_a_reply_shows_what_the_commenter_wrote_and_makes_none_of_it_live(make_harness, language, who, command):
    harness = make_harness(commands=COMMANDS, community={"repos": [{"platform": "github", "name": "acme/rocket",
                                                                    "language": language}]})
    body = reply_of(Conversation(harness).say(who, command))
    assert body.startswith(f"@{who}")
    assert live(body) <= may_be_live(who), body
    assert ("@org" if "@org" in command else "evil.example") in body  # shown, as written, in a code span


def test_the_checker_sees_what_github_makes_live():
    body = "@bob: hi @org/team and @carol [x](https://evil.example) <img src=x> https://evil.example `@dave` a@b"
    assert live(body) == {"mention @bob", "mention @org/team", "mention @carol", "link https://evil.example",
                          "html <img src=x>", "address https://evil.example"}
    assert live(f"[this]({COMMENT_URL}) `@org/team [x](https://evil.example) <img src=x>`") == {
        f"link {COMMENT_URL}"}


TEMPLATES = Path(__file__).resolve().parent.parent / "bot" / "templates"


@pytest.mark.parametrize("folder", ["commands", "campaigns"])
def test_no_answer_template_writes_a_value_inside_its_own_backticks(folder):
    """A value in a code span is written with `|code` (`bot.messages.escape.inline_code`), which keeps it inside:
    between a template's own backticks, a backtick in the value would end the span and free what follows."""
    inside = []
    for path in sorted(TEMPLATES.glob(f"*/{folder}/*.j2")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if any("{{" in part or "{%" in part for part in line.split("`")[1::2]):
                inside.append(f"{path.relative_to(TEMPLATES)}:{number}")
    assert inside == []
