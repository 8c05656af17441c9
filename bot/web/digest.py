"""The chart of a digest's week, as chat messages show it (they link it when `server.public_url` is set; e-mails
carry it inline):

    GET /digests/{name}/{week}/{key}.png   the address a digest's messages link: anyone holding it (a chat tool
                                           fetches images without a login), nobody else: `key` is random, 22
                                           characters, kept with the picture (campaigns.digest_chart)
    GET /digests/{name}/{week}.png         the same picture for whoever may read the dashboard (public, or a login)

What it costs a stranger: on the plain address of a private dashboard, nothing: whether the request may read is
decided first (its login, if it sends one, is the only thing read), so anyone else is answered 401 for any week of
a digest campaign without the store being read (a malformed week, or a name that is no digest campaign, is 404
first: the settings say so). A chart is drawn once per campaign, week and language and kept in the store (every
replica and restart serves it from there); drawing happens in the slow reads' worker process (bot.web.apart, at a
lower priority; matplotlib is never imported by the serving process), one chart at a time per process, and at most
`QUEUE` different charts are being drawn or waiting to be: past that the answer is 503 with Retry-After. Asking for
a chart being drawn waits for that drawing. Only a week that can have a digest is drawn (campaigns.digest_chart's
`chart_period`: the campaign's weeks whose report is due, none before the first event it counts); anything else is
404 saying why; never a 500. The address with a key serves only what is kept: it never draws. A picture answered
says how it came (`X-Cobot-Chart: kept` or `drawn`); this process also keeps the last `KEPT_HERE` it served by each
address in memory (bot.web.cache.Memo), so asking again costs no database read.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import math
import re
import time
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from bot.clock import Clock
from bot.config import Settings
from bot.settings.campaigns import DigestSettings
from bot.store.db import Database
from bot.web.access import ACCESS
from bot.web.apart import SLOW_READS, shareable
from bot.web.auth import readable
from bot.web.cache import Memo
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

log = logging.getLogger("cobot.digest")

QUEUE = 4  # different charts being drawn (one at a time) or waiting for it, in one serving process
KEPT_HERE = 64  # charts also kept in this process's memory by each address (the last served: about 2 MB each), ...
KEPT_HERE_SECONDS = 600.0  # ... this long before the store is asked again (a chart whose row was deleted is drawn
#                            again after it)
FIRST_ACTIVITY_SECONDS = 600.0  # how long the moment of a campaign's first event is remembered here
KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")
PRIVATE = ("this digest's charts are not public: the digest's messages link each with its key "
           "(/digests/NAME/WEEK/KEY.png), or log in to the dashboard")
NOT_HERE = "there is no chart at this address"
HEADERS = {"X-Content-Type-Options": "nosniff"}

Ident = tuple[str, str, str]  # campaign, week, language


class Busy(Exception):
    """`QUEUE` charts are being drawn or waiting: no other is started now."""


class Undrawn(Exception):
    """Drawing the chart failed (logged where it failed)."""


@dataclass(frozen=True, slots=True)
class Found:
    chart: Chart
    how: str  # "kept" (in the store) or "drawn" (just now)


class DigestCharts:
    """One serving process's charts: found in the store, or drawn (apart, one at a time, `QUEUE` at most)."""

    def __init__(self, settings: Settings, db: Database, clock: Clock) -> None:
        self._settings = settings
        self._db = db
        self._clock = clock
        # kept here a while; asks for one being found or drawn wait for it (bot.web.cache)
        self._charts = Memo(clock, KEPT_HERE_SECONDS, kept=KEPT_HERE)  # the plain address's: found, or drawn
        self._linked = Memo(clock, KEPT_HERE_SECONDS, kept=KEPT_HERE)  # the keyed address's: found only
        self._first = Memo(clock, FIRST_ACTIVITY_SECONDS)  # campaign → when the first event it counts happened
        self._one_at_a_time = asyncio.Lock()
        self._drawings = 0  # charts being drawn or waiting to be
        self._asking = 0  # requests waiting for a chart being found or drawn
        self._seconds = 2.0  # how long drawing a chart took lately (for Retry-After)

    @property
    def queue(self) -> tuple[int, int]:
        """What is waiting: (different charts being drawn or waiting to be, requests waiting for a chart)."""
        return self._drawings, self._asking

    async def answer(self, request: web.Request) -> web.Response:
        """A malformed week, or no digest of that name: 404. Then, on the plain address, 401 to whoever may not
        read (before the store is read); 404 for a week that has no chart."""
        campaign = self._settings.campaign(request.match_info["name"])
        if not isinstance(campaign, DigestSettings):
            return _refusal(404, "there is no digest campaign of that name")
        week, key = request.match_info["week"], request.match_info.get("key")
        try:
            parse_week(week)
        except NoChart as why:
            return _refusal(404, str(why))
        ident = (campaign.name, week, campaign.language or self._settings.community.language)
        if key is not None:
            return await self._linked_chart(ident, key)
        if not await _may_read(request):
            return _refusal(401, PRIVATE)
        had = self._charts.holds(ident)
        self._asking += 1
        try:
            found = await self._charts.get(ident, lambda: self._find_or_draw(campaign, ident))
        except NoChart as why:
            return _refusal(404, str(why))
        except Busy:
            return _refusal(503, "charts are being drawn: try again shortly", retry=self._retry_after())
        except Undrawn:
            return _refusal(503, "the chart could not be drawn: try again later", retry=self._retry_after())
        finally:
            self._asking -= 1
        return _picture(found.chart, "kept" if had else found.how, public=False)

    async def _linked_chart(self, ident: Ident, key: str) -> web.Response:
        """A key is only ever given out with a kept picture, and it is all it takes."""
        if not KEY.fullmatch(key):
            return _refusal(404, NOT_HERE)
        try:
            chart = await self._linked.get(ident, lambda: asyncio.to_thread(self._stored, ident))
        except NoChart:
            return _refusal(404, NOT_HERE)
        if not hmac.compare_digest(chart.key.encode(), key.encode()):
            return _refusal(404, NOT_HERE)
        return _picture(chart, "kept", public=True)

    def _stored(self, ident: Ident) -> Chart:
        with self._db.reading() as conn:
            found = kept(conn, *ident)
        if found is None:
            raise NoChart(NOT_HERE)
        return found

    async def _find_or_draw(self, campaign: DigestSettings, ident: Ident) -> Found:
        """The kept picture; else, for a week that can have one, the picture drawn now (NoChart: there is none)."""
        found = await asyncio.to_thread(self._look_up, campaign, ident)
        if isinstance(found, Chart):
            return Found(found, "kept")
        first = await self._first.get(campaign.name, lambda: asyncio.to_thread(self._first_activity, campaign))
        if first is None:
            raise NoChart(f"nothing {campaign.name} counts has happened yet: there is no chart of {ident[1]}")
        if found.end <= first:
            raise NoChart(f"nothing {campaign.name} counts happened before {first.date().isoformat()}: there is no "
                          f"chart of {ident[1]}")
        if self._drawings >= QUEUE:
            raise Busy
        self._drawings += 1
        try:
            return Found(await self._draw(campaign, found, ident), "drawn")
        finally:
            self._drawings -= 1

    def _look_up(self, campaign: DigestSettings, ident: Ident) -> Chart | Period:
        """The kept picture, else the week to draw (NoChart when there is none)."""
        with self._db.reading() as conn:
            found = kept(conn, *ident)
            return found if found is not None else chart_period(conn, campaign, ident[1], self._clock())

    def _first_activity(self, campaign: DigestSettings) -> datetime | None:
        with self._db.reading() as conn:
            return first_activity(conn, campaign)

    async def _draw(self, campaign: DigestSettings, period: Period, ident: Ident) -> Chart:
        async with self._one_at_a_time:
            started = time.monotonic()
            try:
                png = await self._picture_of(campaign, period, ident[2])
                chart = await asyncio.to_thread(self._keep, ident, png)
            except Exception as error:
                log.exception("digest %s: the chart of %s could not be drawn", campaign.name, period.key)
                raise Undrawn(str(error)) from error
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
        return max(1, min(60, math.ceil(self._seconds * (self._drawings + 1))))


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
