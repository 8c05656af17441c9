"""Badges on the web: an SVG image per badge, and Open Badges 2.0 documents for hosted verification.

    GET /badges/issuer                 the issuer Profile (the community)
    GET /badges/{id}                   a BadgeClass
    GET /badges/{id}.svg               its image
    GET /badges/assertions/{uid}       an award's Assertion (410 Gone once revoked)
    GET /badges/people/{who}           the badges a person holds, with their assertions

Every address is built from `server.public_url`, so a verifier can follow an Assertion to its BadgeClass and on to
the issuer. Never from the request (its `Host` header is whatever the client says: `Host: evil.example` must not
become the issuer's id). With `public_url` empty, the address is the one `[server]` listens on when that is a
single address (`http://127.0.0.1:8080`, as locally and in the demo); a server listening on every address
(`0.0.0.0`, `::`) has no such address, and answers 503 naming `server.public_url` until it is set. JSON-LD is
served as `application/ld+json` (`application/json` to a request that accepts only that, as the specification says).
"""

from __future__ import annotations

import asyncio
import colorsys
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from math import cos, pi, sin
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from jinja2 import Environment, PackageLoader, StrictUndefined
from sqlalchemy import Connection, Row, select

from bot.badges.awards import BADGE_AWARD, assertion_path, profile_url
from bot.badges.rules import criteria
from bot.community import people as community
from bot.config import Settings
from bot.messages.render import LANGUAGES
from bot.settings.badges import Badge, BadgeSettings
from bot.store.community_tables import Thread
from bot.store.db import Database

THREAD = Thread.__table__  # type: ignore[attr-defined]
OB_CONTEXT = "https://w3id.org/openbadges/v2"
LD_JSON = "application/ld+json"
SVG = "image/svg+xml"
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")  # no XML 1.0 document holds these
NAME_WIDTH = 130.0  # pixels of the medal a line of the name may take
FOOTER_EMS = 17.0  # the community's name under it, in ems of its 10-pixel type


# -- addresses ---------------------------------------------------------------------------------------------------


WILDCARDS = ("", "0.0.0.0", "::", "[::]")
NO_ADDRESS = ("badge documents need cobot's address: set server.public_url (such as https://cobot.example.org), "
              "the address Open Badges verifiers reach")


def base_url(settings: Settings) -> str | None:
    """The address badge documents name cobot by: `server.public_url`, else `http://HOST:PORT` of `[server]` when
    that is one address; None for a server listening on every address (see the module's docstring)."""
    server = settings.server
    if server.public_url:
        return server.public_url
    if server.host in WILDCARDS:
        return None
    host = f"[{server.host}]" if ":" in server.host and not server.host.startswith("[") else server.host
    return f"http://{host}:{server.port}"


def issuer_url(base: str) -> str:
    return f"{base}/badges/issuer"


def badge_class_url(base: str, badge_id: str) -> str:
    return f"{base}/badges/{badge_id}"


def image_url(base: str, badge_id: str) -> str:
    return f"{base}/badges/{badge_id}.svg"


# -- documents ---------------------------------------------------------------------------------------------------


def issuer_document(settings: Settings, base: str) -> dict[str, Any]:
    """The issuer Profile: the community, issuing its badges from cobot's address."""
    document: dict[str, Any] = {
        "@context": OB_CONTEXT, "type": "Issuer", "id": issuer_url(base), "name": settings.community.name,
        "url": settings.badges.issuer_url or base,
        # the authority (host and port), which is what verifiers compare an assertion's id with
        "verification": {"type": "VerificationObject", "allowedOrigins": urlsplit(base).netloc,
                         "startsWith": f"{base}{assertion_path('')}"},
    }
    if settings.badges.issuer_email:
        document["email"] = settings.badges.issuer_email
    return document


def badge_class_document(settings: Settings, badge: Badge, base: str) -> dict[str, Any]:
    language = settings.community.language
    narrative = criteria(settings, badge.id, language)
    return {"@context": OB_CONTEXT, "type": "BadgeClass", "id": badge_class_url(base, badge.id),
            "name": badge.name_in(language), "description": badge.description_in(language) or narrative,
            "image": image_url(base, badge.id), "criteria": {"narrative": narrative}, "issuer": issuer_url(base)}


def assertion_document(award: Row[Any], base: str, evidence: str | None) -> dict[str, Any]:
    """An award's Assertion; the recipient is named by their forge profile's address, in the clear."""
    document: dict[str, Any] = {
        "@context": OB_CONTEXT, "type": "Assertion", "id": base + assertion_path(award.uid),
        "recipient": {"type": "url", "identity": recipient_identity(award, base), "hashed": False},
        "badge": badge_class_url(base, award.badge), "verification": {"type": "hosted"},
        "issuedOn": award.awarded_at.isoformat(),
    }
    if evidence:
        document["evidence"] = evidence
    if award.reason:
        document["narrative"] = award.reason
    return document


def revoked_document(award: Row[Any], base: str) -> dict[str, Any]:
    """What a revoked hosted assertion answers (with 410 Gone)."""
    document: dict[str, Any] = {"@context": OB_CONTEXT, "id": base + assertion_path(award.uid), "revoked": True}
    if award.revocation_reason:
        document["revocationReason"] = award.revocation_reason
    return document


def recipient_identity(award: Row[Any], base: str) -> str:
    """The forge profile of the account it was awarded to (a person known by no forge account: their page here)."""
    return profile_url(award.platform, award.login) or f"{base}/badges/people/{award.person}"


def person_document(settings: Settings, person: community.Person, rows: list[Row[Any]], base: str
                    ) -> dict[str, Any]:
    """The badges a person holds (cobot's own JSON, not an Open Badges class), each with its assertion."""
    catalogue, language = settings.badges.catalogue(), settings.community.language
    return {"person": person.id, "name": person.name, "badges": [
        {"badge": row.badge, "name": catalogue[row.badge].name_in(language) if row.badge in catalogue else row.badge,
         "awarded_at": row.awarded_at.isoformat(), "badge_class": badge_class_url(base, row.badge),
         "image": image_url(base, row.badge), "assertion": base + assertion_path(row.uid) if row.uid else None}
        for row in rows]}


# -- the image ---------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _svg_environment() -> Environment:
    return Environment(loader=PackageLoader("bot", "templates"), undefined=StrictUndefined, autoescape=True,
                       auto_reload=False, trim_blocks=True, lstrip_blocks=True)


def colours(badge_id: str) -> tuple[str, str]:
    """A badge's colour and its darker edge: a hue taken from the id, so each badge keeps its own."""
    hue = int(hashlib.sha256(badge_id.encode()).hexdigest()[:4], 16) % 360 / 360

    def shade(lightness: float) -> str:
        red, green, blue = colorsys.hls_to_rgb(hue, lightness, 0.58)
        return f"#{round(red * 255):02x}{round(green * 255):02x}{round(blue * 255):02x}"
    return shade(0.42), shade(0.27)


def _ems(text: str) -> float:
    """About how wide `text` is, in ems: CJK characters are square, others about six tenths."""
    return sum(1.0 if unicodedata.east_asian_width(char) in "WF" else 0.6 for char in text)


def _tokens(text: str) -> list[str]:
    """Words, and each wide character by itself (CJK breaks between any two)."""
    return re.findall(r"[^\s\u2e80-\u9fff\uac00-\ud7af\uff00-\uffef]+|\S", text)


def _wrap(text: str, ems: float, most: int) -> list[str]:
    lines: list[str] = []
    for token in _tokens(text):
        if lines:
            wide = any(unicodedata.east_asian_width(char) in "WF" for char in (token[0], lines[-1][-1]))
            joined = lines[-1] + ("" if wide else " ") + token
            if _ems(joined) <= ems:
                lines[-1] = joined
                continue
        lines.append(token)
    if len(lines) > most:
        lines = [*lines[:most - 1], _cut(" ".join(lines[most - 1:]), ems)]
    return lines


def _cut(text: str, ems: float) -> str:
    if _ems(text) <= ems:
        return text
    while text and _ems(text + "…") > ems:
        text = text[:-1]
    return text.rstrip() + "…"


def _star(x: float, y: float, outer: float, inner: float) -> str:
    points = []
    for index in range(10):
        radius = outer if index % 2 == 0 else inner
        angle = -pi / 2 + index * pi / 5
        points.append(f"{x + radius * cos(angle):.1f},{y + radius * sin(angle):.1f}")
    return " ".join(points)


@dataclass(frozen=True)
class _Line:
    text: str
    y: float


def badge_svg(settings: Settings, badge: Badge, language: str | None = None) -> str:
    """A medal in the badge's colour, its name across it and the community's under it."""
    language = language if language in LANGUAGES else settings.community.language
    name = NOT_XML.sub("", badge.name_in(language))
    lines = _wrap(name, 11.0, 3)
    size = max(10, min(24, int(NAME_WIDTH / max(_ems(line) for line in lines))))
    height = size * 1.2
    top = 152 - height * (len(lines) - 1) / 2 + size * 0.35
    colour, dark = colours(badge.id)
    return _svg_environment().get_template(f"{language}/badges/badge.svg.j2").render(
        name=name, description=NOT_XML.sub("", badge.description_in(language)),
        community=NOT_XML.sub("", settings.community.name),
        footer=_cut(NOT_XML.sub("", settings.community.name), FOOTER_EMS), colour=colour, dark=dark,
        star=_star(100, 100, 14, 6), font_size=size,
        lines=[_Line(line, round(top + index * height, 1)) for index, line in enumerate(lines)])


# -- reading the store -------------------------------------------------------------------------------------------


def _award(conn: Connection, uid: str) -> Row[Any] | None:
    return conn.execute(select(BADGE_AWARD).where(BADGE_AWARD.c.uid == uid)).first()


def evidence_url(conn: Connection, award: Row[Any]) -> str | None:
    """The issue or PR where it was earned or awarded, as the forge showed it."""
    if award.repo is None or award.number is None:
        return None
    stored = conn.execute(select(THREAD.c.url).where(
        THREAD.c.platform == award.platform, THREAD.c.repo == award.repo, THREAD.c.number == award.number,
        THREAD.c.url.is_not(None)).limit(1)).scalar()
    if stored:
        return stored
    if award.platform == "github":  # GitHub sends an issue's address to its PR when it is one
        return f"https://github.com/{award.repo}/issues/{award.number}"
    return None


def holdings(conn: Connection, settings: Settings, who: str) -> tuple[community.Person, list[Row[Any]]] | None:
    """A person (`github:login`, `gitee:login`, a login, a linked identity's name or `person:NAME`) and the badges
    they hold (revoked ones left out); None for someone unknown."""
    name = who.removeprefix("person:")
    try:
        person = community.resolve_person(conn, settings, name)
    except community.UnknownPerson:
        return None
    rows = conn.execute(select(BADGE_AWARD).where(BADGE_AWARD.c.person == person.id,
                                                  BADGE_AWARD.c.revoked_at.is_(None))
                        .order_by(BADGE_AWARD.c.awarded_at, BADGE_AWARD.c.id)).all()
    return person, list(rows)


# -- the routes --------------------------------------------------------------------------------------------------


def _json_type(request: web.Request) -> str:
    accept = request.headers.get("Accept", "")
    return "application/json" if "application/json" in accept and LD_JSON not in accept else LD_JSON


def _document(request: web.Request, document: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(document, ensure_ascii=False, indent=2), status=status,
                        content_type=_json_type(request), headers={"Access-Control-Allow-Origin": "*"})


def _not_found(request: web.Request, what: str) -> web.Response:
    return web.json_response({"error": f"no {what}"}, status=404)


def badge_routes(settings: Settings, db: Database) -> list[web.RouteDef]:
    """The badge pages, reading `db` (off the event loop)."""
    badges: BadgeSettings = settings.badges
    configured = base_url(settings)

    def base() -> str:
        if configured is None:
            raise web.HTTPServiceUnavailable(text=json.dumps({"error": NO_ADDRESS}), content_type="application/json")
        return configured

    def find(request: web.Request) -> Badge | None:
        return badges.catalogue().get(request.match_info["badge_id"])

    async def issuer(request: web.Request) -> web.Response:
        return _document(request, issuer_document(settings, base()))

    async def badge_class(request: web.Request) -> web.Response:
        badge = find(request)
        if badge is None:
            return _not_found(request, "such badge")
        return _document(request, badge_class_document(settings, badge, base()))

    async def image(request: web.Request) -> web.Response:
        badge = find(request)
        if badge is None:
            return _not_found(request, "such badge")
        svg = badge_svg(settings, badge, request.query.get("lang"))
        return web.Response(text=svg, content_type=SVG, headers={"Cache-Control": "public, max-age=3600",
                                                                 "Access-Control-Allow-Origin": "*"})

    async def assertion(request: web.Request) -> web.Response:
        uid = request.match_info["uid"]

        def read() -> tuple[Row[Any] | None, str | None]:
            with db.reading() as conn:
                found = _award(conn, uid)
                return found, evidence_url(conn, found) if found is not None else None
        award, evidence = await asyncio.to_thread(read)
        if award is None:
            return _not_found(request, "such assertion")
        address = base()
        if award.revoked_at is not None:
            return _document(request, revoked_document(award, address), status=410)
        return _document(request, assertion_document(award, address, evidence))

    async def person(request: web.Request) -> web.Response:
        who = request.match_info["who"]

        def read() -> tuple[community.Person, list[Row[Any]]] | None:
            with db.reading() as conn:
                return holdings(conn, settings, who)
        found = await asyncio.to_thread(read)
        if found is None:
            return _not_found(request, "such person")
        return _document(request, person_document(settings, *found, base()))

    return [web.get("/badges/issuer", issuer), web.get("/badges/assertions/{uid}", assertion),
            web.get("/badges/people/{who}", person), web.get("/badges/{badge_id}.svg", image),
            web.get("/badges/{badge_id}", badge_class)]
