"""Where `next` may lead (issue 15, item 14), through the real app: the login page's "Back" link and hidden field,
and the redirects after logging in and out, stay on this site for every hostile form of `next` (a tab, CR or LF
that browsers drop, so that `/\\t/evil.example` becomes `//evil.example`; backslashes; percent-encoded slashes and
controls; Unicode spaces and invisible characters), and for any `next` Hypothesis makes up. Where a link goes is
judged as the URL Standard's parser reads it (tests/test_web_e2e.py holds the same in Chromium itself)."""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.app.factory import create_app

TOKEN = "redirect-maintainers-token-0123"
HOSTILE = [
    "/\t/evil.example", "/%09/evil.example", "/\n/evil.example", "/\r/evil.example", "/%0a/evil.example",
    "/%0D%0A/evil.example", "\t//evil.example", "//evil.example", "///evil.example", "/\\evil.example",
    "/\\/evil.example", "\\\\evil.example", "/%5Cevil.example", "/%5c/evil.example", "/%2F/evil.example",
    "/%2f%2fevil.example", "/%252F/evil.example", "/%25252F%25252Fevil.example", "https://evil.example/",
    "http:evil.example", "javascript:alert(1)", "//evil.example/%2F..", "/ /evil.example", "/\u3000/evil.example",
    "/\u00a0/evil.example", "/\u200b/evil.example", "/\u2028/evil.example", "/\ufeff/evil.example",
    "/\x00/evil.example", "/\x7f/evil.example", "/\x1f/evil.example", " /evil.example", "/evil.example\r\nX: 1",
    "evil.example", "", "/" + "a" * 3000,
]
BASE = "http://127.0.0.1:8080/login"


def browser_resolves(reference: str, base: str = BASE) -> str:
    """The origin a browser gives `reference` (an href or a Location) against `base`, by the URL Standard: leading
    and trailing C0 controls and spaces stripped, every tab, CR and LF removed, a backslash read as a slash in an
    http(s) address; then resolved."""
    cleaned = re.sub(r"[\t\n\r]", "", reference.strip("".join(map(chr, range(0x21)))))
    if urlsplit(cleaned).scheme in ("", "http", "https"):
        cleaned = cleaned.replace("\\", "/")
    resolved = urlsplit(urljoin(base, cleaned))
    return f"{resolved.scheme}://{resolved.netloc}"


SITE = "http://127.0.0.1:8080"
# the shapes of another site's address: a slash, what a browser drops or reads as a slash (raw or encoded), a host
DROPPED = st.sampled_from(["\t", "\n", "\r", "%09", "%0a", "%0D", "%2509", " ", "\x00", "\u200b", "\u3000"])
SLASHES = st.sampled_from(["/", "/", "\\", "%2F", "%2f", "%5C", "%252F", "/%2F", "\\/", "//"])
ELSEWHERE = st.builds(lambda lead, dropped, slash, host: lead + "".join(dropped) + slash + host,
                      st.sampled_from(["/", "/", "/", "", "\\", " /", "\t/"]), st.lists(DROPPED, max_size=3), SLASHES,
                      st.sampled_from(["evil.example", "evil.example/", "@evil.example", "evil.example:443/x"]))


@pytest.fixture
async def client(aiohttp_client, make_settings, clock):
    # these tests send a wrong token for each `next` on purpose: the throttle would answer 429 after ten
    settings = make_settings(dashboard={"token": TOKEN, "failed_logins_per_minute": 10_000,
                                        "failed_logins_per_minute_overall": 100_000})
    return await aiohttp_client(create_app(settings, clock, run_workers=False))


def back_link(html: str) -> str:
    """The login page's "Back" link (a maintainer logged in already sees it)."""
    [href] = re.findall(r'<p><a href="([^"]*)">Back</a></p>', html)
    return unescape(href)


def hidden_next(html: str) -> str:
    [value] = re.findall(r'<input type="hidden" name="next" value="([^"]*)">', html)
    return unescape(value)


async def where_it_leads(client: Any, given: str) -> dict[str, str]:
    """Every address the app makes of `given`: the login form's hidden field (for a visitor), the Back link (for a
    maintainer), and the Location of each redirect after a login (right and wrong token) and a logout."""
    found: dict[str, str] = {}
    page = await client.get(f"/login?lang=en&next={quote(given, safe='')}")
    found["hidden field"] = hidden_next(await page.text())
    wrong = await client.post("/login", data={"token": "wrong-wrong-wrong-wrong", "next": given},
                              allow_redirects=False)
    found["after a wrong token"] = wrong.headers.get("Location", "/")
    right = await client.post("/login", data={"token": TOKEN, "next": given}, allow_redirects=False)
    found["after logging in"] = right.headers.get("Location", "/")
    page = await client.get(f"/login?lang=en&next={quote(given, safe='')}")
    found["back link"] = back_link(await page.text())
    csrf = (await (await client.get("/api/session")).json())["csrf_token"]
    out = await client.post("/logout", data={"csrf_token": csrf, "next": given}, allow_redirects=False)
    found["after logging out"] = out.headers.get("Location", "/")
    client.session.cookie_jar.clear()
    return found


@pytest.mark.parametrize("given", HOSTILE, ids=range(len(HOSTILE)))
async def test_a_hostile_next_never_leads_elsewhere(client, given):
    for where, address in (await where_it_leads(client, given)).items():
        assert browser_resolves(address) == SITE, (where, address)
        if where in ("back link", "hidden field", "after logging in", "after logging out"):
            assert address == "/", (where, address)  # refused: home instead


@pytest.mark.parametrize("given", ["/operations", "/contributors/person:Alice%20Smith", "/digest?since=7d&lang=zh",
                                   "/campaigns/%E9%BB%91%E5%AE%A2%E6%9D%BE", "/contributors?q=a%2Fb"])
async def test_a_path_of_this_site_is_kept(client, given):
    found = await where_it_leads(client, given)
    assert {where: address for where, address in found.items() if where != "after a wrong token"} == dict.fromkeys(
        ("hidden field", "after logging in", "back link", "after logging out"), given)


async def test_any_next_stays_on_this_site(client):
    """Hypothesis: `next` made of what browsers and proxies treat specially, and of anything else."""
    seen: list[str] = []
    pieces = st.sampled_from(["/", "//", "\\", "\t", "\n", "\r", " ", "%", "%2F", "%2f", "%5C", "%09", "%0a", "%25",
                              "%00", ".", "..", "@", ":", "?", "#", "evil.example", "http:", "\u3000", "\u200b",
                              "\ufeff", "\x00", "\x1f", "\x7f"])
    nexts = st.one_of(st.lists(pieces, min_size=1, max_size=8).map("".join), st.text(max_size=20),
                      st.text(max_size=20).map(lambda text: "/" + text), ELSEWHERE)

    @given(drawn=nexts)
    @example(drawn="/\t/evil.example")  # the finding: Chromium drops the tab, and `//evil.example` is another site
    @example(drawn="/%09/evil.example")
    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def collect(drawn: str) -> None:
        seen.append(drawn)

    collect()  # the examples, drawn first: the app is asked about each below (it answers on this event loop)
    for drawn in seen:
        for where, address in (await where_it_leads(client, drawn)).items():
            assert browser_resolves(address) == SITE, (drawn, where, address)
    assert len(seen) >= 200
