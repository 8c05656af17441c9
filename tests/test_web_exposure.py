"""A cobot must face the internet, so its dashboard is private unless made public, and `cobot serve` says at start-up
what it serves to whom (issue 15, item 10): with the defaults, nobody reads deliveries, the outbox, timelines or any
page without a login; the start-up statement, read from a real `cobot serve`, names every route's audience."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import web

from bot.app.factory import create_app
from bot.web.auth import reader
from bot.web.exposure import statement
from tests.helpers import free_port, stop

TOKEN = "exposure-maintainers-token-0123"
READS = ["/api/overview", "/api/contributors", "/api/contributors/alice", "/api/leaderboard", "/api/campaigns",
         "/api/digest/preview", "/api/deliveries", "/api/outbox", "/api/badges", "/api/openapi.json"]
PAGES = ["/", "/contributors", "/contributors/alice", "/leaderboard", "/campaigns", "/digest", "/digest/email",
         "/operations"]


async def test_the_dashboard_is_private_by_default(aiohttp_client, make_settings, clock):
    for configured in ({}, {"token": TOKEN}):  # without a token nobody can log in, so nobody reads at all
        settings = make_settings(dashboard=configured) if configured else make_settings()
        assert settings.dashboard.public is False
        client = await aiohttp_client(create_app(settings, clock, run_workers=False))
        for path in READS:
            response = await client.get(path)
            assert response.status == 401, path
            assert (await response.json())["error"].startswith("a login is needed")
        for path in PAGES:
            response = await client.get(path, allow_redirects=False)
            assert response.status == 303, path
            location = urlsplit(response.headers["Location"])
            assert (location.path, parse_qs(location.query)) == ("/login", {"next": [path]})
        session = await (await client.get("/api/session")).json()
        assert session["public"] is False
    assert (await client.get("/api/deliveries", headers={"Authorization": f"Bearer {TOKEN}"})).status == 200


def levels_and_lines(settings: Any, app: Any) -> dict[str, int]:
    return {line: level for level, line in statement(settings, app.router)}


GUARDED = ["/api/overview", "/api/contributors", "/api/contributors/{who}", "/api/leaderboard", "/api/campaigns",
           "/api/campaigns/{name}", "/api/digest/preview", "/api/deliveries", "/api/outbox", "/api/badges",
           "/api/openapi.json", "/api/deliveries/{delivery_id}/replay", "/api/outbox/{action_id}/retry",
           "/api/badges/award", "/api/campaigns/{name}/close", "/api/sessions/revoke",
           "/", "/contributors", "/contributors/{who}", "/leaderboard", "/campaigns", "/campaigns/{name}", "/digest",
           "/digest/email", "/operations", "/operations/deliveries/{delivery_id}/replay",
           "/operations/outbox/{action_id}/retry", "/operations/award"]  # (/campaigns/{name}/close: a page's POST)


async def test_the_statement_names_every_route(make_settings, clock):
    settings = make_settings(dashboard={"token": TOKEN})
    app = create_app(settings, clock, run_workers=False)
    said = "\n".join(levels_and_lines(settings, app))
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if path.startswith(("/webhooks/", "/slack/")):
            assert path in said, path
    assert "the dashboard (" in said and "/ and /api/): private: every page and /api/ needs a login" in said
    counted = int(said.split("the dashboard (", 1)[1].split(" ", 1)[0])
    assert counted == len(GUARDED) + 1  # (+ /campaigns/{name}/close)
    anyone = next(line for line in said.splitlines() if line.startswith("open to anyone: "))
    for path in ("/healthz", "/badges/", "/digests", "/static", "/login", "/logout", "/api/session"):
        assert path in anyone, path


async def test_the_statement_goes_by_the_guard_a_route_has_not_where_it_was_written(aiohttp_client, make_settings,
                                                                                     clock):
    """A route is the dashboard's when a dashboard guard wraps its handler (what keeps strangers out), whatever
    module it is in; one without is said to be open to anyone, path by path."""
    settings = make_settings(dashboard={"token": TOKEN})
    app = create_app(settings, clock, run_workers=False)

    async def report(request: web.Request) -> web.Response:
        return web.Response(text="numbers")
    app.router.add_get("/report", report)
    app.router.add_get("/guarded-report", reader(report))
    said = levels_and_lines(settings, app)
    anyone = next(line for line in said if line.startswith("open to anyone: "))
    assert "/report" in anyone.split(", ") and "/guarded-report" not in anyone
    dashboard = next(line for line in said if line.startswith("the dashboard ("))
    assert dashboard.startswith(f"the dashboard ({len(GUARDED) + 2} pages and API routes")
    client = await aiohttp_client(app)
    assert (await client.get("/report")).status == 200
    assert (await client.get("/guarded-report")).status == 401


def serve_statement(tmp_path: Path, *args: str, public: bool = False, public_url: str = "") -> dict[str, str]:
    """Start `cobot serve` as an operator does, read what it says at start-up (until it tells the cookie's rule),
    and stop it: each line (from "serving on" on), with its level."""
    config = tmp_path / "cobot.toml"
    config.write_text("\n".join([
        "[server]", f'public_url = "{public_url}"',
        "[database]", f'url = "sqlite:///{tmp_path / "cobot.db"}"',
        "[inbox]", 'worker = "thread"', "[scheduler]", "enabled = false",
        "[dashboard]", f"public = {'true' if public else 'false'}", ""]), encoding="utf-8")
    env = {**os.environ, "COBOT_DASHBOARD_TOKEN": TOKEN}
    for name in ("COBOT_GITHUB_TOKEN", "COBOT_GITEE_TOKEN", "COBOT_DATABASE_URL", "COBOT_CONFIG"):
        env.pop(name, None)
    server = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--config", str(config), *args],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(60, server.kill)
    watchdog.start()
    said: dict[str, str] = {}
    try:
        assert server.stderr is not None
        for raw in server.stderr:
            if " cobot: " not in raw:
                continue
            level, line = raw.split(" ", 3)[2], raw.split(" cobot: ", 1)[1].rstrip("\n")
            said[line] = level
            if line.startswith("its session cookie: "):
                break
    finally:
        watchdog.cancel()
        stop(server)
    return said


def line_starting(said: dict[str, str], start: str) -> tuple[str, str]:
    [(line, level)] = [(line, level) for line, level in said.items() if line.startswith(start)]
    return line, level


def test_cobot_serve_says_what_it_serves_to_whom(tmp_path):
    port = free_port()
    said = serve_statement(tmp_path, "--port", str(port))
    assert line_starting(said, "serving on ") == (
        f"serving on 127.0.0.1:{port} (this machine only); public address: none (server.public_url is empty)", "INFO")
    anyone, level = line_starting(said, "open to anyone: ")
    assert level == "INFO" and anyone.startswith("open to anyone: /healthz (health), ")
    assert (f"/badges/ (Open Badges documents and images, issued as http://127.0.0.1:{port} (from [server]: set "
            "server.public_url to the address verifiers reach))") in anyone
    for named in ("/digests (digest charts)", "/static (the dashboard's stylesheet)", "/login (logging in)"):
        assert named in anyone
    signed, _ = line_starting(said, "open to anyone, refused unless signed with their secret: ")
    assert "/webhooks/github" in signed and "/webhooks/gitee" in signed and "/slack/commands" in signed
    assert line_starting(said, "the dashboard (")[0].endswith(
        "private: every page and /api/ needs a login with the dashboard token (COBOT_DASHBOARD_TOKEN)")
    assert line_starting(said, "its session cookie: ")[0].startswith("its session cookie: not Secure for a browser "
                                                                     "on this machine, Secure through a proxy")


def test_cobot_serve_on_every_address_with_a_public_dashboard_warns(tmp_path):
    said = serve_statement(tmp_path, "--host", "0.0.0.0", "--port", str(free_port()), public=True)
    assert "(every address of this machine)" in line_starting(said, "serving on ")[0]
    anyone, level = line_starting(said, "open to anyone: ")
    assert level == "WARNING" and "refused (503) until server.public_url is set" in anyone
    dashboard, level = line_starting(said, "the dashboard (")
    assert level == "WARNING" and "PUBLIC (dashboard.public = true): anyone reads every page" in dashboard
    # a Secure cookie no browser over plain HTTP keeps: logins would loop without a word, so it is a warning
    assert line_starting(said, "its session cookie: ") == (
        "its session cookie: Secure (HTTPS only): cobot listens beyond this machine and server.public_url is "
        "empty, so a browser reaching it over plain http:// drops the cookie and cannot log in (the login says so): "
        "serve it behind TLS and set server.public_url to its https:// address", "WARNING")


@pytest.mark.parametrize(("public_url", "cookie", "level"), [
    ("https://cobot.example.org", "Secure (HTTPS only): server.public_url is https://", "INFO"),
    ("http://cobot.example.org", "not Secure: server.public_url is http:// (set it to the https:// address behind "
                                 "TLS)", "WARNING")])
def test_cobot_serve_names_its_public_address(tmp_path, public_url, cookie, level):
    said = serve_statement(tmp_path, "--port", str(free_port()), public_url=public_url)
    assert line_starting(said, "serving on ")[0].endswith(f"public address: {public_url}")
    assert f"issued as {public_url})" in line_starting(said, "open to anyone: ")[0]
    assert line_starting(said, "its session cookie: ") == (f"its session cookie: {cookie}", level)
