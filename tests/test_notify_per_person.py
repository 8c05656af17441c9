"""The per-person bound on event notifications (`notify.per_person_per_hour`), through the pipeline: signed
deliveries stored as the endpoint stores them, processed by the real handlers, the outbox rows read back."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from bot.store.tables import NotifyUse, OutboxAction
from tests.payloads import comment_event, issue_event
from tests.web_world import gitee_issue

T0 = "2026-11-02T08:30:00Z"
PUBLIC_URL = "https://cobot.example.org"
CHANNELS = {  # four of the attacker's seven: two in Chinese, two in English
    "team": {"kind": "webhook", "url": "https://hooks.example.org/cobot"},
    "ops": {"kind": "dingtalk", "url": "https://oapi.dingtalk.com/robot/send?access_token=t0k3n", "language": "zh"},
    "docs": {"kind": "wecom", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k3y"},
    "lark": {"kind": "feishu", "url": "https://open.feishu.cn/open-apis/bot/v2/hook/k3y", "language": "zh"},
}
OPENED_EVERYWHERE = {"events": ["issue.opened"], "channels": list(CHANNELS)}


def harness_with(make_harness, *rules: dict, **notify: object):
    return make_harness(notify={"channels": CHANNELS, "rules": list(rules) or [OPENED_EVERYWHERE], **notify},
                        server={"public_url": PUBLIC_URL})


def open_issues(harness, login: str, numbers: range) -> list[int]:
    """`login` opens each issue (stored first, then processed together, as a burst is)."""
    ids = [harness.store("issues", issue_event("opened", number, login, created=T0), key=f"{login}-{number}")
           for number in numbers]
    harness.process()
    return [delivery_id for delivery_id in ids if delivery_id is not None]


def notes(harness) -> list[OutboxAction]:
    return harness.rows(OutboxAction, OutboxAction.kind == "notify")


def held_notices(harness) -> list[OutboxAction]:
    return [note for note in notes(harness) if note.key.startswith("event-held:")]


def event_notices(harness) -> list[OutboxAction]:
    return [note for note in notes(harness) if note.key.startswith("event:")]


def test_a_hundred_issues_from_one_account_notify_the_bound_per_channel_and_one_notice(make_harness):
    harness = harness_with(make_harness)
    open_issues(harness, "mallory", range(1, 101))
    announced = Counter(note.channel for note in event_notices(harness))
    assert announced == {name: 10 for name in CHANNELS}  # not 100 × 4 = 400 rows
    notices = held_notices(harness)
    assert sorted(note.channel for note in notices) == sorted(CHANNELS)
    by_channel = {note.channel: note for note in notices}
    english, chinese = by_channel["team"].payload, by_channel["ops"].payload
    assert english["title"] == "Holding back notifications about @mallory"
    assert "10 of their events were announced in the last hour" in english["body"]
    assert "暂停推送 @mallory 的动态通知" in chinese["body"] and "10 条动态" in chinese["body"]
    profile = f"{PUBLIC_URL}/contributors/github:mallory"
    assert f"]({profile})" in english["body"] and english["link"] == profile and f"]({profile})" in chinese["body"]
    numbers = sorted(int(note.number) for note in event_notices(harness))
    assert numbers == sorted(list(range(1, 11)) * 4)  # the first ten, in the order they came
    assert len(harness.rows(NotifyUse, order=NotifyUse.decided_at)) == 100  # one decision per event, none per channel


def test_another_persons_event_in_the_same_hour_is_still_announced(make_harness):
    harness = harness_with(make_harness)
    open_issues(harness, "mallory", range(1, 31))
    open_issues(harness, "bob", range(31, 32))
    bob = [note for note in event_notices(harness) if note.number == "31"]
    assert sorted(note.channel for note in bob) == sorted(CHANNELS)
    assert "@bob" in bob[0].payload["body"]


def test_after_the_hour_the_person_is_announced_again(make_harness, clock):
    harness = harness_with(make_harness)
    open_issues(harness, "mallory", range(1, 21))
    clock.advance(30 * 60)
    open_issues(harness, "mallory", range(21, 26))  # still inside the hour: held, and no second notice
    assert Counter(note.channel for note in event_notices(harness))["team"] == 10
    assert len(held_notices(harness)) == len(CHANNELS)
    clock.advance(30 * 60 + 1)  # an hour after the first ten
    open_issues(harness, "mallory", range(26, 46))
    team = [int(note.number) for note in event_notices(harness) if note.channel == "team"]
    assert team == [*range(1, 11), *range(26, 36)]
    assert len(held_notices(harness)) == 2 * len(CHANNELS)  # one notice in each hour


def test_a_replay_or_a_redelivery_decides_as_the_first_time(make_harness, clock):
    harness = harness_with(make_harness)
    ids = open_issues(harness, "mallory", range(1, 16))
    before = sorted((note.key, note.channel) for note in notes(harness))
    decided = sorted((row.key, row.outcome) for row in harness.rows(NotifyUse, order=NotifyUse.decided_at))
    announced, carrying_notice, held = ids[0], ids[10], ids[14]
    for delivery_id in (announced, carrying_notice, held):
        harness.pipeline.replay(delivery_id)
    clock.advance(2 * 3600)  # the hour is over: a replay still decides as then, not as now
    for delivery_id in (announced, carrying_notice, held):
        harness.pipeline.replay(delivery_id)
    harness.deliver("issues", issue_event("opened", 15, "mallory", created=T0), key="the-same-under-another-id")
    assert sorted((note.key, note.channel) for note in notes(harness)) == before
    assert sorted((row.key, row.outcome) for row in harness.rows(NotifyUse, order=NotifyUse.decided_at)) == decided
    assert Counter(outcome for _, outcome in decided) == {"announced": 10, "notice": 1, "held": 4}


def test_maintainers_are_not_limited(make_harness):
    harness = harness_with(make_harness)
    open_issues(harness, "maintainer-max", range(1, 16))
    assert Counter(note.channel for note in event_notices(harness)) == {name: 15 for name in CHANNELS}
    assert held_notices(harness) == [] and harness.rows(NotifyUse, order=NotifyUse.decided_at) == []


def test_zero_means_no_limit(make_harness):
    harness = harness_with(make_harness, per_person_per_hour=0)
    open_issues(harness, "mallory", range(1, 16))
    assert Counter(note.channel for note in event_notices(harness)) == {name: 15 for name in CHANNELS}
    assert held_notices(harness) == [] and harness.rows(NotifyUse, order=NotifyUse.decided_at) == []


def test_a_limited_person_is_still_greeted_as_a_newcomer(make_harness):
    """The newcomer notice is its own topic, one per person anyway: the event bound does not hide it."""
    harness = harness_with(make_harness, {"topics": ["newcomer"], "channels": ["team"]},
                           {"events": ["comment.created", "issue.opened"], "channels": ["team"]},
                           per_person_per_hour=3)
    harness.deliver("issues", issue_event("opened", 1, "alice", created=T0))
    for minute in range(5):
        harness.deliver("issue_comment", comment_event(1, "alice", "mallory", at=f"2026-11-02T08:4{minute}:00Z",
                                                       comment_id=500 + minute, created=T0))
    harness.deliver("issues", issue_event("opened", 2, "mallory", created="2026-11-02T08:50:00Z"))
    titles = [note.payload["title"] for note in notes(harness)]
    assert titles.count("New contributor in acme/rocket") == 2  # alice's and mallory's
    greeted = [note for note in notes(harness) if note.payload["topic"] == "newcomer" and note.number == "2"]
    assert len(greeted) == 1 and "@mallory" in greeted[0].payload["body"]
    mallory = [note for note in event_notices(harness) if "@mallory" in note.payload["body"]]
    assert len(mallory) == 3 and not any(note.number == "2" for note in mallory)  # her issue's event: held
    assert len(held_notices(harness)) == 1


def test_linked_accounts_share_one_bound_across_forges(make_harness, clock):
    identity = {"name": "zhangwei", "github": "zw-dev", "gitee": "zhang_wei"}
    harness = make_harness(notify={"channels": CHANNELS, "per_person_per_hour": 2,
                                   "rules": [{"events": ["issue.opened"], "channels": ["team"]}]},
                           community={"identities": [identity]}, server={"public_url": PUBLIC_URL})
    open_issues(harness, "zw-dev", range(1, 3))
    at = datetime(2026, 11, 2, 8, 45, tzinfo=UTC)
    harness.deliver("Issue Hook", gitee_issue("I7", "zhang_wei", "Zhang Wei", at), platform="gitee")
    assert len(event_notices(harness)) == 2
    [notice] = held_notices(harness)
    assert "@zhang_wei" in notice.payload["body"]  # the account that went past the bound, named as it is
    assert notice.payload["link"] == f"{PUBLIC_URL}/contributors/person:zhangwei"


def test_without_a_public_url_the_notice_has_no_link(make_harness):
    harness = make_harness(notify={"channels": CHANNELS, "per_person_per_hour": 1,
                                   "rules": [{"events": ["issue.opened"], "channels": ["team"]}]})
    open_issues(harness, "mallory", range(1, 3))
    [notice] = held_notices(harness)
    assert notice.payload["link"] is None and "dashboard" not in notice.payload["body"]


def test_bots_are_never_announced_so_never_counted(make_harness):
    harness = make_harness(notify={"channels": CHANNELS, "rules": [OPENED_EVERYWHERE]},
                           community={"bots": ["release-robot"]})
    open_issues(harness, "release-robot", range(1, 13))  # named a bot in community.bots
    open_issues(harness, "renovate[bot]", range(13, 25))  # a GitHub App
    assert notes(harness) == [] and harness.rows(NotifyUse, order=NotifyUse.decided_at) == []
