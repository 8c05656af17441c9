"""What `cobot campaign list|show` and Slack's `/cobot campaign` show: each kind's view (a JSON-able dict), and
that view as Markdown from `bot/templates/{zh,en}/campaigns/{hackathon,camp,leaderboard}_view.md.j2`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from bot.config import Settings
from bot.messages.render import render_message
from campaigns import registry


def campaign_views(conn: Connection, settings: Settings, now: datetime, only: str | None = None,
                   participant: str | None = None) -> list[dict[str, Any]]:
    return [registry.kind_of(campaign).view(campaign, conn, settings, now, participant)
            for campaign in settings.campaigns if only in (None, campaign.name)]


TEMPLATE_PREFIX = {"hackathon": "hackathon", "training_camp": "camp", "leaderboard": "leaderboard", "digest": "digest"}


def render_view(view: dict[str, Any], language: str) -> str:
    return render_message(f"campaigns/{TEMPLATE_PREFIX[view['kind']]}_view", language, view=view)
