"""What a running cobot serves to whom: `cobot serve` says it at start-up, so that whoever puts it on the internet
reads what anyone may reach there.

    settings = listening(settings, host, port)   # the address given on the command line, as the app must know it
    for level, line in statement(settings, app.router): log.log(level, line)

Every route of the router is in the statement: the webhook endpoints (signed by their sender), the dashboard (the
routes whose handler a dashboard guard wraps, which tags it: bot.web.auth's `guard_of`; private unless
`dashboard.public`), and everything else, open to anyone, named path by path (so a route added tomorrow without a
guard is named there too, as what it is: open to anyone).
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot.config import Settings
from bot.web.access import loopback
from bot.web.auth import guard_of
from bot.web.badges import base_url

SIGNED = ("/webhooks/", "/slack/")
WHAT = {"/healthz": "health", "/badges": "Open Badges documents and images", "/digests": "digest charts",
        "/static": "the dashboard's stylesheet", "/login": "logging in", "/logout": "logging out",
        "/api/session": "whether the request is logged in"}


def listening(settings: Settings, host: str | None, port: int | None) -> Settings:
    """`settings` with the address `cobot serve` was told to listen on (its --host and --port), which the addresses
    of badge documents and the cookie's `Secure` rule go by."""
    server = settings.server.model_copy(update={
        "host": host if host is not None else settings.server.host,
        "port": port if port is not None else settings.server.port})
    return settings.model_copy(update={"server": server})


def _route_paths(router: web.UrlDispatcher) -> list[tuple[str, bool]]:
    """Each route's path, and whether a dashboard guard wraps its handler (any of the path's methods; HEAD routes
    left out)."""
    found: dict[str, bool] = {}
    for route in router.routes():
        if route.method == "HEAD" or route.resource is None:
            continue
        path = route.resource.canonical
        found[path] = found.get(path, False) or guard_of(route.handler) is not None
    return list(found.items())


def _group(path: str) -> str:
    """The prefix a path is named by: `/badges/{badge_id}` → `/badges`."""
    for prefix in WHAT:
        if path == prefix or path.startswith(prefix + "/"):
            return prefix
    return path


def statement(settings: Settings, router: web.UrlDispatcher) -> list[tuple[int, str]]:
    """What an app of these settings serves to whom by its router's routes, a line for each audience, with its
    logging level (a warning for what may surprise: a public dashboard, a cookie that is not Secure beyond this
    machine or one a browser over plain HTTP drops, badge documents without an address)."""
    server, dashboard = settings.server, settings.dashboard
    where = f"{server.host}:{server.port}"
    scope = "this machine only" if loopback(server.host) else "every address of this machine"
    lines = [(logging.INFO, f"serving on {where} ({scope}); public address: "
                            f"{server.public_url or 'none (server.public_url is empty)'}")]
    signed, pages, anyone = [], [], []
    for path, guarded in _route_paths(router):
        if path.startswith(SIGNED):
            signed.append(path)
        elif guarded:
            pages.append(path)
        elif (group := _group(path)) not in anyone:
            anyone.append(group)
    described = []
    for group in anyone:
        if group == "/badges":
            base = base_url(settings)
            issued = (f"issued as {base}" + ("" if server.public_url else " (from [server]: set server.public_url "
                                                                            "to the address verifiers reach)")
                      if base else "refused (503) until server.public_url is set")
            described.append(f"/badges/ ({WHAT[group]}, {issued})")
        else:
            described.append(f"{group} ({WHAT[group]})" if group in WHAT else group)
    unaddressed = "/badges" in anyone and base_url(settings) is None
    lines.append((logging.WARNING if unaddressed else logging.INFO, "open to anyone: " + ", ".join(described)))
    if signed:
        lines.append((logging.INFO, "open to anyone, refused unless signed with their secret: " + ", ".join(signed)))
    if pages:
        if dashboard.public:
            access = ("PUBLIC (dashboard.public = true): anyone reads every page and GET /api/ (deliveries and "
                      "their errors, outbox actions, contributors' timelines); changes need a login")
        elif dashboard.token:
            access = "private: every page and /api/ needs a login with the dashboard token (COBOT_DASHBOARD_TOKEN)"
        else:
            access = "private, and nobody can log in: no dashboard token (COBOT_DASHBOARD_TOKEN)"
        lines.append((logging.WARNING if dashboard.public else logging.INFO,
                      f"the dashboard ({len(pages)} pages and API routes, / and /api/): {access}"))
        level, cookie = _cookie(settings)
        lines.append((level, "its session cookie: " + cookie))
    return lines


def _cookie(settings: Settings) -> tuple[int, str]:
    public_url = settings.server.public_url
    if public_url.startswith("https://"):
        return logging.INFO, "Secure (HTTPS only): server.public_url is https://"
    if public_url:
        return logging.WARNING, "not Secure: server.public_url is http:// (set it to the https:// address behind TLS)"
    if not loopback(settings.server.host):
        return logging.WARNING, ("Secure (HTTPS only): cobot listens beyond this machine and server.public_url is "
                                 "empty, so a browser reaching it over plain http:// drops the cookie and cannot log "
                                 "in (the login says so): serve it behind TLS and set server.public_url to its "
                                 "https:// address")
    return logging.INFO, ("not Secure for a browser on this machine, Secure through a proxy (a Forwarded or "
                          "X-Forwarded-* header); behind TLS, set server.public_url to the https:// address")
