"""The chat notifiers against local fake platforms (tests/chat_servers.py): each message arrives in the platform's
shape, signatures are checked the platform's way, answers map to RetryLater / PermanentFailure, size caps hold,
and no secret ever appears in what a notifier raises."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import aiohttp
import pytest

from bot.notifiers.base import Notification, PermanentFailure, RetryLater
from bot.notifiers.dingtalk import DingTalkNotifier
from bot.notifiers.feishu import FeishuNotifier
from bot.notifiers.http import retry_after
from bot.notifiers.slack import SlackNotifier, SlackWebhookNotifier
from bot.notifiers.text import ELLIPSIS, slack_mrkdwn, truncate_bytes
from bot.notifiers.webhook import WebhookNotifier
from bot.notifiers.wecom import WeComNotifier
from bot.retry_after import retry_after_seconds
from bot.settings.notify import (
    DingTalkChannel,
    FeishuChannel,
    SlackChannel,
    SlackWebhookChannel,
    WebhookChannel,
    WeComChannel,
)
from tests.chat_servers import ChatServers, chat_servers

SLACK_TOKEN = "xoxb-test-token-4f8a2c9e"
FEISHU_HOOK = "feishu-hook-5d1e7b3a"
FEISHU_SECRET = "feishu-secret-8c2f6a1d"
DINGTALK_TOKEN = "dingtalk-token-3b9e4f7c"
DINGTALK_SECRET = "SECdingtalk-2a7d5c8e"
WECOM_KEY = "wecom-key-6e1f9b2d"
WEBHOOK_SECRET = "webhook-secret-9f3c7a5b"
WEBHOOK_HEADER_TOKEN = "header-token-1c8e4a6f"
SECRETS = [SLACK_TOKEN, FEISHU_HOOK, FEISHU_SECRET, DINGTALK_TOKEN, DINGTALK_SECRET, WECOM_KEY, WEBHOOK_SECRET,
           WEBHOOK_HEADER_TOKEN, "/slack/webhook/T/B/X"]

NOTE = Notification(
    title="New contributor",
    body="**alice** opened her first PR: [Fix typo](https://example.org/pr/1)\n\nSay hello!",
    link="https://example.org/pr/1",
    fields=(("Repo", "acme/widgets"), ("Labels", "good first issue")),
    language="en",
    key="k-1@maintainers",
    topic="newcomer",
)
NOTE_ZH = Notification(title="新贡献者", body="**alice** 提交了第一个 PR", link="https://example.org/pr/1",
                       fields=(("仓库", "acme/widgets"),), language="zh", key="k-2@maintainers", topic="newcomer")
HUGE_ZH = Notification(title="周报", body="社区动态：" + "新的议题与合并请求。" * 5000 + "\n[链接](https://example.org/x)",
                       link="https://example.org/digest", fields=(("周期", "2026-W45"),), language="zh", key="k-3")


@pytest.fixture
async def servers() -> AsyncIterator[ChatServers]:
    async with chat_servers() as running:
        running.slack_tokens = {SLACK_TOKEN}
        running.feishu_secrets = {FEISHU_HOOK: FEISHU_SECRET}
        running.dingtalk_secrets = {DINGTALK_TOKEN: DINGTALK_SECRET}
        running.wecom_keys = {WECOM_KEY}
        running.webhook_secret = WEBHOOK_SECRET
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def assert_no_secret(error: BaseException) -> None:
    shown = " ".join([str(error), repr(error), str(getattr(error, "reason", ""))])
    for secret in SECRETS:
        assert secret not in shown, f"{secret!r} leaked into {shown!r}"


async def raised(call: Awaitable[Any], kind: type[Exception]) -> Any:
    with pytest.raises(kind) as caught:
        await call
    assert_no_secret(caught.value)
    return caught.value


# -- building each notifier -------------------------------------------------------------------------------------

def slack(base: str, http: aiohttp.ClientSession, token: str = SLACK_TOKEN, **kwargs: Any) -> SlackNotifier:
    settings = SlackChannel(kind="slack", token=token, channel="#community", api_url=f"{base}/slack/api/")
    return SlackNotifier(settings, http, **kwargs)


def slack_webhook(base: str, http: aiohttp.ClientSession, path: str = "T/B/X") -> SlackWebhookNotifier:
    return SlackWebhookNotifier(SlackWebhookChannel(kind="slack_webhook", url=f"{base}/slack/webhook/{path}"), http)


def feishu(base: str, http: aiohttp.ClientSession, secret: str = FEISHU_SECRET, card: bool = False,
           **kwargs: Any) -> FeishuNotifier:
    settings = FeishuChannel(kind="feishu", url=f"{base}/feishu/hook/{FEISHU_HOOK}", secret=secret, card=card)
    return FeishuNotifier(settings, http, **kwargs)


def dingtalk(base: str, http: aiohttp.ClientSession, secret: str = DINGTALK_SECRET, **kwargs: Any
             ) -> DingTalkNotifier:
    settings = DingTalkChannel(kind="dingtalk", url=f"{base}/dingtalk/robot/send?access_token={DINGTALK_TOKEN}",
                               secret=secret)
    return DingTalkNotifier(settings, http, **kwargs)


def wecom(base: str, http: aiohttp.ClientSession, key: str = WECOM_KEY) -> WeComNotifier:
    return WeComNotifier(WeComChannel(kind="wecom", url=f"{base}/wecom/webhook/send?key={key}"), http)


def webhook(base: str, http: aiohttp.ClientSession, secret: str = WEBHOOK_SECRET) -> WebhookNotifier:
    settings = WebhookChannel(kind="webhook", url=f"{base}/hook", secret=secret,
                              headers={"Authorization": f"Bearer {WEBHOOK_HEADER_TOKEN}", "X-Team": "infra"})
    return WebhookNotifier(settings, http)


BUILDERS = {"slack": slack, "slack_webhook": slack_webhook, "feishu": feishu, "dingtalk": dingtalk,
            "wecom": wecom, "webhook": webhook}


# -- Slack Web API ----------------------------------------------------------------------------------------------

async def test_slack_posts_block_kit_with_the_bot_token(servers: ChatServers, http: aiohttp.ClientSession) -> None:
    answer = await slack(servers.base_url, http).send(NOTE)

    assert answer.startswith("Slack message ") and answer.endswith(" in #community")
    [request] = servers.received("slack")
    assert request.headers["Authorization"] == f"Bearer {SLACK_TOKEN}"
    assert request.body["channel"] == "#community"
    assert request.body["text"].startswith("New contributor\n\n*alice* opened")
    assert request.body["blocks"] == [
        {"type": "header", "text": {"type": "plain_text", "emoji": True, "text": "New contributor"}},
        {"type": "section", "text": {"type": "mrkdwn", "verbatim": True, "text":
            "*alice* opened her first PR: <https://example.org/pr/1|Fix typo>\n\nSay hello!"}},
        {"type": "section", "fields": [{"type": "mrkdwn", "verbatim": True, "text": "*Repo*\nacme/widgets"},
                                       {"type": "mrkdwn", "verbatim": True, "text": "*Labels*\ngood first issue"}]},
        {"type": "actions", "elements": [{"type": "button", "action_id": "open_link", "url": "https://example.org/pr/1",
                                          "text": {"type": "plain_text", "text": "Open"}}]},
    ]


async def test_slack_keeps_at_most_ten_fields(servers: ChatServers, http: aiohttp.ClientSession) -> None:
    many = Notification(title="t", body="b", fields=tuple((f"l{i}", f"v{i}") for i in range(14)))
    await slack(servers.base_url, http).send(many)
    [request] = servers.received("slack")
    assert len(request.body["blocks"][2]["fields"]) == 10


async def test_slack_wrong_token_is_permanent(servers: ChatServers, http: aiohttp.ClientSession) -> None:
    error = await raised(slack(servers.base_url, http, token="xoxb-wrong-token").send(NOTE), PermanentFailure)
    assert "invalid_auth" in str(error) and "xoxb-wrong-token" not in str(error)


async def test_slack_unknown_channel_is_permanent(servers: ChatServers, http: aiohttp.ClientSession) -> None:
    servers.fail_next("slack", 200, {"ok": False, "error": "channel_not_found"})
    error = await raised(slack(servers.base_url, http).send(NOTE), PermanentFailure)
    assert "channel_not_found" in str(error)


async def test_slack_429_waits_retry_after(servers: ChatServers, http: aiohttp.ClientSession) -> None:
    servers.fail_next("slack", 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "7"})
    error = await raised(slack(servers.base_url, http).send(NOTE), RetryLater)
    assert error.delay == 7


async def test_slack_ratelimited_error_is_retried(servers: ChatServers, http: aiohttp.ClientSession) -> None:
    servers.fail_next("slack", 200, {"ok": False, "error": "ratelimited"})
    error = await raised(slack(servers.base_url, http).send(NOTE), RetryLater)
    assert error.delay == 1.0 and "ratelimited" in error.reason


@pytest.mark.parametrize("body", ["<html>bad gateway</html>", {"ok": False, "error": "internal_error"}])
async def test_slack_5xx_is_retried(servers: ChatServers, http: aiohttp.ClientSession, body: Any) -> None:
    servers.fail_next("slack", 502, body)
    error = await raised(slack(servers.base_url, http).send(NOTE), RetryLater)
    assert error.delay == 0


# -- Slack incoming webhook -------------------------------------------------------------------------------------

async def test_slack_webhook_posts_the_same_blocks(servers: ChatServers, http: aiohttp.ClientSession) -> None:
    assert await slack_webhook(servers.base_url, http).send(NOTE) == "Slack webhook: ok"
    [request] = servers.received("slack_webhook")
    assert request.path == "/slack/webhook/T/B/X"
    assert [block["type"] for block in request.body["blocks"]] == ["header", "section", "section", "actions"]
    assert request.body["text"].startswith("New contributor")


@pytest.mark.parametrize(("status", "text"), [(404, "no_service"), (403, "invalid_token"),
                                              (410, "channel_is_archived")])
async def test_slack_webhook_4xx_is_permanent(servers: ChatServers, http: aiohttp.ClientSession, status: int,
                                              text: str) -> None:
    servers.fail_next("slack_webhook", status, text)
    error = await raised(slack_webhook(servers.base_url, http).send(NOTE), PermanentFailure)
    assert text in str(error) and str(status) in str(error) and "127.0.0.1" in str(error)


async def test_slack_webhook_unknown_path_is_permanent(servers: ChatServers, http: aiohttp.ClientSession) -> None:
    error = await raised(slack_webhook(servers.base_url, http, "T/B/other-secret-path").send(NOTE), PermanentFailure)
    assert "no_service" in str(error) and "other-secret-path" not in str(error)


async def test_slack_webhook_rate_limit_and_5xx_are_retried(servers: ChatServers,
                                                            http: aiohttp.ClientSession) -> None:
    notifier = slack_webhook(servers.base_url, http)
    servers.fail_next("slack_webhook", 429, "rate_limited", {"Retry-After": "7"})
    assert (await raised(notifier.send(NOTE), RetryLater)).delay == 7
    servers.fail_next("slack_webhook", 500, "rollup_error")
    assert (await raised(notifier.send(NOTE), RetryLater)).delay == 0


# -- Feishu -----------------------------------------------------------------------------------------------------

async def test_feishu_post_is_signed_and_shaped(servers: ChatServers, http: aiohttp.ClientSession) -> None:
    answer = await feishu(servers.base_url, http).send(NOTE_ZH)

    assert answer == "Feishu code 0 (success)"
    [request] = servers.received("feishu")
    body = request.body
    assert body["timestamp"].isdigit() and abs(int(body["timestamp"]) - time.time()) < 5
    assert body["msg_type"] == "post"
    assert body["content"] == {"post": {"zh_cn": {"title": "新贡献者", "content": [
        [{"tag": "text", "text": "alice", "style": ["bold"]}, {"tag": "text", "text": " 提交了第一个 PR"}],
        [{"tag": "text", "text": "仓库: ", "style": ["bold"]}, {"tag": "text", "text": "acme/widgets"}],
        [{"tag": "a", "text": "查看详情", "href": "https://example.org/pr/1"}],
    ]}}}


async def test_feishu_english_post_has_links_as_a_tags(servers: ChatServers, http: aiohttp.ClientSession) -> None:
    await feishu(servers.base_url, http).send(NOTE)
    [request] = servers.received("feishu")
    post = request.body["content"]["post"]
    assert list(post) == ["en_us"]
    assert post["en_us"]["content"][0] == [
        {"tag": "text", "text": "alice", "style": ["bold"]}, {"tag": "text", "text": " opened her first PR: "},
        {"tag": "a", "text": "Fix typo", "href": "https://example.org/pr/1"}]
    assert post["en_us"]["content"][1] == [{"tag": "text", "text": ""}]


async def test_feishu_card(servers: ChatServers, http: aiohttp.ClientSession) -> None:
    await feishu(servers.base_url, http, card=True).send(NOTE)
    [request] = servers.received("feishu")
    assert request.body["msg_type"] == "interactive" and "sign" in request.body
    card = request.body["card"]
    assert card["header"]["title"] == {"tag": "plain_text", "content": "New contributor"}
    assert card["elements"] == [
        {"tag": "div", "text": {"tag": "lark_md", "content": NOTE.body}},
        {"tag": "div", "fields": [{"is_short": True, "text": {"tag": "lark_md", "content": "**Repo**\nacme/widgets"}},
                                  {"is_short": True, "text": {"tag": "lark_md",
                                                              "content": "**Labels**\ngood first issue"}}]},
        {"tag": "action", "actions": [{"tag": "button", "type": "primary", "url": "https://example.org/pr/1",
                                       "text": {"tag": "plain_text", "content": "Open"}}]},
    ]


async def test_feishu_without_secret_sends_no_signature(servers: ChatServers, http: aiohttp.ClientSession) -> None:
    servers.feishu_secrets = {}
    await feishu(servers.base_url, http, secret="").send(NOTE)
    [request] = servers.received("feishu")
    assert "sign" not in request.body and "timestamp" not in request.body


async def test_feishu_wrong_secret_is_permanent(servers: ChatServers, http: aiohttp.ClientSession) -> None:
    error = await raised(feishu(servers.base_url, http, secret="not-the-secret").send(NOTE), PermanentFailure)
    assert "19021" in str(error) and "not-the-secret" not in str(error)


async def test_feishu_stale_timestamp_is_permanent(servers: ChatServers, http: aiohttp.ClientSession) -> None:
    notifier = feishu(servers.base_url, http, clock=lambda: time.time() - 2 * 3600)
    error = await raised(notifier.send(NOTE), PermanentFailure)
    assert "19021" in str(error) and "clock" in str(error)


@pytest.mark.parametrize(("status", "body", "headers", "delay"), [
    (429, {"code": 99991400, "msg": "request trigger frequency limit"}, {"Retry-After": "7"}, 7),
    (429, {"code": 99991400, "msg": "request trigger frequency limit"}, {"x-ogw-ratelimit-reset": "12"}, 12),
    (200, {"code": 11232, "msg": "frequency limited psm[lark.oapi.app_platform_runtime]appID[1]"}, {}, 60),
    (200, {"code": 9499, "msg": "too many request"}, {}, 60),
    (500, "<html>internal error</html>", {}, 0),
    (503, "busy", {"Retry-After": "3"}, 3),
])
async def test_feishu_retried_answers(servers: ChatServers, http: aiohttp.ClientSession, status: int, body: Any,
                                      headers: dict[str, str], delay: float) -> None:
    servers.fail_next("feishu", status, body, headers)
    error = await raised(feishu(servers.base_url, http).send(NOTE), RetryLater)
    assert error.delay == delay


@pytest.mark.parametrize("code", [9499, 19022, 19024, 12345])
async def test_feishu_other_codes_are_permanent(servers: ChatServers, http: aiohttp.ClientSession, code: int) -> None:
    servers.fail_next("feishu", 200, {"code": code, "msg": "Bad Request" if code == 9499 else "nope", "data": {}})
    error = await raised(feishu(servers.base_url, http).send(NOTE), PermanentFailure)
    assert str(code) in str(error)


@pytest.mark.parametrize("card", [False, True])
async def test_feishu_huge_body_stays_under_20_kb(servers: ChatServers, http: aiohttp.ClientSession,
                                                  card: bool) -> None:
    assert await feishu(servers.base_url, http, card=card).send(HUGE_ZH) == "Feishu code 0 (success)"
    [request] = servers.received("feishu")
    assert len(request.raw) <= 20_000
    body = json.loads(request.raw)
    if card:
        text = body["card"]["elements"][0]["text"]["content"]
    else:
        paragraphs = body["content"]["post"]["zh_cn"]["content"]
        text = paragraphs[0][-1]["text"]
        assert paragraphs[-1] == [{"tag": "a", "text": "查看详情", "href": "https://example.org/digest"}]
    assert text.endswith(ELLIPSIS) and len(request.raw) > 15_000


# -- DingTalk ---------------------------------------------------------------------------------------------------

async def test_dingtalk_markdown_is_signed_in_the_query(servers: ChatServers, http: aiohttp.ClientSession) -> None:
    assert await dingtalk(servers.base_url, http).send(NOTE) == "DingTalk errcode 0 (ok)"
    [request] = servers.received("dingtalk")
    assert request.query["access_token"] == DINGTALK_TOKEN
    assert abs(int(request.query["timestamp"]) - time.time() * 1000) < 5000 and request.query["sign"]
    assert request.body == {"msgtype": "markdown", "markdown": {"title": "New contributor", "text": (
        "#### New contributor\n\n"
        "**alice** opened her first PR: [Fix typo](https://example.org/pr/1)\n\nSay hello!\n\n"
        "- **Repo**: acme/widgets\n- **Labels**: good first issue\n\n"
        "[Open](https://example.org/pr/1)")}}


async def test_dingtalk_signature_survives_url_encoding(servers: ChatServers, http: aiohttp.ClientSession) -> None:
    # Signatures with "+" or "/" must be percent-encoded, or the server reads them back wrong: try many.
    for moment in range(40):
        notifier = dingtalk(servers.base_url, http, clock=lambda moment=moment: time.time() + moment / 1000)
        await notifier.send(NOTE)
    assert any("+" in request.query["sign"] for request in servers.received("dingtalk"))


async def test_dingtalk_without_secret_has_no_signature(servers: ChatServers, http: aiohttp.ClientSession) -> None:
    servers.dingtalk_secrets = {}
    await dingtalk(servers.base_url, http, secret="").send(NOTE)
    [request] = servers.received("dingtalk")
    assert set(request.query) == {"access_token"}


async def test_dingtalk_wrong_secret_is_permanent(servers: ChatServers, http: aiohttp.ClientSession) -> None:
    error = await raised(dingtalk(servers.base_url, http, secret="SECwrong").send(NOTE), PermanentFailure)
    assert "310000" in str(error) and "sign not match" in str(error) and "help link" not in str(error)


@pytest.mark.parametrize(("status", "body", "headers", "delay"), [
    (200, {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}, {}, 600),
    (200, {"errcode": 410100, "errmsg": "发送速度太快而限流"}, {}, 60),
    (429, "Too Many Requests", {"Retry-After": "7"}, 7),
    (429, "Too Many Requests", {}, 60),
    (200, {"errcode": -1, "errmsg": "系统繁忙"}, {}, 0),
    (502, "<html>bad gateway</html>", {}, 0),
])
async def test_dingtalk_retried_answers(servers: ChatServers, http: aiohttp.ClientSession, status: int, body: Any,
                                        headers: dict[str, str], delay: float) -> None:
    servers.fail_next("dingtalk", status, body, headers)
    error = await raised(dingtalk(servers.base_url, http).send(NOTE), RetryLater)
    assert error.delay == delay


# -- WeCom ------------------------------------------------------------------------------------------------------

async def test_wecom_markdown(servers: ChatServers, http: aiohttp.ClientSession) -> None:
    assert await wecom(servers.base_url, http).send(NOTE) == "WeCom errcode 0 (ok)"
    [request] = servers.received("wecom")
    assert request.query == {"key": WECOM_KEY}
    assert request.body == {"msgtype": "markdown", "markdown": {"content": (
        "**New contributor**\n**alice** opened her first PR: [Fix typo](https://example.org/pr/1)\n\nSay hello!\n\n"
        "> **Repo**: acme/widgets\n> **Labels**: good first issue\n\n[Open](https://example.org/pr/1)")}}


async def test_wecom_huge_body_fits_4096_bytes(servers: ChatServers, http: aiohttp.ClientSession) -> None:
    await wecom(servers.base_url, http).send(HUGE_ZH)
    [request] = servers.received("wecom")
    content = request.body["markdown"]["content"]
    assert 4000 < len(content.encode()) <= 4096
    assert content.endswith("[查看详情](https://example.org/digest)")
    assert f"{ELLIPSIS}\n\n> **周期**: 2026-W45" in content


async def test_wecom_invalid_key_is_permanent(servers: ChatServers, http: aiohttp.ClientSession) -> None:
    error = await raised(wecom(servers.base_url, http, key="wecom-unknown-key").send(NOTE), PermanentFailure)
    assert "93000 invalid webhook url" in str(error) and "hint" not in str(error)
    assert "wecom-unknown-key" not in str(error)


@pytest.mark.parametrize(("status", "body", "headers", "delay"), [
    (200, {"errcode": 45009, "errmsg": "api freq out of limit, hint: [1], from ip: 1.2.3.4"}, {}, 60),
    (429, "Too Many Requests", {"Retry-After": "7"}, 7),
    (500, "oops", {}, 0),
])
async def test_wecom_retried_answers(servers: ChatServers, http: aiohttp.ClientSession, status: int, body: Any,
                                     headers: dict[str, str], delay: float) -> None:
    servers.fail_next("wecom", status, body, headers)
    error = await raised(wecom(servers.base_url, http).send(NOTE), RetryLater)
    assert error.delay == delay
    assert "from ip" not in error.reason


# -- generic webhook --------------------------------------------------------------------------------------------

async def test_webhook_posts_signed_json(servers: ChatServers, http: aiohttp.ClientSession) -> None:
    assert await webhook(servers.base_url, http).send(NOTE) == "HTTP 200"
    [request] = servers.received("webhook")
    assert request.body == {"key": "k-1@maintainers", "topic": "newcomer", "title": "New contributor",
                            "body": NOTE.body, "link": "https://example.org/pr/1",
                            "fields": [{"label": "Repo", "value": "acme/widgets"},
                                       {"label": "Labels", "value": "good first issue"}],
                            "language": "en"}
    assert request.headers["Idempotency-Key"] == "k-1@maintainers"
    assert request.headers["User-Agent"] == "cobot"
    assert request.headers["X-Team"] == "infra"
    assert request.headers["Authorization"] == f"Bearer {WEBHOOK_HEADER_TOKEN}"
    assert request.headers["X-Cobot-Signature-256"].startswith("sha256=")


async def test_webhook_wrong_secret_is_permanent(servers: ChatServers, http: aiohttp.ClientSession) -> None:
    error = await raised(webhook(servers.base_url, http, secret="wrong-secret").send(NOTE), PermanentFailure)
    assert "401" in str(error) and "wrong-secret" not in str(error)


@pytest.mark.parametrize(("status", "headers", "delay"), [
    (429, {"Retry-After": "7"}, 7), (503, {"Retry-After": "5"}, 5), (429, {}, 0), (408, {}, 0), (425, {}, 0),
    (500, {}, 0),
])
async def test_webhook_retried_statuses(servers: ChatServers, http: aiohttp.ClientSession, status: int,
                                        headers: dict[str, str], delay: float) -> None:
    servers.fail_next("webhook", status, {"error": "later"}, headers)
    error = await raised(webhook(servers.base_url, http).send(NOTE), RetryLater)
    assert error.delay == delay


@pytest.mark.parametrize("status", [400, 404, 410, 422])
async def test_webhook_other_4xx_are_permanent(servers: ChatServers, http: aiohttp.ClientSession,
                                               status: int) -> None:
    servers.fail_next("webhook", status, {"error": "no such hook"})
    error = await raised(webhook(servers.base_url, http).send(NOTE), PermanentFailure)
    assert str(status) in str(error)


async def test_webhook_redirect_is_not_followed(servers: ChatServers, http: aiohttp.ClientSession) -> None:
    servers.fail_next("webhook", 302, "", {"Location": f"{servers.base_url}/slack/webhook/T/B/X"})
    error = await raised(webhook(servers.base_url, http).send(NOTE), PermanentFailure)
    assert "redirect" in str(error)
    assert [request.platform for request in servers.requests] == ["webhook"]


# -- every kind: unreachable, refused, secrets ------------------------------------------------------------------

def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("kind", list(BUILDERS))
async def test_unreachable_is_retried(http: aiohttp.ClientSession, kind: str) -> None:
    notifier = BUILDERS[kind](f"http://127.0.0.1:{closed_port()}", http)
    error = await raised(notifier.send(NOTE), RetryLater)
    assert error.delay == 0 and "unreachable: ClientConnectorError" in error.reason and "127.0.0.1" in error.reason


@pytest.mark.parametrize("kind", list(BUILDERS))
async def test_time_out_is_retried(servers: ChatServers, kind: str) -> None:
    servers.delay_next(kind, 0.5)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.1)) as impatient:
        error = await raised(BUILDERS[kind](servers.base_url, impatient).send(NOTE), RetryLater)
    assert error.delay == 0 and "unreachable" in error.reason and "Timeout" in error.reason


class RefusedURL(Exception):  # noqa: N818 - named as bot.notifiers.urls names it
    """Stands for the outbound session's refusal (`bot.notifiers.urls.RefusedURL`), matched by class name."""


@pytest.mark.parametrize("kind", list(BUILDERS))
async def test_refused_url_is_permanent(servers: ChatServers, kind: str) -> None:
    async def refuse(session: aiohttp.ClientSession, context: Any, params: aiohttp.TraceRequestStartParams) -> None:
        raise RefusedURL(f"{params.url} resolves to a private address")

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(refuse)
    async with aiohttp.ClientSession(trace_configs=[trace]) as refusing:
        error = await raised(BUILDERS[kind](servers.base_url, refusing).send(NOTE), PermanentFailure)
    assert "refused" in str(error) and "127.0.0.1" in str(error)
    assert servers.requests == []


# -- helpers ----------------------------------------------------------------------------------------------------

def test_slack_mrkdwn_conversion() -> None:
    assert slack_mrkdwn("## Done\n**a** & *b* ~~c~~ [x <y>](https://e.org/?a=1&b=2) `**d**`") == (
        "*Done*\n*a* &amp; _b_ ~c~ <https://e.org/?a=1&amp;b=2|x &lt;y&gt;> `**d**`")


def test_truncation_keeps_markdown_whole() -> None:
    text = "see [the pull request](https://example.org/pr/1) and **more** text"
    for limit in range(1, len(text) + 5):
        cut = truncate_bytes(text, limit)
        assert len(cut.encode()) <= limit or cut == ""
        assert cut in (text, "") or cut.endswith(ELLIPSIS)
        assert cut.count("**") % 2 == 0 and ("[" not in cut or "](https://example.org/pr/1)" in cut)


def test_retry_after_reads_seconds_and_dates() -> None:
    assert retry_after({"Retry-After": "7"}) == 7
    assert retry_after({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, clock=lambda: 1445412470.0) == 10
    assert retry_after({}) is None and retry_after({"Retry-After": "soon"}) is None
    assert retry_after({"Retry-After": "nan"}) is None and retry_after({"Retry-After": "-3"}) == 0
    assert retry_after({"Retry-After": "inf"}) is None and retry_after({"Retry-After": " 2.5 "}) == 2.5
    # the forges' clients read it alike (bot.retry_after)
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490.0) == 0
    assert retry_after_seconds(None, 0.0) is None and retry_after_seconds("Infinity", 0.0) is None
