"""Gitee deliveries through a real aiohttp server: every real fixture, both authentication modes, secrets."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.app.factory import COBOT, create_app
from bot.clock import FakeClock
from bot.platforms.gitee import signature
from bot.store.tables import Delivery
from tests.helpers import GITEE_SECRET, body_of, count, gitee_headers, shared_fixture

FIXTURE_SECRET = "bBg5lrt03VixkX85CNqYIcecC0SIGASE"  # published by drone/go-scm's test (see SOURCES.md)
EVENT_BY_PREFIX = {"issue": "Issue Hook", "merge_request": "Merge Request Hook", "note": "Note Hook",
                   "push": "Push Hook", "tag_push": "Tag Push Hook"}
SIGNED_FILES = [f"{prefix}-{n}.json" for prefix, numbers in
                [("issue", 4), ("merge_request", 6), ("note", 2), ("push", 3), ("tag_push", 2)]
                for n in range(1, numbers + 1)]


def event_for(file_name: str) -> str:
    return EVENT_BY_PREFIX[file_name.rsplit("-", 1)[0]]


def fixture_request(file_name: str) -> tuple[bytes, dict[str, str], datetime]:
    body = shared_fixture("gitee", file_name).read_bytes()
    payload = json.loads(body)
    headers = {"X-Gitee-Event": event_for(file_name), "X-Gitee-Token": payload["sign"],
               "X-Gitee-Timestamp": payload["timestamp"], "User-Agent": "git-oschina-hook",
               "Content-Type": "application/json"}
    sent_at = datetime.fromtimestamp(int(payload["timestamp"]) / 1000, UTC)
    return body, headers, sent_at


def stored(client) -> list[Delivery]:
    with client.app[COBOT].db.inbox.session() as session:
        return list(session.execute(select(Delivery).order_by(Delivery.id)).scalars())


@pytest.mark.parametrize(("secret", "timestamp", "expected"), [
    ("bBg5lrt03VixkX85CNqYIcecC0SIGASE", "1633679083918", "Xvh4YPVe6l31XpDRL9J2yeaEXabsckIoUUschpXiVck="),
    ("437EBE55A75911E8", "1646657144174", "mNR0yK7W4UlZ4E4aehEVtupxLaE73siwbGgDVSloTVE="),
])
def test_signature_matches_gitee_test_vectors(secret, timestamp, expected):
    assert signature(secret, timestamp) == expected


@pytest.mark.parametrize("file_name", SIGNED_FILES)
async def test_every_real_gitee_delivery_is_accepted_without_its_secrets(aiohttp_client, make_settings, file_name,
                                                                         caplog):
    body, headers, sent_at = fixture_request(file_name)
    clock = FakeClock(sent_at + timedelta(seconds=2))
    settings = make_settings(gitee={"webhook_secret": FIXTURE_SECRET})
    client = await aiohttp_client(create_app(settings, clock, run_workers=False))
    caplog.set_level(logging.DEBUG)

    response = await client.post("/webhooks/gitee", data=body, headers=headers)

    assert response.status == 202, await response.text()
    [delivery] = stored(client)
    kept = json.loads(delivery.body)
    original = json.loads(body)
    assert not {"password", "sign", "timestamp"} & kept.keys()
    assert kept == {k: v for k, v in original.items() if k not in ("password", "sign", "timestamp")}
    for secret_text in (original["sign"], FIXTURE_SECRET):
        assert secret_text.encode() not in delivery.body
        assert secret_text not in json.dumps(delivery.headers)
        assert secret_text not in caplog.text
    assert (delivery.event, delivery.action) == (event_for(file_name), original.get("action"))


async def test_real_gitee_test_button_delivery_is_a_ping(aiohttp_client, make_settings):
    body = shared_fixture("gitee", "push-4.json").read_bytes()
    headers = json.loads(shared_fixture("gitee", "headers", "push-4.json").read_text())
    for dropped in ("Host", "Content-Length", "Accept-Encoding"):
        headers.pop(dropped)
    clock = FakeClock(datetime.fromtimestamp(1646657144174 / 1000, UTC) + timedelta(minutes=5))
    settings = make_settings(gitee={"webhook_secret": "437EBE55A75911E8"})
    client = await aiohttp_client(create_app(settings, clock, run_workers=False))

    response = await client.post("/webhooks/gitee", data=body, headers=headers)

    assert response.status == 200
    [delivery] = stored(client)
    assert (delivery.status, delivery.event) == ("ignored", "Push Hook")
    assert b"mNR0yK7W4UlZ4E4aehEVtupxLaE73siwbGgDVSloTVE=" not in delivery.body


async def test_the_same_gitee_delivery_resent_later_is_recognised(aiohttp_client, make_settings):
    """Gitee sends no delivery id; a resend carries a new timestamp and signature but the same event."""
    body, headers, sent_at = fixture_request("issue-1.json")
    clock = FakeClock(sent_at)
    settings = make_settings(gitee={"webhook_secret": FIXTURE_SECRET})
    client = await aiohttp_client(create_app(settings, clock, run_workers=False))
    first = await client.post("/webhooks/gitee", data=body, headers=headers)

    later = sent_at + timedelta(minutes=10)
    clock.now = later
    payload = json.loads(body)
    timestamp = str(int(later.timestamp() * 1000))
    payload.update(timestamp=timestamp, sign=signature(FIXTURE_SECRET, timestamp))
    resent = await client.post("/webhooks/gitee", data=body_of(payload),
                               headers={**headers, "X-Gitee-Timestamp": timestamp,
                                        "X-Gitee-Token": payload["sign"]})

    assert (first.status, resent.status) == (202, 200)
    assert count(client.app[COBOT].db, Delivery) == 1


@pytest.fixture
async def client(aiohttp_client, settings, clock):
    return await aiohttp_client(create_app(settings, clock, run_workers=False))


async def test_password_mode(client, clock):
    payload = {"hook_name": "push_hooks", "password": GITEE_SECRET, "ref": "refs/heads/main", "commits": []}
    headers = {"X-Gitee-Event": "Push Hook", "X-Gitee-Token": GITEE_SECRET}
    response = await client.post("/webhooks/gitee", data=body_of(payload), headers=headers)
    assert response.status == 202
    [delivery] = stored(client)
    assert GITEE_SECRET.encode() not in delivery.body


@pytest.mark.parametrize("headers_for", [
    pytest.param(lambda now: {"X-Gitee-Event": "Push Hook"}, id="no token"),
    pytest.param(lambda now: {"X-Gitee-Event": "Push Hook", "X-Gitee-Token": "wrong-password"}, id="wrong password"),
    pytest.param(lambda now: gitee_headers("Push Hook", now, secret="other"), id="signed with another secret"),
    pytest.param(lambda now: gitee_headers("Push Hook", now - timedelta(minutes=61)), id="timestamp 61 min old"),
    pytest.param(lambda now: gitee_headers("Push Hook", now + timedelta(minutes=61)), id="timestamp 61 min ahead"),
    pytest.param(lambda now: {**gitee_headers("Push Hook", now), "X-Gitee-Timestamp": ""}, id="no timestamp"),
])
async def test_bad_token_is_401_and_nothing_is_stored(client, clock, headers_for):
    response = await client.post("/webhooks/gitee", data=body_of({"ref": "refs/heads/main"}),
                                 headers=headers_for(clock()))
    assert response.status == 401
    assert stored(client) == []


async def test_timestamp_within_the_hour_is_accepted(client, clock):
    headers = gitee_headers("Push Hook", clock() - timedelta(minutes=59))
    response = await client.post("/webhooks/gitee", data=body_of({"ref": "refs/heads/main"}), headers=headers)
    assert response.status == 202


async def test_invalid_json_is_rejected_with_secrets_blanked(client, clock):
    body = b'{"password": "hunter2", "sign": "abc=", "timestamp": 1633679083918, "ref": '
    response = await client.post("/webhooks/gitee", data=body, headers=gitee_headers("Push Hook", clock()))
    assert response.status == 400
    [delivery] = stored(client)
    assert delivery.status == "rejected"
    for secret_text in (b"hunter2", b"abc=", b"1633679083918"):
        assert secret_text not in delivery.body


@pytest.mark.parametrize(("headers", "payload"), [
    ({"X-Gitee-Event": GITEE_SECRET}, {"action": "open"}),
    ({"X-Git-Oschina-Event": GITEE_SECRET}, {"action": "open"}),
    ({"X-Gitee-Event": "Issue Hook"}, {"action": GITEE_SECRET}),
    ({"X-Gitee-Event": f"x{GITEE_SECRET}y"}, {"action": f"a {GITEE_SECRET} b"}),
], ids=["event", "old event header", "action", "inside other text"])
async def test_the_password_is_stored_in_no_column_whatever_carries_it(aiohttp_client, settings, clock, headers,
                                                                        payload):
    """In password mode the request carries the secret itself: an event name or an action holding it is stored
    without it (issue 15, item 16: `cobot deliveries --json` printed it from the event, action and error columns)."""
    client = await aiohttp_client(create_app(settings, clock, run_workers=False))
    response = await client.post("/webhooks/gitee", data=body_of(payload),
                                 headers={**headers, "X-Gitee-Token": GITEE_SECRET, "Content-Type": "application/json"})
    assert response.status in (202, 400)
    client.app[COBOT].pipeline.process_due(limit=10, budget_seconds=10)
    [delivery] = stored(client)
    columns = (delivery.event, delivery.action or "", delivery.error or "", json.dumps(delivery.headers),
               delivery.body.decode())
    assert not any(GITEE_SECRET in column for column in columns), columns
