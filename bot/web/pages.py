"""The dashboard's pages: HTML rendered on the server (bot/templates/web/, autoescaped), every figure read through
bot.web.data by the API's Dashboard (so pages and API share the slow reads kept a while), logins, sessions and
CSRF tokens from bot.web.auth. No JavaScript; the only asset is the stylesheet, served here.

    GET  /                                   headline numbers and their change, activity per day (an inline SVG),
                                             health, this week's newcomers
    GET  /contributors                       search (?q), newcomers (?new=true), ?platform, paging (?offset)
    GET  /contributors/{who}                 a profile: record, linked accounts, timeline, badges, campaigns
    GET  /leaderboard                        the most active (?days)
    GET  /campaigns, /campaigns/{name}       every campaign; one: tasks, participants and progress, standings
    GET  /digest                             the digest of a window (?since, until, language, campaign):
    GET  /digest/email                       its e-mail alone, for the digest page's sandboxed frame
    GET  /operations                         deliveries and outbox actions (?deliveries, d_offset, outbox, o_offset)
    GET  /login, POST /login                 the token form, and logging in (bot.web.auth's `login`, its refusals
                                             shown here; POST /logout is bot.web.auth's)
    POST /operations/deliveries/{id}/replay, /operations/outbox/{id}/retry, /operations/award,
         /campaigns/{name}/close             maintainer actions from forms: a login and its CSRF token

Every page takes `?lang=zh|en` (then remembered in a cookie; bot.web.i18n). Reads follow `dashboard.public`: a
private dashboard (the default) sends visitors to /login. Refusals are pages too, with the status the API would
answer; the login form's while failed logins are throttled is the login page saying so (429), and a login whose
cookie the browser will not keep (plain HTTP while it is Secure) is the login page saying that.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import Awaitable
from datetime import datetime, timedelta
from functools import lru_cache, wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from aiohttp import web
from jinja2 import Environment, PackageLoader, StrictUndefined
from sqlalchemy import Connection
from yarl import URL

from bot.cli.notify import OUTBOX_STATUSES
from bot.community.people import profile_path
from bot.config import Settings
from bot.store.tables import DELIVERY_STATUSES
from bot.web import actions, api, data
from bot.web.auth import (
    Handler,
    Session,
    access,
    check_change,
    current_session,
    error,
    form_fields,
    guarded,
    local_path,
    login,
    login_of,
    readable,
)
from bot.web.charts import activity_chart
from bot.web.i18n import HTML_LANG, LANGUAGES, Texts, chosen_language, default_language, remember

if TYPE_CHECKING:
    from bot.app.factory import Cobot

STATIC = Path(__file__).resolve().parent / "static"
ROWS = 25  # a page of contributors, deliveries or outbox actions
LEADERBOARD_DAYS = (7, 30, 90, 365)
HEALTH = [("first_response_median_hours", "hours"), ("first_response_within_24h", "percent"),
          ("issue_resolution_median_hours", "hours"), ("pr_resolution_median_hours", "hours"),
          ("pr_acceptance_ratio", "percent"), ("new_contributors", "number"), ("returning_contributors", "number"),
          ("drive_by_contributors", "number"), ("inactive_contributors", "number"), ("absence_factor", "number"),
          ("bot_activity_share", "percent")]
TASK_STATES = ("open", "claimed", "submitted", "done")
CLOSABLE = ("scheduled", "running")
# what a page may load and where its forms may go: nothing from elsewhere, no script, no inline style
PAGE_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src 'self'; form-action 'self'; "
               "base-uri 'none'; frame-ancestors 'none'")
# the digest's e-mail, framed by the digest page: its own inline styles and chart, in a sandbox (no script, no origin)
EMAIL_POLICY = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(loader=PackageLoader("bot", "templates/web"), undefined=StrictUndefined, autoescape=True,
                       auto_reload=False, trim_blocks=True, lstrip_blocks=True)


def _dashboard(request: web.Request) -> api.Dashboard:
    return request.config_dict[api.DASHBOARD]


def render(request: web.Request, template: str, *, status: int = 200, here: URL | None = None,
           **values: Any) -> web.Response:
    """`template` (bot/templates/web/TEMPLATE.html.j2) in the request's language, with the layout's values: who is
    logged in, the CSRF token for forms, the language switch."""
    board = _dashboard(request)
    language, chosen = chosen_language(request, board.settings)
    session = current_session(request)
    here = here or request.rel_url
    switch = {lang: str(here.update_query(lang=lang)) for lang in LANGUAGES}
    html = _environment().get_template(f"{template}.html.j2").render(
        t=Texts(language), lang=language, html_lang=HTML_LANG[language], switch=switch, path=request.path,
        here=str(here.with_query({k: v for k, v in here.query.items() if k != "lang"})),
        session=session, maintainer=session is not None, csrf=session.csrf_token if session else None,
        logins=access(request).logins, community=board.settings.community.name, profile_path=profile_path,
        **values)
    response = web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
    _secure(response, PAGE_POLICY)
    if chosen:
        remember(response, language)
    return response


def _secure(response: web.StreamResponse, policy: str) -> None:
    response.headers.update({"Content-Security-Policy": policy, "X-Content-Type-Options": "nosniff",
                             "Referrer-Policy": "same-origin", "Cache-Control": "no-store", "Vary": "Cookie"})


def _refusal(request: web.Request, refusal: web.HTTPException) -> web.Response:
    """An API refusal (JSON `{"error": …}`) as a page, with its status."""
    message = refusal.reason
    if refusal.content_type == "application/json" and refusal.text:
        with contextlib.suppress(ValueError):
            message = json.loads(refusal.text).get("error", message)
    return render(request, "error", status=refusal.status, code=refusal.status, message=message,
                  next=request.path_qs if request.method == "GET" else "/")


def page(handler: Handler) -> Handler:
    """A page that reads: a visitor of a private dashboard is sent to the login page; refusals become pages."""
    @wraps(handler)
    async def shown(request: web.Request) -> web.StreamResponse:
        if not await readable(request):
            raise web.HTTPSeeOther(f"/login?{urlencode({'next': request.path_qs})}")
        try:
            return await handler(request)
        except web.HTTPException as refusal:
            if refusal.status < 400:
                raise
            return _refusal(request, refusal)
    return guarded(shown, "read")


def form_action(handler: Handler) -> Handler:
    """A maintainer action from a form: 401 without a login, 403 without the session's CSRF token (as pages)."""
    @wraps(handler)
    async def done(request: web.Request) -> web.StreamResponse:
        try:
            await check_change(request)
            return await handler(request)
        except web.HTTPException as refusal:
            if refusal.status < 400:
                raise
            return _refusal(request, refusal)
    return guarded(done, "change")


def _query(request: web.Request) -> web.Request:
    """The request with its empty query parameters dropped (a form's empty fields mean "not given"); the API's
    parameter readers then apply as they are."""
    kept = [(name, value) for name, value in request.query.items() if value != "" and name != "lang"]
    return request.clone(rel_url=request.rel_url.with_query(kept))


def _paging(total: int, offset: int, limit: int, url: URL, name: str = "offset") -> dict[str, Any]:
    """Where a page of `limit` from `offset` stands among `total`, with the links to the pages before and after."""
    def at(where: int) -> str:
        return str(url.update_query({name: str(where)}) if where else url.without_query_params(name))
    return {"total": total, "first": offset + 1 if total and offset < total else 0,
            "last": min(total, offset + limit), "page": offset // limit + 1, "pages": max(1, -(-total // limit)),
            "previous": at(max(0, offset - limit)) if offset > 0 else None,
            "next": at(offset + limit) if offset + limit < total else None}


# -- the pages ---------------------------------------------------------------------------------------------------


@page
async def overview(request: web.Request) -> web.StreamResponse:
    query = _query(request)
    days = api.integer(query, "days", api.OVERVIEW_DAYS, 1, api.MAX_DAYS)
    found = await _dashboard(request).kept(data.overview, days=days)
    chart = activity_chart(found["activity"]["series"], found["activity"]["groups"])
    return render(request, "overview", overview=found, chart=chart, health=HEALTH, health_days=data.HEALTH_DAYS,
                  api_url=f"/api/overview?days={days}" if days != api.OVERVIEW_DAYS else "/api/overview")


@page
async def contributors(request: web.Request) -> web.StreamResponse:
    board = _dashboard(request)
    query = _query(request)
    params = {"q": api.text(query, "q", empty=True), "new": api.boolean(query, "new"),
              "since": api.moment(query, "since", board.clock()),
              "platform": api.choice(query, "platform", data.PLATFORMS),
              "limit": api.integer(query, "limit", ROWS, 1, api.MAX_LIMIT),
              "offset": api.integer(query, "offset", 0, 0, api.MAX_OFFSET)}
    found = await board.read(data.contributors, **params)
    paging = _paging(found["total"], params["offset"], params["limit"], query.rel_url)
    return render(request, "contributors", found=found, params=params, paging=paging, platforms=data.PLATFORMS,
                  api_url=str(URL("/api/contributors").with_query(query.rel_url.query)))


@page
async def contributor(request: web.Request) -> web.StreamResponse:
    board = _dashboard(request)
    query = _query(request)
    days = api.integer(query, "days", 30, 1, api.MAX_DAYS)
    who = request.match_info["who"]
    found = await api.found(board.kept(data.profile, who, days=days))
    language, _ = chosen_language(request, board.settings)
    catalogue = board.settings.badges.catalogue()
    for badge in found["badges"]:  # named in the page's language (the API names them in the dashboard's)
        if badge["badge"] in catalogue:
            badge["name"] = catalogue[badge["badge"]].name_in(language)
    awarded = query.query.get("awarded")
    notice = None
    if awarded and any(badge["badge"] == awarded for badge in found["badges"]):
        name = next(badge["name"] for badge in found["badges"] if badge["badge"] == awarded)
        notice = ("profile.award_notice" if query.query.get("new") == "1" else "profile.award_held", name)
    return render(request, "profile", person=found, notice=notice,
                  api_url="/api/contributors/" + quote(who, safe=":@"))


@page
async def leaderboard(request: web.Request) -> web.StreamResponse:
    board = _dashboard(request)
    query = _query(request)
    commands = board.settings.commands
    days = api.integer(query, "days", commands.leaderboard_days, 1, api.MAX_DAYS)
    limit = api.integer(query, "limit", commands.leaderboard_size, 1, api.MAX_LIMIT)
    found = await board.kept(data.leaderboard, days=days, limit=limit)
    choices = sorted({*LEADERBOARD_DAYS, commands.leaderboard_days, days})
    return render(request, "leaderboard", board=found, days=days, choices=choices,
                  api_url=f"/api/leaderboard?days={days}&limit={limit}")


@page
async def campaigns(request: web.Request) -> web.StreamResponse:
    found = await _dashboard(request).read(data.campaign_list)
    return render(request, "campaigns", campaigns=found["items"], api_url="/api/campaigns")


async def _campaign_page(request: web.Request, name: str, status: int = 200, **values: Any) -> web.Response:
    view = await api.found(_dashboard(request).kept(data.campaign, name))
    counts = Counter(task["state"] for task in view.get("tasks", []))
    return render(request, "campaign", status=status, view=view, task_counts=[(s, counts[s]) for s in TASK_STATES],
                  closable=view["status"] in CLOSABLE, here=URL(f"/campaigns/{quote(name)}"),
                  api_url=f"/api/campaigns/{quote(name)}", **values)


@page
async def campaign(request: web.Request) -> web.StreamResponse:
    return await _campaign_page(request, request.match_info["name"], closed=request.query.get("closed") == "1",
                                result=None)


async def _digest(request: web.Request) -> tuple[dict[str, Any], dict[str, Any]]:
    """The digest preview the query asks for (the API's parameters; the language defaults to the page's)."""
    board = _dashboard(request)
    query = _query(request)
    now = board.clock()
    since, until = api.moment(query, "since", now), api.moment(query, "until", now)
    language = api.choice(query, "language", api.LANGUAGES) or chosen_language(request, board.settings)[0]
    name = api.text(query, "campaign")
    end = until or now
    start = since or end - data.WEEK
    if start >= end:
        raise error(400, "since: must be before until")
    if end - start > timedelta(days=api.MAX_DAYS):
        raise error(400, f"since: at most {api.MAX_DAYS} days before until")
    params = {"since": since, "until": until, "language": language, "campaign_name": name}
    found = await api.found(board.kept(data.digest_preview, **params))
    return found, {"since": query.query.get("since", ""), "until": query.query.get("until", ""),
                   "language": language, "campaign": name or ""}


@page
async def digest(request: web.Request) -> web.StreamResponse:
    found, asked = await _digest(request)
    settings = _dashboard(request).settings
    digests = [c.name for c in settings.campaigns if c.kind == "digest"]
    frame = URL("/digest/email").with_query({k: v for k, v in asked.items() if v})
    return render(request, "digest", digest=found, asked=asked, digests=digests, frame=str(frame),
                  api_url=str(URL("/api/digest/preview").with_query({k: v for k, v in asked.items() if v})))


@page
async def digest_email(request: web.Request) -> web.StreamResponse:
    found, _ = await _digest(request)
    response = web.Response(text=found["html"], content_type="text/html", charset="utf-8")
    _secure(response, EMAIL_POLICY)
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@page
async def operations(request: web.Request) -> web.StreamResponse:
    board = _dashboard(request)
    query = _query(request)
    d_status = api.choice(query, "deliveries", DELIVERY_STATUSES)
    o_status = api.choice(query, "outbox", OUTBOX_STATUSES)
    d_offset = api.integer(query, "d_offset", 0, 0, api.MAX_OFFSET)
    o_offset = api.integer(query, "o_offset", 0, 0, api.MAX_OFFSET)
    replayed = api.integer(query, "replayed", 0, 0, api.MAX_ID)
    retried = api.integer(query, "retried", 0, 0, api.MAX_ID)
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
                  d_paging=_paging(deliveries["total"], d_offset, ROWS, query.rel_url, "d_offset"),
                  o_paging=_paging(outbox["total"], o_offset, ROWS, query.rel_url, "o_offset"))


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


async def login_page(request: web.Request) -> web.StreamResponse:
    after = local_path(request.query.get("next")) or "/"
    return _login_form(request, after, await login_of(request), failed=request.query.get("failed") == "1")


def _login_form(request: web.Request, after: str, session: Session | None, *, status: int = 200,
                failed: bool = False, retry_after: int | None = None, cookie_dropped: bool = False) -> web.Response:
    """The login page: its form (going on to `after`), or for a maintainer logged in already a link there; saying
    why a login was refused for a while (`retry_after`, 429), or that the browser will not keep the session's
    cookie (`cookie_dropped`: plain HTTP while it is Secure)."""
    response = render(request, "login", status=status, next=after, failed=failed, retry_after=retry_after,
                      private=not access(request).public and session is None, cookie_dropped=cookie_dropped,
                      logged_in=session is not None, expires=session.expires_at if session else None)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


async def log_in(request: web.Request) -> web.StreamResponse:
    """`POST /login` (bot.web.auth's `login`): what it answers a form on the login page is shown there."""
    return await login(request, page=_login_form)


# -- maintainer actions from forms -------------------------------------------------------------------------------


def _see_other(where: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(where)


@form_action
async def replay(request: web.Request) -> web.StreamResponse:
    delivery_id = api.path_id(request, "delivery_id")
    board = _dashboard(request)
    await api.acted(board.act(actions.replay, board.pipeline, delivery_id))
    raise _see_other(f"/operations?replayed={delivery_id}#deliveries")


@form_action
async def retry(request: web.Request) -> web.StreamResponse:
    action_id = api.path_id(request, "action_id")
    board = _dashboard(request)
    await api.acted(board.act(actions.retry, board.db, board.settings, board.clock(), action_id))
    board.wake_outbox()
    raise _see_other(f"/operations?retried={action_id}#outbox")


def _field(form: Any, name: str, required: bool = False) -> str | None:
    value = form.get(name)
    value = value.strip() if isinstance(value, str) else ""
    if not value:
        if required:
            raise error(400, f"{name}: missing")
        return None
    if len(value) > api.MAX_TEXT or not data.storable(value):
        raise error(400, f"{name}: 1 to {api.MAX_TEXT} characters (no NUL)")
    return value


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
async def award(request: web.Request) -> web.StreamResponse:
    form = await form_fields(request)
    badge, user = _field(form, "badge", required=True), _field(form, "user", required=True)
    reason = _field(form, "reason")
    board = _dashboard(request)
    done = await api.acted(board.act(actions.award, board.db, board.settings, board.clock(), badge, user, reason))
    where = profile_path(done["person"]["id"])
    raise _see_other(f"{where}?{urlencode({'awarded': done['badge'], 'new': '1' if done['new'] else '0'})}")


@form_action
async def close(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    form = await form_fields(request)
    dry_run = _checkbox(form, "dry_run")
    board = _dashboard(request)
    result = await api.acted(board.act(actions.close, board.db, board.settings, board.clock, name, dry_run))
    if not dry_run:
        raise _see_other(f"/campaigns/{quote(name)}?closed=1")
    return await _campaign_page(request, name, closed=False, result=result)


def page_routes(app: web.Application, cobot: Cobot) -> list[web.RouteDef]:
    """The pages (nothing when `dashboard.enabled` is false); they read through the Dashboard that
    bot.web.api.dashboard_routes installs."""
    settings = cobot.settings
    if not settings.dashboard.enabled:
        return []

    board = app[api.DASHBOARD]

    def warm() -> None:
        """Beside the overview and the leaderboard (bot.web.api warms them): each campaign's view and the digest
        preview in the default language, as the pages first ask for them."""
        for configured in settings.campaigns:
            board.warm(data.campaign, configured.name)
        board.warm(data.digest_preview, since=None, until=None, language=default_language(settings),
                   campaign_name=None)

    board.on_first_visit(warm)
    return [
        web.get("/", overview), web.get("/contributors", contributors), web.get("/contributors/{who}", contributor),
        web.get("/leaderboard", leaderboard), web.get("/campaigns", campaigns),
        web.get("/campaigns/{name}", campaign), web.get("/digest", digest), web.get("/digest/email", digest_email),
        web.get("/operations", operations), web.get("/login", login_page),
        web.post("/login", log_in),
        web.post("/operations/deliveries/{delivery_id}/replay", replay),
        web.post("/operations/outbox/{action_id}/retry", retry), web.post("/operations/award", award),
        web.post("/campaigns/{name}/close", close),
        web.static("/static", STATIC),
    ]
