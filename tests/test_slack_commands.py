"""The Slack slash command `/cobot` through a real aiohttp server: signatures, sub-commands, slow answers."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from urllib.parse import urlencode

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.app import create_app
from bot.commands.registry import SLACK_LIST
from bot.store.tables import BadgeAward, OutboxAction
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


def form(text: str, user_id: str = MEMBER_ID, response_url: str = "") -> bytes:
    fields = {"token": "legacy", "team_id": "T0001", "team_domain": "lumen", "channel_id": "C2147483705",
              "channel_name": "community", "user_id": user_id, "user_name": "someone", "command": "/cobot",
              "text": text, "trigger_id": "13345224609.738474920.8088930838d88f008e0"}
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
    assert "I have not seen @nobody" in (await answer_of(await slack("stats nobody")))["text"]
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
    assert "I have not seen @zed" in (await answer_of(await slack("award docs-hero zed", user_id=MAINTAINER_ID)))[
        "text"]
    assert seeded.rows(BadgeAward) == []


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
            update={"answer_within_seconds": 0.0})})
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
