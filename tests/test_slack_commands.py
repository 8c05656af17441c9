"""The Slack slash command `/cobot` through a real aiohttp server: signatures, sub-commands, slow answers."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import re
from urllib.parse import urlencode

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.app.factory import create_app
from bot.commands.registry import SLACK_LIST
from bot.store.community_tables import BadgeAward
from bot.store.tables import OutboxAction
from tests.payloads import issue_event, pr_event

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
T0 = "2026-11-01T10:00:00Z"
MAINTAINER_ID, MEMBER_ID, STRANGER_ID = "U0MAINTAIN", "U0MEMBER1", "U0STRANGE"


def signed(body: bytes, timestamp: int, secret: str = SIGNING_SECRET) -> dict[str, str]:
    """The headers Slack sends: v0=HMAC-SHA256(secret, "v0:" + timestamp + ":" + body), hex."""
    base = f"v0:{timestamp}:".encode() + body
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded"}


TRIGGERS = itertools.count(738474920)


def form(text: str, user_id: str = MEMBER_ID, response_url: str = "") -> bytes:
    """A slash command's form, as Slack sends it: each with a trigger id of its own (so that two commands sent
    within the same second are two requests, not a replay of one)."""
    fields = {"token": "legacy", "team_id": "T0001", "team_domain": "lumen", "channel_id": "C2147483705",
              "channel_name": "community", "user_id": user_id, "user_name": "someone", "command": "/cobot",
              "text": text, "trigger_id": f"13345224609.{next(TRIGGERS)}.8088930838d88f008e0"}
    if response_url:
        fields["response_url"] = response_url
    return urlencode(fields).encode()


@pytest.fixture
def slack_settings(make_settings):
    return make_settings(
        slack={"signing_secret": SIGNING_SECRET, "response_hosts": ["127.0.0.1"],
               "users": [{"id": MAINTAINER_ID, "role": "maintainer", "github": "maintainer-max"},
                         {"id": MEMBER_ID, "github": "alice"}]},
        notify={"allow_hosts": ["127.0.0.1"],
                "channels": {"team": {"kind": "webhook", "url": "https://hooks.example.org/cobot"}},
                "rules": [{"topics": ["badge"], "channels": ["team"]}]})


@pytest.fixture
def seeded(slack_settings, clock):
    """alice opened two issues, bob a PR."""
    from tests.helpers import Harness

    harness = Harness(slack_settings, clock)
    harness.deliver("issues", issue_event("opened", 1, "alice", created=T0))
    harness.deliver("issues", issue_event("opened", 2, "alice", created=T0))
    harness.deliver("pull_request", pr_event("opened", 3, "bob", created=T0))
    yield harness
    harness.close()


@pytest.fixture
async def slack(aiohttp_client, slack_settings, clock, seeded):
    client = await aiohttp_client(create_app(slack_settings, clock, run_workers=False))

    async def send(text: str, user_id: str = MEMBER_ID, response_url: str = "", timestamp: int | None = None,
                   secret: str = SIGNING_SECRET):
        body = form(text, user_id, response_url)
        stamp = int(clock().timestamp()) if timestamp is None else timestamp
        return await client.post("/slack/commands", data=body, headers=signed(body, stamp, secret))
    send.client = client
    return send


async def answer_of(response) -> dict:
    assert response.status == 200, await response.text()
    return await response.json()


# -- who may ask --------------------------------------------------------------------------------------------------


async def test_a_bad_signature_is_401(slack):
    response = await slack("help", secret="not-the-secret")
    assert response.status == 401 and "signature" in (await response.json())["error"]


async def test_an_old_timestamp_is_401(slack, clock):
    response = await slack("help", timestamp=int(clock().timestamp()) - 6 * 60)
    assert response.status == 401


async def test_a_timestamp_within_five_minutes_is_accepted(slack, clock):
    assert (await slack("help", timestamp=int(clock().timestamp()) - 4 * 60)).status == 200


@pytest.mark.parametrize("headers", [{}, {"X-Slack-Request-Timestamp": "1"}, {"X-Slack-Signature": "v0=00"},
                                     {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=00"}],
                         ids=["none", "no signature", "no timestamp", "timestamp not a number"])
async def test_missing_or_unreadable_signature_headers_are_401(slack, headers):
    response = await slack.client.post("/slack/commands", data=form("help"), headers=headers)
    assert response.status == 401


async def test_without_a_signing_secret_every_request_is_refused(aiohttp_client, make_settings, clock):
    client = await aiohttp_client(create_app(make_settings(), clock, run_workers=False))
    body = form("help")
    response = await client.post("/slack/commands", data=body, headers=signed(body, int(clock().timestamp())))
    assert response.status == 401 and "COBOT_SLACK_SIGNING_SECRET" in (await response.json())["error"]


async def test_a_response_url_that_is_not_slacks_is_refused(slack):
    response = await slack("help", response_url="https://attacker.example.org/collect")
    assert response.status == 400


async def test_a_signed_request_sent_again_is_refused_as_a_replay(slack, clock):
    """Whoever sees one request (a proxy's log, a shared capture) could send it again for five minutes, its
    signature still good: `/cobot award` would be granted again, by the maintainer's name (issue 15)."""
    body = form("award docs-hero github:alice", user_id=MAINTAINER_ID)
    headers = signed(body, int(clock().timestamp()))
    first = await slack.client.post("/slack/commands", data=body, headers=headers)
    assert first.status == 200
    for seconds in (0, 60, 239):  # sent again at once, a minute later, at the end of the window (299 s)
        clock.advance(seconds)
        again = await slack.client.post("/slack/commands", data=body, headers=headers)
        assert (again.status, (await again.json())["error"]) == (401, "a replay: this signature was accepted already")
    clock.advance(2)  # past the window: refused as old (and forgotten)
    assert (await slack.client.post("/slack/commands", data=body, headers=headers)).status == 401
    assert (await slack("help")).status == 200  # a new request still goes through


async def test_a_replay_is_refused_even_with_a_timestamp_ahead_of_the_clock(slack, clock):
    body = form("help")
    headers = signed(body, int(clock().timestamp()) + 4 * 60)  # a sender's clock ahead: accepted, for 9 minutes
    assert (await slack.client.post("/slack/commands", data=body, headers=headers)).status == 200
    clock.advance(8 * 60)
    assert (await slack.client.post("/slack/commands", data=body, headers=headers)).status == 401


RESPONSE_URLS = {
    "https://hooks.slack.com/commands/T0001/1234/abcd": 200,
    "https://HOOKS.slack.com:443/commands/T0001/1234/abcd": 200,  # 443 is https's own port
    "https://hooks.slack.com:8443/commands/T0001/1234/abcd": 400,  # another port: another service
    "https://hooks.slack.com:80/commands/T0001/1234/abcd": 400,
    "https://hooks.slack.com:99999/commands": 400,  # no port at all
    "http://hooks.slack.com/commands/T0001/1234/abcd": 400,  # not over TLS
    "https://someone@hooks.slack.com/commands/T0001/1234/abcd": 400,
    "https://hooks.slack.com.evil.example/commands": 400,
    "https://[::1/commands": 400,  # no URL
    "ftp://hooks.slack.com/commands": 400,
}


@pytest.mark.parametrize(("url", "status"), RESPONSE_URLS.items(), ids=range(len(RESPONSE_URLS)))
async def test_a_response_url_is_https_on_the_default_port_of_a_slack_host(aiohttp_client, make_settings, clock,
                                                                           url, status):
    settings = make_settings(slack={"signing_secret": SIGNING_SECRET})  # the default slack.response_hosts
    client = await aiohttp_client(create_app(settings, clock, run_workers=False))
    body = form("help", response_url=url)
    response = await client.post("/slack/commands", data=body, headers=signed(body, int(clock().timestamp())))
    assert response.status == status, await response.text()


async def test_a_port_is_allowed_only_where_the_host_is_listed_with_it(aiohttp_client, make_settings, clock):
    settings = make_settings(slack={"signing_secret": SIGNING_SECRET,
                                    "response_hosts": ["hooks.slack.com", "127.0.0.1:8443"]})
    client = await aiohttp_client(create_app(settings, clock, run_workers=False))
    statuses = []
    for url in ("https://127.0.0.1:8443/x", "https://127.0.0.1:8444/x", "https://127.0.0.1/x",
                "https://hooks.slack.com:8443/x"):
        body = form("help", response_url=url)
        response = await client.post("/slack/commands", data=body, headers=signed(body, int(clock().timestamp())))
        statuses.append(response.status)
    assert statuses == [200, 400, 400, 400]


@pytest.mark.parametrize("entry", ["hooks.slack.com/commands", "someone@hooks.slack.com", "hooks.slack.com:0",
                                   "hooks.slack.com:99999", "hooks slack com", "", "https://hooks.slack.com"])
def test_a_response_host_that_is_no_host_stops_start_up_naming_the_key(entry):
    from bot.config import ConfigError, settings_from_mapping

    with pytest.raises(ConfigError) as refused:
        settings_from_mapping({"slack": {"response_hosts": [entry]}}, "test", env={})
    assert "slack.response_hosts" in str(refused.value)


ODD_HEADERS = {
    "a superscript digit": [("X-Slack-Request-Timestamp", "²".encode()), ("X-Slack-Signature", b"v0=00")],
    "other digits": [("X-Slack-Request-Timestamp", "١٧".encode()), ("X-Slack-Signature", b"v0=00")],
    "5,000 digits": [("X-Slack-Request-Timestamp", b"9" * 5000), ("X-Slack-Signature", b"v0=00")],
    "a signature not in ASCII": [("X-Slack-Request-Timestamp", b"NOW"), ("X-Slack-Signature", "v0=é".encode())],
    "a signature in Latin-1": [("X-Slack-Request-Timestamp", b"NOW"), ("X-Slack-Signature", b"v0=\xe9\xff")],
}


@pytest.mark.parametrize("headers", ODD_HEADERS.values(), ids=ODD_HEADERS.keys())
async def test_signature_headers_of_any_bytes_are_401_never_500(slack, clock, headers):
    from tests.raw_http import exchange, post

    now = str(int(clock().timestamp())).encode()
    sent = [(name, now if value == b"NOW" else value) for name, value in headers]
    body = form("help")
    answer = await exchange(slack.client.port, post("/slack/commands", [
        *sent, ("Content-Type", "application/x-www-form-urlencoded")], body))
    assert answer.status == 401, answer.body


# -- sub-commands -------------------------------------------------------------------------------------------------


async def test_help_lists_the_sub_commands_from_the_registry(slack):
    answer = await answer_of(await slack("help"))
    assert answer["response_type"] == "ephemeral"
    for spec in SLACK_LIST:
        assert f"`/cobot {spec.usage}`" in answer["text"]
    assert (await answer_of(await slack(""))) == answer  # no sub-command: help


async def test_stats_of_the_member_mapped_in_config_and_of_others(slack):
    own = (await answer_of(await slack("stats")))["text"]
    assert own.startswith("Here is what you have done in *Test Community*") and "issues opened: 2" in own
    other = (await answer_of(await slack("stats github:bob")))["text"]
    assert "what @bob has done" in other and "pull requests opened: 1" in other
    mentioned = (await answer_of(await slack(f"stats <@{MEMBER_ID}|alice>")))["text"]
    assert "issues opened: 2" in mentioned


async def test_stats_for_unknown_people_and_unmapped_members(slack):
    assert "I have not seen `@nobody`" in (await answer_of(await slack("stats nobody")))["text"]
    unmapped = (await answer_of(await slack("stats", user_id=STRANGER_ID)))["text"]
    assert f"`{STRANGER_ID}`" in unmapped and "[[slack.users]]" in unmapped
    assert "takes at most 1 argument" in (await answer_of(await slack("stats a b")))["text"]


async def test_leaderboard(slack):
    text = (await answer_of(await slack("leaderboard")))["text"]
    # alice: sqrt(2 × 2.2235) = 2.11 for two issues; bob: sqrt(4.0679) = 2.02 for a PR
    assert "1. *alice*: 2.11" in text and "2. *bob*: 2.02" in text
    assert "takes at most 1 argument" in (await answer_of(await slack("leaderboard a b")))["text"]
    assert "There is no campaign `weekly`" in (await answer_of(await slack("leaderboard weekly")))["text"]


async def test_a_maintainer_awards_a_badge_in_the_channel_once(slack, seeded):
    answer = await answer_of(await slack("award docs-hero github:alice", user_id=MAINTAINER_ID))
    assert answer["response_type"] == "in_channel" and "@alice has earned the *Docs hero* badge" in answer["text"]
    [award] = seeded.rows(BadgeAward)
    assert (award.person, award.awarded_by) == ("github:alice", f"slack:{MAINTAINER_ID}")
    [notice] = seeded.rows(OutboxAction, OutboxAction.kind == "notify")
    assert notice.channel == "team" and notice.payload["topic"] == "badge"
    again = await answer_of(await slack(f"award docs-hero <@{MEMBER_ID}>", user_id=MAINTAINER_ID))
    assert again["response_type"] == "ephemeral" and "already holds" in again["text"]
    assert len(seeded.rows(BadgeAward)) == 1


async def test_award_refused_malformed_unknown(slack, seeded):
    assert "only maintainers may use `/cobot award`" in (await answer_of(await slack("award docs-hero bob")))["text"]
    assert "needs 2 arguments" in (await answer_of(await slack("award docs-hero", user_id=MAINTAINER_ID)))["text"]
    assert "there is no badge `gold`" in (await answer_of(await slack("award gold bob", user_id=MAINTAINER_ID)))[
        "text"]
    assert "I have not seen `@zed`" in (await answer_of(await slack("award docs-hero zed", user_id=MAINTAINER_ID)))[
        "text"]
    assert seeded.rows(BadgeAward) == []


# what a member typed, in each answer that names it: a link, a mention, a backtick that would end a code span
HOSTILE_TEXTS = {
    "an unknown person": ("award docs-hero [x](https://evil.example)", MAINTAINER_ID),
    "an unknown person with backticks": ("stats a`b`[x](https://evil.example)<!channel>", MEMBER_ID),
    "an unknown sub-command": ("dance`[x](https://evil.example)`<!channel>", MEMBER_ID),
    "an unknown campaign": ("campaign show a`[x](https://evil.example)`<!here>", MEMBER_ID),
    "a campaign verb": ("campaign a`[x](https://evil.example)`<!here>", MEMBER_ID),
    "a digest verb": ("digest a`[x](https://evil.example)`<@U0ALL>", MAINTAINER_ID),
    "an unknown badge": ("award a`[x](https://evil.example)`<!channel> github:alice", MAINTAINER_ID),
    "an unmapped member": ("stats", "U0`[x](https://evil.example)`"),
}
CODE_SPAN = re.compile(r"`[^`]*`")


@pytest.mark.parametrize(("text", "user_id"), HOSTILE_TEXTS.values(), ids=HOSTILE_TEXTS.keys())
async def test_an_answer_shows_what_the_member_typed_as_text_never_a_link_or_a_mention(slack, text, user_id):
    """Slack makes a link or a mention of `<…>` only (`<url|text>`, `<!channel>`, `<@U…>`), and a link of an address
    in plain text: the answer shows what was typed inside code spans, with no `<` at all."""
    said = (await answer_of(await slack(text, user_id=user_id)))["text"]
    assert "evil.example" in said and "<" not in said, said
    assert "evil.example" not in CODE_SPAN.sub("", said), said


async def test_an_unknown_sub_command_points_to_help(slack):
    assert "Type `/cobot help`" in (await answer_of(await slack("dance")))["text"]


async def test_chinese_answers_when_the_community_speaks_chinese(aiohttp_client, make_settings, clock):
    settings = make_settings(slack={"signing_secret": SIGNING_SECRET}, community={"language": "zh"})
    client = await aiohttp_client(create_app(settings, clock, run_workers=False))
    body = form("help")
    answer = await answer_of(await client.post("/slack/commands", data=body,
                                               headers=signed(body, int(clock().timestamp()))))
    assert "`/cobot` 支持的子命令" in answer["text"]


# -- slow answers ---------------------------------------------------------------------------------------------------


async def test_a_slow_answer_is_acknowledged_then_posted_to_the_response_url(aiohttp_client, make_settings, clock,
                                                                             seeded):
    received: asyncio.Queue[dict] = asyncio.Queue()

    async def response_url(request: web.Request) -> web.Response:
        await received.put(await request.json())
        return web.Response(text="ok")

    hooks = web.Application()
    hooks.router.add_post("/commands/T0001/1234/abcd", response_url)
    server = TestServer(hooks, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        settings = seeded.settings.model_copy(update={"slack": seeded.settings.slack.model_copy(
            update={"answer_within_seconds": 0.0, "response_hosts": [f"127.0.0.1:{server.port}"]})})
        client = await aiohttp_client(create_app(settings, clock, run_workers=False))
        body = form("leaderboard", response_url=str(server.make_url("/commands/T0001/1234/abcd")))
        started = asyncio.get_running_loop().time()
        response = await client.post("/slack/commands", data=body, headers=signed(body, int(clock().timestamp())))
        ack = await answer_of(response)
        assert asyncio.get_running_loop().time() - started < 1.0
        assert ack == {"response_type": "ephemeral", "text": "Working on it: the answer follows in a moment.",
                       "mrkdwn": True}
        later = await asyncio.wait_for(received.get(), 10)
        assert later["replace_original"] is True and "1. *alice*: 2.11" in later["text"]
    finally:
        await server.close()


def test_the_signing_secret_comes_from_the_environment(make_settings, tmp_path, monkeypatch):
    from bot.config import load_settings

    path = tmp_path / "config.toml"
    path.write_text(json.dumps({}).replace("{}", ""))
    monkeypatch.setenv("COBOT_SLACK_SIGNING_SECRET", "from-env")
    assert load_settings(str(path)).slack.signing_secret == "from-env"
    assert "from-env" not in repr(load_settings(str(path)))


# -- campaigns ------------------------------------------------------------------------------------------------------

CAMPAIGN_REPOS = [{"platform": "github", "name": "acme/rocket"}]
SLACK_CAMPAIGNS = [
    {"name": "slack-hack", "kind": "hackathon", "title": "Slack Hackathon", "start": "2026-10-26T00:00:00Z",
     "end": "2026-11-09T00:00:00Z", "repos": ["github:acme/rocket"]},
    {"name": "slack-camp", "kind": "training_camp", "title": "Slack Camp", "start": "2026-10-26T00:00:00Z",
     "end": "2026-11-23T00:00:00Z", "participants": ["github:alice", "github:bob"],
     "milestones": [{"id": "first-pr", "title": "Open a pull request", "due": "2026-11-16T00:00:00Z",
                     "criteria": [{"event": "pr.opened"}]},
                    {"id": "reviewer", "title": "Review one", "due": "2026-11-20T00:00:00Z",
                     "criteria": [{"event": "review.submitted"}]}]},
    {"name": "slack-board", "kind": "leaderboard", "title": "Hack Points", "period": "campaign", "by": "points",
     "points_from": "slack-hack", "start": "2026-10-26T00:00:00Z", "end": "2026-11-09T00:00:00Z"},
]
# What the answers say, worked out from the deliveries below: #1 is hard (40 points), done by alice's merged PR 5;
# #2 has no difficulty (the default, 10), claimed by bob. The camp's first tick enrolled alice and bob; alice's PR
# meets "Open a pull request" (1 of 2 milestones), and neither milestone is due within a week: nobody is behind.
CAMPAIGN_ANSWERS = {
    "en": {
        "list": ["The campaigns:",
                 "- `slack-hack`: Slack Hackathon (hackathon, running, 2026-10-26 to 2026-11-09)",
                 "- `slack-camp`: Slack Camp (training camp, running, 2026-10-26 to 2026-11-23)",
                 "- `slack-board`: Hack Points (leaderboard, running, 2026-10-26 to 2026-11-09)",
                 "`/cobot campaign show NAME` for one of them."],
        "hackathon": ["*Slack Hackathon*",
                      "A hackathon, running: 2026-10-26 00:00+00:00 to 2026-11-09 00:00+00:00.",
                      "- acme/rocket#1 Item 1 (40 points): done in acme/rocket#5 by @alice",
                      "- acme/rocket#2 Item 2 (10 points): claimed by @bob",
                      "1. *alice*: 40 points (1 task)"],
        "camp": ["*Slack Camp*", "A training camp, running: 2026-10-26 00:00+00:00 to 2026-11-23 00:00+00:00.",
                 "- *Open a pull request* (`first-pr`), due 2026-11-16 00:00+00:00: pull requests opened: 1",
                 "- alice (github): enrolled, milestones met 1/2", "- bob (github): enrolled, milestones met 0/2"],
        "board": ["*Hack Points*", "A campaign-long leaderboard by points, running.", "1. *alice*: 40.00"],
        "unknown": "There is no campaign `nope`. The campaigns: `slack-hack`, `slack-camp`, `slack-board`.",
        "usage": "I could not read that: `{value}` is not something `/cobot campaign` does: say `list` or "
                 "`show NAME`. Usage: `/cobot campaign list|show NAME`, for example `/cobot campaign list`.",
        "arity": "I could not read that: ",
    },
    "zh": {
        "list": ["当前的活动：",
                 "- `slack-hack`：Slack Hackathon（黑客松，进行中，2026-10-26 至 2026-11-09）",
                 "- `slack-camp`：Slack Camp（训练营，进行中，2026-10-26 至 2026-11-23）",
                 "- `slack-board`：Hack Points（排行榜，进行中，2026-10-26 至 2026-11-09）",
                 "输入 `/cobot campaign show NAME` 查看某个活动。"],
        "hackathon": ["*Slack Hackathon*", "黑客松，进行中：2026-10-26 00:00+00:00 至 2026-11-09 00:00+00:00。",
                      "- acme/rocket#1 Item 1（40 分）：已完成，@alice 的 acme/rocket#5",
                      "- acme/rocket#2 Item 2（10 分）：已认领，@bob",
                      "1. *alice*：40 分（1 个任务）"],
        "camp": ["*Slack Camp*", "训练营（进行中）：2026-10-26 00:00+00:00 至 2026-11-23 00:00+00:00。",
                 "- *Open a pull request*（`first-pr`），截止 2026-11-16 00:00+00:00：提交 PR 1 次",
                 "- alice（github）：在读，完成里程碑 1/2", "- bob（github）：在读，完成里程碑 0/2"],
        "board": ["*Hack Points*", "整个活动期间排行榜，按积分排名，进行中。", "1. *alice*：40.00"],
        "unknown": "没有名为 `nope` 的活动。现有活动：`slack-hack`、`slack-camp`、`slack-board`。",
        "usage": "这条命令我没看懂：`/cobot campaign` 不支持 `{value}`：请用 `list` 或 `show NAME`。"
                 "用法：`/cobot campaign list|show NAME`，例如 `/cobot campaign list`。",
        "arity": "这条命令我没看懂：",
    },
}


@pytest.fixture(params=["en", "zh"])
async def campaign_slack(request, aiohttp_client, make_settings, clock):
    """`/cobot` in a community (English or Chinese) with a hackathon, a camp and a leaderboard, seeded through the
    pipeline: the maintainer filed tasks #1 (hard) and #2; alice's PR 5 "Fixes #1" was merged; bob claimed #2;
    the camp ticked once (at the clock's time, 2026-11-02 09:00)."""
    from campaigns.runner import CampaignRunner
    from tests.helpers import Harness
    from tests.payloads import comment_event

    settings = make_settings(slack={"signing_secret": SIGNING_SECRET},
                             community={"language": request.param, "repos": CAMPAIGN_REPOS},
                             campaigns=SLACK_CAMPAIGNS, welcome={"enabled": False})
    harness = Harness(settings, clock)
    filed = "2026-10-27T10:00:00Z"
    harness.deliver("issues", issue_event("opened", 1, "maintainer-max", created=filed, labels=("hackathon", "hard")))
    harness.deliver("issues", issue_event("opened", 2, "maintainer-max", created=filed, labels=("hackathon",)))
    opened = pr_event("opened", 5, "alice", created="2026-10-28T10:00:00Z")
    merged = pr_event("closed", 5, "alice", created="2026-10-28T10:00:00Z", state="closed",
                      closed="2026-10-29T10:00:00Z", merged="2026-10-29T10:00:00Z")
    for payload in (opened, merged):
        payload["pull_request"]["body"] = "Fixes #1"
        harness.deliver("pull_request", payload)
    harness.deliver("issue_comment", comment_event(2, "maintainer-max", "bob", at="2026-11-01T10:00:00Z",
                                                   body="/claim", created=filed, labels=("hackathon",)))
    CampaignRunner(harness.db, settings, clock).tick("slack-camp")
    client = await aiohttp_client(create_app(settings, clock, run_workers=False))

    async def send(text: str) -> str:
        body = form(text)
        answer = await answer_of(await client.post("/slack/commands", data=body,
                                                   headers=signed(body, int(clock().timestamp()))))
        assert answer["response_type"] == "ephemeral"
        return answer["text"]
    send.language = request.param
    yield send
    harness.close()


def answer_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line]


async def test_campaign_list_names_each_campaign_with_its_kind_and_status(campaign_slack):
    expected = CAMPAIGN_ANSWERS[campaign_slack.language]
    assert answer_lines(await campaign_slack("campaign list")) == expected["list"]
    assert answer_lines(await campaign_slack("campaign LIST")) == expected["list"]


async def test_campaign_show_a_hackathon_camp_and_leaderboard(campaign_slack):
    expected = CAMPAIGN_ANSWERS[campaign_slack.language]
    for name, key in (("slack-hack", "hackathon"), ("slack-camp", "camp"), ("slack-board", "board")):
        shown = answer_lines(await campaign_slack(f"campaign show {name}"))
        for line in expected[key]:
            assert line in shown, (line, shown)
    assert await campaign_slack("campaign show Slack-Hack") == await campaign_slack("campaign show slack-hack")


async def test_leaderboard_of_a_campaign_is_its_standings(campaign_slack):
    expected = CAMPAIGN_ANSWERS[campaign_slack.language]
    assert await campaign_slack("leaderboard slack-hack") == await campaign_slack("campaign show slack-hack")
    assert expected["hackathon"][-1] in answer_lines(await campaign_slack("leaderboard slack-hack"))
    assert expected["board"][-1] in answer_lines(await campaign_slack("leaderboard slack-board"))


async def test_an_unknown_campaign_names_the_campaigns(campaign_slack):
    expected = CAMPAIGN_ANSWERS[campaign_slack.language]
    assert await campaign_slack("campaign show nope") == expected["unknown"]
    assert await campaign_slack("leaderboard nope") == expected["unknown"]


@pytest.mark.parametrize("text", ["campaign dance", "campaign show", "campaign list everything",
                                  "campaign join slack-camp"])
async def test_a_campaign_verb_it_does_not_know_gets_the_usage(campaign_slack, text):
    expected = CAMPAIGN_ANSWERS[campaign_slack.language]
    value = text.removeprefix("campaign ")
    assert await campaign_slack(text) == expected["usage"].format(value=value)


async def test_campaign_without_a_verb_or_with_too_many_words_gets_the_usage(campaign_slack):
    expected = CAMPAIGN_ANSWERS[campaign_slack.language]
    for text in ("campaign", "campaign show slack-hack now"):
        answer = await campaign_slack(text)
        assert answer.startswith(expected["arity"]) and "`/cobot campaign list|show NAME`" in answer



async def test_a_task_title_reaches_slack_as_text_not_a_link_or_a_mention(aiohttp_client, make_settings, clock):
    """Anyone who files an issue picks its title: `/cobot campaign show`, which a member may post in a channel,
    quotes a hackathon task's title without a live link or a channel-wide mention (issue 15, item 6)."""
    from tests.helpers import Harness

    settings = make_settings(slack={"signing_secret": SIGNING_SECRET}, community={"repos": CAMPAIGN_REPOS},
                             campaigns=SLACK_CAMPAIGNS, welcome={"enabled": False})
    harness = Harness(settings, clock)
    payload = issue_event("opened", 1, "maintainer-max", created="2026-10-27T10:00:00Z", labels=("hackathon",))
    payload["issue"]["title"] = "<!channel> [click](https://evil.example) <https://evil.example|here> *bold*"
    harness.deliver("issues", payload)
    harness.close()
    client = await aiohttp_client(create_app(settings, clock, run_workers=False))
    body = form("campaign show slack-hack")
    said = (await answer_of(await client.post("/slack/commands", data=body,
                                              headers=signed(body, int(clock().timestamp())))))["text"]
    assert "click" in said and "evil.example" in said
    assert "<!" not in said and "<http" not in said  # Slack's mentions and links: `<!channel>`, `<url|text>`
