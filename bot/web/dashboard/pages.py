"""The dashboard's pages: HTML rendered on the server (bot/templates/web/, autoescaped; bot.web.dashboard.layout), every
figure read through bot.web.dashboard.data and bot.web.dashboard.profiles by the API's Dashboard
(bot.web.dashboard.board: so pages and API share the slow reads kept a while), logins, sessions and CSRF tokens from
bot.web.auth. No JavaScript; the only asset is the stylesheet, served here. Routed here (`page_routes`); the campaigns'
pages are bot.web.dashboard.campaign_pages', the operations page and the maintainer actions' forms
bot.web.dashboard.operations_pages'.

    GET  /                                   headline numbers and their change, activity per day (an inline SVG),
                                             health, this week's newcomers
    GET  /contributors                       search (?q), newcomers (?new=true), ?platform, paging (?offset)
    GET  /contributors/{who}                 a profile: record, linked accounts, timeline, badges, campaigns
    GET  /leaderboard                        the most active (?days)
    GET  /campaigns, /campaigns/{name}       every campaign; one: tasks, participants and progress, standings
    GET  /digest                             the digest of a window (?since, until, language, campaign):
    GET  /digest/email                       its e-mail alone, for the digest page's sandboxed frame
    GET  /operations                         deliveries and outbox actions (?deliveries, d_offset, outbox, o_offset)
    GET  /login, POST /login                 the token form, and logging in (bot.web.login's `login`, its refusals
                                             shown here; POST /logout is bot.web.login's)
    POST /operations/deliveries/{id}/replay, /operations/outbox/{id}/retry, /operations/award,
         /campaigns/{name}/close             maintainer actions from forms: a login and its CSRF token

Every page takes `?lang=zh|en` (then remembered in a cookie; bot.web.dashboard.i18n). Reads follow `dashboard.public`: a
private dashboard (the default) sends visitors to /login. Refusals are pages too, with the status the API would
answer; the login form's while failed logins are throttled is the login page saying so (429), and a login whose
cookie the browser will not keep (plain HTTP while it is Secure) is the login page saying that.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web
from yarl import URL

from bot.config import Settings
from bot.web.access import Session, access
from bot.web.auth import login_of
from bot.web.dashboard import board as dashboard
from bot.web.dashboard import data, profiles
from bot.web.dashboard.board import DASHBOARD
from bot.web.dashboard.campaign_pages import campaign, campaigns, close
from bot.web.dashboard.charts import activity_chart
from bot.web.dashboard.i18n import chosen_language, default_language
from bot.web.dashboard.layout import (
    EMAIL_POLICY,
    ROWS,
    dashboard_of,
    page,
    page_links,
    plain_query,
    render,
    secure_headers,
)
from bot.web.dashboard.operations_pages import award, operations, replay, retry
from bot.web.dashboard.params import (
    LANGUAGES,
    MAX_DAYS,
    MAX_LIMIT,
    MAX_OFFSET,
    OVERVIEW_DAYS,
    boolean,
    choice,
    integer,
    moment,
    text,
)
from bot.web.errors import error
from bot.web.local_path import local_path
from bot.web.login import login

STATIC = Path(__file__).resolve().parent / "static"
LEADERBOARD_DAYS = (7, 30, 90, 365)
HEALTH = [("first_response_median_hours", "hours"), ("first_response_within_24h", "percent"),
          ("issue_resolution_median_hours", "hours"), ("pr_resolution_median_hours", "hours"),
          ("pr_acceptance_ratio", "percent"), ("new_contributors", "number"), ("returning_contributors", "number"),
          ("drive_by_contributors", "number"), ("inactive_contributors", "number"), ("absence_factor", "number"),
          ("bot_activity_share", "percent")]


# -- the pages ---------------------------------------------------------------------------------------------------


@page
async def overview(request: web.Request) -> web.StreamResponse:
    query = plain_query(request)
    days = integer(query, "days", OVERVIEW_DAYS, 1, MAX_DAYS)
    found = await dashboard_of(request).kept(data.overview, days=days)
    chart = activity_chart(found["activity"]["series"], found["activity"]["groups"])
    return render(request, "overview", overview=found, chart=chart, health=HEALTH, health_days=data.HEALTH_DAYS,
                  api_url=f"/api/overview?days={days}" if days != OVERVIEW_DAYS else "/api/overview")


@page
async def contributors(request: web.Request) -> web.StreamResponse:
    board = dashboard_of(request)
    query = plain_query(request)
    params = {"q": text(query, "q", empty=True), "new": boolean(query, "new"),
              "since": moment(query, "since", board.clock()),
              "platform": choice(query, "platform", data.PLATFORMS),
              "limit": integer(query, "limit", ROWS, 1, MAX_LIMIT),
              "offset": integer(query, "offset", 0, 0, MAX_OFFSET)}
    found = await board.read(profiles.contributors, **params)
    paging = page_links(found["total"], params["offset"], params["limit"], query.rel_url)
    return render(request, "contributors", found=found, params=params, paging=paging, platforms=data.PLATFORMS,
                  api_url=str(URL("/api/contributors").with_query(query.rel_url.query)))


@page
async def contributor(request: web.Request) -> web.StreamResponse:
    board = dashboard_of(request)
    query = plain_query(request)
    days = integer(query, "days", 30, 1, MAX_DAYS)
    who = request.match_info["who"]
    found = await dashboard.found(board.kept(profiles.profile, who, days=days))
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
    board = dashboard_of(request)
    query = plain_query(request)
    commands = board.settings.commands
    days = integer(query, "days", commands.leaderboard_days, 1, MAX_DAYS)
    limit = integer(query, "limit", commands.leaderboard_size, 1, MAX_LIMIT)
    found = await board.kept(data.leaderboard, days=days, limit=limit)
    choices = sorted({*LEADERBOARD_DAYS, commands.leaderboard_days, days})
    return render(request, "leaderboard", board=found, days=days, choices=choices,
                  api_url=f"/api/leaderboard?days={days}&limit={limit}")


async def _digest(request: web.Request) -> tuple[dict[str, Any], dict[str, Any]]:
    """The digest preview the query asks for (the API's parameters; the language defaults to the page's)."""
    board = dashboard_of(request)
    query = plain_query(request)
    now = board.clock()
    since, until = moment(query, "since", now), moment(query, "until", now)
    language = choice(query, "language", LANGUAGES) or chosen_language(request, board.settings)[0]
    name = text(query, "campaign")
    end = until or now
    start = since or end - data.WEEK
    if start >= end:
        raise error(400, "since: must be before until")
    if end - start > timedelta(days=MAX_DAYS):
        raise error(400, f"since: at most {MAX_DAYS} days before until")
    params = {"since": since, "until": until, "language": language, "campaign_name": name}
    found = await dashboard.found(board.kept(data.digest_preview, **params))
    return found, {"since": query.query.get("since", ""), "until": query.query.get("until", ""),
                   "language": language, "campaign": name or ""}


@page
async def digest(request: web.Request) -> web.StreamResponse:
    found, asked = await _digest(request)
    settings = dashboard_of(request).settings
    digests = [c.name for c in settings.campaigns if c.kind == "digest"]
    frame = URL("/digest/email").with_query({k: v for k, v in asked.items() if v})
    return render(request, "digest", digest=found, asked=asked, digests=digests, frame=str(frame),
                  api_url=str(URL("/api/digest/preview").with_query({k: v for k, v in asked.items() if v})))


@page
async def digest_email(request: web.Request) -> web.StreamResponse:
    found, _ = await _digest(request)
    response = web.Response(text=found["html"], content_type="text/html", charset="utf-8")
    secure_headers(response, EMAIL_POLICY)
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


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
    """`POST /login` (bot.web.login's `login`): what it answers a form on the login page is shown there."""
    return await login(request, page=_login_form)


def page_routes(app: web.Application, settings: Settings) -> list[web.RouteDef]:
    """The pages (nothing when `dashboard.enabled` is false); they read through the Dashboard that
    bot.web.dashboard.api's dashboard_routes installs."""
    if not settings.dashboard.enabled:
        return []

    board = app[DASHBOARD]

    def warm() -> None:
        """Beside the overview and the leaderboard (bot.web.dashboard.api warms them): each campaign's view and the
        digest preview in the default language, as the pages first ask for them."""
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
