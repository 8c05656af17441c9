"""The dashboard's pages, served by the real app (SQLite and PostgreSQL) over a store filled through the real
pipeline: a small community's fortnight (issues, hackathon tasks in each state, a merged PR with its review, linked
GitHub and Gitee accounts, a camp), one delivery that failed during an outage and one outbox action that failed for
good. Each page is read as a person reads it (the text of its elements) in English and in Chinese, and checked
against the values worked out from those events; the language switch, the private mode, the maintainers' buttons
and forms (with and without their CSRF token), and that no secret ever reaches a page."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.app.factory import create_app
from bot.store.campaign_tables import CampaignState
from bot.store.community_tables import Activity, BadgeAward, Thread
from bot.store.tables import Delivery, OutboxAction
from bot.web.dashboard.charts import activity_chart, step_for
from bot.web.dashboard.i18n import TEXTS, Texts
from campaigns.runner import CampaignRunner
from tests import web_world
from tests.helpers import body_of
from tests.payloads import comment_event, issue_event, pr_event, review_event
from tests.store_copy import FilledStores
from tests.web_world import DAY, MAINTAINER, gitee_issue, stamp

TOKEN = "page-maintainers-token-0123456789"
HOUR = timedelta(hours=1)
# OpenDigger's weights (bot.community.metrics):
# issue comment, issue opened, PR opened, PR merged (a review weighs nothing)
COMMENT, ISSUE, PR, MERGED = 0.5252, 2.2235, 4.0679, 2.0339
TEMPLATES = Path(__file__).resolve().parents[1] / "bot" / "templates" / "web"
SECRETS = {
    "github": {"webhook_secret": "gh-hook-secret-5bd1c0ffee", "token": "ghp_pagesecret0123456789abcdef"},
    "gitee": {"webhook_secret": "gitee-hook-secret-77aa31", "token": "gitee-api-token-9c8b7a6d"},
    "slack": {"signing_secret": "slack-signing-secret-4e4e4e"},
}
NOTIFY = {
    "channels": {
        "team": {"kind": "webhook", "url": "https://hooks.example.org/cobot-hook-key-31415", "secret": "hmac-2718"},
        "mail": {"kind": "email", "host": "smtp.example.org", "username": "cobot", "password": "smtp-pass-1618",
                 "sender": "cobot <cobot@example.org>", "recipients": ["team@example.org"]},
        "chat": {"kind": "slack_webhook", "url": "https://hooks.slack.com/services/T000/B000/slack-key-1414"},
    },
    "rules": [{"topics": ["campaign", "badge"], "channels": ["team"]}],
}
SECRET_VALUES = [TOKEN, "cobot-hook-key-31415", "hmac-2718", "smtp-pass-1618", "slack-key-1414",
                 *(value for section in SECRETS.values() for value in section.values())]


def sections(now: datetime, **dashboard: Any) -> dict[str, Any]:
    return {**SECRETS, **web_world.sections(now, TOKEN, NOTIFY, **dashboard)}


@dataclass
class World:
    harness: Any
    now: datetime
    at: dict[str, datetime]
    failed_delivery: int
    failed_action: int


def fill(harness: Any, now: datetime) -> World:
    """Ten days ago the maintainer filed issue 2 (last week's only contribution); five days ago bob answered it.
    Three days ago the maintainer filed four hackathon tasks: issue 1 (medium, 20 points), 4 (easy), 5 (hard) and 6
    (easy). Two days ago alice claimed issue 1; a day ago she opened PR 10 "Fixes #1", which the maintainer reviewed
    fourteen hours ago and merged twelve hours ago. Four hours ago she (as ali, her linked Gitee account) opened an
    issue on Gitee; three hours ago bob claimed issue 4, and two hours ago opened PR 11 "Fixes #4"; an hour ago
    carol opened issue 3; half an hour ago dave claimed issue 5. Then the campaigns ticked (bob enrolled in the camp
    from the config), a delivery came in during an outage (stored, failed: dave's issue 7), and an outbox comment
    failed for good, its error quoting a channel's secret address."""
    at = {"issue_2": now - 240 * HOUR, "bob_answer": now - 120 * HOUR, "tasks": now - 72 * HOUR,
          "claim_1": now - 48 * HOUR, "pr_10": now - 24 * HOUR, "review_10": now - 14 * HOUR,
          "merged_10": now - 12 * HOUR, "gitee_issue": now - 4 * HOUR, "claim_4": now - 3 * HOUR,
          "pr_11": now - 2 * HOUR, "issue_3": now - HOUR, "claim_5": now - HOUR / 2}
    harness.deliver("issues", issue_event("opened", 2, MAINTAINER, created=stamp(at["issue_2"])))
    harness.deliver("issue_comment", comment_event(2, MAINTAINER, "bob", at=stamp(at["bob_answer"]),
                                                   created=stamp(at["issue_2"]), body="I can reproduce this."))
    tasks = {1: "medium", 4: "easy", 5: "hard", 6: "easy"}
    for number, level in tasks.items():
        harness.deliver("issues", issue_event("opened", number, MAINTAINER, created=stamp(at["tasks"]),
                                              labels=("hackathon", level)))

    def claim(number: int, who: str, moment: datetime) -> None:
        harness.deliver("issue_comment", comment_event(number, MAINTAINER, who, at=stamp(moment), body="/claim",
                                                       created=stamp(at["tasks"]),
                                                       labels=("hackathon", tasks[number])))

    claim(1, "alice", at["claim_1"])
    opened = pr_event("opened", 10, "alice", created=stamp(at["pr_10"]))
    opened["pull_request"]["body"] = "Fixes #1"
    harness.deliver("pull_request", opened)
    harness.deliver("pull_request_review", review_event(10, "alice", MAINTAINER, at=stamp(at["review_10"]),
                                                        created=stamp(at["pr_10"])))
    merged = stamp(at["merged_10"])
    closed = pr_event("closed", 10, "alice", sender=MAINTAINER, created=stamp(at["pr_10"]), state="closed",
                      closed=merged, merged=merged, updated=merged)
    closed["pull_request"]["body"] = "Fixes #1"
    harness.deliver("pull_request", closed)
    harness.deliver("Issue Hook", gitee_issue("I5X2Q", "ali", "Ali Chen", at["gitee_issue"]), platform="gitee")
    claim(4, "bob", at["claim_4"])
    solving = pr_event("opened", 11, "bob", created=stamp(at["pr_11"]))
    solving["pull_request"]["body"] = "Fixes #4"
    harness.deliver("pull_request", solving)
    harness.deliver("issues", issue_event("opened", 3, "carol", created=stamp(at["issue_3"])))
    claim(5, "dave", at["claim_5"])
    CampaignRunner(harness.db, harness.settings, harness.clock).tick_all(now)
    with harness.db.inbox.session() as session:
        outage = Delivery(platform="github", key="outage-7", event="issues", action="opened", status="failed",
                          error="OperationalError: the database is unreachable", attempts=5, received_at=now,
                          headers={"X-GitHub-Event": "issues"},
                          body=body_of(issue_event("opened", 7, "dave", created=stamp(now - HOUR))))
        session.add(outage)
        session.flush()
        failed_delivery = outage.id
    with harness.db.session() as session:
        comment = OutboxAction(key="test:comment:failed", kind="comment", platform="github", repo="acme/rocket",
                               number="1", payload={"body": "Thanks!"}, status="failed", attempts=8,
                               last_error="GitHub answered 503 (hook https://hooks.example.org/cobot-hook-key-31415)",
                               created_at=now - HOUR, next_attempt_at=now - HOUR)
        session.add(comment)
        session.flush()
        failed_action = comment.id
    return World(harness, now, at, failed_delivery, failed_action)


@pytest.fixture(scope="module")
def filled(tmp_path_factory) -> FilledStores:
    return FilledStores(tmp_path_factory.mktemp("filled"))


@pytest.fixture
def world(make_harness, clock, database_url, filled) -> World:
    """The world `fill` makes, in this test's own store: filled by the first test of each backend in this module,
    copied into the next ones (each has its own copy to read and write)."""
    return filled.world(database_url, json.dumps(sections(clock.now), sort_keys=True),
                        lambda: make_harness(**sections(clock.now)), lambda harness: fill(harness, clock.now),
                        lambda world, harness: replace(world, harness=harness))


@pytest.fixture
async def client(aiohttp_client, world, clock):
    return await aiohttp_client(create_app(world.harness.settings, clock, run_workers=False))


# -- reading pages as a person does ------------------------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Page(HTMLParser):
    """A page as read: the text of each element with an id (whitespace folded), every element with its attributes,
    and the text of the whole body."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.html = html
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.by_id: dict[str, str] = {}
        self._open: list[tuple[str, dict[str, str], list[str]]] = []
        self._all: list[str] = []
        self.feed(html)
        self.close()
        self.text = fold("".join(self._all))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_data(" ")  # a page reads "First response 12.0 h", not "First response12.0 h"
        found = {name: value or "" for name, value in attrs}
        self.elements.append((tag, found))
        if tag not in VOID:
            self._open.append((tag, found, []))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag: str) -> None:
        self.handle_data(" ")
        while self._open:
            name, attrs, parts = self._open.pop()
            if "id" in attrs:
                self.by_id[attrs["id"]] = fold("".join(parts))
            if self._open:
                self._open[-1][2].extend(parts)
            if name == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._open and self._open[-1][0] in ("style", "script"):
            return
        self._all.append(data)
        if self._open:
            self._open[-1][2].append(data)

    def __getitem__(self, element_id: str) -> str:
        return self.by_id[element_id]

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        """The elements `tag` whose attributes include `attrs` (`class_` for class)."""
        wanted = {name.rstrip("_"): value for name, value in attrs.items()}
        return [found for name, found in self.elements if name == tag and all(
            found.get(key) == value for key, value in wanted.items())]

    def forms(self, action_part: str = "") -> list[dict[str, str]]:
        return [form for form in self.find("form", method="post") if action_part in form.get("action", "")]

    def csrf(self) -> str:
        [value] = {field["value"] for field in self.find("input", name="csrf_token")}
        return value


def fold(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


async def get(client: Any, path: str, status: int = 200, **kwargs: Any) -> Page:
    response = await client.get(path, **kwargs)
    html = await response.text()
    assert response.status == status, (path, response.status, html[:2000])
    if status < 300:
        assert response.content_type == "text/html"
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    return Page(html)


async def login(client: Any, next_path: str = "/") -> Page:
    """Log in through the login page's form; the page it leads to."""
    page = await get(client, f"/login?next={next_path}")
    [form] = page.forms("/login")
    [after] = page.find("input", name="next")
    response = await client.post(form["action"], data={"token": TOKEN, "next": after["value"]})
    assert response.status == 200 and response.url.path_qs == next_path
    return Page(await response.text())


def language_of(page: Page) -> str:
    [html] = page.find("html")
    return html["lang"]


# -- the words ---------------------------------------------------------------------------------------------------

def test_every_text_exists_in_both_languages_and_every_key_used_is_there():
    assert set(TEXTS["en"]) == set(TEXTS["zh"])
    used: set[str] = set()
    prefixes: set[str] = set()  # keys made in the template: `t("kind." ~ c.kind)`, `t.maybe("delivery", status)`
    for template in TEMPLATES.glob("*.j2"):
        source = template.read_text()
        used |= set(re.findall(r"""\bt\(\s*["']([a-z0-9_.]+)["']\s*[,)]""", source))
        prefixes |= set(re.findall(r"""\bt\(\s*["']([a-z0-9_]+)\.["']\s*~""", source))
        prefixes |= set(re.findall(r"""\bt\.maybe\(\s*["']([a-z0-9_]+)["']""", source))
    assert used and used <= set(TEXTS["en"]), used - set(TEXTS["en"])
    assert {"delivery", "outbox", "task", "kind", "activity"} <= prefixes
    for prefix in prefixes:
        assert any(key.startswith(prefix + ".") for key in TEXTS["en"]), prefix
    for language in ("en", "zh"):
        for key, text in TEXTS[language].items():
            assert set(re.findall(r"{(\w+)}", text)) == set(re.findall(r"{(\w+)}", TEXTS["en"][key])), key
    assert any("\u4e00" <= char <= "\u9fff" for char in TEXTS["zh"]["overview.title"])
    texts = Texts("zh")
    assert (texts.hours(12), texts.percent(1 / 6), texts.change(-2), texts.when("2026-11-02T09:00:00+00:00")) == (
        "12.0 小时", "17%", "比前一周少 2", "2026-11-02 09:00")
    assert Texts("en").maybe("activity", "pr.opened") == "opened a pull request"
    assert Texts("en").maybe("activity", "something.new") == "something.new"


def test_the_chart_stacks_each_day_on_round_ticks():
    assert [step_for(n) for n in (0, 4, 5, 6, 12, 30, 99, 240, 1234)] == [1, 1, 1, 2, 5, 10, 20, 50, 500]
    series = [{"day": "2026-11-01", "opened": 1, "comments": 0, "reviews": 1, "merged": 1},
              {"day": "2026-11-02", "opened": 3, "comments": 1, "reviews": 0, "merged": 0}]
    chart = activity_chart(series, ["opened", "comments", "reviews", "merged"])
    # the busiest day has 4: ticks 0 to 4 over the plot's 220 pixels, so 55 a unit
    assert [tick.value for tick in chart.ticks] == [0, 1, 2, 3, 4] and chart.total == 7
    assert chart.bottom - chart.ticks[-1].y == 220
    first, second = chart.columns
    assert [(bar.group, bar.height) for bar in first.bars] == [("opened", 55), ("reviews", 55), ("merged", 55)]
    assert first.bars[0].y == chart.bottom - 55 and first.bars[-1].y == chart.bottom - 165
    assert sum(bar.height for bar in second.bars) == 220
    assert (first.label, second.label) == ("11-01", "11-02")


# -- the overview ------------------------------------------------------------------------------------------------

NUMBERS_EN = {  # this week beside the last (see `fill`): this week the maintainer (four tasks, a review), bob
    # (his answer, PR 11), alice (PR 10, her Gitee issue) and carol (issue 3) contributed, all but the maintainer for
    # the first time (dave only gave a command); last week the maintainer filed issue 2. Issues: the four tasks, the
    # Gitee one, issue 3; PRs 10 and 11, 10 merged; one comment (bob's answer: a /claim is a command)
    "contributors": "Active contributors 4 +3 (up 3 from the week before)",
    "new_contributors": "New contributors 3 +2 (up 2 from the week before)",
    "issues_opened": "Issues opened 6 +5 (up 5 from the week before)",
    "prs_opened": "Pull requests opened 2 +2 (up 2 from the week before)",
    "prs_merged": "Pull requests merged 1 +1 (up 1 from the week before)",
    "comments": "Comments 1 +1 (up 1 from the week before)",
}
NUMBERS_ZH = {
    "contributors": "活跃贡献者 4 +3 (比前一周多 3)", "new_contributors": "新贡献者 3 +2 (比前一周多 2)",
    "issues_opened": "新建 Issue 6 +5 (比前一周多 5)", "prs_opened": "新建 PR 2 +2 (比前一周多 2)",
    "prs_merged": "合并的 PR 1 +1 (比前一周多 1)", "comments": "评论 1 +1 (比前一周多 1)",
}


async def test_the_overview_shows_the_week_its_chart_health_and_newcomers_in_english(client, world):
    page = await get(client, "/?lang=en")
    assert language_of(page) == "en"
    assert {name: page[f"number-{name}"] for name in NUMBERS_EN} == NUMBERS_EN
    # the chart: one column per day of the last 30 (31 calendar days), titled with its counts
    days = [(world.now - timedelta(days=30) + timedelta(days=n)).date().isoformat() for n in range(31)]
    titles = re.findall(r'<g class="day">\s*<title>([^<]*)</title>', page.html)
    assert [title.split(":")[0] for title in titles] == days
    busy = {title.split(":")[0]: title.split(": ")[1] for title in titles if re.search(r"[1-9]", title[11:])}
    day = {name: moment.date().isoformat() for name, moment in world.at.items()}
    assert busy == {
        day["issue_2"]: "Opened 1, Comments 0, Reviews 0, Merged 0",
        day["bob_answer"]: "Opened 0, Comments 1, Reviews 0, Merged 0",
        day["tasks"]: "Opened 4, Comments 0, Reviews 0, Merged 0",
        day["pr_10"]: "Opened 1, Comments 0, Reviews 1, Merged 1",  # PR 10 at 09:00, reviewed 19:00, merged 21:00
        day["pr_11"]: "Opened 3, Comments 0, Reviews 0, Merged 0"}  # the Gitee issue, PR 11, issue 3
    # 4 the busiest day: ticks 0 to 4; a bar per day and group with activity: four days with openings, seven bars
    assert re.findall(r'<text class="tick"[^>]*text-anchor="end">(\d+)</text>', page.html) == ["0", "1", "2", "3",
                                                                                               "4"]
    assert len(page.find("rect", class_="bar bar-opened")) == 4 and len(re.findall(r'class="bar ', page.html)) == 7
    [svg] = page.find("svg")
    assert svg["role"] == "img" and page[svg["aria-labelledby"]] == (
        "People's activity per day over the last 30 days: 12 in all")
    # health over 30 days: PR 10 closed (merged) 12 hours after it was opened, the only PR closed; everyone is new
    assert page["health-pr_resolution_median_hours"] == "Time to close a pull request (median) 12.0 h"
    assert page["health-pr_acceptance_ratio"] == "Closed pull requests merged 100%"
    assert page["health-new_contributors"] == "New contributors 4"
    assert page["health-bot_activity_share"] == "Bots' share of the activity 0%"
    newcomers = page["newcomers"]
    assert newcomers.startswith("Newcomers this week carol First contribution: "
                                f"{(world.at['issue_3']):%Y-%m-%d %H:%M} Alice First contribution: "
                                f"{world.at['pr_10']:%Y-%m-%d %H:%M} bob First contribution: "
                                f"{world.at['bob_answer']:%Y-%m-%d %H:%M}")
    assert [link["href"] for link in page.find("a") if link["href"].startswith("/contributors/")] == [
        "/contributors/github:carol", "/contributors/person:Alice", "/contributors/github:bob"]


async def test_the_overview_in_chinese(client, world):
    page = await get(client, "/?lang=zh")
    assert language_of(page) == "zh-CN"
    assert {name: page[f"number-{name}"] for name in NUMBERS_ZH} == NUMBERS_ZH
    assert page["health-pr_resolution_median_hours"] == "PR 关闭用时（中位数） 12.0 小时"
    assert "新建 4, 评论 0, 评审 0, 合并 0" in page.html
    assert page["newcomers"].startswith("本周新人 carol 首次贡献")
    assert "Newcomers" not in page.text and "Active contributors" not in page.text


# -- contributors ------------------------------------------------------------------------------------------------

def names_in(page: Page) -> list[str]:
    """The contributors a list shows, in order (each row's heading)."""
    return re.findall(r'<th scope="row"><a href="/contributors/[^"]*">([^<]*)</a></th>', page.html)


async def test_contributors_are_listed_most_recent_first_with_their_month(client, world):
    page = await get(client, "/contributors?lang=en")
    # last seen: the maintainer half an hour ago (the author of issue 5, which dave claimed: dave, who gave only a
    # command, is no contributor), carol an hour ago, bob two, alice (as ali) four
    assert names_in(page) == [MAINTAINER, "carol", "bob", "Alice"]
    assert page["found"] == "4 contributors · 1–4 of 4"
    rows = re.findall(r"<td>(\d+ contributions: [^<]*)</td>", page.html)
    assert rows == ["6 contributions: 5 issues, 0 PRs, 0 comments, 1 reviews",  # issue 2 and the tasks, the review
                    "1 contributions: 1 issues, 0 PRs, 0 comments, 0 reviews",
                    "2 contributions: 0 issues, 1 PRs, 1 comments, 0 reviews",
                    "2 contributions: 1 issues, 1 PRs, 0 comments, 0 reviews"]
    zh = await get(client, "/contributors?lang=zh")
    assert zh["found"] == "共 4 位贡献者 · 第 1–4 条，共 4 条"
    assert "2 次贡献：Issue 1，PR 1，评论 0，评审 0" in zh.text


@pytest.mark.parametrize(("query", "expected"), [
    ("q=ALI", ["Alice"]),  # alice, ali and the identity's name, any case
    ("q=o", ["carol", "bob"]),
    ("platform=gitee", ["Alice"]),
    ("platform=", [MAINTAINER, "carol", "bob", "Alice"]),  # the form's "any"
    ("new=true", ["carol", "bob", "Alice"]),  # first contribution within 7 days
    ("new=true&platform=github&q=", ["carol", "bob", "Alice"]),
    ("q=nobody-like-this", []),
])
async def test_contributors_searched_and_filtered_from_the_form(client, world, query, expected):
    page = await get(client, f"/contributors?{query}&lang=en")
    assert names_in(page) == expected
    if not expected:
        assert "No contributor matches." in page.text


async def test_contributors_in_pages(client, world):
    page = await get(client, "/contributors?limit=3&lang=en")
    assert names_in(page) == [MAINTAINER, "carol", "bob"]
    [following] = page.find("a", rel="next")
    assert not page.find("a", rel="prev") and "Page 1 of 2" in page.text
    assert parse_qs(urlsplit(following["href"]).query) == {"limit": ["3"], "offset": ["3"]}
    second = await get(client, following["href"])
    assert names_in(second) == ["Alice"] and "Page 2 of 2" in second.text
    [back] = second.find("a", rel="prev")
    assert names_in(await get(client, back["href"])) == [MAINTAINER, "carol", "bob"]


async def test_a_profile_links_accounts_timeline_badges_and_campaigns(client, world):
    page = await get(client, "/contributors/alice?lang=en")
    assert page.find("h1") and "<h1>Alice</h1>" in page.html
    assert page["accounts"] == "Linked accounts Gitee ali (shown as Ali Chen) GitHub alice"
    assert [a["href"] for a in page.find("a") if "rel" in a and "ali" in a["href"].rsplit("/", 1)[-1]] == [
        "https://gitee.com/ali", "https://github.com/alice"]
    # all time: PR 10 (merged) and her Gitee issue; her claim is a command. November: PR 10 opened and merged on
    # acme/rocket, an issue on acme/rocket-cn
    assert page["stat-contributions"] == "Contributions 2"
    assert page["stat-prs_merged"] == "Pull requests merged 1"
    assert page["stat-window_score"] == (f"Activity over the last 30 days "
                                         f"{math.sqrt(PR + MERGED) + math.sqrt(ISSUE):.2f}")
    assert page["timeline"] == (
        f"Latest activity {world.at['gitee_issue']:%Y-%m-%d %H:%M} · ali opened an issue: acme/rocket-cn#I5X2Q "
        f"Translate the guide {world.at['pr_10']:%Y-%m-%d %H:%M} · alice opened a pull request: acme/rocket#10 "
        f"Item 10 {world.at['claim_1']:%Y-%m-%d %H:%M} · alice gave a command: acme/rocket#1 Item 1")
    assert page["campaign-hack"].startswith("Rocket Hackathon Hackathon · running · Rank 1, 20 points Claims "
                                            f"acme/rocket#1 claimed {world.at['claim_1']:%Y-%m-%d %H:%M} "
                                            "(released: a pull request came)")
    assert "acme/rocket#10 for github:acme/rocket#1: scored, 20 points" in page["campaign-hack"]
    assert page["badges"] == "Badges No badges yet."
    zh = await get(client, "/contributors/person:Alice?lang=zh")
    assert zh["accounts"] == "关联账号 Gitee ali (显示名 Ali Chen) GitHub alice"
    assert "ali 新建了 Issue" in zh["timeline"] and "第 1 名，20 分" in zh["campaign-hack"]


async def test_a_camp_participant_profile_shows_progress(client, world):
    page = await get(client, "/contributors/bob?lang=en")
    # his PR met the first milestone when the camp ticked; his answer came before the camp began
    assert page["campaign-camp"] == (
        f"Rocket Camp Training camp · running · enrolled · 1 of 2 milestones · Joined {world.now:%Y-%m-%d %H:%M} "
        f"Open a pull request: ✓ {world.now:%Y-%m-%d %H:%M} Answer two issues: issue.answered 0/2")
    assert page["stat-window_score"] == f"Activity over the last 30 days {math.sqrt(COMMENT) + math.sqrt(PR):.2f}"


async def test_unknown_contributors_and_campaigns_are_not_found_pages(client, world):
    for path, words in (("/contributors/zed?lang=en", "Not found"), ("/contributors/zed?lang=zh", "找不到"),
                        ("/campaigns/nope?lang=en", "Not found")):
        page = await get(client, path, 404)
        assert page.find("h1") and f"<h1>{words}</h1>" in page.html
    page = await get(client, "/campaigns/nope?lang=en", 404)
    assert "no campaign named 'nope' (campaigns: hack, camp, board, weekly)" in page.text
    bad = await get(client, "/leaderboard?days=0&lang=en", 400)
    assert "days: a whole number from 1 to 366" in bad.text and "<h1>That request is not right</h1>" in bad.html


# -- the leaderboard and the campaigns ---------------------------------------------------------------------------

def board_rows(page: Page) -> list[tuple[str, ...]]:
    return [tuple(fold(re.sub(r"<[^>]+>", " ", cell)) for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row))
            for row in re.findall(r"<tr>(.*?)</tr>", page.html, re.S)[1:]]


async def test_the_leaderboard_for_each_window(client, world):
    page = await get(client, "/leaderboard?lang=en")
    alice = math.sqrt(PR + MERGED) + math.sqrt(ISSUE)  # November: PR 10 opened and merged; the Gitee issue
    bob = math.sqrt(COMMENT) + math.sqrt(PR)  # his answer in October, PR 11 in November
    maintainer = math.sqrt(5 * ISSUE)  # issue 2 and the four tasks in October (his review weighs nothing)
    carol = math.sqrt(ISSUE)
    expected = sorted([("Alice", alice, "1", "1", "1"), ("bob", bob, "1", "0", "0"),
                       (MAINTAINER, maintainer, "0", "0", "5"), ("carol", carol, "0", "0", "1")],
                      key=lambda row: -row[1])
    assert [row[:6] for row in board_rows(page)] == [
        (str(rank), name, f"{score:.2f}", prs, merged, issues)
        for rank, (name, score, prs, merged, issues) in enumerate(expected, 1)]
    assert [row[6] for row in board_rows(page)] == ["0", "1", "0", "0"]  # the maintainer's review
    [selected] = [option for option in page.find("option") if "selected" in option]
    assert selected["value"] == "30"
    day = await get(client, "/leaderboard?days=1&lang=zh")
    # the last 24 hours (PR 10 at their very start): all of alice's, bob's PR, carol's issue; the maintainer only
    # reviewed, which weighs nothing
    assert [row[1] for row in board_rows(day)] == ["Alice", "bob", "carol"]
    assert "最近 1 天最活跃的贡献者" in day.text


async def test_campaigns_are_listed_and_each_kind_shown(client, world):
    page = await get(client, "/campaigns?lang=en")
    start, end = world.now - 3 * DAY, world.now + 4 * DAY
    assert page["campaign-hack"] == f"Rocket Hackathon Hackathon running {start:%Y-%m-%d %H:%M} {end:%Y-%m-%d %H:%M}"
    assert page["campaign-weekly"] == (f"Rocket weekly Weekly digest running {world.now - DAY:%Y-%m-%d %H:%M} "
                                       "open-ended")
    hack = await get(client, "/campaigns/hack?lang=en")
    # issue 1 done (PR 10 merged), 4 submitted (PR 11 open), 5 claimed by dave, 6 open
    assert [hack[f"tasks-{state}"] for state in ("open", "claimed", "submitted", "done")] == [
        "open 1", "claimed 1", "submitted 1", "done 1"]
    assert "acme/rocket#5 Item 5 40 claimed · claimed by dave" in hack["tasks"]
    assert "acme/rocket#4 Item 4 10 submitted · acme/rocket#11 by bob" in hack["tasks"]
    assert hack["standings"] == "Standings Rank Name Points Tasks 1 Alice 20 1"
    camp = await get(client, "/campaigns/camp?lang=zh")
    assert camp["participant-bob"] == f"bob 已报名 1/2 1/2 {world.now:%Y-%m-%d %H:%M}"
    [meter] = camp.find("meter")
    assert (meter["value"], meter["max"]) == ("1", "2")
    board = await get(client, "/campaigns/board?lang=en")
    # its window began three days ago: the tasks (the maintainer), then alice, bob, carol
    assert [row[1] for row in board_rows(board)] == ["Alice", MAINTAINER, "bob", "carol"]
    weekly = await get(client, "/campaigns/weekly?lang=en")
    assert "No week sent yet." in weekly.text and "Active contributors 4 +3" in weekly.text


# -- the digest --------------------------------------------------------------------------------------------------

async def test_the_digest_preview_shows_markdown_and_the_email_in_a_sandbox(client, world):
    page = await get(client, "/digest?lang=en")
    [markdown] = re.findall(r'<pre class="markdown"[^>]*>(.*?)</pre>', page.html, re.S)
    assert "**Rocket**" in markdown and "- Issues opened: **6** (+5 from last week)" in markdown
    [frame] = page.find("iframe")
    assert frame["sandbox"] == "" and frame["src"] == "/digest/email?language=en"
    assert "&lt;!DOCTYPE html&gt;" in page.html  # its source, escaped
    response = await client.get(frame["src"])
    email = await response.text()
    assert response.status == 200 and email.startswith("<!DOCTYPE html>") and "data:image/png;base64," in email
    policy = response.headers["Content-Security-Policy"]
    assert policy.startswith("sandbox;") and "script-src" not in policy and "default-src 'none'" in policy
    zh = await get(client, "/digest?lang=zh")
    assert "新建 Issue" in zh.text and zh.find("iframe")[0]["src"] == "/digest/email?language=zh"
    chosen = await get(client, "/digest?lang=zh&language=en&since=2026-10-19&until=2026-10-26&campaign=weekly")
    [markdown] = re.findall(r'<pre class="markdown"[^>]*>(.*?)</pre>', chosen.html, re.S)
    assert "2026-10-19 to 2026-10-25" in markdown and "Issues opened: **1**" in markdown  # issue 2
    bad = await get(client, "/digest?since=2026-10-26&until=2026-10-19&lang=en", 400)
    assert "since: must be before until" in bad.text


# -- operations, logging in, maintainer actions ------------------------------------------------------------------

async def test_operations_show_failures_masked_and_no_buttons_to_visitors(client, world):
    page = await get(client, "/operations?lang=en")
    assert page[f"delivery-{world.failed_delivery}"] == (
        f"{world.failed_delivery} GitHub issues.opened failed 5 {world.now:%Y-%m-%d %H:%M} "
        "OperationalError: the database is unreachable")
    assert "1 failed" in page["deliveries"] and "1 failed" in page["outbox"]
    assert "GitHub answered 503" in page[f"action-{world.failed_action}"]
    assert "cobot-hook-key-31415" not in page.html  # masked, as cobot outbox masks it
    assert page.forms() == [] and not page.find("input", name="csrf_token")
    assert "Log in as a maintainer to replay, retry or award." in page.text
    failed = await get(client, "/operations?deliveries=failed&outbox=failed&lang=zh")
    assert re.findall(r'<tr id="(delivery|action)-(\d+)"', failed.html) == [
        ("delivery", str(world.failed_delivery)), ("action", str(world.failed_action))]
    assert "Webhook 投递" in failed.text and "失败" in failed[f"delivery-{world.failed_delivery}"]


async def test_a_maintainer_sees_the_buttons_and_replays_a_failed_delivery_with_its_csrf_token(client, world):
    page = await login(client, "/operations")
    replay = f"/operations/deliveries/{world.failed_delivery}/replay"
    retry = f"/operations/outbox/{world.failed_action}/retry"
    assert [form["action"] for form in page.forms()] == ["/logout", replay, retry, "/operations/award"]
    assert "Logged in as a maintainer" in page.text
    csrf = page.csrf()
    for data in ({}, {"csrf_token": csrf[::-1]}):  # no token, a wrong one: refused, nothing replayed
        refused = await client.post(replay, data=data)
        assert refused.status == 403 and "CSRF" in Page(await refused.text()).text
    assert world.harness.rows(Delivery, Delivery.id == world.failed_delivery)[0].status == "failed"
    response = await client.post(replay, data={"csrf_token": csrf}, allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (
        303, f"/operations?replayed={world.failed_delivery}#deliveries")
    after = await get(client, response.headers["Location"].replace("#deliveries", "&lang=en"))
    assert after.find("p", class_="notice") and (
        f"Delivery {world.failed_delivery} was replayed: it is now processed.") in after.text
    assert "processed" in after[f"delivery-{world.failed_delivery}"]
    assert replay not in [form["action"] for form in after.forms()]  # no failed delivery left to replay
    [thread] = world.harness.rows(Thread, Thread.number == "7")
    assert (thread.author, thread.title) == ("dave", "Item 7")
    assert [row.kind for row in world.harness.rows(Activity, Activity.person == "github:dave")] == [
        "command", "issue.opened"]


async def test_a_maintainer_retries_a_failed_outbox_action(client, world):
    page = await login(client, "/operations")
    path = f"/operations/outbox/{world.failed_action}/retry"
    assert (await client.post(path)).status == 403
    response = await client.post(path, data={"csrf_token": page.csrf()})
    assert response.status == 200 and response.url.query["retried"] == str(world.failed_action)
    shown = Page(await response.text())
    assert f"Outbox action {world.failed_action} will be sent again: it is now pending." in shown.text
    [row] = world.harness.rows(OutboxAction, OutboxAction.id == world.failed_action)
    assert (row.status, row.attempts) == ("pending", 0)
    again = await client.post(path, data={"csrf_token": page.csrf()})
    assert again.status == 409 and "only failed ones are retried" in Page(await again.text()).text


async def test_without_a_login_an_action_is_refused(client, world):
    for path in (f"/operations/deliveries/{world.failed_delivery}/replay",
                 f"/operations/outbox/{world.failed_action}/retry", "/operations/award", "/campaigns/hack/close"):
        response = await client.post(path, data={"csrf_token": "anything", "badge": "docs-hero", "user": "carol"})
        assert response.status == 401, path
        assert "A login is needed" in Page(await response.text()).text
    assert world.harness.rows(Delivery, Delivery.id == world.failed_delivery)[0].status == "failed"
    assert world.harness.rows(BadgeAward) == []


async def test_a_maintainer_awards_a_badge_and_sees_it_on_the_profile(client, world):
    page = await login(client, "/operations?lang=en")
    [badge_select] = page.find("select", name="badge")
    assert badge_select["required"] == "" and "Hackathon finisher" in page.text
    response = await client.post("/operations/award", data={"csrf_token": page.csrf(), "badge": "hackathon-finisher",
                                                             "user": "alice", "reason": "Solved issue 1"})
    assert response.status == 200 and response.url.path == "/contributors/person:Alice"
    profile = Page(await response.text())
    assert "The badge Hackathon finisher is awarded." in profile.text
    uid = world.harness.rows(BadgeAward)[0].uid
    [image] = profile.find("img")
    assert (image["src"], image["alt"]) == ("/badges/hackathon-finisher.svg", "The Hackathon finisher badge")
    assert profile.find("a", href=f"/badges/assertions/{uid}")
    assert profile["badge-hackathon-finisher"].startswith("Hackathon finisher Awarded "
                                                          f"{world.now:%Y-%m-%d %H:%M} by dashboard: Solved issue 1")
    image_response = await client.get(image["src"])
    assert image_response.status == 200 and image_response.content_type == "image/svg+xml"
    zh = await get(client, "/contributors/alice?lang=zh")
    assert "黑客松完赛者" in zh["badges"]  # named in the page's language
    unknown = await client.post("/operations/award", data={"csrf_token": page.csrf(), "badge": "nope",
                                                            "user": "alice"})
    assert unknown.status == 404


async def test_a_maintainer_closes_a_campaign_after_a_dry_run(client, world):
    page = await login(client, "/campaigns/hack?lang=en")
    [form] = page.forms("/close")
    assert form["action"] == "/campaigns/hack/close"
    [dry] = page.find("input", name="dry_run")
    assert "checked" in dry
    response = await client.post(form["action"], data={"csrf_token": page.csrf(), "dry_run": "true"})
    shown = Page(await response.text())
    assert response.status == 200 and "Closing Rocket Hackathon would do this:" in shown.text
    assert "running" in shown.text and world.harness.rows(BadgeAward) == []
    response = await client.post(form["action"], data={"csrf_token": page.csrf()})
    closed = Page(await response.text())
    assert response.url.path == "/campaigns/hack" and "The campaign is closed." in closed.text
    assert "ended (closed early)" in closed.text and not closed.forms("/close")
    assert (await client.post(form["action"], data={})).status == 403


async def test_a_campaign_is_closed_from_the_form_only_by_a_value_that_says_so(client, world):
    page = await login(client, "/campaigns/hack?lang=en")
    for value in ("null", "yes", "1", "", "True"):
        response = await client.post("/campaigns/hack/close", data={"csrf_token": page.csrf(), "dry_run": value})
        assert response.status == 400, value
        assert "dry_run: on, true or false" in Page(await response.text()).text
    assert world.harness.rows(CampaignState) == []
    response = await client.post("/campaigns/hack/close", data={"csrf_token": page.csrf(), "dry_run": "false"})
    assert "The campaign is closed." in Page(await response.text()).text


async def test_the_login_form_says_when_failed_logins_are_throttled(client, world):
    for _ in range(10):
        response = await client.post("/login", data={"token": "wrong-token-wrong-token", "next": "/operations"})
        assert response.url.path == "/login"
    response = await client.post("/login?lang=en", data={"token": "wrong-token-wrong-token", "next": "/operations"},
                                 allow_redirects=False)
    assert (response.status, response.headers["Retry-After"]) == (429, "6")
    page = Page(await response.text())
    assert "Too many failed logins: try again in 6 seconds." in page.text and "That token" not in page.text
    assert page.find("input", name="next")[0]["value"] == "/operations"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    # the right token is taken all the while: wrong ones, anyone's, never lock a maintainer out
    response = await client.post("/login", data={"token": TOKEN, "next": "/operations"}, allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (303, "/operations")


async def test_the_login_form_refuses_a_wrong_token_and_logging_out_ends_the_session(client, world):
    page = await get(client, "/login?next=/operations&lang=en")
    [token] = page.find("input", name="token")
    assert (token["type"], token["autocomplete"]) == ("password", "current-password")
    assert page.find("label", for_="token")
    response = await client.post("/login", data={"token": "wrong-token-wrong-token", "next": "/operations"})
    refused = Page(await response.text())
    assert response.url.path == "/login" and "That token is not right." in refused.text
    operations = await login(client, "/operations")
    [logout] = operations.forms("/logout")
    response = await client.post(logout["action"], data={"csrf_token": operations.csrf(), "next": "/"})
    assert response.status == 200 and response.url.path == "/"
    after = await get(client, "/operations")
    assert after.forms() == [] and after.find("a", href="/login?next=%2Foperations")


# -- the language, the private mode, secrets ---------------------------------------------------------------------

async def test_the_language_switch_is_remembered(client, world):
    page = await get(client, "/contributors?q=o&lang=en")
    switch = {link["hreflang"]: link["href"] for link in page.find("a") if "hreflang" in link}
    assert switch == {"en": "/contributors?q=o&lang=en", "zh": "/contributors?q=o&lang=zh"}
    response = await client.get(switch["zh"])
    assert "cobot_lang=zh" in response.headers["Set-Cookie"]
    for path in ("/", "/leaderboard", "/campaigns/hack", "/operations", "/login"):
        assert language_of(await get(client, path)) == "zh-CN", path
    assert language_of(await get(client, "/leaderboard?lang=en")) == "en"
    assert language_of(await get(client, "/campaigns")) == "en"


@pytest.mark.parametrize(("configured", "expected"), [
    ({"dashboard": {"language": "zh"}}, "zh-CN"),
    ({"community": {"language": "zh"}}, "zh-CN"),
    ({"community": {"language": "zh"}, "dashboard": {"language": "en"}}, "en"),
    ({}, "en"),
])
async def test_the_default_language_is_the_dashboards_then_the_communitys(aiohttp_client, make_settings, clock,
                                                                          configured, expected):
    settings = make_settings(**{name: {**values, **({"token": TOKEN} if name == "dashboard" else {})}
                                for name, values in configured.items()})
    client = await aiohttp_client(create_app(settings, clock, run_workers=False))
    assert language_of(await get(client, "/")) == expected


async def test_a_private_dashboard_sends_visitors_to_the_login_page(aiohttp_client, world, make_settings, clock):
    settings = make_settings(**sections(clock.now, public=False))
    client = await aiohttp_client(create_app(settings, clock, run_workers=False))
    for path in ("/", "/contributors?q=ali", "/contributors/alice", "/leaderboard", "/campaigns", "/campaigns/hack",
                 "/digest", "/digest/email", "/operations"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 303, path
        location = urlsplit(response.headers["Location"])
        assert (location.path, parse_qs(location.query)) == ("/login", {"next": [path]})
    page = await get(client, "/login?next=/leaderboard&lang=en")
    assert "This dashboard is private: log in to see it." in page.text
    assert page.find("input", name="next")[0]["value"] == "/leaderboard"
    shown = await login(client, "/leaderboard")
    assert names_in(shown)  # the leaderboard, once logged in
    assert (await client.get("/static/cobot.css")).status == 200  # the stylesheet is no secret


async def test_no_page_ever_shows_a_secret(client, world):
    paths = ["/", "/contributors", "/contributors/alice", "/contributors/bob", "/leaderboard", "/campaigns",
             "/campaigns/hack", "/campaigns/camp", "/campaigns/board", "/campaigns/weekly", "/digest",
             "/digest/email", "/operations", "/operations?outbox=failed", "/login", "/contributors/zed",
             "/static/cobot.css"]
    seen: list[str] = []
    for logged_in in (False, True):
        if logged_in:
            await login(client)
        for language in ("en", "zh"):
            for path in paths:
                response = await client.get(path + ("&" if "?" in path else "?") + f"lang={language}")
                seen.append(await response.text())
                seen.append(str(response.headers))
    everything = "\n".join(seen)
    assert len(seen) == 4 * 2 * len(paths)
    for secret in SECRET_VALUES:
        assert secret not in everything, secret
    # and every asset a page uses is cobot's own
    page = Page(seen[0])
    sources = [found.get("src") or found.get("href") for name, found in page.elements
               if name in ("img", "script", "link", "iframe")]
    assert sources and all(source.startswith("/") and not source.startswith("//") for source in sources)
    assert not page.find("script")


async def test_pages_read_the_same_through_the_cache_warmed_on_the_first_visit(aiohttp_client, world, make_settings,
                                                                         clock):
    settings = make_settings(**sections(clock.now, cache_seconds=60))
    client = await aiohttp_client(create_app(settings, clock, run_workers=False))
    for _ in range(2):  # computed (or warmed as the first page was), then kept
        assert (await get(client, "/?lang=en"))["number-issues_opened"] == NUMBERS_EN["issues_opened"]
        hack = await get(client, "/campaigns/hack?lang=en")
        assert [hack[f"tasks-{state}"] for state in ("open", "done")] == ["open 1", "done 1"]
        assert "- Issues opened: **6** (+5 from last week)" in (await get(client, "/digest?lang=en")).html
    page = await login(client, "/campaigns/hack?lang=en")
    response = await client.post("/campaigns/hack/close", data={"csrf_token": page.csrf()})
    assert "ended (closed early)" in Page(await response.text()).text  # a change forgets what was kept


async def test_pages_need_the_dashboard(aiohttp_client, make_settings, clock):
    client = await aiohttp_client(create_app(make_settings(dashboard={"enabled": False}), clock, run_workers=False))
    assert (await client.get("/")).status == 404
    assert (await client.get("/operations")).status == 404


def test_when_reads_moments_in_utc():
    assert Texts("en").when(datetime(2026, 11, 2, 17, 30, tzinfo=UTC).astimezone()) == "2026-11-02 17:30"
    assert Texts("en").when(None) == "none" and Texts("zh").when("") == "无"
