"""Commands against local servers that speak GitHub's and Gitee's APIs: permission lookups (and their cache),
and the actions commands decide, performed by the outbox dispatcher."""

from __future__ import annotations

import asyncio
import json

import pytest

from bot.outbox.dispatcher import Dispatcher, WriteRate
from bot.platforms.registry import forge_clients
from bot.store.tables import Delivery, OutboxAction
from tests.forge_server import GITEE, GITHUB, forge_server
from tests.helpers import Harness, shared_fixture
from tests.payloads import comment_event

GITHUB_TOKEN = "ghp_commands_token_0123456789"
GITEE_TOKEN = "gitee_commands_token_abcdef"
GITEE_REPO = "kit101/drone-yml-test"


@pytest.fixture
async def forge():
    async with forge_server() as (fake, _base):
        yield fake


@pytest.fixture
def forge_harness(make_settings, clock, forge):
    settings = make_settings(
        github={"token": GITHUB_TOKEN, "api_url": f"{forge.base_url}/github", "writes_per_second": 100},
        gitee={"token": GITEE_TOKEN, "api_url": f"{forge.base_url}/gitee/api/v5", "writes_per_second": 100},
        commands={"roles": [{"where": "github:acme/rocket", "triagers": ["github:tina-triage"]}],
                  "permission_cache_seconds": 600},
        inbox={"retry_base_seconds": 30, "retry_max_seconds": 60})
    harness = Harness(settings, clock)
    yield harness
    harness.close()


class Commenter:
    """Comments delivered through the pipeline in a worker thread (the fake forge answers on this loop)."""

    def __init__(self, harness) -> None:
        self.harness = harness
        self.minute = 0

    async def say(self, who: str, body: str, number: int = 1, **thread) -> list[OutboxAction]:
        before = {row.id for row in self.harness.rows(OutboxAction)}
        self.minute += 1
        payload = comment_event(number, "alice", who, at=f"2026-11-01T11:{self.minute:02d}:00Z", body=body, **thread)
        await asyncio.to_thread(self.harness.deliver, "issue_comment", payload)
        return [row for row in self.harness.rows(OutboxAction) if row.id not in before]


def permission_reads(forge, platform: str = GITHUB) -> list[str]:
    return [r.path for r in forge.reads(platform) if r.path.endswith("/permission")]


def kinds(rows) -> list[str]:
    return [row.kind for row in rows]


@pytest.mark.parametrize(("role_name", "label_allowed", "award_allowed"), [
    ("admin", True, True), ("maintain", True, True), ("write", True, True), ("triage", True, False),
    ("read", False, False)])
async def test_the_forges_permission_decides_when_config_says_nothing(forge, forge_harness, role_name,
                                                                      label_allowed, award_allowed):
    forge.permissions[(GITHUB, "acme/rocket", "wally")] = role_name
    talk = Commenter(forge_harness)
    label = await talk.say("wally", "/label bug")
    assert kinds(label) == (["label"] if label_allowed else ["comment"])
    [award] = await talk.say("wally", "/award docs-hero @alice", number=2)
    expected = "@alice has earned the **Docs hero** badge" if award_allowed else "only maintainers may use `/award`"
    assert expected in award.payload["body"]


async def test_an_answer_is_cached_for_the_configured_time(forge, forge_harness, clock):
    forge.permissions[(GITHUB, "acme/rocket", "wally")] = "write"
    talk = Commenter(forge_harness)
    await talk.say("wally", "/label bug")
    await talk.say("wally", "/label docs", number=2)
    assert permission_reads(forge) == ["/github/repos/acme/rocket/collaborators/wally/permission"]
    forge.permissions[(GITHUB, "acme/rocket", "wally")] = "read"  # the forge changes its mind...
    clock.advance(601)  # ...and cobot asks again once the cached answer is too old
    rows = await talk.say("wally", "/label urgent", number=3)
    assert len(permission_reads(forge)) == 2 and "only triagers and maintainers" in rows[0].payload["body"]


async def test_config_roles_and_commands_anyone_may_run_ask_the_forge_nothing(forge, forge_harness):
    talk = Commenter(forge_harness)
    assert kinds(await talk.say("tina-triage", "/label bug")) == ["label"]
    assert kinds(await talk.say("bob", "/claim", number=2)) == ["assign", "comment"]
    assert kinds(await talk.say("maintainer-max", "/close", number=3)) == ["close"]
    assert permission_reads(forge) == []


async def test_a_stranger_unknown_to_the_forge_is_a_contributor(forge, forge_harness):
    forge.unknown_users.add("ghost-user")
    rows = await Commenter(forge_harness).say("ghost-user", "/close", number=4)
    assert "only triagers and maintainers and the author" in rows[0].payload["body"]


async def test_a_forge_that_fails_leaves_the_delivery_for_a_retry(forge, forge_harness, clock):
    forge.fail_next(502, platform=GITHUB, method="GET", times=2)  # the batch, then the handler alone
    talk = Commenter(forge_harness)
    assert await talk.say("wally", "/label bug") == []
    [delivery] = forge_harness.rows(Delivery)
    assert delivery.status == "received" and "commands.run_commands" in delivery.error
    forge.permissions[(GITHUB, "acme/rocket", "wally")] = "write"
    clock.advance(61)
    await asyncio.to_thread(forge_harness.process)
    assert kinds(forge_harness.rows(OutboxAction)) == ["label"]
    assert forge_harness.rows(Delivery)[0].status == "processed"


async def test_without_forge_permissions_only_config_counts(make_settings, clock, forge):
    settings = make_settings(github={"token": GITHUB_TOKEN, "api_url": f"{forge.base_url}/github"},
                             commands={"forge_permissions": False})
    forge.permissions[(GITHUB, "acme/rocket", "wally")] = "admin"
    harness = Harness(settings, clock)
    try:
        rows = await Commenter(harness).say("wally", "/label bug")
        assert "only triagers and maintainers" in rows[0].payload["body"] and permission_reads(forge) == []
    finally:
        harness.close()


async def test_gitee_permission_makes_a_maintainer(forge, forge_harness):
    forge.permissions[(GITEE, GITEE_REPO, "gitee-admin")] = "admin"
    payload = json.loads(shared_fixture("gitee", "note-1.json").read_text())
    payload["comment"]["body"] = "/award bug-hunter @kit101"
    payload["comment"]["user"] = payload["sender"] = {"login": "gitee-admin", "id": 5}
    await asyncio.to_thread(forge_harness.deliver, "Note Hook", payload, None, "gitee")
    [reply] = forge_harness.rows(OutboxAction)  # no [notify] rule routes badges here: the reply only
    assert "@kit101 has earned the **Bug hunter** badge" in reply.payload["body"]
    assert permission_reads(forge, GITEE) == [f"/gitee/api/v5/repos/{GITEE_REPO}/collaborators/gitee-admin/permission"]


# -- the actions, performed -----------------------------------------------------------------------------------------


async def perform(harness, clock) -> None:
    """What the outbox holds, done on the fake forges by a dispatcher with real clients."""
    clients = forge_clients(harness.settings)
    dispatcher = Dispatcher(harness.db, harness.settings.outbox, clock, clients, WriteRate({GITHUB: 100, GITEE: 100}))
    try:
        await dispatcher.dispatch_due()
    finally:
        for client in clients.values():
            await client.close()


async def test_command_actions_are_performed_on_github(forge, forge_harness, clock):
    forge.seed_thread(GITHUB, "acme/rocket", "1", labels=["wontfix"])
    talk = Commenter(forge_harness)
    await talk.say("tina-triage", "/label bug\n/remove-label wontfix\n/assign @carol", labels=("wontfix",))
    await talk.say("alice", "/close")
    await perform(forge_harness, clock)
    assert [(row.kind, row.status) for row in forge_harness.rows(OutboxAction)] == [
        ("label", "done"), ("unlabel", "done"), ("assign", "done"), ("close", "done")]
    assert forge.label_names(GITHUB, "acme/rocket", "1") == ["bug"]
    assert forge.assignee_names(GITHUB, "acme/rocket", "1") == ["carol"]
    assert forge.state_of(GITHUB, "acme/rocket", "1") == "closed"


async def test_a_claim_on_gitee_assigns_and_replies(forge, forge_harness, clock):
    payload = json.loads(shared_fixture("gitee", "note-1.json").read_text())
    payload["comment"]["body"] = "/claim"
    payload["comment"]["user"] = payload["sender"] = {"login": "newbie", "id": 6}
    payload["issue"]["assignee"] = None
    payload["issue"]["state"] = "open"
    await asyncio.to_thread(forge_harness.deliver, "Note Hook", payload, None, "gitee")
    await perform(forge_harness, clock)
    number = payload["issue"]["number"]
    assert forge.assignee_names(GITEE, GITEE_REPO, number) == ["newbie"]
    [reply] = forge.comment_bodies(GITEE, GITEE_REPO, number)
    assert reply.startswith("@newbie: this issue is yours now") and "<!-- cobot:cmd:" in reply
