"""What a stranger writes cannot mention anyone or make a link in a message cobot sends (issue 15, item 6), and the
e-mail's text part shows an image as "[image: alt] (url)" (item 21).

Through the public surface: signed forge deliveries whose issue title, comment body and commenter login carry
mention and link payloads go through the pipeline; the outbox then sends to the local chat servers
(tests/chat_servers.py) and a real SMTP server (aiosmtpd); what each tool RECEIVED is read with a checker of that
tool's syntax (Slack's <…> sequences; CommonMark (markdown-it) plus the tags and mentions of Feishu's lark_md,
DingTalk's and WeCom's Markdown; Feishu post elements; the e-mail's HTML): no mention, no link but the issue's.
Hypothesis then gives each channel's escaper any text.
"""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from bot.messages.escape import LINE_BREAKS, chat_escape, markdown_escape, safe_link, slack_escape
from bot.messages.render import render_message
from bot.notifiers.base import Notification
from bot.notifiers.email import EmailNotifier, markdown_to_html, markdown_to_text
from bot.notifiers.feishu import card_message, post_message
from bot.notifiers.limits import ChannelLimits
from bot.notifiers.registry import build_notifiers
from bot.notifiers.slack import slack_blocks
from bot.notifiers.text import ELLIPSIS, chat_markdown, inline_runs, slack_mrkdwn, truncate_chars
from bot.notifiers.urls import outbound_session
from bot.outbox.dispatcher import Dispatcher, WriteRate
from bot.settings.notify import EmailChannel
from bot.store.tables import OutboxAction
from campaigns.runner import CampaignRunner
from tests.chat_servers import DINGTALK, FEISHU, SLACK, SLACK_WEBHOOK, WEBHOOK, WECOM, chat_servers
from tests.payloads import comment_event, issue_event
from tests.test_notifier_email import Recorder, free_port

T0 = "2026-11-01T10:00:00Z"
ISSUE = "https://github.com/acme/rocket/issues/7"
EVIL = "evil.example"
TITLE = ("[click](https://evil.example) <at id=all></at> <!channel> ![p](https://evil.example/p.png) "
         "<https://evil.example/auto> **bold** @13800138000")
COMMENT = ("<@all> <!here> <@U0ALL> [docs](https://evil.example/docs) <a href=\"https://evil.example\">x</a> "
           "<font color=red>red</font> [x]: https://evil.example")
COMMENTER = "mallory<!channel>[x](https://evil.example)"

SLACK_TOKEN = "xoxb-injection-test"
DING_TOKEN, DING_SECRET = "ding-injection-token", "SECding-injection"
FEISHU_POST, FEISHU_CARD, FEISHU_SECRET = "hook-post", "hook-card", "feishu-injection-secret"
WECOM_KEY = "wecom-injection-key"


# -- checkers: what each tool would read as a mention or a link ---------------------------------------------------

COMMONMARK = MarkdownIt("commonmark", {"html": True}).enable("strikethrough")
TAG = re.compile(r"<\s*/?\s*[A-Za-z!@?#]")  # any tag, Slack sequence or mention the chat tools parse
BARE_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")  # what a chat client makes a link of
MENTIONS = {"dingtalk": re.compile(r"@\d"), "wecom": re.compile(r"<@"), "feishu": re.compile(r"<\s*at\b", re.I)}
SLACK_SEQUENCE = re.compile(r"<([^<>]*)>")


def markdown_reading(text: str) -> tuple[list[str], list[str], list[str]]:
    """What a CommonMark reader finds in `text`: link and image targets, HTML, and the texts (link labels too)."""
    targets: list[str] = []
    html: list[str] = []
    texts: list[str] = []
    for block in COMMONMARK.parse(text):
        if block.type == "html_block":
            html.append(block.content)
        for token in block.children or []:
            if token.type == "link_open":
                targets.append(token.attrs["href"])
            elif token.type == "image":
                targets.append(token.attrs["src"])
            elif token.type == "html_inline":
                html.append(token.content)
            elif token.type == "text":
                texts.append(token.content)
    return targets, html, texts


def chat_findings(text: str, legit: set[str]) -> list[str]:
    """Mentions and links in a Feishu lark_md, DingTalk or WeCom Markdown text that are not cobot's `legit` ones."""
    targets, html, texts = markdown_reading(text)
    found = [f"link {target}" for target in targets if target not in legit] + [f"html {tag}" for tag in html]
    found += [f"address {match}" for piece in texts for match in BARE_URL.findall(piece)]
    found += [f"tag {match}" for match in TAG.findall(text)]
    found += [f"mention {match}" for pattern in MENTIONS.values() for match in pattern.findall(text)]
    return found


def slack_findings(text: str, legit: set[str]) -> list[str]:
    """Slack's control sequences (<!channel>, <@U…>, <url|text>, …) other than links to `legit` addresses."""
    return [sequence for sequence in SLACK_SEQUENCE.findall(text) if sequence.split("|")[0] not in legit]


def post_findings(post: dict[str, Any], legit: set[str]) -> list[str]:
    """Elements of a Feishu post other than text and links to `legit` addresses; tags or addresses in its text."""
    found = []
    for paragraph in post["content"]:
        for element in paragraph:
            if element["tag"] == "a":
                found += [] if element["href"] in legit else [f"link {element['href']}"]
            elif element["tag"] != "text":
                found.append(f"element {element['tag']}")
            found += TAG.findall(element.get("text", "")) + BARE_URL.findall(element.get("text", ""))
    return found


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


E_MAIL_TAGS = {"html", "head", "meta", "title", "body", "h2", "h3", "p", "br", "ul", "ol", "li", "blockquote",
               "strong", "em", "del", "code", "a", "img", "table", "tr", "th", "td", "b", "span"}


def html_findings(page: str, legit: set[str]) -> list[str]:
    parser = _Tags()
    parser.feed(page)
    found = [f"tag {tag}" for tag, _ in parser.tags if tag not in E_MAIL_TAGS]
    for tag, attrs in parser.tags:
        target = attrs.get("href") if tag == "a" else attrs.get("src") if tag == "img" else None
        if target is not None and target not in legit and not target.startswith("cid:"):
            found.append(f"{tag} {target}")
    return found


def html_text(page: str) -> str:
    parser = _Tags()
    parser.feed(page)
    return "".join(parser.text)


# -- through the pipeline -----------------------------------------------------------------------------------------

@pytest.fixture
async def servers(clock):
    async with chat_servers() as running:
        running.clock = lambda: clock().timestamp()
        running.slack_tokens = {SLACK_TOKEN}
        running.feishu_secrets = {FEISHU_POST: FEISHU_SECRET, FEISHU_CARD: FEISHU_SECRET}
        running.dingtalk_secrets = {DING_TOKEN: DING_SECRET}
        running.wecom_keys = {WECOM_KEY}
        yield running


@pytest.fixture
def smtp():
    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    yield recorder, port
    controller.stop()


def channels(base: str, mail_port: int) -> dict[str, dict[str, Any]]:
    return {
        "slack": {"kind": "slack", "token": SLACK_TOKEN, "channel": "#community", "api_url": f"{base}/slack/api/"},
        "slack_hook": {"kind": "slack_webhook", "url": f"{base}/slack/webhook/T/B/X"},
        "lark": {"kind": "feishu", "url": f"{base}/feishu/hook/{FEISHU_POST}", "secret": FEISHU_SECRET},
        "lark_card": {"kind": "feishu", "url": f"{base}/feishu/hook/{FEISHU_CARD}", "secret": FEISHU_SECRET,
                      "card": True},
        "robot": {"kind": "dingtalk", "url": f"{base}/dingtalk/robot/send?access_token={DING_TOKEN}",
                  "secret": DING_SECRET, "language": "zh"},
        "wecom": {"kind": "wecom", "url": f"{base}/wecom/webhook/send?key={WECOM_KEY}"},
        "hook": {"kind": "webhook", "url": f"{base}/hook"},
        "mail": {"kind": "email", "host": "127.0.0.1", "port": mail_port, "security": "none",
                 "sender": "cobot <cobot@example.org>", "recipients": ["team@example.org"]},
    }


def titled(payload: dict[str, Any]) -> dict[str, Any]:
    """A delivery whose issue is titled with the payloads."""
    payload["issue"]["title"] = TITLE
    return payload


async def dispatch_all(harness, seconds: int = 90) -> None:
    """Send everything the outbox holds, as `cobot serve` wires it, moving the fake clock past the rate limits."""
    http = outbound_session(["127.0.0.1"], 10)
    notify = harness.settings.notify
    notifiers = build_notifiers(notify, http, lambda: harness.clock().timestamp())
    limits = ChannelLimits({name: channel.limits() for name, channel in notify.channels.items()})
    dispatcher = Dispatcher(harness.db, harness.settings.outbox, harness.clock, {"github": None, "gitee": None},
                            WriteRate({"github": 1000, "gitee": 1000}), notifiers=notifiers, limits=limits,
                            notify=notify, language="en")
    try:
        for _ in range(seconds):
            await dispatcher.dispatch_due()
            harness.clock.advance(1)
    finally:
        for notifier in notifiers.values():
            await notifier.close()
        await http.close()


async def test_titles_comments_and_logins_reach_no_chat_tool_as_mentions_or_links(make_harness, servers, smtp):
    recorder, port = smtp
    everywhere = list(channels(servers.base_url, port))
    harness = make_harness(notify={"allow_hosts": ["127.0.0.1"], "channels": channels(servers.base_url, port),
                                   "rules": [{"topics": ["newcomer"], "channels": everywhere},
                                             {"events": ["comment.created"], "channels": everywhere}]})
    harness.deliver("issues", titled(issue_event("opened", 7, "alice", created=T0)))
    harness.deliver("issue_comment", titled(comment_event(7, "alice", COMMENTER, at=T0, created=T0, body=COMMENT)))
    await dispatch_all(harness)
    notes = harness.rows(OutboxAction, OutboxAction.kind == "notify")
    assert len(notes) == 2 * len(everywhere) and {n.status for n in notes} == {"done"}
    legit = {ISSUE, f"{ISSUE}#c"}

    for platform in (SLACK, SLACK_WEBHOOK):
        for request in servers.received(platform):
            texts = [request.body["text"]] + [
                item["text"] for block in request.body["blocks"] for item in [block.get("text", {})]
                if item.get("type") == "mrkdwn"]
            assert all(item.get("verbatim") for block in request.body["blocks"]
                       for item in [block.get("text", {})] if item.get("type") == "mrkdwn")
            for text in texts:
                assert slack_findings(text, legit) == [], text
            assert any(f"<{target}|" in texts[1] for target in legit)  # the issue's link is there
            assert "&lt;!channel&gt;" in "".join(texts) or "&lt;@all&gt;" in "".join(texts)  # shown, not parsed

    posts = [r for r in servers.received(FEISHU) if r.path.endswith(FEISHU_POST)]
    cards = [r for r in servers.received(FEISHU) if r.path.endswith(FEISHU_CARD)]
    assert len(posts) == len(cards) == 2
    for request in posts:
        [post] = request.body["content"]["post"].values()
        assert post_findings(post, legit) == []
        assert any(e["tag"] == "a" and e["href"] in legit for line in post["content"][:-1] for e in line)
    for request in cards:
        [body] = [e["text"]["content"] for e in request.body["card"]["elements"] if e["tag"] == "div"]
        assert chat_findings(body, legit) == [], body
        assert markdown_reading(body)[0] and set(markdown_reading(body)[0]) <= legit  # the issue's link stays
        [action] = [e for e in request.body["card"]["elements"] if e["tag"] == "action"]
        assert action["actions"][0]["url"] in legit

    for platform, field in ((DINGTALK, "text"), (WECOM, "content")):
        for request in servers.received(platform):
            text = request.body["markdown"][field]
            assert chat_findings(text, legit) == [], text
            assert set(markdown_reading(text)[0]) & legit

    for request in servers.received(WEBHOOK):  # the generic webhook: Markdown with what people wrote escaped
        targets, html, _ = markdown_reading(request.body["body"])
        assert set(targets) <= legit and targets and html == []

    assert len(recorder.received) == 2
    for index in range(2):
        message = recorder.message(index)
        page = message.get_body(("html",)).get_content()
        text = message.get_body(("plain",)).get_content()
        assert html_findings(page, legit) == [] and f'href="{ISSUE}' in page
        assert EVIL not in "".join(attrs.get("href") or "" for _, attrs in _parsed_tags(page))
        assert ISSUE in text
    texts = [recorder.message(index).get_body(("plain",)).get_content() for index in range(2)]
    assert any(TITLE in text for text in texts)  # the title as its author wrote it, not made into "click (url)"
    assert not any("click (https://evil.example)" in text for text in texts)


def test_a_huge_title_costs_no_more_than_a_long_one(make_harness):
    harness = make_harness(notify={"channels": {"hook": {"kind": "webhook", "url": "https://hooks.example.org/x"}},
                                   "rules": [{"topics": ["newcomer"], "channels": ["hook"]}]})
    event = issue_event("opened", 7, "alice", created=T0)
    event["issue"]["title"] = "[" * 70_000
    harness.deliver("issues", event)
    [note] = harness.rows(OutboxAction, OutboxAction.kind == "notify")
    body = note.payload["body"]
    assert len(body) < 2_500 and body.count("\\[") == 999 and "[\\[\\[…](" in body  # one value: 1,000 characters
    assert markdown_reading(body)[0] == [ISSUE]


def _parsed_tags(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(page)
    return parser.tags


async def test_the_digest_quotes_titles_without_links_or_mentions(make_harness, clock, servers, smtp):
    from tests.test_digest import COMMUNITY, DIGEST, MONDAY, at

    recorder, port = smtp
    clock.now = MONDAY + timedelta(days=7, hours=9)
    named = channels(servers.base_url, port)
    chosen = ["slack", "lark_card", "robot", "wecom", "mail"]
    harness = make_harness(community=COMMUNITY, campaigns=[DIGEST], server={"public_url": "https://cobot.example"},
                           notify={"allow_hosts": ["127.0.0.1"], "channels": {name: named[name] for name in chosen},
                                   "rules": [{"topics": ["digest"], "channels": chosen}]})
    harness.deliver("issues", titled(issue_event("opened", 2, "bob", created=at(0))))
    CampaignRunner(harness.db, harness.settings, clock).tick("weekly")
    await dispatch_all(harness, seconds=5)
    legit = {"https://github.com/acme/rocket/issues/2"}

    [slack] = servers.received(SLACK)
    assert slack_findings(slack.body["blocks"][1]["text"]["text"], legit | _charts(slack.body)) == []
    [card] = servers.received(FEISHU)
    body = card.body["card"]["elements"][0]["text"]["content"]
    assert chat_findings(body, legit | set(re.findall(r"\((https://cobot\.example/[^)]+)\)", body))) == [], body
    for platform, field in ((DINGTALK, "text"), (WECOM, "content")):
        [request] = servers.received(platform)
        text = request.body["markdown"][field]
        charts = set(re.findall(r"\((https://cobot\.example/[^)]+)\)", text))
        assert chat_findings(text, legit | charts) == [] and legit & set(markdown_reading(text)[0])
    message = recorder.message()
    page = message.get_body(("html",)).get_content()
    assert html_findings(page, legit) == [] and 'href="https://github.com/acme/rocket/issues/2"' in page


def _charts(body: dict[str, Any]) -> set[str]:
    return set(re.findall(r"<(https://cobot\.example/[^|>]+)\|", body["blocks"][1]["text"]["text"]))


# -- item 21: images in the e-mail's text part ---------------------------------------------------------------------

async def test_an_image_reads_as_image_alt_and_address_in_the_text_part(smtp):
    recorder, port = smtp
    notice = Notification(title="Weekly", body="Numbers\n\n![The week's activity](https://cobot.example/w.png)\n\nEnd",
                          key="k-image", language="en")
    channel = EmailChannel(kind="email", host="127.0.0.1", port=port, security="none",
                           sender="cobot <cobot@example.org>", recipients=["team@example.org"])
    await EmailNotifier(channel).send(notice)
    message = recorder.message()
    text = message.get_body(("plain",)).get_content()
    assert "[image: The week's activity] (https://cobot.example/w.png)" in text
    assert "!The week" not in text and "![" not in text
    page = message.get_body(("html",)).get_content()
    assert '<img src="https://cobot.example/w.png" alt="The week&#x27;s activity"' in page


async def test_the_digest_chart_reads_as_an_image_in_the_mail_text(make_harness, clock, smtp):
    from tests.test_digest import COMMUNITY, DIGEST, MONDAY, seed

    recorder, port = smtp
    clock.now = MONDAY + timedelta(days=7, hours=9)
    mail = {"kind": "email", "host": "127.0.0.1", "port": port, "security": "none", "language": "zh",
            "sender": "cobot <cobot@example.org>", "recipients": ["team@example.org"]}
    harness = make_harness(community=COMMUNITY, campaigns=[DIGEST], server={"public_url": "https://cobot.example"},
                           notify={"allow_hosts": ["127.0.0.1"], "channels": {"mail": mail},
                                   "rules": [{"topics": ["digest"], "channels": ["mail"]}]})
    seed(harness)
    CampaignRunner(harness.db, harness.settings, clock).tick("weekly")
    await dispatch_all(harness, seconds=2)
    text = recorder.message().get_body(("plain",)).get_content()
    [line] = [line for line in text.splitlines() if "本周活跃度" in line]
    assert re.fullmatch(r"\[图片：本周活跃度\] \(https://cobot\.example/digests/weekly/\S+\)", line), line


# -- each channel's escaper, given any text --------------------------------------------------------------------------

FRAGMENTS = ["<at id=all></at>", '<at user_id="all">', "<!channel>", "<!here>", "<@U0ALL>", "<#C1>",
             "<!subteam^S1>", "<https://evil.example|click>", "[click](https://evil.example)",
             "![p](https://evil.example/p.png)", "<https://evil.example>", "https://evil.example", "@13800138000",
             "<@all>", "<font color=red>", '<a href="https://evil.example">x</a>', "[x]: https://evil.example",
             "[x]", "[x][]", "**", "__", "~~", "`", "``", "\\", "&lt;", "&#60;", "&amp;", "\n", "\r\n", "# ", "- ",
             "> ", "1. ", "    ", ":", "//", "(", ")", "!", "|", "*", "_", "~", "<", ">", "[", "]", "@", "&",
             "\u2028", "\x00", "　", "＜", "mailto:", "javascript:alert(1)", "a", " "]
hostile = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=14).map("".join)
CHECKS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def shown(text: str) -> str:
    """What a value is shown as: the same, on one line (and NUL as U+FFFD, as CommonMark reads it)."""
    return LINE_BREAKS.sub(" ", text).replace("\0", "\ufffd")


@CHECKS
@given(hostile)
@example("-")  # alone, an empty list item (found by Hypothesis)
@example("  +")
def test_markdown_escape_shows_the_text_and_makes_nothing_of_it(text):
    escaped = markdown_escape(text)
    tokens = COMMONMARK.parseInline(escaped)[0].children or []
    assert {token.type for token in tokens} <= {"text"}
    assert "".join(token.content for token in tokens) == shown(text)
    line = f"**@{escaped}** opened [#7 {escaped}]({ISSUE}) in `acme/rocket`: {escaped}"
    targets, html, _ = markdown_reading(line)
    assert targets == [ISSUE] and html == []
    blocks = {token.type for token in COMMONMARK.parse(escaped)}  # at the start of a line
    assert not blocks & {"heading_open", "bullet_list_open", "ordered_list_open", "blockquote_open", "hr",
                         "html_block"}
    assert markdown_reading(escaped)[:2] == ([], [])


@CHECKS
@given(hostile)
def test_slack_reads_no_sequence_in_escaped_text(text):
    for written in (slack_escape(text), slack_mrkdwn(markdown_escape(text))):
        assert slack_findings(written, set()) == [] and "<" not in written and ">" not in written
    back = slack_mrkdwn(markdown_escape(text)).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert back == shown(text)
    line = slack_mrkdwn(f"**@{markdown_escape(text)}** opened [#7 {markdown_escape(text)}]({ISSUE})")
    assert [sequence.split("|")[0] for sequence in SLACK_SEQUENCE.findall(line)] == [ISSUE]


@CHECKS
@given(hostile, st.booleans(), st.booleans())
@example("\\", True, False)  # a backslash at the end of a link's label would escape its "]"
def test_chat_markdown_reads_no_mention_or_link_in_escaped_text(text, headings, images):
    assert chat_findings(chat_escape(text), set()) == []
    assert chat_findings(chat_markdown(markdown_escape(text), headings=headings, images=images), set()) == []
    line = chat_markdown(f"**@{markdown_escape(text)}** [#7 {markdown_escape(text)}]({ISSUE})\n\n"
                         f"> {markdown_escape(text)}\n# {markdown_escape(text)}", headings=headings, images=images)
    assert chat_findings(line, {ISSUE}) == [] and markdown_reading(line)[0] == [ISSUE]


@CHECKS
@given(hostile)
@example("\\")
def test_feishu_post_and_card_hold_no_mention_or_link(text):
    body = f"{markdown_escape(text)} [#7 {markdown_escape(text)}]({ISSUE})"
    notice = Notification(title=text, body=body, link=ISSUE, fields=((text, text),))
    [post] = post_message(notice, body)["content"]["post"].values()
    assert post_findings(post, {ISSUE}) == []
    card = card_message(notice, body)["card"]
    for element in card["elements"]:
        for item in [element.get("text", {})] + [field["text"] for field in element.get("fields", [])]:
            if item.get("tag") == "lark_md":
                assert chat_findings(item["content"], {ISSUE}) == []
    for block in slack_blocks(notice):
        for item in [block.get("text", {})] + block.get("fields", []):
            if item.get("type") == "mrkdwn":
                assert slack_findings(item["text"], {ISSUE}) == [] and item["verbatim"]


@CHECKS
@given(hostile)
@example("\u3000- ")  # an ideographic space before a dash: no list item in CommonMark, nor in the e-mail
def test_email_shows_the_text_as_text(text):
    escaped = markdown_escape(text)
    page = markdown_to_html(escaped)
    assert html_findings(page, set()) == []
    assert html_text(page) == shown(text).strip()
    assert markdown_to_text(escaped) == shown(text).strip()
    linked = markdown_to_html(f"[#7 {escaped}]({ISSUE})")
    assert [attrs.get("href") for tag, attrs in _parsed_tags(linked) if tag == "a"] == [ISSUE]


@CHECKS
@given(hostile, st.integers(1, 80))
def test_a_cut_message_still_shows_the_text_as_text(text, length):
    escaped = markdown_escape(text)
    cut = truncate_chars(escaped, length)
    if cut in (escaped, ""):
        return
    read = "".join(run.text for run in inline_runs(cut))
    assert read.endswith(ELLIPSIS) and shown(text).startswith(read[:-1].rstrip())  # no stray "\\" or half escape
    assert markdown_reading(cut)[:2] == ([], [])


@CHECKS
@given(st.one_of(hostile, st.sampled_from([ISSUE, "https://e.org/a b", "https://e.org/(x)", "HTTPS://E.org/<x>",
                                           "https://[::1]:8080/p?q=1&r=(2)#f", "javascript:alert(1)", "//e.org/x",
                                           "https://e.org/a\\b", "https://例子.测试/", "https://e.org/|x>"]),
                 st.text(alphabet="htps:/e.org()[]<>|\"' `\\%#?&=", max_size=30)))
def test_a_safe_link_is_one_link_in_every_syntax(url):
    target = safe_link(url)
    if target is None:
        return
    assert target.split(":", 1)[0].lower() in ("http", "https")
    assert not re.search(r"[\s<>|\"'`\\()]", target)
    assert markdown_reading(f"[x]({target})")[0] == [COMMONMARK.normalizeLink(target)]
    assert SLACK_SEQUENCE.findall(f"<{target}|x>") == [f"{target}|x"]


# -- every notification template, given hostile values -------------------------------------------------------------

HOSTILE = "<b>[click](https://evil.example)</b> <at id=all></at> <!channel> @13800138000 **x** `y` # z"


def _standings() -> list[dict[str, Any]]:
    return [{"rank": 1, "name": HOSTILE, "points": 3, "tasks": 1}]


TEMPLATES: list[tuple[str, dict[str, Any]]] = [
    *[("event_notice", {"kind": kind, "actor": HOSTILE, "repo": HOSTILE, "platform_label": "GitHub",
                        "number": number, "title": HOSTILE, "is_pr": False, "url": ISSUE, "excerpt": HOSTILE,
                        "ref": HOSTILE, "commits": 2})
      for kind, number in (("issue.opened", "7"), ("comment.created", "7"), ("push", ""), ("star.created", ""),
                           ("fork.created", ""), ("release.published", ""))],
    ("newcomer_notice", {"login": HOSTILE, "repo": HOSTILE, "is_pr": True, "title": HOSTILE, "url": ISSUE,
                         "platform_label": "Gitee"}),
    ("badge_notice", {"login": HOSTILE, "badge_en": HOSTILE, "badge_zh": HOSTILE, "about_en": HOSTILE,
                      "about_zh": HOSTILE, "reason": HOSTILE}),
    *[("failure_notice", {"source": source, "id": 3, "what": HOSTILE, "error": HOSTILE})
      for source in ("outbox", "inbox")],
    ("campaigns/camp_graduated", {"login": HOSTILE, "title": HOSTILE, "badge_en": HOSTILE, "badge_zh": HOSTILE}),
    ("campaigns/hackathon_halfway", {"title": HOSTILE, "end": "soon", "done": 1, "tasks": 2, "claimed": 0,
                                     "submitted": 0, "open": 1, "standings": _standings()}),
    ("campaigns/leaderboard_post", {"title": HOSTILE, "lines": [{"rank": 1, "name": HOSTILE, "score": 2.5,
                                                                 "previous": None}],
                                    "by": "activity", "since": "a", "until": "b"}),
]


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize(("template", "values"), TEMPLATES, ids=[
    f"{name}:{values.get('kind') or values.get('source') or ''}" for name, values in TEMPLATES])
def test_every_notice_template_quotes_what_people_wrote(template, values, language):
    body = render_message(template, language, **values)
    targets, html, _ = markdown_reading(body)
    assert set(targets) <= {ISSUE} and html == [], body
    assert "&lt;b&gt;" not in body and "&amp;" not in body  # no value met HTML escaping on its way
    notice = Notification(title="t", body=body, link=ISSUE)
    assert chat_findings(chat_markdown(body), {ISSUE}) == []
    assert slack_findings(slack_mrkdwn(body), {ISSUE}) == []
    assert html_findings(markdown_to_html(body), {ISSUE}) == []
    [post] = post_message(notice, body)["content"]["post"].values()
    assert post_findings(post, {ISSUE}) == []
