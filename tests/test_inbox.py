"""The durable inbox: isolation of handlers, retries with backoff, crash recovery, replay."""

from __future__ import annotations

from bot.app.factory import COBOT, create_app
from bot.pipeline.dispatch import ROUTERS
from bot.pipeline.processor import Pipeline
from bot.routing.router import Router
from bot.store.community_tables import Activity, Thread
from bot.store.tables import Delivery, HandlerRun, OutboxAction
from tests.chat_servers import WEBHOOK, chat_servers, start_chat_servers
from tests.helpers import body_of, count, eventually, github_headers
from tests.payloads import issue_event

T0 = "2026-11-01T10:00:00Z"


class Flaky:
    """A handler that fails a given number of times, then works."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0
        self.router = Router("flaky")
        self.router.on("issue.opened")(self.explode)

    def explode(self, event, ctx):
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError(f"boom {self.calls}")


def pipeline_with(harness, flaky: Flaky) -> Pipeline:
    return Pipeline(harness.db, harness.settings, harness.clock, harness.platforms, ROUTERS + (flaky.router,))


def test_a_failing_handler_does_not_stop_the_others_and_is_retried_alone(harness):
    flaky = Flaky(failures=2)  # it fails with the others, then alone (isolated), then works on the retry
    pipeline = pipeline_with(harness, flaky)
    harness.store("issues", issue_event("opened", 1, "alice", created=T0))

    pipeline.process_due()
    [delivery] = harness.rows(Delivery)
    assert (delivery.status, delivery.attempts) == ("received", 1)
    assert "flaky.explode: RuntimeError: boom 2" in delivery.error
    assert len(harness.rows(Thread)) == 1 and len(harness.rows(OutboxAction)) == 2  # the others ran

    assert pipeline.process_due().processed == 0  # not due yet: backoff
    harness.clock.advance(1)
    pipeline.process_due()
    [delivery] = harness.rows(Delivery)
    assert (delivery.status, delivery.error) == ("processed", None)
    assert flaky.calls == 3
    assert sorted(r.handler for r in harness.rows(HandlerRun)) == [
        "0:badges.award_earned", "0:notify.announce", "0:tracking.record", "0:welcome.welcome_first"]
    assert len(harness.rows(Activity)) == 1 and len(harness.rows(OutboxAction)) == 2


def test_a_handler_that_keeps_failing_marks_the_delivery_failed_with_its_error(harness):
    flaky = Flaky(failures=100)
    pipeline = pipeline_with(harness, flaky)
    harness.store("issues", issue_event("opened", 1, "alice", created=T0))
    for _ in range(harness.settings.inbox.max_attempts):
        pipeline.process_due()
        harness.clock.advance(60)
    [delivery] = harness.rows(Delivery)
    assert (delivery.status, delivery.attempts) == ("failed", harness.settings.inbox.max_attempts)
    assert "boom 10" in delivery.error
    assert flaky.calls == 10  # each attempt: once with the others, once alone


def test_replay_runs_a_failed_delivery_again(harness):
    flaky = Flaky(failures=10)
    pipeline = pipeline_with(harness, flaky)
    new_id = harness.store("issues", issue_event("opened", 1, "alice", created=T0))
    for _ in range(5):
        pipeline.process_due()
        harness.clock.advance(60)
    assert harness.rows(Delivery)[0].status == "failed"
    assert pipeline.replay(new_id).status == "processed"
    assert len(harness.rows(OutboxAction)) == 2


async def test_deliveries_stored_before_a_crash_are_processed_at_start_up(aiohttp_client, settings):
    crashed = await aiohttp_client(create_app(settings, run_workers=False))
    for number in range(1, 6):
        body = body_of(issue_event("opened", number, f"user{number}", created=T0))
        response = await crashed.post("/webhooks/github", data=body, headers=github_headers("issues", body))
        assert response.status == 202
    await crashed.close()  # the process dies before its worker ran: the deliveries are only in the store

    restarted = await aiohttp_client(create_app(settings))
    db = restarted.app[COBOT].db
    await eventually(lambda: count(db, Delivery, Delivery.status == "processed") == 5, message="5 processed")
    assert count(db, Thread) == 5
    assert count(db, OutboxAction, OutboxAction.kind == "comment") == 5


def notifying(servers) -> dict:
    """A [notify] section that sends newcomer notices to the local generic webhook."""
    return {"allow_hosts": ["127.0.0.1"], "channels": {"ops": {"kind": "webhook", "url": f"{servers.base_url}/hook"}},
            "rules": [{"topics": ["newcomer"], "channels": ["ops"]}]}


async def test_a_running_server_processes_what_it_accepts(aiohttp_client, make_settings):
    async with chat_servers() as servers:
        client = await aiohttp_client(create_app(make_settings(notify=notifying(servers))))
        body = body_of(issue_event("opened", 1, "alice", created=T0))
        response = await client.post("/webhooks/github", data=body, headers=github_headers("issues", body))
        assert response.status == 202
        db = client.app[COBOT].db
        await eventually(lambda: count(db, OutboxAction, OutboxAction.status != "pending") == 3,
                         message="3 actions")
        assert count(db, OutboxAction, OutboxAction.status == "dry_run") == 2  # comment and label: no token
        assert count(db, OutboxAction, OutboxAction.kind == "notify", OutboxAction.status == "done") == 1
        [notice] = servers.received(WEBHOOK)
        assert notice.body["topic"] == "newcomer" and "@alice" in notice.body["body"]


async def test_start_up_says_the_outbox_is_a_dry_run_without_tokens(aiohttp_client, settings, caplog):
    caplog.set_level("WARNING", logger="cobot")
    await aiohttp_client(create_app(settings))
    assert "no github token: outbox actions on github are a dry run" in caplog.text
    assert "no gitee token: outbox actions on gitee are a dry run" in caplog.text


async def test_the_worker_process_processes_and_is_restarted_when_it_dies(aiohttp_client, make_settings):
    import os
    import signal

    servers = await start_chat_servers()
    settings = make_settings(inbox={"worker": "process"}, notify=notifying(servers))
    client = await aiohttp_client(create_app(settings))
    cobot = client.app[COBOT]
    db = cobot.db
    assert cobot.worker.ready, "the server opens its port once the child processes"

    async def send(number: int) -> None:
        body = body_of(issue_event("opened", number, f"user{number}", created=T0))
        response = await client.post("/webhooks/github", data=body, headers=github_headers("issues", body))
        assert response.status == 202

    await send(1)
    await eventually(lambda: count(db, OutboxAction, OutboxAction.status != "pending") == 3, timeout=30,
                     message="the child processed the delivery and the dispatcher performed its actions")
    assert [r.body["topic"] for r in servers.received(WEBHOOK)] == ["newcomer"]  # sent by the child
    first_pid = cobot.worker.pid
    os.kill(first_pid, signal.SIGKILL)
    await send(2)
    await eventually(lambda: count(db, Delivery, Delivery.status == "processed") == 2, timeout=30,
                     message="a new worker process took over")
    assert cobot.worker.pid != first_pid
    await eventually(lambda: len(servers.received(WEBHOOK)) == 2, timeout=30, message="its notice sent too")
    await servers.stop()


def test_what_a_failing_handler_wrote_is_rolled_back_with_it(harness):
    """A handler that writes through the delivery's connection, then fails: its write is undone (its savepoint),
    while what the other handlers wrote stays."""
    from sqlalchemy import text

    from bot.store.community_tables import Milestone

    router = Router("writer")

    @router.on("issue.opened")
    def write_then_fail(event, ctx):
        ctx.conn.execute(text("INSERT INTO milestone (person, scope, kind, platform, repo, number, reached_at) "
                              "VALUES ('github:x', 'test', 'written-then-failed', 'github', 'acme/rocket', '1', "
                              "'2026-11-01 10:00:00')"))
        raise RuntimeError("after the write")

    pipeline = Pipeline(harness.db, harness.settings, harness.clock, harness.platforms, ROUTERS + (router,))
    harness.store("issues", issue_event("opened", 1, "alice", created=T0))
    pipeline.process_due()
    assert harness.rows(Milestone, Milestone.kind == "written-then-failed") == []
    assert len(harness.rows(Thread)) == 1  # tracking's work stands


async def test_a_delivery_the_database_refuses_costs_only_itself(aiohttp_client, settings):
    """Deliveries that arrive together are stored in one transaction; when the database refuses one of them (here a
    key it cannot hold: not UTF-8 for SQLite, too long for PostgreSQL), the others are stored one by one."""
    import asyncio

    from bot.pipeline.inbox import Incoming
    from bot.platforms.base import Received

    client = await aiohttp_client(create_app(settings, run_workers=False))
    writer = client.app[COBOT].writer

    def incoming(key: str) -> Incoming:
        return Incoming("github", Received(key=key, event="issues", action="opened", is_ping=False,
                                           headers={"X-GitHub-Delivery": "x"}, body=b"{}"))

    items = [incoming(f"good-{n}") for n in range(10)] + [incoming("\udcff" + "k" * 300)] + [
        incoming(f"good-{n}") for n in range(10, 20)]
    results = await asyncio.gather(*(writer.store(item) for item in items), return_exceptions=True)

    assert [isinstance(result, int) for result in results] == [True] * 10 + [False] + [True] * 10
    assert isinstance(results[10], Exception)
    assert count(client.app[COBOT].db, Delivery) == 20
