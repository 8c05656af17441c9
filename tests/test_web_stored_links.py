"""An address a delivery (or a GH Archive import) brings becomes a link on the dashboard only when it is an http(s)
address (issue 15, the attack on its fix): `html_url: "javascript:alert(6)"` on an issue was written as
`<a href="javascript:alert(6)">` on its author's timeline (the page's CSP would block it; it must not be written at
all). Rendered by the real app from a store filled through the real pipeline."""

from __future__ import annotations

import re
from html import unescape

import pytest

from bot.app.factory import create_app
from tests.payloads import issue_event

T0 = "2026-11-01T10:00:00Z"
HOSTILE = ["javascript:alert(6)", "JavaScript:alert(6)", " javascript:alert(6)", "java\tscript:alert(6)",
           "data:text/html,<script>alert(6)</script>", "vbscript:msgbox(6)", "//evil.example/x", "/relative/path",
           "https://evil.example\\@github.com/", "https://github.com/a b"]


@pytest.fixture
def hostile_store(make_harness):
    """alice's issues 1 to 10, each with a hostile address, on a repository whose own address is hostile too;
    issue 20, on another repository, with a real one."""
    harness = make_harness(dashboard={"public": True, "cache_seconds": 0})
    for number, url in enumerate(HOSTILE, start=1):
        payload = issue_event("opened", number, "alice", created=T0, repo="acme/rocket")
        payload["issue"]["html_url"] = url
        payload["repository"]["html_url"] = "javascript:alert(7)"
        harness.deliver("issues", payload)
    fine = issue_event("opened", 20, "alice", created=T0, repo="acme/lander")
    harness.deliver("issues", fine)
    return harness


def hrefs(html: str) -> list[str]:
    return [unescape(found) for found in re.findall(r'href="([^"]*)"', html)]


async def test_a_stored_address_that_is_no_web_address_is_never_a_link_on_the_timeline(aiohttp_client, clock,
                                                                                        hostile_store):
    client = await aiohttp_client(create_app(hostile_store.settings, clock, run_workers=False))
    response = await client.get("/contributors/github:alice?lang=en")
    assert response.status == 200
    html = await response.text()
    links = hrefs(html)
    assert "https://github.com/acme/lander/issues/20" in links  # a real address stays a link
    for link in links:
        assert link.startswith(("/", "https://", "?", "#")) and not link.startswith("//"), link
    for written in ("javascript:", "JavaScript:", "vbscript:", "data:text/html", "evil.example", "/relative/path"):
        assert written not in unescape(html), written
    assert "acme/rocket#1 Item 1" in re.sub(r"<[^>]+>", "", html)  # the entry is shown, as text

    # and the same in the API the page is the twin of
    timeline = (await (await client.get("/api/contributors/github:alice")).json())["timeline"]
    by_number = {str(entry["number"]): entry["url"] for entry in timeline}
    assert by_number.pop("20") == "https://github.com/acme/lander/issues/20"
    assert len(by_number) == len(HOSTILE) and set(by_number.values()) == {None}
