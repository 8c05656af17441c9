"""The dashboard end to end, as a maintainer uses it: the real app served on 127.0.0.1 (a free port, in a thread) over
a SQLite store filled through the real pipeline (tests/test_web_pages.py's community, with a delivery that failed
during an outage), driven in Debian's headless Chromium by Playwright. Log in with the token, open every page,
switch to Chinese and back, replay the failed delivery with its button and see it processed; the overview's
screenshot is kept as artifacts/overview.png. The login page's "Back" link, and the redirect after logging in, lead
to this site for any `next` (Hypothesis), as Chromium itself reads them. Skipped where Chromium or Playwright is
missing."""

from __future__ import annotations

import asyncio
import shutil
import struct
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from aiohttp import web
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.app.factory import create_app
from bot.clock import FakeClock
from bot.config import settings_from_mapping
from bot.store.community_tables import Thread
from bot.store.tables import Delivery
from tests.helpers import GITEE_SECRET, GITHUB_SECRET, Harness
from tests.test_web_pages import TOKEN, World, fill, sections
from tests.test_web_redirects import ELSEWHERE

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
TIMEOUT_MS = 15_000

if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
    pytest.skip(f"no Chromium at {CHROMIUM} (Debian's chromium package)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed "
                                                             "(pip install playwright; never `playwright install`)")


class Server:
    """The app on 127.0.0.1 at a free port, served by its own event loop in a thread."""

    def __init__(self, app: web.Application) -> None:
        self._app = app
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="dashboard-e2e", daemon=True)
        self._ready = threading.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._runner = web.AppRunner(self._app)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._runner.cleanup())
        self._loop.close()

    def start(self) -> None:
        self._thread.start()
        assert self._ready.wait(30), "the server did not start"

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)


@dataclass
class Site:
    world: World
    url: str
    page: Any


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("e2e")
    clock = FakeClock(NOW)
    mapping: dict[str, Any] = {
        "database": {"url": f"sqlite:///{folder / 'cobot.db'}"},
        "inbox": {"worker": "thread"},
    }
    for name, values in sections(NOW).items():
        mapping[name] = values if isinstance(values, list) else {**mapping.get(name, {}), **values}
    mapping["github"] = {**mapping["github"], "webhook_secret": GITHUB_SECRET}
    mapping["gitee"] = {**mapping["gitee"], "webhook_secret": GITEE_SECRET}
    settings = settings_from_mapping(mapping, "e2e", env={})
    harness = Harness(settings, clock)
    world = fill(harness, NOW)
    server = Server(create_app(settings, clock, run_workers=False))  # nothing is sent anywhere
    server.start()
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            yield Site(world, server.url, page)
            context.close()
            browser.close()
    finally:
        server.stop()
        harness.close()


def heading(page: Any) -> str:
    return page.locator("h1").first.inner_text().strip()


def logged_in(site: Site) -> Any:
    """The maintainer's page, logged in (through the login form, unless it is already)."""
    page = site.page
    page.goto(site.url + "/login?lang=en")
    if page.get_by_label("Token").count():
        page.get_by_label("Token").fill(TOKEN)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(site.url + "/")
    return page


def test_a_visitor_reads_the_overview_and_sees_no_buttons(site: Site) -> None:
    context = site.page.context.browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(site.url + "/?lang=en")
    assert heading(page) == "Overview"
    assert page.locator("#number-contributors .value").inner_text() == "4"
    assert page.locator("svg.activity rect.bar").count() == 7
    page.goto(site.url + "/operations")
    assert page.locator("form[method=post]").count() == 0
    assert page.get_by_text("Log in as a maintainer to replay, retry or award.").is_visible()
    context.close()


def test_a_maintainer_logs_in_and_opens_every_page(site: Site) -> None:
    page = site.page
    page.goto(site.url + "/")
    page.get_by_role("link", name="Log in").click()
    page.get_by_label("Token").fill("not-the-token-at-all")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_text("That token is not right.").is_visible()
    page.get_by_label("Token").fill(TOKEN)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(site.url + "/")
    assert page.get_by_text("Logged in as a maintainer").is_visible()

    page.get_by_role("link", name="Contributors").click()
    page.get_by_label("Login or name").fill("ali")
    page.get_by_role("button", name="Search").click()
    assert page.locator("#found").inner_text().startswith("1 contributors")
    page.get_by_role("link", name="Alice", exact=True).click()
    assert heading(page) == "Alice"
    assert "ali (shown as Ali Chen)" in page.locator("#accounts").inner_text()
    assert "Rank 1, 20 points" in page.locator("#campaign-hack").inner_text()

    page.get_by_role("link", name="Leaderboard").click()
    page.get_by_label("Window").select_option("7")
    page.get_by_role("button", name="Apply").click()
    assert "over the last 7 days" in page.locator("#window").inner_text()
    assert page.locator("tbody tr").first.inner_text().split("\t")[:2] == ["1", "Alice"]

    page.get_by_role("link", name="Campaigns").click()
    page.get_by_role("link", name="Rocket Hackathon").click()
    assert [page.locator(f"#tasks-{state} .value").inner_text() for state in ("open", "claimed", "submitted",
                                                                               "done")] == ["1", "1", "1", "1"]
    assert page.get_by_role("button", name="Close").is_visible()  # a maintainer's, with its dry run

    page.get_by_role("link", name="Digest").click()
    assert heading(page) == "Digest preview"
    email = page.frame_locator("iframe.email")
    assert email.locator("h2").first.inner_text() == "Rocket"
    assert "**Rocket**" in page.locator("pre.markdown").inner_text()

    page.get_by_role("link", name="Operations").click()
    failed = page.locator(f"#delivery-{site.world.failed_delivery}")
    assert "failed" in failed.inner_text()
    assert failed.get_by_role("button", name=f"Replay delivery {site.world.failed_delivery}").is_visible()


def test_the_language_switches_to_chinese_and_back(site: Site) -> None:
    page = site.page
    page.goto(site.url + "/leaderboard")
    page.get_by_role("link", name="中文").click()
    assert heading(page) == "排行榜" and page.locator("html").get_attribute("lang") == "zh-CN"
    page.get_by_role("link", name="概览").click()  # remembered on the next page
    assert heading(page) == "概览"
    assert page.locator("#number-contributors .label").inner_text() == "活跃贡献者"
    page.get_by_role("link", name="English").click()
    assert heading(page) == "Overview"
    page.get_by_role("link", name="Campaigns").click()
    assert heading(page) == "Campaigns"


def test_the_failed_delivery_is_replayed_with_its_button(site: Site) -> None:
    page = logged_in(site)
    world = site.world
    page.goto(site.url + "/operations?lang=en")
    page.get_by_role("button", name=f"Replay delivery {world.failed_delivery}").click()
    notice = page.get_by_role("status")
    assert notice.inner_text() == f"Delivery {world.failed_delivery} was replayed: it is now processed."
    assert "processed" in page.locator(f"#delivery-{world.failed_delivery}").inner_text()
    assert page.get_by_role("button", name=f"Replay delivery {world.failed_delivery}").count() == 0
    assert world.harness.rows(Delivery, Delivery.id == world.failed_delivery)[0].status == "processed"
    assert [thread.author for thread in world.harness.rows(Thread, Thread.number == "7")] == ["dave"]


def test_a_screenshot_of_the_overview(site: Site) -> None:
    page = site.page
    page.goto(site.url + "/?lang=en")
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "overview.png"
    path.unlink(missing_ok=True)
    page.screenshot(path=str(path), full_page=True)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert width == 1280 and 900 <= height <= 6000, (width, height)
    assert 20_000 <= len(data) <= 5_000_000, len(data)


# -- where `next` leads (issue 15, item 14) ------------------------------------------------------------------------

HOSTILE_NEXT = ["/\t/evil.example", "/\n/evil.example", "/%09/evil.example", "//evil.example", "/\\evil.example",
                "/%2F/evil.example", "/%5C/evil.example", "https://evil.example/", "/\u3000/evil.example",
                "\t//evil.example"]


def maintainer_context(site: Site) -> tuple[Any, Any, list[str]]:
    """A browser of its own, logged in, that goes nowhere but this site: every request elsewhere is recorded and
    refused."""
    context = site.page.context.browser.new_context()
    elsewhere: list[str] = []

    def only_here(route: Any) -> None:
        if route.request.url.startswith(site.url + "/"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()
    context.route("**/*", only_here)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(site.url + "/login?lang=en")
    page.get_by_label("Token").fill(TOKEN)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(site.url + "/")
    return context, page, elsewhere


def test_the_back_link_of_the_login_page_never_leaves_this_site(site: Site) -> None:
    context, page, elsewhere = maintainer_context(site)
    try:
        for given in HOSTILE_NEXT:
            page.goto(f"{site.url}/login?lang=en&next={quote(given, safe='')}")
            back = page.get_by_role("link", name="Back")
            assert back.evaluate("a => a.href") == site.url + "/", given  # as Chromium reads the link
            back.click()
            page.wait_for_url(site.url + "/")
        assert elsewhere == []
        page.goto(f"{site.url}/login?lang=en&next={quote('/leaderboard?days=7', safe='')}")
        page.get_by_role("link", name="Back").click()  # a path of this site is kept
        page.wait_for_url(site.url + "/leaderboard?days=7")
    finally:
        context.close()


def location_after_login(site: Site, given: str) -> str:
    """Where `POST /login` with the right token and `next` sends the browser (its Location; none: its answer)."""
    body = urlencode({"token": TOKEN, "next": given}).encode()
    request = urllib.request.Request(site.url + "/login", data=body, method="POST")

    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any) -> None:
            return None
    try:
        with urllib.request.build_opener(Stay).open(request, timeout=10) as answer:
            answer.read()
            return answer.headers.get("Location") or "/login"
    except urllib.error.HTTPError as redirected:
        redirected.read()
        return redirected.headers.get("Location") or "/login"


def test_any_next_leads_to_this_site_as_chromium_reads_it(site: Site) -> None:
    """Hypothesis: for any `next`, the login page's Back link and the redirect after logging in lead to this site,
    as Chromium's own URL parser resolves them."""
    context, page, elsewhere = maintainer_context(site)
    pieces = st.sampled_from(["/", "//", "\\", "\t", "\n", "\r", " ", "%2F", "%5C", "%09", "%0a", "%252F", ".", "..",
                              "@", ":", "?", "#", "evil.example", "https:", "\u3000", "\u200b", "\x00", "\x1f"])
    nexts = st.one_of(ELSEWHERE, st.lists(pieces, min_size=1, max_size=8).map("".join), st.text(max_size=16))

    @given(drawn=nexts)
    @example(drawn="/\t/evil.example")  # the finding: Chromium drops the tab, and `//evil.example` is another site
    @example(drawn="/%09/evil.example")
    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def stays(drawn: str) -> None:
        page.goto(f"{site.url}/login?lang=en&next={quote(drawn, safe='')}")
        origin = page.get_by_role("link", name="Back").evaluate("a => new URL(a.href).origin")
        assert origin == site.url, drawn
        location = location_after_login(site, drawn)
        assert page.evaluate("where => new URL(where, document.baseURI).origin", location) == site.url, (
            drawn, location)

    try:
        stays()
        assert elsewhere == []
    finally:
        context.close()
