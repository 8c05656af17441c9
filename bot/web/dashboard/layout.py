"""How a dashboard page is made: its template (bot/templates/web/, autoescaped) rendered in the request's language
(bot.web.dashboard.i18n) with the layout's values, its security headers, refusals shown as pages with the status the API
would answer, and the two guards of the pages: `page` (a page that reads: a visitor of a private dashboard is sent to
/login) and `form_action` (a maintainer action from a form: a login and its CSRF token). Also what the pages share: a
query with its empty fields dropped (`plain_query`), the links of a paged list (`page_links`). """

from __future__ import annotations

import contextlib
import json
from functools import lru_cache, wraps
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from jinja2 import Environment, PackageLoader, StrictUndefined
from yarl import URL

from bot.community.people import profile_path
from bot.web.access import access
from bot.web.auth import check_change, current_session, guarded, readable
from bot.web.dashboard.board import DASHBOARD, Dashboard
from bot.web.dashboard.i18n import HTML_LANG, LANGUAGES, Texts, chosen_language, remember
from bot.web.errors import Handler

ROWS = 25  # a page of contributors, deliveries or outbox actions
# what a page may load and where its forms may go: nothing from elsewhere, no script, no inline style
PAGE_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src 'self'; form-action 'self'; "
               "base-uri 'none'; frame-ancestors 'none'")
# the digest's e-mail, framed by the digest page: its own inline styles and chart, in a sandbox (no script, no origin)
EMAIL_POLICY = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(loader=PackageLoader("bot", "templates/web"), undefined=StrictUndefined, autoescape=True,
                       auto_reload=False, trim_blocks=True, lstrip_blocks=True)


def dashboard_of(request: web.Request) -> Dashboard:
    return request.config_dict[DASHBOARD]


def render(request: web.Request, template: str, *, status: int = 200, here: URL | None = None,
           **values: Any) -> web.Response:
    """`template` (bot/templates/web/TEMPLATE.html.j2) in the request's language, with the layout's values: who is
    logged in, the CSRF token for forms, the language switch."""
    board = dashboard_of(request)
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
    secure_headers(response, PAGE_POLICY)
    if chosen:
        remember(response, language)
    return response


def secure_headers(response: web.StreamResponse, policy: str) -> None:
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


def plain_query(request: web.Request) -> web.Request:
    """The request with its empty query parameters dropped (a form's empty fields mean "not given"); the API's
    parameter readers then apply as they are."""
    kept = [(name, value) for name, value in request.query.items() if value != "" and name != "lang"]
    return request.clone(rel_url=request.rel_url.with_query(kept))


def page_links(total: int, offset: int, limit: int, url: URL, name: str = "offset") -> dict[str, Any]:
    """Where a page of `limit` from `offset` stands among `total`, with the links to the pages before and after."""
    def at(where: int) -> str:
        return str(url.update_query({name: str(where)}) if where else url.without_query_params(name))
    return {"total": total, "first": offset + 1 if total and offset < total else 0,
            "last": min(total, offset + limit), "page": offset // limit + 1, "pages": max(1, -(-total // limit)),
            "previous": at(max(0, offset - limit)) if offset > 0 else None,
            "next": at(offset + limit) if offset + limit < total else None}


def see_other(where: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(where)
