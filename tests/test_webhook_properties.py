"""Properties of both webhook endpoints, for any body and any headers (Hypothesis), through HTTP/1.1 sent by hand to
a real cobot app: the answer is never a 5xx; a request the forge's secret signs is stored (as received, ignored or
rejected: its answer names the row); a request it does not sign stores nothing."""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as tally
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.app.factory import COBOT, create_app
from bot.platforms.gitee import signature as gitee_signature
from bot.platforms.github import sign as github_sign
from bot.store.tables import Delivery
from tests.helpers import GITEE_SECRET, GITHUB_SECRET, gitee_timestamp
from tests.payloads import issue_event
from tests.raw_http import Answer, exchange, post

EXAMPLES = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# What a header value can hold: visible ASCII, tabs and any byte from 0x80 (not UTF-8, often); any text as UTF-8;
# and now and then any bytes at all (the server's parser refuses controls in a head: 400 before any endpoint).
header_bytes = st.lists(st.one_of(st.integers(0x20, 0x7E), st.integers(0x80, 0xFF), st.just(0x09)),
                        max_size=80).map(bytes)
header_text = st.text(st.characters(codec="utf-8", exclude_characters="\r\n\x00"), max_size=40).map(str.encode)
any_bytes = st.binary(max_size=40).map(lambda value: value.replace(b"\r", b"").replace(b"\n", b""))
header_value = st.one_of(header_bytes, header_text, header_bytes, any_bytes)
content_types = st.one_of(st.sampled_from([b"application/json", b"application/x-www-form-urlencoded",
                                           b"application/json; charset=utf-8", b"text/plain", b""]), header_value)

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                         st.text(max_size=30),
                         st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3))
json_values = st.recursive(json_scalars, lambda children: st.lists(children, max_size=4)
                           | st.dictionaries(st.text(max_size=10), children, max_size=4), max_leaves=25)


def _dumped(value: Any, ascii_only: bool) -> bytes:
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


def _nested(levels: int) -> bytes:
    return b'{"action": "opened", "x": ' + b"[" * levels + b"]" * levels + b"}"


@st.composite
def real_looking(draw: st.DrawFn) -> bytes:
    """A GitHub issue payload with some of its fields replaced by anything JSON holds."""
    payload: dict[str, Any] = issue_event(draw(st.sampled_from(["opened", "closed", "edited"])),
                                          draw(st.integers(1, 10**6)), "alice", created="2026-11-01T10:00:00Z")
    for _ in range(draw(st.integers(0, 3))):
        sections = [payload, *(payload[name] for name in ("issue", "sender", "repository")
                               if isinstance(payload.get(name), dict))]
        section = draw(st.sampled_from(sections))
        section[draw(st.sampled_from(sorted(section) + ["action", "extra"]))] = draw(json_values)
    return _dumped(payload, draw(st.booleans()))


bodies = st.one_of(
    st.binary(max_size=2000),
    real_looking(),
    real_looking(),
    st.builds(_dumped, st.dictionaries(st.text(max_size=10), json_values, max_size=6), st.booleans()),
    st.builds(_dumped, json_values, st.booleans()),
    st.integers(1, 3000).map(_nested),
    real_looking().map(lambda body: urlencode({"payload": body.decode("utf-8", "surrogatepass")},
                                              errors="surrogatepass").encode()),
    st.builds(lambda body, cut: body[:cut], real_looking(), st.integers(0, 400)),
)


def count_rows(client: Any) -> int:
    with client.app[COBOT].db.inbox.session() as session:
        return session.execute(select(func.count()).select_from(Delivery)).scalar_one()


def row_status(client: Any, *, delivery_id: int | None = None, key: str | None = None) -> str | None:
    where = Delivery.id == delivery_id if delivery_id is not None else Delivery.key == key
    with client.app[COBOT].db.inbox.session() as session:
        return session.execute(select(Delivery.status).where(where)).scalar_one_or_none()


def check_stored(client: Any, answer: Answer) -> None:
    """A signed request reached cobot: its answer names the row it is in."""
    assert answer.status in (200, 202, 400), answer
    found = answer.json()
    if found.get("delivery") is not None:
        expected = {202: "received", 400: "rejected", 200: "ignored"}[answer.status]
        assert row_status(client, delivery_id=found["delivery"]) == expected
    else:  # seen before: stored then
        assert "key" in found, answer
        assert row_status(client, key=found["key"]) is not None


def from_cobot(answer: Answer) -> bool:
    """cobot's own answer (JSON), not aiohttp refusing a head it cannot parse (those never reach an endpoint)."""
    return answer.headers.get("content-type", "").startswith("application/json")


@pytest.fixture
async def client(aiohttp_client, settings, clock):
    return await aiohttp_client(create_app(settings, clock, run_workers=False))


@EXAMPLES
@given(body=bodies, event=st.one_of(*[st.sampled_from([b"issues", b"ping", b"push", b"star"])] * 3, header_value),
       delivery=st.one_of(st.none(), header_value), content_type=content_types,
       signing=st.sampled_from(["right", "wrong", "garbage", "missing"]), garbage=header_value,
       extra=st.lists(st.tuples(st.sampled_from(["User-Agent", "X-GitHub-Hook-ID", "X-Whatever"]), header_value),
                      max_size=3))
async def test_github_endpoint_answers_any_request_and_loses_no_signed_one(client, body, event, delivery, content_type,
                                                                           signing, garbage, extra):
    headers: list[tuple[str, bytes | str]] = [("X-GitHub-Event", event), ("Content-Type", content_type), *extra]
    if delivery is not None:
        headers.append(("X-GitHub-Delivery", delivery))
    if signing != "missing":
        value = {"right": github_sign(GITHUB_SECRET, body).encode(),
                 "wrong": b"sha256=" + hashlib.sha256(body).hexdigest().encode(), "garbage": garbage}[signing]
        headers.append(("X-Hub-Signature-256", value))
    before = count_rows(client)

    answer = await exchange(client.port, post("/webhooks/github", headers, body))

    tally(f"{signing}: {answer.status}")
    assert answer.status < 500, answer
    if signing == "right" and from_cobot(answer):
        check_stored(client, answer)
    elif signing != "right":
        assert answer.status in (400, 401), answer
        assert count_rows(client) == before


gitee_bodies = st.one_of(
    bodies,
    st.builds(lambda body, field, value: body[:-1] + b', "' + field + b'": ' + value + b"}",
              real_looking(), st.sampled_from([b"password", b"sign", b"timestamp", b"pass\\u0077ord"]),
              st.sampled_from([json.dumps(GITEE_SECRET).encode(), b'"' + GITEE_SECRET.encode(), b"12"])),
)


@EXAMPLES
@given(body=gitee_bodies,
       event=st.one_of(*[st.sampled_from([b"Issue Hook", b"Push Hook", b"Note Hook", b"Tag Push Hook"])] * 3,
                       header_value),
       ping=st.one_of(st.sampled_from([b"true", b"false"]), header_value), content_type=content_types,
       signing=st.sampled_from(["signature", "password", "wrong", "stale", "missing"]), garbage=header_value)
async def test_gitee_endpoint_answers_any_request_and_loses_no_signed_one(client, clock, body, event, ping,
                                                                          content_type, signing, garbage):
    headers: list[tuple[str, bytes | str]] = [("X-Gitee-Event", event), ("X-Gitee-Ping", ping),
                                              ("Content-Type", content_type)]
    timestamp = gitee_timestamp(clock())
    if signing == "signature":
        headers += [("X-Gitee-Token", gitee_signature(GITEE_SECRET, timestamp)), ("X-Gitee-Timestamp", timestamp)]
    elif signing == "password":
        headers.append(("X-Gitee-Token", GITEE_SECRET))
    elif signing == "wrong":
        headers += [("X-Gitee-Token", garbage), ("X-Gitee-Timestamp", timestamp)]
    elif signing == "stale":
        old = str(int(timestamp) - 2 * 3600 * 1000)
        headers += [("X-Gitee-Token", gitee_signature(GITEE_SECRET, old)), ("X-Gitee-Timestamp", old)]
    before = count_rows(client)

    answer = await exchange(client.port, post("/webhooks/gitee", headers, body))

    tally(f"{signing}: {answer.status}")
    assert answer.status < 500, answer
    signed = signing in ("signature", "password")
    if signed and from_cobot(answer):
        check_stored(client, answer)
        with client.app[COBOT].db.inbox.session() as session:
            kept = session.execute(select(Delivery.body, Delivery.headers).order_by(Delivery.id.desc())).first()
        assert kept is not None and GITEE_SECRET.encode() not in kept[0] + json.dumps(kept[1]).encode()
    elif not signed:
        assert answer.status in (400, 401), answer
        assert count_rows(client) == before
