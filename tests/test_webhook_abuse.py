"""What a stranger, or a forge's odd delivery, can do to the webhook endpoints (issue 15, items 3, 8, 9, 11, 12, 13,
16): each through HTTP against a real cobot app, on SQLite and PostgreSQL where something is stored."""

from __future__ import annotations

import asyncio
import contextlib
import json
import platform
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.engine import Engine

from bot.app.factory import COBOT, create_app
from bot.platforms.gitee import signature as gitee_signature
from bot.store.community_tables import Thread
from bot.store.tables import Delivery, WebhookNonce
from tests.helpers import (
    GITEE_SECRET,
    body_of,
    count,
    eventually,
    gitee_headers,
    gitee_timestamp,
    github_headers,
)
from tests.payloads import issue_event
from tests.raw_http import Answer, Connection, connect, exchange, head, post

T0 = "2026-11-01T10:00:00Z"
FAKE_SIGNATURE = "sha256=" + "0" * 64  # the right shape: only the whole body can prove it wrong


def stored(client) -> list[Delivery]:
    with client.app[COBOT].db.inbox.session() as session:
        return list(session.execute(select(Delivery).order_by(Delivery.id)).scalars())


def gitee_issue(title: str = "Crash on start", number: str = "I1") -> dict:
    person = {"login": "lin", "id": 7, "name": "Lin"}
    return {"action": "open", "hook_name": "issue_hooks", "sender": person,
            "repository": {"full_name": "acme/rocket", "html_url": "https://gitee.com/acme/rocket"},
            "issue": {"number": number, "title": title, "state": "open", "body": "", "user": person, "labels": [],
                      "created_at": "2026-11-01T18:00:00+08:00", "updated_at": "2026-11-01T18:00:00+08:00",
                      "html_url": f"https://gitee.com/acme/rocket/issues/{number}"}}


@pytest.fixture
async def client(aiohttp_client, settings, clock):
    return await aiohttp_client(create_app(settings, clock, run_workers=False))


# 3. Unauthenticated bodies: refused before they are read, counted as they arrive within a shared budget and a share
#    per client address, and in time (no pause too long, no body too slow); counted until their delivery is stored.

async def test_a_request_without_a_signature_is_refused_before_its_body_is_read(client):
    connection = await connect(client.port)
    await connection.send(head("POST", "/webhooks/github", [("X-GitHub-Event", "issues"),
                                                            ("Content-Length", "20000000")]))
    answer = await connection.answer(timeout=5)  # not one byte of the body was sent
    assert answer.status == 401 and "X-Hub-Signature-256" in answer.json()["error"]
    connection.close()


async def connect_from(port: int, address: str) -> Connection:
    """A connection whose client end is `address` (another address of the loopback network: another client)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(address, 0))
    return Connection(reader, writer)


def unsigned_head(length: int, path: str = "/webhooks/github", now: datetime | None = None) -> bytes:
    """A webhook request head whose signature header looks right (only the whole body could prove it wrong)."""
    signing = ([("X-GitHub-Event", "issues"), ("X-Hub-Signature-256", FAKE_SIGNATURE)] if path.endswith("github")
               else list(gitee_headers("Push Hook", now or datetime.now(UTC)).items()))
    return head("POST", path, [*signing, ("Content-Length", str(length))])


async def signed_from(port: int, address: str, number: int) -> Answer:
    body = body_of(issue_event("opened", number, f"user{number}", created=T0))
    connection = await connect_from(port, address)
    try:
        await connection.send(post("/webhooks/github", list(github_headers("issues", body).items()), body))
        return await connection.answer(timeout=10)
    finally:
        connection.close()


async def trickle(connection: Connection, every: float) -> None:
    """A byte of body every `every` seconds, until cancelled or answered."""
    with contextlib.suppress(ConnectionError):
        while True:
            await connection.send(b"x")
            await asyncio.sleep(every)


async def test_idle_connections_and_a_slow_client_do_not_block_a_real_delivery(aiohttp_client, make_settings,
                                                                                clock):
    """Bytes are reserved as they arrive, never as declared; one address holds at most one largest body."""
    settings = make_settings(server={"max_body_bytes": 1_000_000, "webhook_body_budget_bytes": 2_000_000,
                                     "body_idle_seconds": 2})
    client = await aiohttp_client(create_app(settings, clock, run_workers=False))
    budget = client.app[COBOT].bodies.budget
    idle = []
    for _ in range(3):  # each declares a largest body and sends none of it: together more than the budget
        connection = await connect_from(client.port, "127.0.0.2")
        await connection.send(unsigned_head(1_000_000))
        idle.append(connection)
    slow = await connect_from(client.port, "127.0.0.3")  # a slow client: 600 KB at once, then a byte at a time
    await slow.send(unsigned_head(1_000_000) + b"x" * 600_000)
    await eventually(lambda: budget.held == 600_000, message="the slow client's bytes reserved")
    trickling = asyncio.create_task(trickle(slow, every=0.2))

    greedy = await connect_from(client.port, "127.0.0.3")  # the same address again: over its share
    await greedy.send(unsigned_head(1_000_000) + b"x" * 600_000)
    refused = await greedy.answer(timeout=5)
    assert (refused.status, refused.headers["retry-after"]) == (503, "5")
    assert "from this address" in refused.json()["error"]
    greedy.close()

    # real deliveries, from another address and from the idle connections' own, are taken
    assert (await signed_from(client.port, "127.0.0.4", 1)).status == 202
    assert (await signed_from(client.port, "127.0.0.2", 2)).status == 202
    assert budget.held_by == {"127.0.0.3": budget.held} and budget.held >= 600_000

    for connection in idle:  # the idle ones end at the idle deadline, having held nothing
        answer = await connection.answer(timeout=10)
        assert (answer.status, answer.json()["error"]) == (408, "no part of the body arrived for 2 seconds")
        connection.close()
    trickling.cancel()
    slow.close()
    await eventually(lambda: budget.held == 0 and budget.held_by == {}, message="everything given back")
    assert count(client.app[COBOT].db, Delivery) == 2


async def test_bodies_beyond_the_budget_are_answered_503(aiohttp_client, make_settings, clock):
    settings = make_settings(server={"max_body_bytes": 1_000_000, "webhook_body_budget_bytes": 2_000_000})
    client = await aiohttp_client(create_app(settings, clock, run_workers=False))
    budget = client.app[COBOT].bodies.budget
    holders = []
    for address in ("127.0.0.2", "127.0.0.3"):  # two unauthenticated bodies of 1 MB, held a byte short: it is spent
        holder = await connect_from(client.port, address)
        await holder.send(unsigned_head(1_000_000) + b"x" * 999_999)
        holders.append(holder)
    await eventually(lambda: budget.held == 1_999_998, message="both bodies reserved")

    for address, path in (("127.0.0.4", "/webhooks/github"), ("127.0.0.5", "/webhooks/gitee")):  # shared by both
        third = await connect_from(client.port, address)
        await third.send(unsigned_head(1000, path, clock()) + b"x" * 1000)
        answer = await third.answer(timeout=5)
        assert (answer.status, answer.headers["retry-after"]) == (503, "5")
        assert "at once" in answer.json()["error"] and "address" not in answer.json()["error"]
        third.close()

    for holder in holders:
        holder.close()
    await eventually(lambda: budget.held == 0, message="the budget given back when the holders left")
    body = body_of(issue_event("opened", 1, "alice", created=T0))
    response = await client.post("/webhooks/github", data=body, headers=github_headers("issues", body))
    assert response.status == 202


async def test_a_declared_length_over_the_limit_is_413_before_a_byte_is_read(aiohttp_client, make_settings, clock):
    settings = make_settings(server={"max_body_bytes": 1_000_000, "webhook_body_budget_bytes": 2_000_000})
    client = await aiohttp_client(create_app(settings, clock, run_workers=False))
    connection = await connect(client.port)
    await connection.send(unsigned_head(1_000_001))
    answer = await connection.answer(timeout=5)
    assert answer.status == 413
    connection.close()


async def test_a_silent_body_ends_at_the_idle_deadline_a_trickling_one_at_the_overall(aiohttp_client,
                                                                                      make_settings, clock):
    settings = make_settings(server={"body_idle_seconds": 0.5, "body_timeout_seconds": 2})
    client = await aiohttp_client(create_app(settings, clock, run_workers=False))
    silent = await connect(client.port)
    await silent.send(unsigned_head(1000) + b'{"action": ')
    trickler = await connect(client.port)
    await trickler.send(unsigned_head(1000))
    trickling = asyncio.create_task(trickle(trickler, every=0.1))
    answers = await asyncio.gather(silent.answer(timeout=10), trickler.answer(timeout=10))
    trickling.cancel()
    assert [(answer.status, answer.json()["error"]) for answer in answers] == [
        (408, "no part of the body arrived for 0.5 seconds"), (408, "the body did not arrive within 2 seconds")]
    for connection in (silent, trickler):
        connection.close()
    assert client.app[COBOT].bodies.budget.held == 0
    assert stored(client) == []


async def test_a_body_counts_against_the_budget_until_its_delivery_is_stored(client):
    """Its bytes are in memory until then (parsed, queued for the database): so is their reservation."""
    budget, inbox = client.app[COBOT].bodies.budget, client.app[COBOT].db.inbox
    body = body_of(issue_event("opened", 1, "alice", created=T0))
    with inbox.engine.begin() as holding:  # the database's write lock, held elsewhere: the delivery waits for it
        if inbox.dialect == "postgresql":
            holding.execute(text("LOCK TABLE delivery IN EXCLUSIVE MODE"))
        sending = asyncio.create_task(client.post("/webhooks/github", data=body,
                                                  headers=github_headers("issues", body)))
        await eventually(lambda: budget.held == len(body), message="the body held while its delivery waits")
    response = await sending
    assert response.status == 202
    assert budget.held == 0 and budget.held_by == {}


async def test_a_body_that_does_not_arrive_in_time_is_408(aiohttp_client, make_settings, clock):
    settings = make_settings(server={"body_timeout_seconds": 0.5})
    client = await aiohttp_client(create_app(settings, clock, run_workers=False))
    connection = await connect(client.port)
    await connection.send(head("POST", "/webhooks/github", [("X-GitHub-Event", "issues"),
                                                            ("X-Hub-Signature-256", FAKE_SIGNATURE),
                                                            ("Content-Length", "1000")]) + b'{"action": ')
    answer = await connection.answer(timeout=5)
    assert answer.status == 408
    connection.close()
    assert stored(client) == []


async def test_a_chunked_body_over_the_limit_is_413(aiohttp_client, make_settings, clock):
    settings = make_settings(server={"max_body_bytes": 100_000, "webhook_body_budget_bytes": 100_000})
    client = await aiohttp_client(create_app(settings, clock, run_workers=False))

    async def chunks():
        for _ in range(20):
            yield b"x" * 10_000

    response = await client.post("/webhooks/github", data=chunks(),
                                 headers={"X-GitHub-Event": "issues", "X-Hub-Signature-256": FAKE_SIGNATURE})
    assert response.status == 413
    body = body_of(issue_event("opened", 1, "alice", created=T0))  # and the budget it took is free again
    response = await client.post("/webhooks/github", data=body, headers=github_headers("issues", body))
    assert response.status == 202


@pytest.mark.parametrize(("content_type", "body"), [
    ("application/x-www-form-urlencoded", urlencode({"token": "x" * 100_000}).encode()),
    ("application/json", json.dumps({"token": "x" * 100_000}).encode()),
])
async def test_other_routes_take_small_bodies_only(client, content_type, body):
    response = await client.post("/login", data=body, headers={"Content-Type": content_type})
    assert response.status == 413


# What happens on the way: no cache header a POST's answer does not need, nothing done at import time.

async def test_webhook_answers_carry_no_cache_header(client):
    """An answer to a POST that states no freshness is not stored by caches (RFC 9110 §9.3.3): the webhooks' answers,
    the ones cobot gives most often, carry nothing they do not need (the dashboard's do: tests/test_web_sessions)."""
    body = body_of(issue_event("opened", 1, "alice", created=T0))
    statuses = []
    for headers in ({"X-GitHub-Event": "issues"}, github_headers("issues", body, "cache-1"),
                    github_headers("issues", body, "cache-1")):
        response = await client.post("/webhooks/github", data=body, headers=headers)
        assert "Cache-Control" not in response.headers, response.status
        statuses.append(response.status)
    assert statuses == [401, 202, 200]  # unsigned, accepted, a duplicate
    assert (await client.get("/healthz")).headers["Cache-Control"] == "no-store"


def test_importing_the_app_starts_no_process():
    """Nothing happens at import time: the C library's `malloc_trim` is looked up when memory is first given back
    (looking it up by name ran `ldconfig`, on every import of the app)."""
    watch = ("import sys\n"
             "started = []\n"
             "sys.addaudithook(lambda event, args: started.append(event) if event in "
             "('subprocess.Popen', 'os.posix_spawn', 'os.exec', 'os.fork') else None)\n"
             "import bot.app.factory, bot.memory\n"
             "print(started)\n"
             "print(bot.memory.malloc_trim() is not None)\n")
    result = subprocess.run([sys.executable, "-c", watch], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[1])
    assert result.stdout.splitlines()[:1] == ["[]"], result.stdout
    assert (result.returncode, result.stdout.splitlines()[1:]) == (0, [str(platform.libc_ver()[0] == "glibc")])


# 8. What a signed delivery's headers hold never keeps it, or the others, from being stored.

async def test_a_delivery_id_that_is_not_utf8_is_stored_beside_the_others(client):
    odd_body = body_of(issue_event("opened", 1, "alice", created=T0))
    odd_headers = [("X-GitHub-Event", "issues"), ("X-GitHub-Delivery", b"\xff\xfe\x80odd-id"),
                   ("X-Hub-Signature-256", github_headers("issues", odd_body)["X-Hub-Signature-256"]),
                   ("User-Agent", b"Hookshot \xc3\x28"), ("Content-Type", "application/json")]

    async def good(number: int) -> int:
        body = body_of(issue_event("opened", number, f"user{number}", created=T0))
        response = await client.post("/webhooks/github", data=body, headers=github_headers("issues", body))
        return response.status

    answers = await asyncio.gather(*(exchange(client.port, post("/webhooks/github", odd_headers, odd_body))
                                     for _ in range(5)), *(good(number) for number in range(2, 102)))
    odd, good_statuses = answers[:5], answers[5:]
    assert good_statuses == [202] * 100
    assert sorted(answer.status for answer in odd) == [200, 200, 200, 200, 202]  # one delivery, sent 5 times
    [kept] = [d for d in stored(client) if d.headers.get("User-Agent", "").startswith("Hookshot")]
    assert kept.key.startswith("github-") and len(kept.key) <= 128
    assert kept.headers["X-GitHub-Delivery"] == "\ufffd\ufffd\ufffdodd-id"
    assert kept.headers["User-Agent"] == "Hookshot \ufffd("
    assert count(client.app[COBOT].db, Delivery) == 101


async def test_an_over_long_delivery_id_and_event_fit_their_columns(client):
    body = body_of(issue_event("opened", 1, "alice", created=T0))
    response = await client.post("/webhooks/github", data=body, headers=github_headers("issues", body, "d" * 300))
    assert response.status == 202
    long_event = "issues" * 20
    response = await client.post("/webhooks/github", data=body, headers=github_headers(long_event, body, "e-1"))
    assert response.status == 400 and "event name" in (await response.json())["error"]
    first, second = stored(client)
    assert first.key.startswith("github-") and len(first.key) <= 128 and first.status == "received"
    assert (second.key, second.event, second.status) == ("e-1", "unknown", "rejected")
    resent = await client.post("/webhooks/github", data=body, headers=github_headers("issues", body, "d" * 300))
    assert (await resent.json())["status"] == "duplicate"  # the same long id is the same delivery


async def test_an_over_long_action_is_cut_to_fit(client):
    body = body_of({**issue_event("opened", 1, "alice", created=T0), "action": "opened" * 40})
    response = await client.post("/webhooks/github", data=body, headers=github_headers("issues", body))
    assert response.status == 202
    [delivery] = stored(client)
    assert len(delivery.action) <= 64 and delivery.body == body


# 9. A Gitee signature covers only its timestamp: it cannot come again with another body, nor from the future.

async def test_a_gitee_signature_reused_with_another_body_is_refused(client, clock):
    headers = gitee_headers("Issue Hook", clock())
    first = await client.post("/webhooks/gitee", data=body_of(gitee_issue()), headers=headers)
    forged = await client.post("/webhooks/gitee", data=body_of(gitee_issue("Send me your tokens")),
                               headers=headers)
    again = await client.post("/webhooks/gitee", data=body_of(gitee_issue()), headers=headers)
    assert (first.status, forged.status, again.status) == (202, 401, 200)
    assert "another body" in (await forged.json())["error"]
    [delivery] = stored(client)
    assert json.loads(delivery.body)["issue"]["title"] == "Crash on start"


async def test_a_reused_gitee_signature_is_refused_when_both_arrive_together(client, clock):
    headers = gitee_headers("Issue Hook", clock())
    answers = await asyncio.gather(*(client.post("/webhooks/gitee", data=body_of(gitee_issue(f"title {n}")),
                                                 headers=headers) for n in range(10)))
    assert sorted(response.status for response in answers) == [202] + [401] * 9
    assert count(client.app[COBOT].db, Delivery) == 1


async def test_a_reused_gitee_signature_is_looked_up_by_platform_and_nonce(client, clock):
    """The signatures seen are keyed by (platform, nonce): finding which delivery a reused one came with searches
    that key (SQLite's plan), rather than scanning the signatures of the last hour."""
    if client.app[COBOT].db.dialect != "sqlite":
        pytest.skip("the query plan asked for is SQLite's")
    for number in range(5):
        response = await client.post("/webhooks/gitee", data=body_of(gitee_issue(number=f"I{number}")),
                                     headers=gitee_headers("Issue Hook", clock()))
        assert response.status == 202
    lookups: list[tuple[str, object]] = []

    def looked_up(_connection, _cursor, statement: str, parameters: object, _context, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "webhook_nonce" in statement:
            lookups.append((statement, parameters))

    headers = gitee_headers("Issue Hook", clock())
    event.listen(Engine, "before_cursor_execute", looked_up)
    try:
        first = await client.post("/webhooks/gitee", data=body_of(gitee_issue("one")), headers=headers)
        forged = await client.post("/webhooks/gitee", data=body_of(gitee_issue("two")), headers=headers)
    finally:
        event.remove(Engine, "before_cursor_execute", looked_up)
    assert (first.status, forged.status) == (202, 401)
    [(statement, parameters)] = lookups
    with client.app[COBOT].db.inbox.engine.connect() as connection:
        plan = [row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)]
    assert [step for step in plan if "webhook_nonce" in step] == [
        "SEARCH webhook_nonce USING INDEX sqlite_autoindex_webhook_nonce_1 (platform=? AND nonce=?)"]


@pytest.mark.parametrize(("ahead", "expected"), [(timedelta(minutes=4), 202), (timedelta(minutes=6), 401)])
async def test_a_gitee_timestamp_may_be_only_a_little_ahead(client, clock, ahead, expected):
    response = await client.post("/webhooks/gitee", data=body_of(gitee_issue()),
                                 headers=gitee_headers("Issue Hook", clock() + ahead))
    assert response.status == expected


async def test_gitee_signatures_are_forgotten_once_they_could_not_be_accepted_again(client, clock):
    for number in range(3):
        response = await client.post("/webhooks/gitee", data=body_of(gitee_issue(number=f"I{number}")),
                                     headers=gitee_headers("Issue Hook", clock()))
        assert response.status == 202
    db = client.app[COBOT].db
    assert count(db.inbox, WebhookNonce) == 3
    clock.advance(3600 + 300 + 60)
    response = await client.post("/webhooks/gitee", data=body_of(gitee_issue(number="I9")),
                                 headers=gitee_headers("Issue Hook", clock()))
    assert response.status == 202
    assert count(db.inbox, WebhookNonce) == 1


async def test_a_gitee_password_delivery_keeps_no_signature(client):
    headers = {"X-Gitee-Event": "Issue Hook", "X-Gitee-Token": GITEE_SECRET}
    for title in ("one", "two"):  # a password proves nothing about time: there is nothing to remember
        response = await client.post("/webhooks/gitee", data=body_of({**gitee_issue(title), "password": GITEE_SECRET}),
                                     headers=headers)
        assert response.status == 202
    assert count(client.app[COBOT].db.inbox, WebhookNonce) == 0


# 11. GitHub's other content type: a form whose `payload` field holds the JSON.

async def test_a_form_encoded_github_delivery_is_accepted_and_processed(aiohttp_client, settings, clock):
    client = await aiohttp_client(create_app(settings, clock))
    payload = body_of(issue_event("opened", 7, "alice", created=T0))
    body = urlencode({"payload": payload.decode()}).encode()
    headers = {**github_headers("issues", body, "form-1"), "Content-Type": "application/x-www-form-urlencoded"}
    response = await client.post("/webhooks/github", data=body, headers=headers)
    assert response.status == 202
    [delivery] = stored(client)
    assert json.loads(delivery.body) == json.loads(payload) and delivery.action == "opened"
    db = client.app[COBOT].db
    await eventually(lambda: count(db, Delivery, Delivery.status == "processed") == 1, message="processed")
    assert count(db, Thread) == 1


async def test_a_form_without_a_payload_is_rejected_and_kept(client):
    body = b"something=else"
    headers = {**github_headers("issues", body, "form-2"), "Content-Type": "application/x-www-form-urlencoded"}
    response = await client.post("/webhooks/github", data=body, headers=headers)
    assert response.status == 400 and "payload" in (await response.json())["error"]
    [delivery] = stored(client)
    assert (delivery.status, delivery.body) == ("rejected", body)


# 12. JSON nested too deeply: 400, stored as rejected.

@pytest.mark.parametrize("levels", [150, 1000, 100_000])
async def test_json_nested_too_deeply_is_rejected_on_github(client, levels):
    body = b'{"action": "opened", "issue": ' + b"[" * levels + b"]" * levels + b"}"
    response = await client.post("/webhooks/github", data=body, headers=github_headers("issues", body, "deep"))
    assert response.status == 400 and "nested deeper" in (await response.json())["error"]
    [delivery] = stored(client)
    assert (delivery.status, delivery.body) == ("rejected", body)


@pytest.mark.parametrize("levels", [150, 1000, 100_000])
async def test_json_nested_too_deeply_is_rejected_on_gitee(client, clock, levels):
    body = b'{"action": "open", "issue": ' + b'{"a":' * levels + b"1" + b"}" * levels + b"}"
    response = await client.post("/webhooks/gitee", data=body, headers=gitee_headers("Issue Hook", clock()))
    assert response.status == 400 and "nested deeper" in (await response.json())["error"]
    [delivery] = stored(client)
    assert delivery.status == "rejected"


async def test_json_nested_as_deep_as_real_payloads_is_accepted(client):
    body = b'{"action": "opened", "x": ' + b"[" * 90 + b"]" * 90 + b"}"
    response = await client.post("/webhooks/github", data=body, headers=github_headers("issues", body))
    assert response.status == 202


# 13. A lone surrogate escape reads as U+FFFD: stored, translated and processed like any other text.

async def test_a_lone_surrogate_in_a_github_delivery_is_processed(aiohttp_client, settings, clock):
    client = await aiohttp_client(create_app(settings, clock))
    body = body_of(issue_event("opened", 3, "alice", created=T0)).replace(b'"Item 3"', b'"Crash \\ud83d here"')
    response = await client.post("/webhooks/github", data=body, headers=github_headers("issues", body))
    assert response.status == 202
    db = client.app[COBOT].db
    await eventually(lambda: count(db, Delivery, Delivery.status != "received") == 1, message="processed")
    [delivery] = stored(client)
    assert (delivery.status, delivery.error) == ("processed", None)
    assert json.loads(delivery.body)["issue"]["title"] == "Crash \ufffd here"
    with db.session() as session:
        assert session.execute(select(Thread.title)).scalar_one() == "Crash \ufffd here"


async def test_a_lone_surrogate_in_a_gitee_delivery_is_processed(aiohttp_client, settings, clock):
    client = await aiohttp_client(create_app(settings, clock))
    body = body_of(gitee_issue("Crash PLACE here")).replace(b"PLACE", b"\\udc00\\ud83d")
    response = await client.post("/webhooks/gitee", data=body, headers=gitee_headers("Issue Hook", clock()))
    assert response.status == 202
    db = client.app[COBOT].db
    await eventually(lambda: count(db, Delivery, Delivery.status != "received") == 1, message="processed")
    [delivery] = stored(client)
    assert (delivery.status, delivery.error) == ("processed", None)
    with db.session() as session:
        assert session.execute(select(Thread.title)).scalar_one() == "Crash \ufffd\ufffd here"


async def test_a_surrogate_pair_stays_the_character_it_spells(client):
    body = body_of(issue_event("opened", 3, "alice", created=T0)).replace(b'"Item 3"', b'"Rocket \\ud83d\\ude80"')
    response = await client.post("/webhooks/github", data=body, headers=github_headers("issues", body))
    assert response.status == 202
    [delivery] = stored(client)
    assert delivery.body == body  # nothing to repair: stored as received


# 16. The Gitee password (and the signature a request came with) is never stored, however the body spells it.

def unescaped(stored_text: bytes) -> str:
    """What JSON text reads as once its escapes are undone (wherever they are, parsed or not)."""
    text = stored_text.decode("utf-8", "replace")
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda match: chr(int(match.group(1), 16)), text)
    return re.sub(r"\\(.)", r"\1", text)


@pytest.mark.parametrize("body", [
    b'{"password": "' + GITEE_SECRET.encode(),  # cut short: no closing quote
    b'{"pass\\u0077ord": "' + GITEE_SECRET.encode() + b'", "ref": ',  # an escaped key, and cut short
    b'{"ref": "t\\u0065st-gitee-s\\u0065cret", "x": ',  # the secret itself escaped
    b'{"ref": "x' + GITEE_SECRET.encode() + b'y", "x": ',
    b'{"hook_name": "push_hooks", "note": "my password is ' + GITEE_SECRET.encode() + b'", "ref": "refs/heads/x"}',
    b'{"hook_name": "push_hooks", "note": "t\\u0065st-gitee-secret", "password": "' + GITEE_SECRET.encode() + b'"}',
], ids=["unclosed", "escaped key", "escaped value", "beside other text", "in another field", "escaped, parsed"])
async def test_the_gitee_password_is_never_stored(client, body):
    headers = {"X-Gitee-Event": "Push Hook", "X-Gitee-Token": GITEE_SECRET,
               "User-Agent": f"git-oschina-hook {GITEE_SECRET}"}
    response = await client.post("/webhooks/gitee", data=body, headers=headers)
    assert response.status in (202, 400)
    [delivery] = stored(client)
    kept = delivery.body + json.dumps(delivery.headers).encode() + (delivery.error or "").encode()
    assert GITEE_SECRET not in unescaped(kept)
    assert b"[removed]" in kept


async def test_the_gitee_signature_of_an_unreadable_body_is_not_stored(client, clock):
    headers = gitee_headers("Push Hook", clock())
    token = headers["X-Gitee-Token"]
    body = b'{"si\\u0067n": "' + token.replace("/", "\\/").encode() + b'", "ref": '
    response = await client.post("/webhooks/gitee", data=body, headers=headers)
    assert response.status == 400
    [delivery] = stored(client)
    assert token.encode() not in delivery.body and token.replace("/", "\\/").encode() not in delivery.body


async def test_gitee_timestamps_of_the_test_helper_are_each_their_own(clock):
    """Gitee's signature covers only its timestamp: each signed request of the tests gets one of its own."""
    stamps = {gitee_timestamp(clock()) for _ in range(50)}
    assert len(stamps) == 50
    assert all(int(stamp) <= clock().timestamp() * 1000 for stamp in stamps)
    headers = gitee_headers("Push Hook", clock())
    assert headers["X-Gitee-Token"] == gitee_signature(GITEE_SECRET, headers["X-Gitee-Timestamp"])


@pytest.mark.parametrize(("server", "key"), [
    ({"max_body_bytes": 1000, "webhook_body_budget_bytes": 999}, "webhook_body_budget_bytes"),
    ({"max_body_bytes": 1000, "webhook_body_per_client_bytes": 999}, "webhook_body_per_client_bytes"),
    ({"webhook_body_budget_bytes": 50_000_000, "webhook_body_per_client_bytes": 50_000_001},
     "webhook_body_per_client_bytes"),
    ({"body_idle_seconds": 0}, "body_idle_seconds"),
])
def test_webhook_body_limits_that_cannot_hold_a_body_stop_start_up_naming_the_key(server, key):
    from bot.config import ConfigError, settings_from_mapping

    with pytest.raises(ConfigError, match=key):
        settings_from_mapping({"server": server}, env={})


async def test_a_flood_of_refused_requests_writes_a_few_lines_and_a_count(client, caplog):
    """Anyone may send: 300 unsigned requests are each answered 401, and the log gets at most a dozen lines of them
    (a log is a disk a stranger could otherwise fill), saying that more are counted."""
    import logging

    caplog.set_level(logging.WARNING, logger="cobot.webhooks")
    for number in range(300):
        response = await client.post("/webhooks/github", data=b"{}", headers={"X-GitHub-Event": "issues",
                                                                              "X-GitHub-Delivery": f"flood-{number}"})
        assert response.status == 401
    lines = [record.getMessage() for record in caplog.records if record.name == "cobot.webhooks"]
    assert 1 <= len(lines) <= 12
    assert "counted, not written" in lines[-1]
