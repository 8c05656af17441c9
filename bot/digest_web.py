"""The chart of a digest's week, as chat messages show it (they link it when `server.public_url` is set; e-mails
carry it inline):

    GET /digests/{name}/{week}/{key}.png   the address a digest's messages link: anyone holding it (a chat tool
                                           fetches images without a login), nobody else: `key` is random, 22
                                           characters, kept with the picture (campaigns.digest_chart)
    GET /digests/{name}/{week}.png         the same picture for whoever may read the dashboard (public, or a login)

What it costs a stranger: a chart is drawn once per campaign, week and language and kept in the store (every
replica and restart serves it from there); drawing happens in the slow reads' worker process (bot.web.apart, at a
lower priority; matplotlib is never imported by the serving process), one chart at a time per process, and at most
`QUEUE` different charts are being drawn or waiting: past that the answer is 503 with Retry-After. Asking for a
chart being drawn waits for that drawing. Only a week that can have a digest is drawn (campaigns.digest_chart's
`chart_period`: the campaign's weeks whose report is due, none before the first event it counts); anything else is
404 saying why, a login missing 401; never a 500. The address with a key serves only what is kept: it never draws.
A picture answered says how it came (`X-Cobot-Chart: kept` or `drawn`); this process also keeps the last `KEPT_HERE`
it served in memory, so asking again costs no database read.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import math
import re
import time
from collections import OrderedDict
from datetime import datetime

from aiohttp import web
from sqlalchemy import Connection

from bot.clock import Clock
from bot.config import Settings
from bot.store.db import Database
from bot.web.apart import SLOW_READS, shareable
from bot.web.auth import ACCESS, readable
from campaigns.base import Period
from campaigns.digest_chart import (
    Chart,
    NoChart,
    chart_days,
    chart_period,
    draw,
    first_activity,
    keep,
    kept,
    parse_week,
    week_png,
)
from campaigns.settings import DigestSettings

log = logging.getLogger("cobot.digest")

QUEUE = 4  # different charts being drawn (one at a time) or waiting for it, in one serving process
KEPT_HERE = 64  # charts also kept in this process's memory (the last served: about 2 MB), for ...
KEPT_HERE_SECONDS = 600.0  # ... this long at most (a chart whose row was deleted is drawn again after it)
FIRST_ACTIVITY_SECONDS = 600.0  # how long the moment of a campaign's first event is remembered here
KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")
PRIVATE = ("this digest's charts are not public: the digest's messages link each with its key "
           "(/digests/NAME/WEEK/KEY.png), or log in to the dashboard")
HEADERS = {"X-Content-Type-Options": "nosniff"}

Ident = tuple[str, str, str]  # campaign, week, language


class DigestCharts:
    """One serving process's charts: found in the store, or drawn (apart, one at a time, `QUEUE` at most)."""

    def __init__(self, settings: Settings, db: Database, clock: Clock) -> None:
        self._settings = settings
        self._db = db
        self._clock = clock
        self._drawing: dict[Ident, asyncio.Task[Chart]] = {}
        self._here: OrderedDict[Ident, tuple[float, Chart]] = OrderedDict()  # time.monotonic() when kept here
        self._one_at_a_time = asyncio.Lock()
        self._first: dict[str, tuple[float, datetime | None]] = {}  # campaign → (time.monotonic(), first event)
        self._seconds = 2.0  # how long drawing a chart took lately (for Retry-After)

    async def answer(self, request: web.Request) -> web.Response:
        """A week that has no chart is 404 whoever asks; one that has is 401 to whoever may not see it."""
        campaign = self._settings.campaign(request.match_info["name"])
        if not isinstance(campaign, DigestSettings):
            return _refusal(404, "there is no digest campaign of that name")
        week, key = request.match_info["week"], request.match_info.get("key")
        try:
            parse_week(week)
        except NoChart as why:
            return _refusal(404, str(why))
        if key is not None and not KEY.fullmatch(key):
            return _refusal(404, "there is no chart at this address")
        ident = (campaign.name, week, campaign.language or self._settings.community.language)
        try:
            found = self._kept_here(ident) or await asyncio.to_thread(self._look_up, campaign, ident, key is None)
        except NoChart as why:
            return _refusal(404, str(why))
        if key is not None:  # a key is only ever given out with a kept picture, and it is all it takes
            if not isinstance(found, Chart) or not hmac.compare_digest(found.key.encode(), key.encode()):
                return _refusal(404, "there is no chart at this address")
        elif not await _may_read(request):
            return _refusal(401, PRIVATE)
        if isinstance(found, Chart):
            self._keep_here(ident, found)
            return _picture(found, "kept", public=key is not None)
        if found is None:  # (not without a key: a chart, a week to draw, or NoChart)
            return _refusal(404, "there is no chart at this address")
        return await self._drawn(campaign, found, ident)

    def _look_up(self, campaign: DigestSettings, ident: Ident, may_draw: bool) -> Chart | Period | None:
        """The kept picture; else (`may_draw`) the week to draw, NoChart when there is none to draw."""
        with self._db.reading() as conn:
            found = kept(conn, *ident)
            if found is not None or not may_draw:
                return found
            period = chart_period(conn, campaign, ident[1], self._clock())
            first = self._first_activity(conn, campaign)
        if first is None:
            raise NoChart(f"nothing {campaign.name} counts has happened yet: there is no chart of {ident[1]}")
        if period.end <= first:
            raise NoChart(f"nothing {campaign.name} counts happened before {first.date().isoformat()}: there is no "
                          f"chart of {ident[1]}")
        return period

    def _kept_here(self, ident: Ident) -> Chart | None:
        found = self._here.get(ident)
        if found is None or time.monotonic() - found[0] > KEPT_HERE_SECONDS:
            return None
        self._here.move_to_end(ident)
        return found[1]

    def _keep_here(self, ident: Ident, chart: Chart) -> None:
        if ident not in self._here:
            self._here[ident] = (time.monotonic(), chart)
        while len(self._here) > KEPT_HERE:
            self._here.popitem(last=False)

    def _first_activity(self, conn: Connection, campaign: DigestSettings) -> datetime | None:
        remembered = self._first.get(campaign.name)
        if remembered is not None and time.monotonic() - remembered[0] < FIRST_ACTIVITY_SECONDS:
            return remembered[1]
        first = first_activity(conn, campaign)
        self._first[campaign.name] = (time.monotonic(), first)
        return first

    async def _drawn(self, campaign: DigestSettings, period: Period, ident: Ident) -> web.Response:
        task = self._drawing.get(ident)
        if task is None:
            if len(self._drawing) >= QUEUE:
                return _refusal(503, "charts are being drawn: try again shortly", retry=self._retry_after())
            task = asyncio.get_running_loop().create_task(self._draw(campaign, period, ident))
            self._drawing[ident] = task
            task.add_done_callback(lambda _: self._drawing.pop(ident, None))
        try:
            chart = await asyncio.shield(task)
        except Exception:  # (logged once, by the drawing)
            return _refusal(503, "the chart could not be drawn: try again later", retry=self._retry_after())
        self._keep_here(ident, chart)
        return _picture(chart, "drawn", public=False)

    async def _draw(self, campaign: DigestSettings, period: Period, ident: Ident) -> Chart:
        async with self._one_at_a_time:
            started = time.monotonic()
            try:
                png = await self._picture_of(campaign, period, ident[2])
                chart = await asyncio.to_thread(self._keep, ident, png)
            except Exception:
                log.exception("digest %s: the chart of %s could not be drawn", campaign.name, period.key)
                raise
            self._seconds = (self._seconds + time.monotonic() - started) / 2
            return chart

    async def _picture_of(self, campaign: DigestSettings, period: Period, language: str) -> bytes:
        """Read and drawn in the worker; a store it cannot open (SQLite in memory) is read here, drawn there."""
        if shareable(self._db.url):
            return await SLOW_READS.run(self._db.url, self._settings, self._clock(), week_png,
                                        (campaign.name, period.start, period.end, language), {})

        def read() -> list[tuple[str, dict[str, int]]]:
            with self._db.reading() as conn:
                return chart_days(conn, period.start, period.end, campaign.repo(), campaign.zone)
        return await SLOW_READS.call(draw, await asyncio.to_thread(read), language)

    def _keep(self, ident: Ident, png: bytes) -> Chart:
        with self._db.session() as session:
            return keep(session.connection(), *ident, png, self._clock())

    def _retry_after(self) -> int:
        return max(1, min(60, math.ceil(self._seconds * (len(self._drawing) + 1))))


async def _may_read(request: web.Request) -> bool:
    """Whether the request may read the dashboard (no dashboard: nobody may)."""
    return ACCESS in request.config_dict and await readable(request)


def _picture(chart: Chart, how: str, public: bool) -> web.Response:
    # A week's picture never changes: kept a year by whoever may keep it (with a key: anyone; else the reader).
    cache = "public, max-age=31536000, immutable" if public else "private, max-age=3600"
    return web.Response(body=chart.png, content_type="image/png",
                        headers={**HEADERS, "Cache-Control": cache, "X-Cobot-Chart": how})


def _refusal(status: int, message: str, retry: int | None = None) -> web.Response:
    headers = {**HEADERS, "Cache-Control": "no-store"}
    if retry is not None:
        headers["Retry-After"] = str(retry)
    return web.Response(status=status, text=message + "\n", headers=headers)


def digest_routes(settings: Settings, db: Database, clock: Clock) -> list[web.RouteDef]:
    charts = DigestCharts(settings, db, clock)
    return [web.get("/digests/{name}/{week}.png", charts.answer),
            web.get("/digests/{name}/{week}/{key}.png", charts.answer)]
