"""Badge awards, each held once per person: recorded (an award made again changes nothing; a revoked one is not
made again), revoked, announced (a notification with topic `badge`, routed by `[notify]`, and, when it was made in
an issue or PR, a comment there), and made over all history by `recompute`. Each award has an Open Badges
assertion address (`uid`, see bot.web.badges)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, select

from bot.badges.rules import due, find_badge
from bot.community.people import resolve_person
from bot.config import Settings
from bot.events import Action
from bot.outbox.storing import store_actions
from bot.settings.badges import Badge
from bot.store.community_tables import BadgeAward, Contributor
from bot.store.db import Database, dialect_insert
from bot.store.deferred import Deferred

BADGE_AWARD = BadgeAward.__table__  # type: ignore[attr-defined]
CONTRIBUTOR = Contributor.__table__  # type: ignore[attr-defined]
PROFILE_URLS = {"github": "https://github.com/{login}", "gitee": "https://gitee.com/{login}"}
AWARDED_BY_RULE = "rule"


def _new_uid() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class Award:
    badge: Badge
    person: str
    login: str
    platform: str | None
    awarded_by: str
    when: datetime
    reason: str | None = None
    repo: str | None = None
    number: str | None = None
    uid: str = field(default_factory=_new_uid)  # the Open Badges assertion's address, once recorded


def record_award(conn: Connection, award: Award) -> bool:
    """Record an award; False when the person already holds the badge (nothing changes)."""
    statement = dialect_insert(conn.dialect.name)(BADGE_AWARD).values(
        badge=award.badge.id, person=award.person, login=award.login, platform=award.platform,
        awarded_by=award.awarded_by, reason=award.reason, repo=award.repo, number=award.number,
        awarded_at=award.when, uid=award.uid).on_conflict_do_nothing().returning(BADGE_AWARD.c.id)
    return conn.execute(statement).first() is not None


def revoke(conn: Connection, person: str, badge_id: str, reason: str, when: datetime) -> bool:
    """Revoke a badge a person holds (its assertion then answers 410 Gone); False when they do not hold it."""
    result = conn.execute(BADGE_AWARD.update().where(
        BADGE_AWARD.c.person == person, BADGE_AWARD.c.badge == badge_id, BADGE_AWARD.c.revoked_at.is_(None))
        .values(revoked_at=when, revocation_reason=reason))
    return result.rowcount == 1


def assertion_path(uid: str) -> str:
    return f"/badges/assertions/{uid}"


def assertion_url(settings: Settings, uid: str) -> str:
    """Where an award's assertion is (relative to cobot's address when `server.public_url` is not set)."""
    return settings.server.public_url + assertion_path(uid)


def profile_url(platform: str | None, login: str) -> str | None:
    """A forge account's profile page."""
    pattern = PROFILE_URLS.get(platform or "")
    return pattern.format(login=login) if pattern else None


def announcement(award: Award, assertion: str = "") -> Action:
    """The `badge` notification for an award, routed to channels by `[notify]` rules; `assertion`: where its
    Open Badges assertion is, if cobot has a public address."""
    values = {"login": award.login, "badge_id": award.badge.id, "badge_en": award.badge.name_in("en"),
              "badge_zh": award.badge.name_in("zh"), "about_en": award.badge.description_in("en"),
              "about_zh": award.badge.description_in("zh"), "reason": award.reason or "",
              "repo": award.repo or "", "platform": award.platform or "", "assertion": assertion}
    return Action(kind="notify", key=f"badge:{award.badge.id}:{award.person}:notify", topic="badge",
                  template="badge_notice", values=tuple(values.items()), platform=award.platform, repo=award.repo,
                  number=award.number, link=assertion or None)


def public_assertion(settings: Settings, award: Award) -> str:
    """Where the award's assertion is, when cobot has a public address (else nothing to link to)."""
    return assertion_url(settings, award.uid) if settings.server.public_url else ""


def grant(db: Database, settings: Settings, badge_id: str, recipient: str, awarded_by: str, now: datetime,
          reason: str | None = None) -> tuple[Award, bool]:
    """Award a badge outside a comment (Slack, the CLI): to `recipient` named as `github:login`, `gitee:login`, a
    linked identity or a login cobot has seen; announced by `[notify]` in the same transaction. Returns the award
    and whether it is new. Raises UnknownBadge, or community.UnknownPerson."""
    badge = find_badge(settings.badges, badge_id)
    with db.session() as session:
        conn = session.connection()
        person = resolve_person(conn, settings, recipient)
        account = person.accounts[0] if person.accounts else None
        award = Award(badge=badge, person=person.id, login=account.login if account else person.name,
                      platform=account.platform if account else None, awarded_by=awarded_by, when=now,
                      reason=reason)
        new = record_award(conn, award)
        if new:
            later = Deferred(db.dialect)
            store_actions(later, [announcement(award, public_assertion(settings, award))], None, now,
                          settings.notify, settings.community.language)
            later.flush(conn)
    return award, new


def withdraw(db: Database, settings: Settings, badge_id: str, recipient: str, reason: str, now: datetime
             ) -> tuple[Badge, str] | None:
    """Revoke `recipient`'s badge (named as for `grant`): the badge and the person, or None when they do not hold
    it. Raises UnknownBadge, or community.UnknownPerson."""
    badge = find_badge(settings.badges, badge_id)
    with db.session() as session:
        conn = session.connection()
        person = resolve_person(conn, settings, recipient)
        return (badge, person.id) if revoke(conn, person.id, badge.id, reason, now) else None


def _humans(conn: Connection, settings: Settings) -> dict[str, list[tuple[str, str]]]:
    """Every human contributor: person → their (platform, login) accounts."""
    found: dict[str, list[tuple[str, str]]] = {}
    rows = conn.execute(select(CONTRIBUTOR.c.person, CONTRIBUTOR.c.platform, CONTRIBUTOR.c.login)
                        .where(CONTRIBUTOR.c.is_bot.is_(False))
                        .order_by(CONTRIBUTOR.c.person, CONTRIBUTOR.c.platform, CONTRIBUTOR.c.login))
    for person, platform, login in rows:
        if not settings.is_bot(login):
            found.setdefault(person, []).append((platform, login))
    return found


def recompute(db: Database, settings: Settings, now: datetime, announce: bool = False, dry_run: bool = False
              ) -> list[Award]:
    """Every rule for every human contributor over all stored history: the badges due are awarded, each dated when
    it was earned, silently (`announce`: with their `badge` notifications stored). Each person in a transaction of
    their own; `dry_run` decides and changes nothing. Awards without an assertion address are given one. Returns
    the awards made (or, dry, due)."""
    with db.reading() as conn:
        people = _humans(conn, settings)
    made: list[Award] = []
    for person, accounts in people.items():
        with db.session() as session:
            conn = session.connection()
            later = Deferred(db.dialect)
            for earned in due(conn, settings.badges, person):
                platform, login = next(((p, login) for p, login in accounts if p == earned.platform), accounts[0])
                award = Award(badge=earned.badge, person=person, login=login, platform=platform,
                              awarded_by=AWARDED_BY_RULE, when=earned.at, repo=earned.repo, number=earned.number)
                if dry_run:
                    made.append(award)
                elif record_award(conn, award):
                    made.append(award)
                    if announce:
                        store_actions(later, [announcement(award, public_assertion(settings, award))], None, now,
                                      settings.notify, settings.community.language)
            later.flush(conn)
    if not dry_run:
        with db.session() as session:
            conn = session.connection()
            for award_id in conn.execute(select(BADGE_AWARD.c.id).where(BADGE_AWARD.c.uid.is_(None))).scalars():
                conn.execute(BADGE_AWARD.update().where(BADGE_AWARD.c.id == award_id).values(uid=_new_uid()))
    return made
