"""The digest's chart over HTTP (`GET /digests/NAME/WEEK.png`, `/digests/NAME/WEEK/KEY.png`) against a real cobot
app: only weeks that can have a digest, 404 for anything else (never a 500); drawn once and kept in the store;
drawn in the slow reads' worker process, never in the serving one; a bounded queue of drawings (503 with
Retry-After past it) while /healthz answers; the digest draws its chart as it is sent and links it by an
unguessable address that works without a login, while the plain address obeys the dashboard's privacy."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, event, update

from bot.app.factory import create_app
from bot.store.campaign_tables import CampaignEvent, DigestChart
from bot.store.community_tables import Activity
from bot.store.tables import OutboxAction
from bot.web.apart import NICENESS, SLOW_READS
from bot.web.digest import KEPT_HERE_SECONDS, PRIVATE, QUEUE, DigestCharts
from campaigns.runner import CampaignRunner
from tests.helpers import body_of, count, eventually, free_port, github_headers, wait_healthy
from tests.payloads import issue_event
from tests.test_crash import start_server
from tests.test_digest import COMMUNITY, DIGEST, MONDAY, seed
from tests.test_web_openapi import Served

TOKEN = "chart-test-dashboard-token-0123456789"
DUE = MONDAY + timedelta(days=7, hours=9)  # Monday the 23rd, 09:00: the digest of 2026-W47 is due
PUBLIC = {"public": True}
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def world(make_harness, clock):
    """The seeded community of tests/test_digest.py (its digest began on 1 November; the first event counted is
    alice's PR of 27 October), at the moment the digest of 2026-W47 is due; the dashboard public."""
    clock.now = DUE
    harness = make_harness(community=COMMUNITY, campaigns=[DIGEST], dashboard=PUBLIC)
    seed(harness)
    return harness


async def get(client: Any, path: str, **headers: str) -> tuple[int, bytes, Any]:
    async with client.get(path, headers=headers) as response:
        return response.status, await response.read(), response.headers


def kept_charts(harness: Any) -> list[DigestChart]:
    return harness.rows(DigestChart, order=DigestChart.week)


# -- which weeks ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("week", "says"), [
    ("0001-W01", "begins on 2026-11-01"),  # was a 500 (OverflowError)
    ("9999-W52", "not due yet"),
    ("9999-W99", "no week of the calendar"),
    ("2026-W00", "no week of the calendar"),
    ("2026-W54", "no week of the calendar"),
    ("0000-W01", "no week of the calendar"),
    ("99999999999999999999-W01", "a week is written like 2026-W47"),
    ("2026-W" + "9" * 5000, "a week is written like 2026-W47"),
    ("2026-W48", "not due yet"),  # its digest is due on the 30th
    ("2026-W50", "not due yet"),
    ("2026-W43", "begins on 2026-11-01"),  # before the campaign
    ("2025-W47", "begins on 2026-11-01"),
    ("last-week", "a week is written like 2026-W47"),
    ("2026-w47", "a week is written like 2026-W47"),
    ("2026-W4\uff17", "a week is written like 2026-W47"),  # a full-width digit
    ("\u0662026-W47", "a week is written like 2026-W47"),  # an Arabic-Indic one
    ("+2026-W47", "a week is written like 2026-W47"),
    (" 2026-W47", "a week is written like 2026-W47"),
])
async def test_a_week_that_cannot_have_a_digest_is_404_saying_why(aiohttp_client, world, week, says):
    client = await aiohttp_client(create_app(world.settings, world.clock, run_workers=False))
    status, body, _ = await get(client, f"/digests/weekly/{quote(week)}.png")
    assert status == 404 and says in body.decode(), body
    status, body, _ = await get(client, f"/digests/weekly/{quote(week)}/{'k' * 22}.png")
    assert status == 404 and (says in body.decode() or body == b"there is no chart at this address\n"), body
    assert kept_charts(world) == []


async def test_weeks_before_anything_was_counted_are_404(aiohttp_client, make_harness, clock):
    clock.now = DUE
    early = {**DIGEST, "start": "2026-01-05T00:00:00Z"}  # the campaign began long before anything happened
    harness = make_harness(community=COMMUNITY, campaigns=[early], dashboard=PUBLIC)
    client = await aiohttp_client(create_app(harness.settings, clock, run_workers=False))
    status, body, _ = await get(client, "/digests/weekly/2026-W40.png")
    assert (status, body) == (404, b"nothing weekly counts has happened yet: there is no chart of 2026-W40\n")
    seed(harness)  # alice's PR of 27 October is the first event
    client = await aiohttp_client(create_app(harness.settings, clock, run_workers=False))
    status, body, _ = await get(client, "/digests/weekly/2026-W40.png")
    assert status == 404 and b"happened before 2026-10-27" in body
    assert (await get(client, "/digests/weekly/2026-W44.png"))[0] == 200  # 26 October to 1 November


async def test_weeks_after_the_campaign_ended_are_404(aiohttp_client, make_harness, clock):
    clock.now = DUE
    ended = {**DIGEST, "end": "2026-11-12T00:00:00Z"}  # its last report: Monday the 9th (2 to 8 November)
    harness = make_harness(community=COMMUNITY, campaigns=[ended], dashboard=PUBLIC)
    seed(harness)
    client = await aiohttp_client(create_app(harness.settings, clock, run_workers=False))
    for week in ("2026-W46", "2026-W47"):
        status, body, _ = await get(client, f"/digests/weekly/{week}.png")
        assert (status, body) == (404, f"weekly ended on 2026-11-12: there is no digest of {week}\n".encode())
    assert (await get(client, "/digests/weekly/2026-W45.png"))[0] == 200


async def test_unknown_digests_and_other_campaigns_are_404(aiohttp_client, make_harness, clock):
    clock.now = DUE
    board = {"name": "board", "kind": "leaderboard", "title": "Board", "start": "2026-11-01T00:00:00Z"}
    harness = make_harness(community=COMMUNITY, campaigns=[DIGEST, board], dashboard=PUBLIC)
    client = await aiohttp_client(create_app(harness.settings, clock, run_workers=False))
    for name in ("nope", "board", "x" * 3000):
        status, body, _ = await get(client, f"/digests/{name}/2026-W47.png")
        assert (status, body) == (404, b"there is no digest campaign of that name\n")


@given(week=st.text(max_size=40) | st.from_regex(r"\A[0-9]{1,6}-W[0-9]{1,4}\Z")
       | st.builds("{:04d}-W{:02d}".format, st.integers(0, 9999), st.integers(0, 99)),
       key=st.none() | st.text(max_size=80))
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_any_week_and_key_is_answered_200_404_or_503_never_another_5xx(served_world, week, key):
    """(401 too, for a week that has a chart, when the dashboard is private.)"""
    base, public = served_world
    path = f"/digests/weekly/{quote(week, safe='')}" + ("" if key is None else f"/{quote(key, safe='')}") + ".png"
    try:
        with urllib.request.urlopen(base + path, timeout=60) as response:
            status, headers = response.status, response.headers
            assert response.read().startswith(PNG)
    except urllib.error.HTTPError as refusal:
        status, headers = refusal.code, refusal.headers
    assert status in (200, 404, 503) or (status == 401 and not public and key is None), (path, status)
    if status == 503:
        assert int(headers["Retry-After"]) >= 1


@pytest.fixture(params=["public", "private"])
def served_world(request, make_harness, clock):
    """The world (its dashboard public, or private), its app served on 127.0.0.1 by a thread (for a client that is
    not asynchronous): its address, and whether it is public."""
    clock.now = DUE
    public = request.param == "public"
    harness = make_harness(community=COMMUNITY, campaigns=[DIGEST], dashboard={"public": public})
    seed(harness)
    with Served(create_app(harness.settings, clock, run_workers=False)) as served:
        yield served.base, public


@contextlib.contextmanager
def store_reads() -> Iterator[list[str]]:
    """The statements any engine of this process runs meanwhile on the tables a chart is found by (the charts
    kept, the campaign's window, the activity counted, the dashboard's sessions)."""
    tables = ("digest_chart", "campaign_state", "activity", "dashboard_session")
    found: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if any(table in statement for table in tables):
            found.append(statement)
    event.listen(Engine, "before_cursor_execute", seen)
    try:
        yield found
    finally:
        event.remove(Engine, "before_cursor_execute", seen)


async def test_to_a_stranger_of_a_private_dashboard_the_plain_address_is_401_before_the_store_is_read(
        aiohttp_client, make_harness, clock):
    """Whether the request may read is decided first: a stranger costs no read of the store, whatever week of a
    digest they ask for (only a malformed week or an unknown digest, which the settings tell, is 404)."""
    clock.now = DUE
    harness = make_harness(community=COMMUNITY, campaigns=[DIGEST], dashboard={"public": False, "token": TOKEN})
    seed(harness)
    client = await aiohttp_client(create_app(harness.settings, clock, run_workers=False))
    with store_reads() as reads:
        for week in ("0001-W01", "9999-W52", "2026-W48", "2026-W47", "2026-W46", "2026-W44"):
            status, body, _ = await get(client, f"/digests/weekly/{week}.png")
            assert (status, body.decode()) == (401, PRIVATE + "\n"), week
        for path in ("/digests/weekly/2026-W00.png", "/digests/weekly/last-week.png", "/digests/nope/2026-W47.png"):
            assert (await get(client, path))[0] == 404, path
    assert reads == []
    assert count(harness.db, DigestChart) == 0
    reader = {"Authorization": f"Bearer {TOKEN}"}  # a maintainer: why a week has no chart, and the chart
    for week, says in (("0001-W01", "begins on 2026-11-01"), ("9999-W52", "not due yet"), ("2026-W48", "not due")):
        status, body, _ = await get(client, f"/digests/weekly/{week}.png", **reader)
        assert status == 404 and says in body.decode(), week
    status, body, _ = await get(client, "/digests/weekly/2026-W47.png", **reader)
    assert status == 200 and body.startswith(PNG) and count(harness.db, DigestChart) == 1


# -- drawn once, kept ----------------------------------------------------------------------------------------------


async def test_a_chart_is_drawn_once_then_served_from_the_store(aiohttp_client, world):
    client = await aiohttp_client(create_app(world.settings, world.clock, run_workers=False))
    status, first, headers = await get(client, "/digests/weekly/2026-W47.png")
    assert status == 200 and first.startswith(PNG) and headers["Content-Type"] == "image/png"
    assert headers["X-Cobot-Chart"] == "drawn"
    [chart] = kept_charts(world)
    assert (chart.campaign, chart.week, chart.language, chart.png) == ("weekly", "2026-W47", "en", first)
    assert chart.drawn_at == DUE and re.fullmatch(r"[A-Za-z0-9_-]{22}", chart.key)

    world.clock.advance(7 * 86400)
    status, again, headers = await get(client, "/digests/weekly/2026-W47.png")
    assert (status, again, headers["X-Cobot-Chart"]) == (200, first, "kept")
    assert [(c.drawn_at, c.key) for c in kept_charts(world)] == [(DUE, chart.key)]

    marked = first + b"kept"  # what the store holds is what another replica, or a restart, serves
    with world.db.session() as session:
        session.execute(update(DigestChart).values(png=marked))
    restarted = await aiohttp_client(create_app(world.settings, world.clock, run_workers=False))
    status, body, headers = await get(restarted, "/digests/weekly/2026-W47.png")
    assert (status, body, headers["X-Cobot-Chart"]) == (200, marked, "kept")
    assert count(world.db, DigestChart) == 1


async def test_a_chart_served_is_kept_here_so_asking_again_reads_nothing(aiohttp_client, world):
    client = await aiohttp_client(create_app(world.settings, world.clock, run_workers=False))
    assert (await get(client, "/digests/weekly/2026-W47.png"))[2]["X-Cobot-Chart"] == "drawn"
    [chart] = kept_charts(world)
    linked = f"/digests/weekly/2026-W47/{chart.key}.png"
    assert (await get(client, linked))[:2] == (200, chart.png)
    with store_reads() as reads:
        for _ in range(3):
            assert (await get(client, "/digests/weekly/2026-W47.png"))[:2] == (200, chart.png)
            assert (await get(client, linked))[:2] == (200, chart.png)
            assert (await get(client, f"/digests/weekly/2026-W47/{'x' * 22}.png"))[0] == 404
    assert reads == []

    with world.db.session() as session:  # its row deleted: once what was kept here is old, it is drawn again
        session.execute(DigestChart.__table__.delete())
    world.clock.advance(KEPT_HERE_SECONDS + 1)
    status, body, headers = await get(client, "/digests/weekly/2026-W47.png")  # (what was kept; redrawn meanwhile)
    assert (status, body, headers["X-Cobot-Chart"]) == (200, chart.png, "kept")
    await eventually(lambda: count(world.db, DigestChart) == 1, message="the chart drawn again")
    [again] = kept_charts(world)
    assert again.key != chart.key and again.png == chart.png


def charts_of(app: web.Application) -> DigestCharts:
    """The app's digest charts (what its chart routes answer with)."""
    [charts] = {route.handler.__self__ for route in app.router.routes()
                if isinstance(getattr(route.handler, "__self__", None), DigestCharts)}
    return charts


async def until(condition: Callable[[], bool], what: str) -> None:
    """Until `condition()` holds, looked at as the event loop runs the requests (a minute at most: a failure)."""
    try:
        async with asyncio.timeout(60):
            while not condition():
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"never: {what}") from None


async def test_many_asking_for_one_week_share_one_drawing(aiohttp_client, world, tmp_path):
    """Twelve requests for one week take one place in the queue: the other weeks still find theirs."""
    app = create_app(world.settings, world.clock, run_workers=False)
    client = await aiohttp_client(app)
    charts = charts_of(app)
    released = tmp_path / "released"
    busy = asyncio.ensure_future(SLOW_READS.call(hold, str(released)))  # nothing is drawn until released
    try:
        same = [asyncio.ensure_future(get(client, "/digests/weekly/2026-W46.png")) for _ in range(12)]
        others = [asyncio.ensure_future(get(client, f"/digests/weekly/{week}.png"))
                  for week in ("2026-W44", "2026-W45", "2026-W47")[:QUEUE - 1]]
        # every request is waiting for its chart, and the queue holds one drawing a week: none was refused
        await until(lambda: charts.queue == (QUEUE, 12 + QUEUE - 1), "all waiting, the queue full")
        assert not any(task.done() for task in same + others)
    finally:
        released.touch()
        await busy
    answers = await asyncio.gather(*same)
    assert [(status, headers["X-Cobot-Chart"]) for status, _, headers in answers] == [(200, "drawn")] * 12
    assert len({body for _, body, _ in answers}) == 1
    assert {status for status, _, _ in await asyncio.gather(*others)} == {200}
    assert count(world.db, DigestChart) == QUEUE
    assert charts.queue == (0, 0)


async def test_a_chart_drawn_on_request_is_the_digests_own(aiohttp_client, make_harness, clock):
    """A digest sent on Wednesdays reports on Wednesday to Tuesday: the chart asked for by its week is of the same
    seven days as the one the digest drew (the same picture, byte for byte)."""
    clock.now = MONDAY + timedelta(days=9, hours=9)  # Wednesday the 25th: the digest of 18 to 24 November is due
    harness = make_harness(community=COMMUNITY, campaigns=[{**DIGEST, "weekday": "wednesday"}], dashboard=PUBLIC)
    seed(harness)
    CampaignRunner(harness.db, harness.settings, clock).tick("weekly")
    [sent] = kept_charts(harness)
    assert sent.week == "2026-W47"
    with harness.db.session() as session:
        session.execute(DigestChart.__table__.delete())
    client = await aiohttp_client(create_app(harness.settings, clock, run_workers=False))
    status, body, headers = await get(client, "/digests/weekly/2026-W47.png")
    assert (status, headers["X-Cobot-Chart"]) == (200, "drawn") and body == sent.png


# -- the digest's own address, and who may see the plain one ------------------------------------------------------


async def test_the_digest_draws_its_chart_as_it_is_sent_and_links_it_by_an_unguessable_address(
        aiohttp_client, make_harness, clock):
    clock.now = DUE
    harness = make_harness(community=COMMUNITY, campaigns=[DIGEST], server={"public_url": "https://cobot.example"},
                           dashboard={"token": TOKEN, "public": False}, notify={
                               "channels": {"hook": {"kind": "webhook", "url": "https://hooks.example.org/x"}},
                               "rules": [{"topics": ["digest"], "channels": ["hook"]}]})
    seed(harness)
    CampaignRunner(harness.db, harness.settings, clock).tick("weekly")
    [chart] = kept_charts(harness)
    [note] = harness.rows(OutboxAction, OutboxAction.kind == "notify")
    address = f"https://cobot.example/digests/weekly/2026-W47/{chart.key}.png"
    assert f"]({address})" in note.payload["body"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", chart.key)  # 128 random bits
    assert base64.b64decode(note.payload["attachments"][0][2]) == chart.png  # the e-mail's inline picture

    client = await aiohttp_client(create_app(harness.settings, clock, run_workers=False))
    status, body, headers = await get(client, address.removeprefix("https://cobot.example"))  # no login
    assert (status, body, headers["X-Cobot-Chart"]) == (200, chart.png, "kept")
    assert "public" in headers["Cache-Control"]
    for wrong in (chart.key[:-1] + ("A" if chart.key[-1] != "A" else "B"), "x" * 22, chart.key[:10]):
        assert (await get(client, f"/digests/weekly/2026-W47/{wrong}.png"))[0] == 404
    assert (await get(client, f"/digests/weekly/2026-W46/{chart.key}.png"))[0] == 404  # another week's
    assert count(harness.db, DigestChart) == 1  # an address with a key never draws

    status, body, _ = await get(client, "/digests/weekly/2026-W47.png")  # the plain address: the dashboard's rule
    assert status == 401 and b"log in to the dashboard" in body
    assert (await get(client, "/digests/weekly/2026-W46.png"))[0] == 401
    assert count(harness.db, DigestChart) == 1  # a stranger draws nothing
    status, body, headers = await get(client, "/digests/weekly/2026-W47.png", Authorization=f"Bearer {TOKEN}")
    assert (status, body) == (200, chart.png) and "private" in headers["Cache-Control"]


async def test_without_a_dashboard_only_the_digests_addresses_answer(aiohttp_client, make_harness, clock):
    clock.now = DUE
    harness = make_harness(community=COMMUNITY, campaigns=[DIGEST], dashboard={"enabled": False, "public": True})
    seed(harness)
    CampaignRunner(harness.db, harness.settings, clock).tick("weekly")
    [chart] = kept_charts(harness)
    client = await aiohttp_client(create_app(harness.settings, clock, run_workers=False))
    assert (await get(client, "/digests/weekly/2026-W47.png"))[0] == 401
    assert (await get(client, f"/digests/weekly/2026-W47/{chart.key}.png"))[:2] == (200, chart.png)


# -- the cost of asking --------------------------------------------------------------------------------------------


def hold(path: str) -> None:
    """Keep the slow reads' worker busy until `path` exists (run there: module-level, so it travels by name)."""
    import time

    while not Path(path).exists():
        time.sleep(0.01)


async def test_many_weeks_at_once_draw_a_few_refuse_the_rest_and_healthz_answers(aiohttp_client, make_harness,
                                                                                clock, tmp_path):
    clock.now = DUE
    year = {**DIGEST, "start": "2025-11-03T00:00:00Z"}  # 55 weeks have a digest
    harness = make_harness(community=COMMUNITY, campaigns=[year], dashboard=PUBLIC)
    harness.deliver("issues", issue_event("opened", 1, "alice", created="2025-10-01T10:00:00Z"))
    app = create_app(harness.settings, clock, run_workers=False)
    client = await aiohttp_client(app)
    weeks = [f"{monday.isocalendar()[0]}-W{monday.isocalendar()[1]:02d}"
             for monday in (datetime(2025, 11, 3, tzinfo=UTC) + timedelta(weeks=n) for n in range(30))]
    released = tmp_path / "released"
    busy = asyncio.ensure_future(SLOW_READS.call(hold, str(released)))  # the worker draws nothing meanwhile
    try:
        asking = [asyncio.ensure_future(get(client, f"/digests/weekly/{week}.png")) for week in weeks]
        waiting: set[asyncio.Future[Any]] = set(asking)
        async with asyncio.timeout(60):  # (a failure: the refusals are answered at once)
            while len(waiting) > QUEUE:  # until all but the queue's are answered
                _, waiting = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        assert charts_of(app).queue == (QUEUE, QUEUE)  # those left wait for the worker, one drawing each
        for _ in range(3):
            status, body, _ = await get(client, "/healthz")
            assert status == 200
        refused = [task.result() for task in asking if task not in waiting]
        assert all(status == 503 and int(headers["Retry-After"]) >= 1 for status, _, headers in refused)
        assert not any(task.done() for task in waiting)
    finally:
        released.touch()
        await busy
    answers = await asyncio.gather(*asking)
    drawn = [headers["X-Cobot-Chart"] for status, _, headers in answers if status == 200]
    assert drawn == ["drawn"] * QUEUE
    assert count(harness.db, DigestChart) == QUEUE


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_digest_draws_its_chart_before_its_tick_takes_the_write_lock(aiohttp_client, make_harness, clock,
                                                                                tmp_path):
    """The scheduler ticks the digest as the app starts: its chart waits for the slow reads' worker (held busy
    here) before the tick's transaction opens, so meanwhile the inbox pipeline stores what a webhook brings (on
    SQLite a transaction holds the one write lock: the first drawing, which starts the worker and imports
    matplotlib, took seconds of it). Released, the digest is sent with its chart, kept with it."""
    clock.now = DUE
    harness = make_harness(community=COMMUNITY, campaigns=[DIGEST])
    seed(harness)
    released = tmp_path / "released"
    busy = asyncio.ensure_future(SLOW_READS.call(hold, str(released)))
    try:
        await until(lambda: SLOW_READS.under_way == 1, "the worker held")
        client = await aiohttp_client(create_app(harness.settings, clock))  # the scheduler ticks the digest
        await until(lambda: SLOW_READS.under_way == 2, "the digest's chart waiting for the worker")
        body = body_of(issue_event("opened", 40, "dora", created="2026-11-23T08:00:00Z"))
        response = await client.post("/webhooks/github", data=body, headers=github_headers("issues", body))
        assert response.status == 202
        await eventually(lambda: count(harness.db, Activity, Activity.person == "github:dora") == 1,
                         message="the delivery processed while the chart is being drawn")
        assert SLOW_READS.under_way == 2 and count(harness.db, DigestChart) == 0
        assert count(harness.db, CampaignEvent) == 0  # the digest's week not recorded yet: not a thing written
    finally:
        released.touch()
        await busy
    await eventually(lambda: count(harness.db, CampaignEvent, CampaignEvent.key == "digest:2026-W47") == 1,
                     message="the digest sent")
    [chart] = kept_charts(harness)
    assert (chart.week, chart.drawn_at) == ("2026-W47", DUE) and chart.png.startswith(PNG)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_serving_process_never_draws(tmp_path, database_url, make_harness, clock):
    """A real `cobot serve` (the inbox worker and the scheduler in threads of the serving process): after it served
    a chart it drew, matplotlib is mapped into its slow reads' worker and not into the server."""
    clock.now = DUE
    harness = make_harness(community=COMMUNITY, campaigns=[DIGEST])
    seed(harness)
    config = tmp_path / "config.toml"
    config.write_text('[community]\nname = "Rocket"\n[inbox]\nworker = "thread"\n[dashboard]\npublic = true\n'
                      '[[campaigns]]\nname = "weekly"\nkind = "digest"\nstart = "2026-11-01T00:00:00Z"\n')
    port = free_port()
    server = start_server(config, port, database_url)
    try:
        await wait_healthy(port)
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/digests/weekly/2026-W46.png") as response:
                assert response.status == 200 and response.headers["X-Cobot-Chart"] == "drawn"
                assert (await response.read()).startswith(PNG)
            async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 200
        assert "matplotlib" not in Path(f"/proc/{server.pid}/maps").read_text()
        drawing = [child for child in children(server.pid)
                   if os.getpriority(os.PRIO_PROCESS, child) == min(19, os.nice(0) + NICENESS)]
        assert [child for child in drawing if "matplotlib" in Path(f"/proc/{child}/maps").read_text()]
    finally:
        server.kill()
        server.wait()
    assert [c.week for c in kept_charts(harness)][:1] == ["2026-W46"]


def children(pid: int) -> list[int]:
    """The processes `pid` started, from any of its threads (the scheduler's tick may start the worker)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):  # a thread that ended meanwhile
            found += [int(child) for child in (task / "children").read_text().split()]
    return found
