"""The operations page (`GET /operations`: deliveries and outbox actions, ?deliveries, d_offset, outbox, o_offset)
and the maintainer actions from its forms: replaying a delivery, retrying an outbox action, awarding a badge (then
shown on the person's profile).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy import Connection

from bot.community.people import profile_path
from bot.config import Settings
from bot.store.tables import DELIVERY_STATUSES, OUTBOX_STATUSES
from bot.web.auth import current_session
from bot.web.bodies import form_fields
from bot.web.dashboard import actions, data
from bot.web.dashboard import board as dashboard
from bot.web.dashboard.i18n import chosen_language
from bot.web.dashboard.layout import ROWS, dashboard_of, form_action, page, page_links, plain_query, render, see_other
from bot.web.dashboard.params import MAX_ID, MAX_OFFSET, MAX_TEXT, choice, integer, path_id
from bot.web.errors import error


@page
async def operations(request: web.Request) -> web.StreamResponse:
    board = dashboard_of(request)
    query = plain_query(request)
    d_status = choice(query, "deliveries", DELIVERY_STATUSES)
    o_status = choice(query, "outbox", OUTBOX_STATUSES)
    d_offset = integer(query, "d_offset", 0, 0, MAX_OFFSET)
    o_offset = integer(query, "o_offset", 0, 0, MAX_OFFSET)
    replayed = integer(query, "replayed", 0, 0, MAX_ID)
    retried = integer(query, "retried", 0, 0, MAX_ID)
    maintainer = current_session(request) is not None
    language, _ = chosen_language(request, board.settings)
    reads: list[Awaitable[Any]] = [
        board.read(data.deliveries, status=d_status, limit=ROWS, offset=d_offset, inbox=True),
        board.read(data.outbox, status=o_status, limit=ROWS, offset=o_offset),
        board.read(data.deliveries, status="failed", limit=1, inbox=True),
        board.read(data.outbox, status="failed", limit=1),
        board.read(data.badges, language=language) if maintainer else _nothing(),
        _maybe(board.read(_delivery, replayed, inbox=True)) if replayed else _nothing(),
        _maybe(board.read(_outbox_action, retried)) if retried else _nothing()]
    deliveries, outbox, failed_deliveries, failed_outbox, badges, replay, retry = await asyncio.gather(*reads)
    return render(request, "operations", deliveries=deliveries, outbox=outbox,
                  failed={"deliveries": failed_deliveries["total"], "outbox": failed_outbox["total"]},
                  delivery_statuses=DELIVERY_STATUSES, outbox_statuses=OUTBOX_STATUSES, d_status=d_status,
                  o_status=o_status, badges=badges["badges"] if badges else [], replayed=replay, retried=retry,
                  d_paging=page_links(deliveries["total"], d_offset, ROWS, query.rel_url, "d_offset"),
                  o_paging=page_links(outbox["total"], o_offset, ROWS, query.rel_url, "o_offset"))


def _delivery(inbox: Connection, settings: Settings, now: datetime, delivery_id: int) -> dict[str, Any]:
    return data.delivery(inbox, delivery_id)


def _outbox_action(conn: Connection, settings: Settings, now: datetime, action_id: int) -> dict[str, Any]:
    return data.outbox_action(conn, settings, action_id)


async def _nothing() -> None:
    return None


async def _maybe(work: Awaitable[Any]) -> Any:
    """A read whose thing may be gone (None then)."""
    try:
        return await work
    except data.NotFound:
        return None


# -- maintainer actions from forms -------------------------------------------------------------------------------


@form_action
async def replay(request: web.Request) -> web.StreamResponse:
    delivery_id = path_id(request, "delivery_id")
    board = dashboard_of(request)
    await dashboard.acted(board.act(actions.replay, board.pipeline, delivery_id))
    raise see_other(f"/operations?replayed={delivery_id}#deliveries")


@form_action
async def retry(request: web.Request) -> web.StreamResponse:
    action_id = path_id(request, "action_id")
    board = dashboard_of(request)
    await dashboard.acted(board.act(actions.retry, board.db, board.settings, board.clock(), action_id))
    board.wake_outbox()
    raise see_other(f"/operations?retried={action_id}#outbox")


def _field(form: Any, name: str, required: bool = False) -> str | None:
    value = form.get(name)
    value = value.strip() if isinstance(value, str) else ""
    if not value:
        if required:
            raise error(400, f"{name}: missing")
        return None
    if len(value) > MAX_TEXT or not data.storable(value):
        raise error(400, f"{name}: 1 to {MAX_TEXT} characters (no NUL)")
    return value


@form_action
async def award(request: web.Request) -> web.StreamResponse:
    form = await form_fields(request)
    badge, user = _field(form, "badge", required=True), _field(form, "user", required=True)
    reason = _field(form, "reason")
    board = dashboard_of(request)
    done = await dashboard.acted(board.act(actions.award, board.db, board.settings, board.clock(), badge, user, reason))
    where = profile_path(done["person"]["id"])
    raise see_other(f"{where}?{urlencode({'awarded': done['badge'], 'new': '1' if done['new'] else '0'})}")
