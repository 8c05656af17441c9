"""The campaigns' pages: every campaign (`GET /campaigns`), one campaign's view (`GET /campaigns/{name}`: tasks,
participants and progress, standings), and closing one from its page (`POST /campaigns/{name}/close`, a maintainer
action; a dry run shows what closing would do on the campaign's page).
"""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import quote

from aiohttp import web
from yarl import URL

from bot.web.bodies import form_fields
from bot.web.dashboard import actions, data
from bot.web.dashboard import board as dashboard
from bot.web.dashboard.layout import dashboard_of, form_action, page, render, see_other
from bot.web.errors import error

TASK_STATES = ("open", "claimed", "submitted", "done")
CLOSABLE = ("scheduled", "running")


@page
async def campaigns(request: web.Request) -> web.StreamResponse:
    found = await dashboard_of(request).read(data.campaign_list)
    return render(request, "campaigns", campaigns=found["items"], api_url="/api/campaigns")


async def _campaign_page(request: web.Request, name: str, status: int = 200, **values: Any) -> web.Response:
    view = await dashboard.found(dashboard_of(request).kept(data.campaign, name))
    counts = Counter(task["state"] for task in view.get("tasks", []))
    return render(request, "campaign", status=status, view=view, task_counts=[(s, counts[s]) for s in TASK_STATES],
                  closable=view["status"] in CLOSABLE, here=URL(f"/campaigns/{quote(name)}"),
                  api_url=f"/api/campaigns/{quote(name)}", **values)


@page
async def campaign(request: web.Request) -> web.StreamResponse:
    return await _campaign_page(request, request.match_info["name"], closed=request.query.get("closed") == "1",
                                result=None)


def _checkbox(form: Any, name: str) -> bool:
    """A checkbox: checked ("on", or "true" as scripts send it), not sent, or "false"; 400 for anything else (so
    that no value closes a campaign for real by mistake)."""
    value = form.get(name)
    if value is None or value == "false":
        return False
    if value in ("on", "true"):
        return True
    raise error(400, f"{name}: on, true or false")


@form_action
async def close(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    form = await form_fields(request)
    dry_run = _checkbox(form, "dry_run")
    board = dashboard_of(request)
    result = await dashboard.acted(board.act(actions.close, board.db, board.settings, board.clock, name, dry_run))
    if not dry_run:
        raise see_other(f"/campaigns/{quote(name)}?closed=1")
    return await _campaign_page(request, name, closed=False, result=result)
