"""The weekly digest: built from a seeded week through the real pipeline, rendered in both languages, with its
chart, delivered once a week by e-mail to a real SMTP server (aiosmtpd) and to a local chat server."""

from __future__ import annotations

import base64
import io
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from matplotlib import image

from bot.app.factory import create_app
from bot.cli.main import main
from bot.notifiers.limits import ChannelLimits
from bot.notifiers.registry import build_notifiers
from bot.notifiers.urls import outbound_session
from bot.outbox.dispatcher import Dispatcher, WriteRate
from bot.store.db import Database
from bot.store.tables import OutboxAction
from campaigns.digest import build_digest, chart_png, render_email_html, render_markdown
from campaigns.runner import CampaignRunner
from tests.chat_servers import WEBHOOK, chat_servers
from tests.payloads import comment_event, issue_event, pr_event
from tests.test_notifier_email import Recorder, free_port

MONDAY = datetime(2026, 11, 16, tzinfo=UTC)  # the week reported on: Monday 16 to Sunday 22 November
DIGEST = {"name": "weekly", "kind": "digest", "title": "Rocket weekly", "start": "2026-11-01T00:00:00Z",
          "weekday": "monday", "time": "09:00", "top": 3}
COMMUNITY = {"name": "Rocket", "maintainers": ["github:maintainer-max", "gitee:maintainer-max"],
             "repos": [{"platform": "github", "name": "acme/rocket"}, {"platform": "github", "name": "acme/docs"}]}


def at(day: int, hour: int = 10) -> str:
    """A time of the reported week: day 0 is Monday the 16th; negative days are the week before."""
    return (MONDAY + timedelta(days=day, hours=hour)).strftime("%Y-%m-%dT%H:%M:%SZ")


def seed(harness) -> None:
    """The week before: one issue by alice. The week: alice comes back, bob and carol are new, a bot works."""
    deliver = harness.deliver
    deliver("issues", issue_event("opened", 1, "alice", created=at(-3)))
    deliver("issues", issue_event("opened", 2, "bob", created=at(0)))  # bob's first: answered after 2 h
    deliver("issue_comment", comment_event(2, "bob", "maintainer-max", at=at(0, 12), created=at(0)))
    deliver("pull_request", pr_event("opened", 3, "carol", created=at(1)))  # carol's first PR, merged on day 2
    deliver("pull_request", pr_event("closed", 3, "carol", created=at(1), state="closed", closed=at(2),
                                     merged=at(2), updated=at(2)))
    deliver("issues", issue_event("opened", 4, "alice", created=at(2)))  # never answered: waiting
    deliver("pull_request", pr_event("opened", 5, "dependabot[bot]", created=at(3)))
    deliver("pull_request", pr_event("opened", 6, "alice", created=at(-20, 9), updated=at(-20, 9)))  # stale
    deliver("issue_comment", comment_event(3, "carol", "alice", at=at(2, 11), created=at(1), on_pr=True))


@pytest.fixture
def seeded(make_harness, clock):
    clock.now = MONDAY + timedelta(days=7, hours=9)  # Monday the 23rd, 09:00: the digest is due
    harness = make_harness(community=COMMUNITY, campaigns=[DIGEST], welcome={"scope": "community"})
    seed(harness)
    return harness


def test_the_week_in_numbers_and_lists(seeded):
    campaign = seeded.settings.campaign("weekly")
    with seeded.db.reading() as conn:
        digest = build_digest(conn, seeded.settings, campaign, MONDAY, MONDAY + timedelta(days=7))
    numbers = {n.name: (n.value, n.previous) for n in digest.numbers}
    # this week: alice (issue 4, a comment), bob (issue 2), carol (PR 3), maintainer-max (a comment); the week
    # before: alice (issue 1). New: bob, carol and maintainer-max (alice's first was PR 6, three weeks ago, so
    # nobody was new the week before); the bot does not count
    assert numbers == {"contributors": (4, 1), "new_contributors": (3, 0), "issues_opened": (2, 1),
                       "prs_opened": (1, 0), "prs_merged": (1, 0), "comments": (2, 0)}
    assert [(n["login"], n["is_pr"]) for n in digest.newcomers] == [("bob", False), ("carol", True)]
    assert [(m["number"], m["author"]) for m in digest.merged] == [("3", "carol")]
    # carol: sqrt(4.0679 + 2.0339) = 2.47 (her PR, merged); alice: sqrt(2.2235 + 0.5252) = 1.66;
    # bob: sqrt(2.2235) = 1.49 (maintainer-max's comment, 0.72, is fourth and left out: top = 3)
    assert [(t["rank"], t["name"], t["score"]) for t in digest.top] == [
        (1, "carol", round(math.sqrt(4.0679 + 2.0339), 2)), (2, "alice", round(math.sqrt(2.2235 + 0.5252), 2)),
        (3, "bob", round(math.sqrt(2.2235), 2))]
    # waiting longer than 48 h for a first answer at the week's end: issue 4 (5 days: 110 h) and the old PR 6
    # waiting longer than 48 h for a first answer when the week ends (the 23rd, 00:00), oldest first: the PR alice
    # opened on 27 October at 09:00 (26 days 15 hours), her issue of the 13th at 10:00 (9 days 14 hours) and her
    # issue of the 18th at 10:00 (4 days 14 hours)
    assert [(w["number"], w["hours"]) for w in digest.waiting] == [("6", 26 * 24 + 15), ("1", 9 * 24 + 14),
                                                                   ("4", 4 * 24 + 14)]
    assert [(s["number"], s["days"]) for s in digest.stale] == [("6", 26)]
    # first answers: issue 2 after 2 h, PR 3 after 25 h (alice, the next day at 11:00), issue 4 never
    assert digest.health["first_response_median_hours"] == 13.5
    assert digest.health["first_response_within_24h"] == pytest.approx(1 / 3)
    assert digest.health["pr_acceptance_ratio"] == 1.0
    days = dict(digest.days)
    assert days["2026-11-16"] == {"opened": 1, "comments": 1, "reviews": 0, "merged": 0}
    assert days["2026-11-18"] == {"opened": 1, "comments": 1, "reviews": 0, "merged": 1}
    assert len(days) == 7


def test_rendered_in_english_and_chinese(seeded):
    campaign = seeded.settings.campaign("weekly")
    with seeded.db.reading() as conn:
        digest = build_digest(conn, seeded.settings, campaign, MONDAY, MONDAY + timedelta(days=7))
    english = render_markdown(digest, "en")
    assert "**Rocket**, 2026-11-16 to 2026-11-22" in english
    assert "- Active contributors: **4** (+3 from last week)" in english
    assert "- @carol: first pull request, [Item 3](https://github.com/acme/rocket/pull/3)" in english
    assert "1. **carol** (2.47)" in english
    assert "- [Item 4](https://github.com/acme/rocket/issues/4) by @alice, 110 h" in english
    assert "First response: median 13.5 h, 33% within 24 h" in english
    chinese = render_markdown(digest, "zh")
    assert "- 活跃贡献者：**4**（比上周多 3）" in chinese and "**欢迎新朋友**" in chinese
    assert "- @bob：第一个 Issue" in chinese
    html = render_email_html(digest, "en")
    assert '<img src="cid:activity.png"' in html and "<li>@bob: first issue" in html


def test_the_chart_is_a_png_of_the_week(seeded):
    campaign = seeded.settings.campaign("weekly")
    with seeded.db.reading() as conn:
        digest = build_digest(conn, seeded.settings, campaign, MONDAY, MONDAY + timedelta(days=7))
    png = chart_png(digest, "en")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    height, width, _ = image.imread(io.BytesIO(png)).shape
    assert (width, height) == (640, 260)


async def test_sent_once_a_week_by_email_and_to_chat(make_harness, clock):
    recorder = Recorder()
    from aiosmtpd.controller import Controller

    port = free_port()
    smtp = Controller(recorder, hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        async with chat_servers() as servers:
            clock.now = MONDAY + timedelta(days=7, hours=9)
            harness = make_harness(community=COMMUNITY, campaigns=[DIGEST], notify={
                "allow_hosts": ["127.0.0.1"],
                "channels": {"mail": {"kind": "email", "host": "127.0.0.1", "port": port, "security": "none",
                                      "sender": "cobot <cobot@example.org>", "recipients": ["team@example.org"],
                                      "language": "zh"},
                             "hook": {"kind": "webhook", "url": f"{servers.base_url}/hook", "language": "en"}},
                "rules": [{"topics": ["digest"], "channels": ["mail", "hook"]}]})
            seed(harness)
            runner = CampaignRunner(harness.db, harness.settings, clock)
            runner.tick("weekly")
            runner.tick("weekly")
            CampaignRunner(Database(harness.settings.database.url), harness.settings, clock).tick("weekly")
            notes = harness.rows(OutboxAction, OutboxAction.kind == "notify")
            assert sorted(n.channel for n in notes) == ["hook", "mail"]  # once each, whatever ticks again

            http = outbound_session(["127.0.0.1"], 10)
            notifiers = build_notifiers(harness.settings.notify, http, lambda: clock().timestamp())
            dispatcher = Dispatcher(harness.db, harness.settings.outbox, clock, {"github": None, "gitee": None},
                                    WriteRate({}), notifiers=notifiers, limits=ChannelLimits({}),
                                    notify=harness.settings.notify)
            try:
                await dispatcher.dispatch_due()
            finally:
                for notifier in notifiers.values():
                    await notifier.close()
                await http.close()
            assert [n.status for n in harness.rows(OutboxAction, OutboxAction.kind == "notify")] == ["done", "done"]

            message = recorder.message()
            assert message["Subject"] == "Rocket weekly周报：2026-11-16 这一周"
            text = message.get_body(preferencelist=("plain",)).get_content()
            assert "- 活跃贡献者：4（比上周多 3）" in text  # plain text: the Markdown spelled out
            html_part = message.get_body(preferencelist=("html",))
            assert '<img src="cid:activity.png"' in html_part.get_content()
            [chart] = [part for part in message.walk() if part.get_content_type() == "image/png"]
            assert chart["Content-ID"] == "<activity.png>" and chart.get_content().startswith(b"\x89PNG")

            [posted] = servers.received(WEBHOOK)
            assert posted.body["title"] == "Rocket weekly: the week of 2026-11-16"
            assert "- Active contributors: **4** (+3 from last week)" in posted.body["body"]
    finally:
        smtp.stop()


def test_weeks_missed_while_down_are_not_sent_late(make_harness, clock):
    clock.now = MONDAY + timedelta(days=21, hours=10)  # three Mondays went by
    harness = make_harness(community=COMMUNITY, campaigns=[DIGEST], notify={
        "channels": {"hook": {"kind": "webhook", "url": "https://hooks.example.org/x"}},
        "rules": [{"topics": ["digest"], "channels": ["hook"]}]})
    CampaignRunner(harness.db, harness.settings, clock).tick("weekly")
    [note] = harness.rows(OutboxAction, OutboxAction.kind == "notify")
    assert note.payload["title"] == "Rocket weekly: the week of 2026-11-30"


def test_a_repo_digest_counts_its_repo_and_is_routed_by_it(make_harness, clock):
    clock.now = MONDAY + timedelta(days=7, hours=9)
    docs = {**DIGEST, "name": "docs-weekly", "title": "Docs weekly", "scope": "github:acme/docs"}
    harness = make_harness(community=COMMUNITY, campaigns=[docs], notify={
        "channels": {"docs": {"kind": "webhook", "url": "https://hooks.example.org/docs"},
                     "other": {"kind": "webhook", "url": "https://hooks.example.org/other"}},
        "rules": [{"topics": ["digest"], "repos": ["acme/docs"], "channels": ["docs"]},
                  {"topics": ["digest"], "repos": ["acme/rocket"], "channels": ["other"]}]})
    seed(harness)
    harness.deliver("issues", issue_event("opened", 9, "dora", created=at(1), repo="acme/docs"))
    CampaignRunner(harness.db, harness.settings, clock).tick("docs-weekly")
    [note] = harness.rows(OutboxAction, OutboxAction.kind == "notify")
    assert note.channel == "docs" and "- Issues opened: **1** (+1 from last week)" in note.payload["body"]
    assert "- Active contributors: **1**" in note.payload["body"]


def test_preview_on_the_command_line(seeded, tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{seeded.settings.database.url}"\n[community]\nname = "Rocket"\n')
    runner = CliRunner()
    result = runner.invoke(main, ["digest", "preview", "--config", str(config), "--since", "2026-11-16",
                                  "--until", "2026-11-23"])
    assert result.exit_code == 0, result.output
    assert "- Active contributors: **4** (+3 from last week)" in result.output
    out = tmp_path / "digest.html"
    result = runner.invoke(main, ["digest", "preview", "--config", str(config), "--since", "2026-11-16",
                                  "--until", "2026-11-23", "--format", "html", "--language", "zh",
                                  "--output", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert "<h3>欢迎新朋友</h3>" in html
    data = html.split('src="data:image/png;base64,', 1)[1].split('"', 1)[0]
    assert base64.b64decode(data).startswith(b"\x89PNG")
    bad = runner.invoke(main, ["digest", "preview", "--config", str(config), "--since", "soon"])
    assert bad.exit_code == 1 and "--since/--until 'soon'" in bad.output
    unknown = runner.invoke(main, ["digest", "preview", "--config", str(config), "--campaign", "nope"])
    assert unknown.exit_code == 1 and "no digest campaign named 'nope'" in unknown.output


async def test_the_chart_of_a_past_week_is_served(aiohttp_client, make_harness, clock):
    """(More in tests/test_digest_charts_web.py: which weeks, the store, the worker, the queue, the keys.)"""
    clock.now = MONDAY + timedelta(days=7, hours=9)
    harness = make_harness(community=COMMUNITY, campaigns=[DIGEST], dashboard={"public": True})
    seed(harness)
    client = await aiohttp_client(create_app(harness.settings, clock, run_workers=False))
    response = await client.get("/digests/weekly/2026-W47.png")
    assert response.status == 200 and response.content_type == "image/png"
    assert (await response.read()).startswith(b"\x89PNG")
    assert (await client.get("/digests/weekly/2026-W48.png")).status == 404  # not over yet
    assert (await client.get("/digests/weekly/last-week.png")).status == 404
    assert (await client.get("/digests/nope/2026-W47.png")).status == 404


async def test_a_maintainer_previews_the_digest_in_slack(aiohttp_client, make_harness, clock):
    from tests.test_slack_commands import SIGNING_SECRET, form, signed

    clock.now = MONDAY + timedelta(days=7)
    harness = make_harness(community=COMMUNITY, slack={"signing_secret": SIGNING_SECRET, "users": [
        {"id": "U0MAINTAIN", "role": "maintainer", "github": "maintainer-max"}]})
    seed(harness)
    client = await aiohttp_client(create_app(harness.settings, clock, run_workers=False))

    async def ask(text: str, user: str) -> str:
        body = form(text, user)
        response = await client.post("/slack/commands", data=body, headers=signed(body, int(clock().timestamp())))
        return (await response.json())["text"]

    preview = await ask("digest preview", "U0MAINTAIN")
    assert preview.startswith("Rocket: the week of 2026-11-16") and "- Active contributors: *4*" in preview
    assert "only maintainers may use `/cobot digest`" in await ask("digest preview", "U0SOMEONE")
    assert "`send` is not something `/cobot digest` does" in await ask("digest send", "U0MAINTAIN")
