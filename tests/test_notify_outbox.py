"""Notifications through the outbox, end to end: routed, rate-limited, retried, never lost, never leaking a secret.

The chat platforms are local aiohttp servers (tests/chat_servers.py) that answer and check signatures the way
the platforms do; time is the harness's fake clock, shared with the fake servers.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web
from click.testing import CliRunner

from bot.app.factory import create_app
from bot.cli.main import main
from bot.config import ConfigError
from bot.notifiers.limits import ChannelLimits
from bot.notifiers.registry import build_notifiers
from bot.notifiers.urls import outbound_session
from bot.outbox.dispatcher import Dispatcher, WriteRate
from bot.store.tables import OutboxAction
from tests.chat_servers import DINGTALK, WEBHOOK, chat_servers
from tests.payloads import issue_event

T0 = "2026-11-01T10:00:00Z"
DING_TOKEN = "ding-access-token-never-shown"
DING_SECRET = "SECdingtalk-signing-secret"
HOOK_SECRET = "hook-hmac-secret-never-shown"


@pytest.fixture
async def servers(clock):
    async with chat_servers() as running:
        running.clock = lambda: clock().timestamp()
        running.dingtalk_secrets[DING_TOKEN] = DING_SECRET
        running.webhook_secret = HOOK_SECRET
        yield running


def notify_section(servers, rules: list[dict], **extra_channels: dict) -> dict:
    return {
        "allow_hosts": ["127.0.0.1"],
        "channels": {
            "robot": {"kind": "dingtalk", "url": f"{servers.base_url}/dingtalk/robot/send?access_token={DING_TOKEN}",
                      "secret": DING_SECRET, "language": "zh"},
            "ops": {"kind": "webhook", "url": f"{servers.base_url}/hook", "secret": HOOK_SECRET},
            **extra_channels,
        },
        "rules": rules,
    }


class Sender:
    """The harness's store with a dispatcher wired as `cobot serve` wires it (hardened session, notifiers)."""

    def __init__(self, harness) -> None:
        self.harness = harness
        self.http = outbound_session(harness.settings.notify.allow_hosts, 10)
        notify = harness.settings.notify
        self.notifiers = build_notifiers(notify, self.http, lambda: harness.clock().timestamp())
        self.dispatcher = self.new_dispatcher()

    def new_dispatcher(self) -> Dispatcher:
        notify = self.harness.settings.notify
        limits = ChannelLimits({name: channel.limits() for name, channel in notify.channels.items()})
        return Dispatcher(self.harness.db, self.harness.settings.outbox, self.harness.clock,
                          {"github": None, "gitee": None}, WriteRate({"github": 1000, "gitee": 1000}),
                          notifiers=self.notifiers, limits=limits, notify=notify, language="en")

    async def run(self, seconds: float, step: float = 1.0) -> None:
        """Dispatch while the fake clock moves on by `step` seconds at a time."""
        for _ in range(int(seconds / step)):
            await self.dispatcher.dispatch_due()
            self.harness.clock.advance(step)

    def notes(self, channel: str | None = None) -> list[OutboxAction]:
        where = [OutboxAction.kind == "notify"] + ([OutboxAction.channel == channel] if channel else [])
        return self.harness.rows(OutboxAction, *where)

    async def close(self) -> None:
        for notifier in self.notifiers.values():
            await notifier.close()
        await self.http.close()


@pytest.fixture
async def sender_for(make_harness, servers):
    made: list[Sender] = []

    def build(rules: list[dict], **extra_channels: dict) -> Sender:
        made.append(Sender(make_harness(notify=notify_section(servers, rules, **extra_channels))))
        return made[-1]
    yield build
    for sender in made:
        await sender.close()


async def test_a_burst_to_one_dingtalk_robot_keeps_its_limit_and_drops_nothing(sender_for, servers):
    sender = sender_for([{"topics": ["newcomer"], "channels": ["robot"]}])
    for number in range(100):
        sender.harness.deliver("issues", issue_event("opened", number + 1, f"newcomer-{number}", created=T0))
    await sender.run(seconds=330, step=5)
    received = servers.received(DINGTALK)
    assert len(received) == 100
    assert len({r.body["markdown"]["text"] for r in received}) == 100  # each message once
    moments = [r.at for r in received]
    assert max(sum(1 for m in moments if start <= m < start + 60) for start in moments) <= 20
    assert {(n.status, n.attempts) for n in sender.notes()} == {("done", 1)}  # waiting is not an attempt
    assert "第一个" in received[0].body["markdown"]["text"]  # the robot's channel is in Chinese


async def test_one_account_opening_a_hundred_issues_does_not_hold_up_anyone_elses(sender_for, servers):
    """Announced one by one, a hundred issues keep a DingTalk robot (20 a minute) busy for five minutes while everyone
    else's notifications wait. Bounded per person (`notify.per_person_per_hour`, 10 by default), the account's ten
    and the one notice that its further events are held back go out in the first minute, and bob's with them."""
    sender = sender_for([{"events": ["issue.opened"], "channels": ["robot", "ops"]}])
    for number in range(1, 101):
        sender.harness.store("issues", issue_event("opened", number, "mallory", created=T0), key=f"m-{number}")
    sender.harness.store("issues", issue_event("opened", 101, "bob", created=T0), key="bob-101")
    sender.harness.process()
    await sender.run(seconds=60, step=5)
    robot = [r.body["markdown"]["text"] for r in servers.received(DINGTALK)]
    hook = [r.body["body"] for r in servers.received(WEBHOOK)]
    assert len(robot) == len(hook) == 12
    assert sum("bob" in text for text in robot) == sum("bob" in text for text in hook) == 1
    assert sum("暂停推送" in text for text in robot) == 1  # the robot's channel is in Chinese
    assert sum("holding back notifications about @mallory" in text for text in hook) == 1
    assert {n.status for n in sender.notes()} == {"done"}


async def test_retry_after_is_waited_out_with_the_same_idempotency_key(sender_for, servers):
    sender = sender_for([{"topics": ["newcomer"], "channels": ["ops"]}])
    servers.fail_next(WEBHOOK, 429, {"error": "slow down"}, headers={"Retry-After": "30"})
    sender.harness.deliver("issues", issue_event("opened", 1, "alice", created=T0))
    await sender.dispatcher.dispatch_due()
    [note] = sender.notes()
    assert note.status == "pending" and "429" in (note.last_error or "")
    assert (note.next_attempt_at - sender.harness.clock()).total_seconds() == pytest.approx(30)
    sender.harness.clock.advance(29)
    await sender.dispatcher.dispatch_due()
    assert len(servers.received(WEBHOOK)) == 1  # not before the 30 s
    sender.harness.clock.advance(2)
    await sender.dispatcher.dispatch_due()
    assert sender.notes()[0].status == "done"
    first, second = servers.received(WEBHOOK)
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"] == note.key


async def test_a_kill_after_the_commit_still_sends_after_the_restart(sender_for, servers):
    sender = sender_for([{"topics": ["newcomer"], "channels": ["ops"]}])
    sender.harness.deliver("issues", issue_event("opened", 1, "alice", created=T0))
    sender.dispatcher._claim(50)  # claimed (leased), then the process is killed before sending
    restarted = sender.new_dispatcher()
    await restarted.dispatch_due()
    assert servers.received(WEBHOOK) == []  # leased by the dead process
    sender.harness.deliver("issues", issue_event("opened", 2, "bob", created=T0))
    await restarted.dispatch_due()
    assert len(servers.received(WEBHOOK)) == 1  # committed after the restart: sent at once
    sender.harness.clock.advance(sender.harness.settings.outbox.lease_seconds + 1)
    await restarted.dispatch_due()
    assert len(servers.received(WEBHOOK)) == 2  # the claimed one when its lease ran out
    assert {n.status for n in sender.notes()} == {"done"}


async def test_a_permanent_refusal_fails_the_row_and_is_announced_once(sender_for, servers, caplog):
    sender = sender_for([{"topics": ["newcomer"], "channels": ["robot"]},
                         {"topics": ["failure"], "channels": ["ops"]}])
    servers.dingtalk_secrets[DING_TOKEN] = "another secret: the signature will not match"
    sender.harness.deliver("issues", issue_event("opened", 1, "alice", created=T0))
    await sender.run(seconds=3)
    [refused] = sender.notes("robot")
    assert refused.status == "failed" and "310000" in (refused.last_error or "")
    assert DING_SECRET not in refused.last_error and DING_TOKEN not in refused.last_error
    [announcement] = servers.received(WEBHOOK)
    assert f"cobot outbox retry {refused.id}" in announcement.body["body"]
    assert announcement.body["topic"] == "failure"
    assert "310000" in caplog.text  # logged, without the robot's token or secret
    assert DING_SECRET not in caplog.text and DING_TOKEN not in caplog.text


async def test_a_failure_notice_that_fails_is_not_announced_again(sender_for, servers):
    sender = sender_for([{"topics": ["newcomer"], "channels": ["robot"]},
                         {"topics": ["failure"], "channels": ["ops", "robot"]}])
    servers.dingtalk_secrets[DING_TOKEN] = "wrong"
    sender.harness.deliver("issues", issue_event("opened", 1, "alice", created=T0))
    await sender.run(seconds=5)
    statuses = sorted((n.channel, n.payload["topic"], n.status) for n in sender.notes())
    assert statuses == [("ops", "failure", "done"), ("robot", "failure", "failed"), ("robot", "newcomer", "failed")]


async def test_a_url_to_an_internal_address_is_refused_at_send_time(sender_for, servers):
    sender = sender_for([{"topics": ["newcomer"], "channels": ["inside"]}],
                        inside={"kind": "webhook", "url": "http://localhost:9/hook"})
    sender.harness.deliver("issues", issue_event("opened", 1, "alice", created=T0))
    await sender.run(seconds=2)
    [note] = sender.notes("inside")
    assert note.status == "failed" and "localhost" in (note.last_error or "")


async def test_start_up_refuses_an_internal_url_naming_the_key(make_settings):
    settings = make_settings(notify={"channels": {"metadata": {"kind": "webhook",
                                                               "url": "http://169.254.169.254/latest/hook"}}})
    runner = web.AppRunner(create_app(settings))
    with pytest.raises(ConfigError) as refused:
        await runner.setup()
    await runner.cleanup()
    assert "notify.channels.metadata.url" in str(refused.value) and "metadata" in str(refused.value)


async def test_notify_test_and_the_outbox_commands(sender_for, servers, tmp_path: Path):
    sender = sender_for([{"topics": ["newcomer"], "channels": ["robot"]}])
    settings = sender.harness.settings
    config = tmp_path / "config.toml"
    channels = settings.notify.channels
    config.write_text(f'''
[database]
url = "{settings.database.url}"
[notify]
allow_hosts = ["127.0.0.1"]
[notify.channels.robot]
kind = "dingtalk"
url_env = "TEST_DING_URL"
secret_env = "TEST_DING_SECRET"
language = "zh"
''')
    env = {"TEST_DING_URL": channels["robot"].url, "TEST_DING_SECRET": DING_SECRET}

    def cobot(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, [*args], env={**env, "COBOT_CONFIG": str(config)})
        return result.exit_code, result.output

    servers.clock = time.time  # `cobot notify test` signs with the real time
    code, output = await asyncio.to_thread(cobot, "notify", "test", "robot")
    assert code == 0, output
    assert "robot (dingtalk)" in output
    [test_message] = servers.received(DINGTALK)
    assert "测试消息" in test_message.body["markdown"]["title"] + test_message.body["markdown"]["text"]

    servers.dingtalk_secrets[DING_TOKEN] = "rotated"
    code, output = await asyncio.to_thread(cobot, "notify", "test", "robot")
    assert code == 1 and "refused" in output and "310000" in output

    sender.harness.deliver("issues", issue_event("opened", 1, "alice", created=T0))
    servers.clock = lambda: sender.harness.clock().timestamp()
    await sender.run(seconds=2)
    [failed] = sender.notes()
    code, output = await asyncio.to_thread(cobot, "outbox", "--status", "failed", "--json")
    assert code == 0 and [row["id"] for row in json.loads(output)] == [failed.id]
    _, table = cobot("outbox")
    for text in (output, table):
        assert DING_SECRET not in text and DING_TOKEN not in text
    servers.dingtalk_secrets[DING_TOKEN] = DING_SECRET
    code, output = await asyncio.to_thread(cobot, "outbox", "retry", str(failed.id))
    assert code == 0 and "pending again" in output
    sender.harness.clock.now = datetime.now(UTC)  # the command schedules it at the real time
    await sender.run(seconds=2)
    assert sender.notes()[0].status == "done"
    code, output = await asyncio.to_thread(cobot, "notify", "test", "nowhere")
    assert code == 1 and "no channel 'nowhere'" in output and "robot" in output


async def test_a_host_that_does_not_resolve_now_only_warns_at_start_up(caplog):
    from bot.notifiers.registry import check_channel_urls
    from bot.settings.notify import NotifySettings

    notify = NotifySettings.model_validate({"channels": {"lark": {
        "kind": "feishu", "url": "https://open.feishu.invalid/open-apis/bot/v2/hook/k3y-never-shown"}}})
    await check_channel_urls(notify)  # no exception: DNS may come back; each connection is checked again
    assert "notify.channels.lark.url" in caplog.text and "does not resolve" in caplog.text
    assert "k3y-never-shown" not in caplog.text
