"""`GET /digests/{campaign}/{week}.png`: the chart of a digest's week, for chat messages to show (they link it when
`server.public_url` is set; e-mails carry it inline). Drawn from the store on request: nothing is kept."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta

from aiohttp import web

from bot.clock import Clock
from bot.config import Settings
from bot.store.db import Database
from campaigns.digest import build_digest, chart_png
from campaigns.settings import DigestSettings


def week_bounds(campaign: DigestSettings, key: str) -> tuple[datetime, datetime]:
    """`2026-W47` → its Monday 00:00 and the next, in the campaign's time zone; ValueError for anything else."""
    year, _, week = key.partition("-W")
    monday = date.fromisocalendar(int(year), int(week), 1)
    start = datetime.combine(monday, time(), campaign.zone)
    return start, start + timedelta(days=7)


def digest_routes(settings: Settings, db: Database, clock: Clock) -> list[web.RouteDef]:
    async def chart(request: web.Request) -> web.Response:
        campaign = settings.campaign(request.match_info["name"])
        if not isinstance(campaign, DigestSettings):
            raise web.HTTPNotFound(text="no such digest")
        try:
            since, until = week_bounds(campaign, request.match_info["week"])
        except ValueError:
            raise web.HTTPNotFound(text="a week is written 2026-W47") from None
        if until > clock():
            raise web.HTTPNotFound(text="that week is not over yet")
        language = campaign.language or settings.community.language

        def draw() -> bytes:
            with db.reading() as conn:
                return chart_png(build_digest(conn, settings, campaign, since, until, language), language)

        png = await asyncio.to_thread(draw)
        return web.Response(body=png, content_type="image/png", headers={"Cache-Control": "public, max-age=86400"})

    return [web.get("/digests/{name}/{week}.png", chart)]
