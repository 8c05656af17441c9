"""Routing notifications by the [[notify.rules]] of config.toml, the channels' rate limits, and config errors."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, settings_from_mapping
from bot.notifiers.limits import ChannelLimits
from bot.notifiers.routing import Route, routes
from bot.settings.notify import DEFAULT_RATE_LIMITS, NotifySettings
from bot.store.tables import OutboxAction
from tests.payloads import issue_event

T0 = "2026-11-01T10:00:00Z"
HOOK = "https://hooks.example.org/cobot"

CHANNELS = {
    "team": {"kind": "webhook", "url": HOOK},
    "ops": {"kind": "dingtalk", "url": "https://oapi.dingtalk.com/robot/send?access_token=t0k3n", "language": "zh"},
    "docs": {"kind": "wecom", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k3y"},
}


def notify(*rules: dict) -> NotifySettings:
    return NotifySettings.model_validate({"channels": CHANNELS, "rules": list(rules)})


@pytest.mark.parametrize(("rules", "what", "expected"), [
    pytest.param([{"topics": ["newcomer"], "channels": ["team"]}], {"topic": "newcomer"}, [("team", "en")],
                 id="by topic"),
    pytest.param([{"topics": ["newcomer"], "channels": ["team"]}], {"topic": "failure"}, [], id="other topic"),
    pytest.param([{"channels": ["team", "ops"]}], {"topic": "digest"}, [("team", "en"), ("ops", "zh")],
                 id="no filter: everything, channel language"),
    pytest.param([{"events": ["pr.merged"], "channels": ["team"]}],
                 {"topic": "event", "event_kind": "pr.merged"}, [("team", "en")], id="by event kind"),
    pytest.param([{"events": ["pr.merged"], "channels": ["team"]}],
                 {"topic": "newcomer", "event_kind": "pr.merged"}, [],
                 id="events without topics means topic event only"),
    pytest.param([{"events": ["pr.merged"], "channels": ["team"]}],
                 {"topic": "event", "event_kind": "issue.opened"}, [], id="other event kind"),
    pytest.param([{"repos": ["acme/rocket"], "channels": ["docs"]}],
                 {"topic": "newcomer", "platform": "github", "repo": "ACME/Rocket"}, [("docs", "en")],
                 id="repo on any platform, any case"),
    pytest.param([{"repos": ["gitee:acme/rocket"], "channels": ["docs"]}],
                 {"topic": "newcomer", "platform": "github", "repo": "acme/rocket"}, [], id="repo on one platform"),
    pytest.param([{"labels": ["security"], "channels": ["ops"]}],
                 {"topic": "event", "labels": ["bug", "Security"]}, [("ops", "zh")], id="any one label"),
    pytest.param([{"labels": ["security"], "channels": ["ops"]}], {"topic": "event", "labels": ["bug"]}, [],
                 id="no such label"),
    pytest.param([{"topics": ["badge"], "channels": ["team"], "language": "zh"},
                  {"channels": ["team", "docs"], "language": "en"}], {"topic": "badge"},
                 [("team", "zh"), ("docs", "en")], id="each channel once, first rule's language"),
])
def test_rules_route_each_notification_to_its_channels(rules, what, expected):
    found = routes(notify(*rules), "en", **what)
    assert found == [Route(channel, language) for channel, language in expected]


def test_the_community_language_is_the_last_resort():
    assert routes(notify({"channels": ["team"]}), "zh", "digest") == [Route("team", "zh")]


@pytest.mark.parametrize(("notify_section", "key"), [
    ({"channels": CHANNELS, "rules": [{"channels": ["slak"]}]}, "rules[0].channels: unknown channel 'slak'"),
    ({"channels": CHANNELS, "rules": [{"events": ["pr.exploded"], "channels": ["team"]}]}, "notify.rules.0.events"),
    ({"channels": CHANNELS, "rules": [{"topics": ["gossip"], "channels": ["team"]}]}, "notify.rules.0.topics.0"),
    ({"channels": {"x": {"kind": "wecom", "url": "ftp://example.org/hook"}}}, "notify.channels.x.wecom.url"),
    ({"channels": {"x": {"kind": "pigeon", "url": HOOK}}}, "notify.channels.x"),
    ({"channels": {"x": {"kind": "dingtalk", "url_env": "NOT_SET_ANYWHERE"}}},
     "channels.x.url_env: environment variable 'NOT_SET_ANYWHERE' is not set"),
    ({"channels": {"x": {"kind": "email", "host": "smtp.example.org", "sender": "a@b", "recipients": []}}},
     "notify.channels.x.email.recipients"),
    ({"channels": {"x": {"kind": "webhook", "url": HOOK, "rate_limits": [[0, 60]]}}},
     "notify.channels.x.webhook.rate_limits"),
    ({"per_person_per_hour": -1}, "notify.per_person_per_hour"),
    ({"per_person_per_hour": "ten"}, "notify.per_person_per_hour"),
])
def test_a_bad_notify_section_stops_start_up_naming_the_key(notify_section, key):
    with pytest.raises(ConfigError) as error:
        settings_from_mapping({"notify": notify_section}, "config.toml", env={})
    assert key in str(error.value)


def test_secrets_come_from_the_environment_and_are_not_shown():
    settings = settings_from_mapping(
        {"notify": {"channels": {"ops": {"kind": "dingtalk", "url_env": "DING_URL", "secret_env": "DING_SECRET"}}}},
        "config.toml", env={"DING_URL": "https://oapi.dingtalk.com/robot/send?access_token=abc", "DING_SECRET": "s3"})
    channel = settings.notify.channels["ops"]
    assert channel.url.endswith("access_token=abc") and channel.secret == "s3"
    assert "abc" not in repr(settings) and "s3" not in repr(settings)
    assert set(channel.secrets()) == {"https://oapi.dingtalk.com/robot/send?access_token=abc", "s3"}


def test_rate_limits_hold_over_a_burst_and_nothing_is_dropped():
    """100 messages to one DingTalk robot: at most 20 in any 60 s, every one sent in the end."""
    limits = ChannelLimits({"ops": DEFAULT_RATE_LIMITS["dingtalk"]})
    now, waiting, sent = 0.0, list(range(100)), []
    while waiting:
        wait = limits.reserve("ops", now)
        if wait == 0:
            sent.append((now, waiting.pop(0)))
        else:
            now += wait
    assert [message for _, message in sent] == list(range(100))
    moments = [moment for moment, _ in sent]
    assert max(sum(1 for m in moments if start <= m < start + 60) for start in moments) == 20
    assert moments[-1] == pytest.approx(4 * 60)  # five windows of twenty, none wasted


def test_two_windows_both_hold():
    limits = ChannelLimits({"lark": DEFAULT_RATE_LIMITS["feishu"]})  # 5/s and 100/min
    now, moments = 0.0, []
    while len(moments) < 150:
        wait = limits.reserve("lark", now)
        if wait == 0:
            moments.append(now)
        else:
            now += wait
    assert max(sum(1 for m in moments if start <= m < start + 1) for start in moments) == 5
    assert max(sum(1 for m in moments if start <= m < start + 60) for start in moments) == 100


def test_a_newcomer_is_announced_once_per_routed_channel_in_its_language(make_harness):
    harness = make_harness(notify={"channels": CHANNELS,
                                   "rules": [{"topics": ["newcomer"], "channels": ["team", "ops"]}]})
    event = issue_event("opened", 7, "alice", created=T0)
    harness.deliver("issues", event)
    harness.deliver("issues", event, key="redelivered-with-another-id")
    notes = harness.rows(OutboxAction, OutboxAction.kind == "notify")
    assert [(n.channel, n.payload["language"]) for n in notes] == [("team", "en"), ("ops", "zh")]
    team, ops = notes
    assert team.key.endswith("@team") and ops.key.endswith("@ops")
    assert "@alice" in team.payload["body"] and "first issue" in team.payload["body"]
    assert "@alice" in ops.payload["body"] and "第一个" in ops.payload["body"]
    assert team.payload["link"] == event["issue"]["html_url"]


def test_without_rules_nothing_is_announced(harness):
    harness.deliver("issues", issue_event("opened", 8, "bob", created=T0))
    assert harness.rows(OutboxAction, OutboxAction.kind == "notify") == []
    assert [a.kind for a in harness.rows(OutboxAction)] == ["comment", "label"]


def test_events_named_by_a_rule_are_announced(make_harness):
    harness = make_harness(notify={"channels": CHANNELS, "rules": [
        {"events": ["issue.closed"], "repos": ["acme/rocket"], "channels": ["docs"]}]})
    harness.deliver("issues", issue_event("opened", 9, "carol", created=T0))
    harness.deliver("issues", issue_event("closed", 9, "carol", created=T0, state="closed", closed=T0))
    [note] = harness.rows(OutboxAction, OutboxAction.kind == "notify")
    assert note.channel == "docs" and note.payload["topic"] == "event"
    assert note.payload["title"] == "acme/rocket: issue closed #9"
    assert "closed issue [#9" in note.payload["body"]


def test_a_delivery_that_fails_for_good_is_announced_to_the_failure_channels(make_harness):
    harness = make_harness(notify={"channels": CHANNELS, "rules": [{"topics": ["failure"], "channels": ["ops"]}]})
    harness.deliver("issues", {"action": "opened", "repository": {"full_name": "acme/rocket"}}, key="broken-1")
    [note] = harness.rows(OutboxAction, OutboxAction.kind == "notify")
    assert note.channel == "ops" and note.payload["topic"] == "failure" and note.payload["language"] == "zh"
    assert "cobot deliveries replay" in note.payload["body"] and "github issues/opened" in note.payload["body"]
    harness.pipeline.replay(note.delivery_id)  # failing again is the same failure: not announced twice
    assert len(harness.rows(OutboxAction, OutboxAction.kind == "notify")) == 1


def test_a_push_to_a_long_branch_name_is_announced_under_a_key_that_fits(make_harness):
    """A branch name may be 250 characters: its notification's key (which names the ref) is cut to the outbox's
    column with a digest of all of it, so the row is stored on PostgreSQL too and the same push is still one."""
    from bot.outbox.storing import KEY_LENGTH

    harness = make_harness(notify={"channels": CHANNELS, "rules": [{"events": ["push"], "channels": ["docs"]}]})
    ref = "refs/heads/" + "feature-" * 30
    push = {"ref": ref, "before": "0" * 40, "after": "a" * 40, "commits": [{"id": "a" * 40}], "created": False,
            "deleted": False, "head_commit": {"timestamp": T0}, "repository": {"full_name": "acme/rocket"},
            "sender": {"login": "carol", "id": 3, "type": "User"}}
    first = harness.deliver("push", push, key="push-1")
    harness.deliver("push", push, key="push-2")  # the same push again, under another delivery id
    [note] = harness.rows(OutboxAction, OutboxAction.kind == "notify")
    assert len(note.key) == KEY_LENGTH and note.delivery_id == first
