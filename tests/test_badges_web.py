"""The badge pages, served by the real app (SQLite and PostgreSQL): the issuer Profile, BadgeClasses, Assertions
and images. The Open Badges documents validate against JSON schemas transcribed from the Open Badges 2.0 data model
(tests/schemas/openbadges/), and a verifier following hosted verification gets from an Assertion to its
BadgeClass and issuer and back to the recipient, the assertion within the issuer's allowed origins as the reference
verifier (openbadges-validator-core) judges it: its authority, port included. The app is served on the port
`[server]` names, so that the addresses documents are built from without `server.public_url` are its own; they are
never taken from the request (issue 15, item 19)."""

from __future__ import annotations

import colorsys
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7
from yarl import URL

from bot.app.factory import create_app
from bot.badges.awards import withdraw
from bot.store.community_tables import BadgeAward
from tests.helpers import free_port
from tests.payloads import issue_event, pr_event

SCHEMAS = Path(__file__).parent / "schemas" / "openbadges"
SVG = "{http://www.w3.org/2000/svg}"
EMAIL = "community@rocket.example"
TRANSLATOR = {"id": "translator", "name": 'Translator <zh> & "docs"', "name_zh": "翻译官",
              "description": "Translated the docs"}
SECTIONS: dict[str, Any] = {
    "community": {"name": "Rocket", "maintainers": ["github:maintainer-max", "gitee:maintainer-max"]},
    "badges": {"auto_award": True, "issuer_email": EMAIL, "custom": [TRANSLATOR]},
}
OPENED = datetime(2026, 11, 3, 10, tzinfo=UTC)


def format_checker() -> FormatChecker:
    """jsonschema's format checks, with the two this data model leans on made strict here (jsonschema checks them
    only with optional packages): a DateTime carries a time zone; an IRI has a scheme, and a host if it is HTTP."""
    checker = FormatChecker()

    @checker.checks("date-time", raises=ValueError)
    def date_time(value: object) -> bool:
        return not isinstance(value, str) or datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None

    @checker.checks("iri", raises=ValueError)
    def iri(value: object) -> bool:
        if not isinstance(value, str):
            return True
        parts = urlsplit(value)
        return bool(parts.scheme) and (bool(parts.hostname) or parts.scheme not in ("http", "https"))
    return checker


@pytest.fixture(scope="module")
def schemas() -> dict[str, Draft7Validator]:
    loaded = {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in SCHEMAS.glob("*.json")}
    registry = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema, default_specification=DRAFT7)) for schema in loaded.values())
    for schema in loaded.values():
        Draft7Validator.check_schema(schema)
    return {name: Draft7Validator(loaded[name], registry=registry, format_checker=format_checker())
            for name in ("Profile", "BadgeClass", "Assertion")}


def problems(validator: Draft7Validator, document: Any) -> list[str]:
    return sorted(f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
                  for error in validator.iter_errors(document))


class Site:
    """The app on a test client, and what a verifier does with it: fetch documents by their addresses."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.base = str(client.make_url("/")).rstrip("/")

    async def get(self, address: str, accept: str = "application/ld+json") -> tuple[int, str, Any]:
        """GET a document by its full address (it must be this site's)."""
        url = URL(address)
        assert f"{url.scheme}://{url.host}:{url.port}" == self.base, f"{address} is not on {self.base}"
        response = await self.client.get(url.path_qs, headers={"Accept": accept})
        body = await response.text()
        return response.status, response.content_type, json.loads(body) if "json" in response.content_type else body


@pytest.fixture
def port() -> int:
    """The port `[server]` names (no `public_url`), and the test server listens on."""
    return free_port()


@pytest.fixture
def harness(make_harness, port) -> Any:
    built = make_harness(**SECTIONS, server={"port": port})
    built.deliver("issues", issue_event("opened", 1, "alice", created=OPENED.strftime("%Y-%m-%dT%H:%M:%SZ")))
    return built


@pytest.fixture
async def site(aiohttp_client, harness, clock, port) -> Site:
    return Site(await aiohttp_client(create_app(harness.settings, clock, run_workers=False),
                                     server_kwargs={"port": port}))


def as_list(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


async def test_an_assertion_verifies_as_a_hosted_badge(site, harness, schemas):
    [award] = harness.rows(BadgeAward)
    address = f"{site.base}/badges/assertions/{award.uid}"
    status, content_type, assertion = await site.get(address)
    assert (status, content_type) == (200, "application/ld+json")
    assert problems(schemas["Assertion"], assertion) == []
    assert assertion == {
        "@context": "https://w3id.org/openbadges/v2", "type": "Assertion", "id": address,
        "recipient": {"type": "url", "identity": "https://github.com/alice", "hashed": False},
        "badge": f"{site.base}/badges/first-issue", "verification": {"type": "hosted"},
        "issuedOn": "2026-11-03T10:00:00+00:00", "evidence": "https://github.com/acme/rocket/issues/1"}

    # What a verifier does: the hosted Assertion is the source of truth; on to its BadgeClass and issuer.
    assert assertion["verification"]["type"] in ("hosted", "HostedBadge") and assertion["id"] == address
    status, _, badge = await site.get(assertion["badge"])
    assert status == 200 and badge["type"] == "BadgeClass" and badge["id"] == assertion["badge"]
    assert problems(schemas["BadgeClass"], badge) == []
    status, _, issuer = await site.get(badge["issuer"])
    assert status == 200 and issuer["type"] in ("Issuer", "Profile") and issuer["id"] == badge["issuer"]
    assert problems(schemas["Profile"], issuer) == []
    # The Assertion is within the scope the issuer declares for hosted verification, and on the issuer's origin:
    # the reference verifier (hosted_id_in_verification_scope) compares the id's authority, port and all.
    verification = issuer["verification"]
    assert any(assertion["id"].startswith(prefix) for prefix in as_list(verification["startsWith"]))
    assert urlsplit(site.base).port not in (None, 80)  # a deployment on a port of its own
    assert urlsplit(assertion["id"]).netloc in as_list(verification["allowedOrigins"])
    assert urlsplit(assertion["id"]).netloc == urlsplit(issuer["id"]).netloc
    # The recipient is the person: the profile of the account that earned it.
    assert (award.platform, award.login) == ("github", "alice")
    assert assertion["recipient"]["identity"] == f"https://github.com/{award.login}"
    assert assertion["issuedOn"] == award.awarded_at.isoformat()


async def test_the_issuer_and_every_badge_class_validate(site, harness, schemas):
    status, content_type, issuer = await site.get(f"{site.base}/badges/issuer")
    assert (status, content_type) == (200, "application/ld+json")
    assert issuer == {"@context": "https://w3id.org/openbadges/v2", "type": "Issuer",
                      "id": f"{site.base}/badges/issuer", "name": "Rocket", "url": site.base, "email": EMAIL,
                      "verification": {"type": "VerificationObject", "allowedOrigins": urlsplit(site.base).netloc,
                                       "startsWith": f"{site.base}/badges/assertions/"}}
    assert problems(schemas["Profile"], issuer) == []
    for badge_id in harness.settings.badges.catalogue():
        status, content_type, badge = await site.get(f"{site.base}/badges/{badge_id}")
        assert (status, content_type) == (200, "application/ld+json"), badge_id
        assert problems(schemas["BadgeClass"], badge) == [], badge_id
        status, content_type, image = await site.get(badge["image"])
        assert (status, content_type) == (200, "image/svg+xml"), badge_id
    _, _, hunter = await site.get(f"{site.base}/badges/bug-hunter")
    assert hunter == {"@context": "https://w3id.org/openbadges/v2", "type": "BadgeClass",
                      "id": f"{site.base}/badges/bug-hunter", "name": "Bug hunter",
                      "description": "Found and reported bugs", "image": f"{site.base}/badges/bug-hunter.svg",
                      "criteria": {"narrative": "Open 3 issues labelled `bug` in Rocket."},
                      "issuer": f"{site.base}/badges/issuer"}


async def test_a_public_url_names_every_address_and_json_is_served_to_who_asks_for_it(aiohttp_client, make_harness,
                                                                                       clock, schemas):
    public = "https://cobot.rocket.example"
    harness = make_harness(**SECTIONS, server={"public_url": public})
    harness.deliver("pull_request", pr_event("closed", 2, "bob", sender="maintainer-max", state="closed",
                                             created="2026-11-03T08:00:00Z", closed="2026-11-03T09:00:00Z",
                                             merged="2026-11-03T09:00:00Z"))
    [award] = harness.rows(BadgeAward)
    site = Site(await aiohttp_client(create_app(harness.settings, clock, run_workers=False)))
    status, content_type, assertion = await site.get(f"{site.base}/badges/assertions/{award.uid}",
                                                     accept="application/json")
    assert (status, content_type) == (200, "application/json")
    assert (assertion["id"], assertion["badge"], assertion["evidence"]) == (
        f"{public}/badges/assertions/{award.uid}", f"{public}/badges/first-pr-merged",
        "https://github.com/acme/rocket/pull/2")
    _, _, issuer = await site.get(f"{site.base}/badges/issuer")
    assert (issuer["id"], issuer["url"], issuer["verification"]["allowedOrigins"]) == (
        f"{public}/badges/issuer", public, "cobot.rocket.example")
    assert problems(schemas["Assertion"], assertion) == []


async def test_no_address_is_taken_from_the_request(site, harness):
    """`Host: evil.example` (or any other header a client sends) never becomes the issuer or a badge's address."""
    [award] = harness.rows(BadgeAward)
    for path in ("/badges/issuer", "/badges/first-issue", f"/badges/assertions/{award.uid}", "/badges/people/alice"):
        for headers in ({"Host": "evil.example"}, {"Host": "evil.example:443", "X-Forwarded-Host": "evil.example",
                                                    "X-Forwarded-Proto": "https", "Forwarded": "host=evil.example"}):
            response = await site.client.get(path, headers=headers)
            text = await response.text()
            assert response.status == 200 and "evil.example" not in text, (path, headers)
            assert f"{site.base}/badges/" in text


async def test_a_server_on_every_address_needs_its_public_url_for_badge_documents(aiohttp_client, make_harness,
                                                                                  clock):
    harness = make_harness(**SECTIONS, server={"host": "0.0.0.0"})
    harness.deliver("issues", issue_event("opened", 1, "alice", created=OPENED.strftime("%Y-%m-%dT%H:%M:%SZ")))
    [award] = harness.rows(BadgeAward)
    client = await aiohttp_client(create_app(harness.settings, clock, run_workers=False))
    for path in ("/badges/issuer", "/badges/first-issue", f"/badges/assertions/{award.uid}", "/badges/people/alice"):
        response = await client.get(path, headers={"Host": "evil.example"})
        assert response.status == 503, path
        assert (await response.json())["error"].startswith("badge documents need cobot's address: set "
                                                           "server.public_url")
    assert (await client.get("/badges/first-issue.svg")).status == 200  # an image names no address


async def test_a_revoked_assertion_is_gone_and_unknown_ones_are_not_found(site, harness, schemas):
    [award] = harness.rows(BadgeAward)
    address = f"{site.base}/badges/assertions/{award.uid}"
    assert withdraw(harness.db, harness.settings, "first-issue", "alice", "Opened by mistake", harness.clock())
    status, content_type, gone = await site.get(address)
    assert (status, content_type) == (410, "application/ld+json")
    assert gone == {"@context": "https://w3id.org/openbadges/v2", "id": address, "revoked": True,
                    "revocationReason": "Opened by mistake"}
    assert problems(schemas["Assertion"], gone) == []
    assert (await site.get(f"{site.base}/badges/assertions/{'0' * 32}"))[0] == 404
    assert (await site.get(f"{site.base}/badges/gold"))[0] == 404
    assert (await site.get(f"{site.base}/badges/gold.svg"))[0] == 404
    status, _, held = await site.get(f"{site.base}/badges/people/alice")
    assert (status, held["badges"]) == (200, [])  # revoked: no longer held


async def test_a_persons_badges_with_their_assertions(site, harness):
    [award] = harness.rows(BadgeAward)
    for name in ("alice", "github:alice", "github:ALICE"):
        status, _, held = await site.get(f"{site.base}/badges/people/{name}")
        assert status == 200 and held == {"person": "github:alice", "name": "alice", "badges": [
            {"badge": "first-issue", "name": "First issue", "awarded_at": "2026-11-03T10:00:00+00:00",
             "badge_class": f"{site.base}/badges/first-issue", "image": f"{site.base}/badges/first-issue.svg",
             "assertion": f"{site.base}/badges/assertions/{award.uid}"}]}
    assert (await site.get(f"{site.base}/badges/people/zoe"))[0] == 404


def medal(svg: str) -> tuple[ElementTree.Element, str, list[str]]:
    """The parsed image, the medal's colour and the lines of text on it."""
    root = ElementTree.fromstring(svg)
    circles = root.findall(f"{SVG}circle")
    return root, circles[1].get("fill") or "", [text.text or "" for text in root.iter(f"{SVG}text")]


async def test_each_badge_is_a_medal_in_its_own_colour_with_its_name_escaped(site, harness):
    _, _, image = await site.get(f"{site.base}/badges/translator.svg")
    root, colour, lines = medal(image)
    assert root.tag == f"{SVG}svg" and root.get("viewBox") == "0 0 200 240"
    assert root.find(f"{SVG}title").text == 'Translator <zh> & "docs" (Rocket)'
    assert lines == ["Translator <zh> &", '"docs"', "Rocket"]
    assert "<zh>" not in image and "&lt;zh&gt; &amp;" in image
    # The colour comes from the id: the hue is the first 16 bits of its SHA-256, modulo 360 degrees.
    hue = int(hashlib.sha256(b"translator").hexdigest()[:4], 16) % 360
    red, green, blue = colorsys.hls_to_rgb(hue / 360, 0.42, 0.58)
    assert colour == f"#{round(red * 255):02x}{round(green * 255):02x}{round(blue * 255):02x}"
    assert medal((await site.get(f"{site.base}/badges/translator.svg"))[2])[1] == colour
    colours = {medal((await site.get(f"{site.base}/badges/{badge_id}.svg"))[2])[1]
               for badge_id in harness.settings.badges.catalogue()}
    assert len(colours) == 12  # twelve badges, twelve colours
    _, _, chinese = await site.get(f"{site.base}/badges/translator.svg?lang=zh")
    assert medal(chinese)[2] == ["翻译官", "Rocket"]


async def test_the_schemas_hold_documents_to_the_specification(site, harness, schemas, make_harness, aiohttp_client,
                                                                clock):
    [award] = harness.rows(BadgeAward)
    _, _, assertion = await site.get(f"{site.base}/badges/assertions/{award.uid}")
    _, _, badge = await site.get(f"{site.base}/badges/first-issue")
    _, _, issuer = await site.get(f"{site.base}/badges/issuer")
    validate = {"Assertion": assertion, "BadgeClass": badge, "Profile": issuer}
    broken = [
        ("Assertion", {"issuedOn": "2026-11-03T10:00:00"}, "issuedOn: '2026-11-03T10:00:00' does not match"),
        ("Assertion", {"issuedOn": "2026-13-03T10:00:00Z"}, "issuedOn: '2026-13-03T10:00:00Z' is not a 'date-time'"),
        ("Assertion", {"recipient": {"type": "url", "identity": "alice", "hashed": False}},
         "recipient/identity: 'alice' does not match"),
        ("Assertion", {"recipient": {"type": "url", "identity": "https://github.com/alice", "hashed": True}},
         "recipient/identity: 'https://github.com/alice' does not match '^(md5|sha256)\\\\$[0-9a-fA-F]+$'"),
        ("Assertion", {"recipient": {"type": "url", "identity": "https://github.com/alice"}},
         "recipient: 'hashed' is a required property"),
        ("Assertion", {"verification": {"type": "magic"}}, "verification/type: 'magic' is not valid"),
        ("Assertion", {"badge": "https:///badges/first-issue"}, "badge: 'https:///badges/first-issue' is not valid"),
        ("Assertion", {"@context": "https://w3id.org/openbadges/v1"}, "@context: 'https://w3id.org/openbadges/v1'"),
        ("BadgeClass", {"criteria": {}}, "criteria: {} is not valid"),
        ("BadgeClass", {"type": "Badge"}, "type: 'Badge' is not valid"),
        ("Profile", {"email": "rocket"}, "email: 'rocket' is not a 'email'"),
    ]
    for kind, change, expected in broken:
        found = problems(schemas[kind], {**validate[kind], **change})
        assert any(problem.startswith(expected) for problem in found), (change, found)
    for kind, document in validate.items():
        for required in {"Assertion": ("id", "type", "recipient", "badge", "verification", "issuedOn"),
                         "BadgeClass": ("id", "type", "name", "description", "image", "criteria", "issuer"),
                         "Profile": ("id", "type", "name", "url", "email", "@context")}[kind]:
            left_out = {key: value for key, value in document.items() if key != required}
            assert f": '{required}' is a required property" in problems(schemas[kind], left_out), (kind, required)
    # Open Badges asks an issuer for an email address: without badges.issuer_email, the Profile lacks one.
    bare = make_harness(community={"name": "Rocket"})
    other = Site(await aiohttp_client(create_app(bare.settings, clock, run_workers=False)))
    _, _, profile = await other.get(f"{other.base}/badges/issuer")
    assert problems(schemas["Profile"], profile) == [": 'email' is a required property"]
