"""The same event under several delivery ids counts once and acts once (issue 15, item 7: one issue sent with 9
`X-GitHub-Delivery` ids was counted as `issues_opened: 9` and ranked its author first)."""

from __future__ import annotations

import copy
import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.app.factory import COBOT, create_app
from bot.cli.main import main
from bot.store.community_tables import Activity
from bot.store.tables import Delivery, OutboxAction
from tests.helpers import body_of, count, gitee_headers, github_headers, shared_fixture
from tests.payloads import comment_event, issue_event

OPENED = issue_event("opened", 1, "alice", created="2026-11-01T10:00:00Z")


@pytest.fixture
async def client(aiohttp_client, settings, clock):
    return await aiohttp_client(create_app(settings, clock, run_workers=False))


def process(client) -> None:
    client.app[COBOT].pipeline.process_due(limit=1000, budget_seconds=60)


def deliveries(client) -> list[Delivery]:
    with client.app[COBOT].db.inbox.session() as session:
        return list(session.execute(select(Delivery).order_by(Delivery.id)).scalars())


def stats(settings, who: str) -> dict:
    result = CliRunner().invoke(main, ["stats", who, "--json"], env={"COBOT_DATABASE_URL": settings.database.url,
                                                                      "COBOT_CONFIG": ""})
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


async def post_github(client, event: str, payload: dict, delivery: str) -> int:
    body = body_of(payload)
    response = await client.post("/webhooks/github", data=body, headers=github_headers(event, body, delivery))
    return response.status


async def test_one_issue_under_nine_delivery_ids_is_counted_once_and_welcomed_once(client, settings):
    for number in range(9):
        assert await post_github(client, "issues", OPENED, f"hook-{number}") == 202
    process(client)

    db = client.app[COBOT].db
    assert count(db, Activity, Activity.kind == "issue.opened") == 1
    assert stats(settings, "github:alice")["issues_opened"] == 1
    with db.session() as session:
        welcome = [row for row in session.execute(select(OutboxAction)).scalars() if row.kind == "comment"]
    assert len(welcome) == 1
    first, *copies = deliveries(client)
    assert first.status == "processed"
    assert {(row.status, row.error) for row in copies} == {("ignored", f"the same events as delivery {first.id}")}


async def test_an_org_hook_an_app_and_a_repo_hook_carry_one_comment(client, settings):
    """The three copies differ in what each hook adds (the installation, the organisation), not in the event."""
    comment = comment_event(1, "alice", "bob", at="2026-11-01T10:05:00Z", body="Looks good to me")
    as_app = {**copy.deepcopy(comment), "installation": {"id": 42}}
    as_org = {**copy.deepcopy(comment), "organization": {"login": "acme", "id": 7}}
    for delivery, payload in (("repo-hook", comment), ("app", as_app), ("org-hook", as_org)):
        assert await post_github(client, "issue_comment", payload, delivery) == 202
    process(client)

    assert count(client.app[COBOT].db, Activity, Activity.kind == "comment.created") == 1
    assert stats(settings, "github:bob")["comments"] == 1


async def test_distinct_events_on_one_thread_all_count(client):
    """Two labels added in the same second, by the same person: two events, told apart by what they changed."""
    for delivery, label in (("l-1", "bug"), ("l-2", "docs")):
        labeled = issue_event("labeled", 1, "alice", created="2026-11-01T10:00:00Z", updated="2026-11-01T10:09:00Z")
        labeled["label"] = {"name": label}
        assert await post_github(client, "issues", labeled, delivery) == 202
    process(client)
    assert count(client.app[COBOT].db, Activity, Activity.kind == "issue.labeled") == 2
    assert {row.status for row in deliveries(client)} == {"processed"}


async def test_gitee_org_and_repo_hooks_count_an_issue_once(client, settings, clock):
    """Gitee sends no delivery id, and each hook's body names the hook: two hooks, two deliveries, one issue."""
    payload = json.loads(shared_fixture("gitee", "issue-1.json").read_text())
    for hook_id in (101, 202):
        body = body_of({**payload, "hook_id": hook_id, "hook_url": f"https://gitee.com/acme/hooks/{hook_id}/edit"})
        response = await client.post("/webhooks/gitee", data=body, headers=gitee_headers("Issue Hook", clock()))
        assert response.status == 202
        clock.advance(1)
    process(client)
    first, second = deliveries(client)
    assert (first.status, second.status) == ("processed", "ignored")
    assert count(client.app[COBOT].db, Activity, Activity.platform == "gitee") == 1


async def test_replaying_a_delivery_still_runs_its_own_events(client):
    assert await post_github(client, "issues", OPENED, "only-one") == 202
    process(client)
    [delivery] = deliveries(client)
    replayed = client.app[COBOT].pipeline.replay(delivery.id)
    assert replayed.status == "processed"
    assert count(client.app[COBOT].db, Activity, Activity.kind == "issue.opened") == 1


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_replicas_holding_copies_of_each_others_events_each_count_them_once(settings, clock, caplog):
    """Replica A's batch holds X then Y; replica B's holds the copies Y' then X'. A takes X and B takes Y', then each
    asks for the other's: PostgreSQL ends one of them (a deadlock). Both batches still finish, each event counted
    once (the ended batch is run again, isolated, once the other's claims are committed)."""
    import logging
    import threading

    from bot.pipeline.dispatch import ROUTERS
    from bot.pipeline.processor import Pipeline
    from bot.platforms.registry import webhook_platforms
    from bot.routing.router import Router
    from tests.helpers import Harness

    a_holds_x, both_hold_one = threading.Event(), threading.Barrier(2, timeout=30)
    met: set[int] = set()
    meeting = Router("meeting")

    @meeting.on("issue.opened")
    def meet(event, ctx) -> None:  # each replica's first event waits for the other's: their claims then cross
        if ctx.delivery_id in (1, 3) and ctx.delivery_id not in met:
            met.add(ctx.delivery_id)
            a_holds_x.set()
            both_hold_one.wait()

    harness = Harness(settings, clock)
    x = issue_event("opened", 1, "alice", created="2026-11-01T10:00:00Z")
    y = issue_event("opened", 2, "bob", created="2026-11-01T10:01:00Z")
    for key, payload in (("a-x", x), ("a-y", y), ("b-y", y), ("b-x", x)):
        harness.store("issues", payload, key)
    replicas = [Pipeline(harness.db, settings, clock, webhook_platforms(settings), (*ROUTERS, meeting), {})
                for _ in range(2)]
    errors: list[Exception] = []

    def run(pipeline: Pipeline) -> None:
        try:
            pipeline.process_due(limit=2, budget_seconds=60)
        except Exception as error:  # what a replica's worker would log, and try again later
            errors.append(error)

    caplog.set_level(logging.INFO, logger="cobot.inbox")
    threads = [threading.Thread(target=run, args=(replica,)) for replica in replicas]
    threads[0].start()
    assert a_holds_x.wait(30)  # A holds deliveries 1 and 2 (FOR UPDATE), so B's batch is 3 and 4
    threads[1].start()
    for thread in threads:
        thread.join(60)
    harness.close()

    assert errors == []
    assert "running them again one by one" in caplog.text  # the claims crossed: one batch was ended, and run again
    with harness.db.inbox.session() as session:
        statuses = sorted(row.status for row in session.execute(select(Delivery)).scalars())
    assert statuses == ["ignored", "ignored", "processed", "processed"]
    assert count(harness.db, Activity, Activity.kind == "issue.opened") == 2
