"""The outbox against local servers that speak GitHub's and Gitee's REST APIs (PyGithub pointed at one)."""

from __future__ import annotations

import json
import time

import pytest

from bot.app.factory import COBOT, create_app
from bot.outbox.dispatcher import Dispatcher, WriteRate
from bot.platforms.registry import forge_clients
from bot.store.tables import OutboxAction
from tests.forge_server import forge_server
from tests.helpers import body_of, count, eventually, github_headers, shared_fixture
from tests.payloads import issue_event

T0 = "2026-11-01T10:00:00Z"
GITHUB_TOKEN = "ghp_test_token_never_logged"
GITEE_TOKEN = "gitee_test_token_never_logged"


@pytest.fixture
async def forges():
    async with forge_server() as (fake, _base):
        yield fake


@pytest.fixture
def forge_settings(make_settings, forges):
    return make_settings(
        github={"token": GITHUB_TOKEN, "api_url": f"{forges.base_url}/github", "writes_per_second": 50},
        gitee={"token": GITEE_TOKEN, "api_url": f"{forges.base_url}/gitee/api/v5", "writes_per_second": 50},
        community={"repos": [{"platform": "gitee", "name": "kit101/drone-yml-test", "language": "zh"}]},
        outbox={"retry_base_seconds": 0.01, "retry_max_seconds": 0.05})


@pytest.fixture
async def outbox(forge_settings, clock):
    """The harness's store with a dispatcher whose clients talk to the fake forges."""
    from tests.helpers import Harness

    harness = Harness(forge_settings, clock)
    clients = forge_clients(forge_settings)
    harness.dispatcher = Dispatcher(harness.db, forge_settings.outbox, clock, clients, WriteRate({
        "github": 50, "gitee": 50}))
    yield harness
    for client in clients.values():
        await client.close()
    harness.close()


async def drain(harness, rounds: int = 10) -> None:
    for _ in range(rounds):
        await harness.dispatcher.dispatch_due()
        harness.clock.advance(120)


def statuses(harness) -> list[tuple[str, str]]:
    return [(a.kind, a.status) for a in harness.rows(OutboxAction)]


async def test_github_welcome_is_commented_and_labelled_with_pygithub(outbox, forges):
    outbox.deliver("issues", issue_event("opened", 7, "alice", created=T0))
    await drain(outbox)
    assert statuses(outbox) == [("comment", "done"), ("label", "done")]
    [comment] = forges.comments[forges.key("github", "acme/rocket", "7")]
    assert "@alice" in comment["body"] and "<!-- cobot:welcome:" in comment["body"]
    assert forges.label_names("github", "acme/rocket", "7") == ["first-time-contributor"]
    assert {r.token for r in forges.writes()} == {GITHUB_TOKEN}
    assert outbox.rows(OutboxAction)[0].result == comment["html_url"]


async def test_gitee_welcome_is_commented_in_chinese_and_labelled(outbox, forges):
    payload = json.loads(shared_fixture("gitee", "merge_request-1.json").read_text())  # kit101's PR #9
    outbox.deliver("Merge Request Hook", payload, platform="gitee")
    await drain(outbox)
    assert statuses(outbox) == [("comment", "done"), ("label", "done")]
    [comment] = forges.comments[forges.key("gitee", "kit101/drone-yml-test", "9", is_pr=True)]
    assert "欢迎" in comment["body"]
    assert forges.label_names("gitee", "kit101/drone-yml-test", "9", is_pr=True) == ["first-time-contributor"]
    assert {r.token for r in forges.writes()} == {GITEE_TOKEN}


async def test_a_lost_answer_does_not_post_the_comment_twice(outbox, forges):
    forges.lose_next_answer()
    outbox.deliver("issues", issue_event("opened", 8, "bob", created=T0))
    await drain(outbox)
    assert len(forges.comments[forges.key("github", "acme/rocket", "8")]) == 1
    comment_action = outbox.rows(OutboxAction)[0]
    assert (comment_action.status, comment_action.attempts) == ("done", 2)
    comment_posts = [r for r in forges.writes() if r.path.endswith("/comments")]
    assert len(comment_posts) == 1  # the retry found the marker instead of posting again


async def test_the_same_for_gitee(outbox, forges):
    forges.lose_next_answer()
    payload = json.loads(shared_fixture("gitee", "issue-1.json").read_text())
    outbox.deliver("Issue Hook", payload, platform="gitee")
    await drain(outbox)
    assert len(forges.comments[forges.key("gitee", "kit101/drone-yml-test", "I4CYEO")]) == 1


async def test_retry_after_is_honoured(outbox, forges):
    forges.fail_next(429, {"Retry-After": "30"}, "slow down")
    outbox.deliver("issues", issue_event("opened", 9, "carol", created=T0))
    await outbox.dispatcher.dispatch_due()
    comment = outbox.rows(OutboxAction)[0]
    assert comment.status == "pending" and "retry after 30s" in comment.last_error
    assert (comment.next_attempt_at - outbox.clock()).total_seconds() == pytest.approx(30, abs=1)
    outbox.clock.advance(29)
    await outbox.dispatcher.dispatch_due()
    assert outbox.rows(OutboxAction)[0].attempts == 1  # not due yet
    outbox.clock.advance(2)
    await drain(outbox)
    assert outbox.rows(OutboxAction)[0].status == "done"


async def test_a_refusal_fails_at_once_and_a_5xx_is_retried_then_failed(make_settings, forges, clock):
    from tests.helpers import Harness

    settings = make_settings(github={"token": GITHUB_TOKEN, "api_url": f"{forges.base_url}/github"},
                             outbox={"max_attempts": 3, "retry_base_seconds": 0.01})
    harness = Harness(settings, clock)
    clients = forge_clients(settings)
    dispatcher = Dispatcher(harness.db, settings.outbox, clock, clients, WriteRate({"github": 100}))
    forges.fail_next(404, message="Not Found")
    forges.fail_next(500, times=3)
    harness.deliver("issues", issue_event("opened", 10, "dave", created=T0))
    for _ in range(5):
        await dispatcher.dispatch_due()
        clock.advance(60)
    comment, label = harness.rows(OutboxAction)
    assert (comment.status, comment.attempts, comment.last_error) == ("failed", 1, "GitHub 404: Not Found")
    assert (label.status, label.attempts) == ("failed", 3)
    await clients["github"].close()
    harness.close()


async def test_writes_are_spaced_per_installation():
    moments: list[float] = []
    rate = WriteRate({"github": 20.0})
    for _ in range(5):
        await rate.wait("github")
        moments.append(time.monotonic())
    gaps = [b - a for a, b in zip(moments, moments[1:], strict=False)]
    assert min(gaps) >= 0.049  # at most 20 writes a second: one every 50 ms


async def test_the_running_server_performs_its_actions(aiohttp_client, forge_settings, forges):
    client = await aiohttp_client(create_app(forge_settings))
    body = body_of(issue_event("opened", 11, "erin", created=T0))
    response = await client.post("/webhooks/github", data=body, headers=github_headers("issues", body))
    assert response.status == 202
    db = client.app[COBOT].db
    await eventually(lambda: count(db, OutboxAction, OutboxAction.status == "done") == 2, message="2 actions done")
    assert len(forges.comments[forges.key("github", "acme/rocket", "11")]) == 1
