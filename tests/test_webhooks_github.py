"""GitHub deliveries through a real aiohttp server: signatures, answers to bad input, deduplication."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot.app.factory import COBOT, create_app
from bot.store.tables import Delivery
from tests.helpers import body_of, count, github_headers, shared_fixture

ISSUE = {"action": "opened", "repository": {"full_name": "acme/rocket", "html_url": "https://github.com/acme/rocket"},
         "sender": {"login": "alice", "id": 1, "type": "User"},
         "issue": {"number": 1, "title": "Crash on start", "state": "open", "body": "",
                   "user": {"login": "alice", "id": 1, "type": "User"}, "labels": [], "assignees": [],
                   "created_at": "2026-11-01T10:00:00Z", "updated_at": "2026-11-01T10:00:00Z", "closed_at": None,
                   "html_url": "https://github.com/acme/rocket/issues/1"}}


@pytest.fixture
async def client(aiohttp_client, settings, clock):
    app = create_app(settings, clock, run_workers=False)
    return await aiohttp_client(app)


def stored(client) -> list[Delivery]:
    db = client.app[COBOT].db.inbox
    with db.session() as session:
        return list(session.execute(select(Delivery).order_by(Delivery.id)).scalars())


async def test_real_github_ping_is_verified_and_answered(aiohttp_client, make_settings, clock):
    body = shared_fixture("github", "ping-1.json").read_bytes()
    headers = json.loads(shared_fixture("github", "headers", "ping-1.json").read_text())
    for dropped in ("Host", "Content-Length", "Connection"):
        headers.pop(dropped)
    settings = make_settings(github={"webhook_secret": "437EBE55A75911E8"})
    client = await aiohttp_client(create_app(settings, clock, run_workers=False))

    response = await client.post("/webhooks/github", data=body, headers=headers)

    assert response.status == 200
    assert (await response.json())["status"] == "pong"
    [delivery] = stored(client)
    assert (delivery.platform, delivery.event, delivery.status) == ("github", "ping", "ignored")
    assert delivery.key == "c627fc10-9e0f-11ec-8eca-c44f41fb12a5"
    assert delivery.body == body


async def test_accepted_delivery_is_committed_before_202(client):
    body = body_of(ISSUE)
    response = await client.post("/webhooks/github", data=body, headers=github_headers("issues", body, "d-1"))
    assert response.status == 202
    answer = await response.json()
    [delivery] = stored(client)
    assert answer == {"status": "accepted", "delivery": delivery.id}
    assert (delivery.status, delivery.event, delivery.action, delivery.key) == ("received", "issues", "opened", "d-1")
    assert "X-Hub-Signature-256" not in delivery.headers


@pytest.mark.parametrize("headers_for", [
    pytest.param(lambda body: {"X-GitHub-Event": "issues", "X-GitHub-Delivery": "x"}, id="missing signature"),
    pytest.param(lambda body: github_headers("issues", body, secret="wrong"), id="wrong secret"),
    pytest.param(lambda body: github_headers("issues", body + b" "), id="signed another body"),
    pytest.param(lambda body: {**github_headers("issues", body), "X-Hub-Signature-256": "sha256=zz"}, id="garbage"),
])
async def test_bad_signature_is_401_and_nothing_is_stored(client, headers_for):
    body = body_of(ISSUE)
    response = await client.post("/webhooks/github", data=body, headers=headers_for(body))
    assert response.status == 401
    assert "error" in await response.json()
    assert stored(client) == []


async def test_no_secret_configured_refuses_everything(aiohttp_client, make_settings, clock):
    settings = make_settings(github={"webhook_secret": ""})
    client = await aiohttp_client(create_app(settings, clock, run_workers=False))
    body = body_of(ISSUE)
    response = await client.post("/webhooks/github", data=body, headers=github_headers("issues", body))
    assert response.status == 401
    assert "COBOT_GITHUB_WEBHOOK_SECRET" in (await response.json())["error"]


async def test_invalid_json_is_400_and_recorded_as_rejected(client):
    body = b'{"action": "opened", "issue": '
    response = await client.post("/webhooks/github", data=body, headers=github_headers("issues", body, "bad-1"))
    assert response.status == 400
    assert "invalid JSON" in (await response.json())["error"]
    [delivery] = stored(client)
    assert (delivery.status, delivery.key, delivery.body) == ("rejected", "bad-1", body)
    assert "invalid JSON" in delivery.error


async def test_json_that_is_not_an_object_is_rejected(client):
    body = b"[1, 2, 3]"
    response = await client.post("/webhooks/github", data=body, headers=github_headers("issues", body))
    assert response.status == 400
    assert stored(client)[0].status == "rejected"


async def test_body_over_the_limit_is_413(aiohttp_client, make_settings, clock):
    settings = make_settings(server={"max_body_bytes": 1000})
    client = await aiohttp_client(create_app(settings, clock, run_workers=False))
    body = body_of({**ISSUE, "padding": "x" * 2000})
    response = await client.post("/webhooks/github", data=body, headers=github_headers("issues", body))
    assert response.status == 413
    assert stored(client) == []


async def test_default_limit_is_25_mb(client):
    body = b"x" * (25 * 1024 * 1024 + 1)
    response = await client.post("/webhooks/github", data=body, headers=github_headers("issues", body))
    assert response.status == 413


async def test_redelivery_is_200_and_stored_once(client):
    body = body_of(ISSUE)
    headers = github_headers("issues", body, "same-id")
    first = await client.post("/webhooks/github", data=body, headers=headers)
    again = await client.post("/webhooks/github", data=body, headers=headers)
    assert (first.status, again.status) == (202, 200)
    assert (await again.json())["status"] == "duplicate"
    assert count(client.app[COBOT].db, Delivery) == 1


async def test_concurrent_deliveries_are_all_stored(client):
    import asyncio

    bodies = [body_of({**ISSUE, "n": i}) for i in range(50)]
    responses = await asyncio.gather(*(client.post("/webhooks/github", data=b, headers=github_headers("issues", b))
                                       for b in bodies))
    assert [r.status for r in responses] == [202] * 50
    assert count(client.app[COBOT].db, Delivery) == 50


async def test_healthz(client):
    response = await client.get("/healthz")
    assert response.status == 200
    assert (await response.json())["status"] == "ok"
