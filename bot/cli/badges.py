"""`cobot badges list|award|revoke|recompute`: the badge catalogue, who holds what, and awards from the shell.

Awards go through bot.badges.awards.grant (announced by [notify]); `recompute` awards by the rules over all
stored history.
"""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Column, Table
from sqlalchemy import Connection, func, select

from bot.badges.awards import BADGE_AWARD, Award, assertion_url, grant, recompute, withdraw
from bot.badges.rules import UnknownBadge, criteria
from bot.cli.common import config_option, iso, open_database, settings_or_exit
from bot.cli.stats import echo_json, person_json, person_label, shown_time
from bot.clock import system_clock
from bot.community import people as community
from bot.community.people import UnknownPerson
from bot.config import Settings

USER_FORMS = "USER is github:LOGIN, gitee:LOGIN, a linked identity's name or a login cobot has seen."


@click.group()
def badges() -> None:
    """Badges: the catalogue, who holds what, awards, revocations, and awards by the rules over history."""


def _catalogue(conn: Connection, settings: Settings) -> list[dict[str, Any]]:
    holders = dict(conn.execute(select(BADGE_AWARD.c.badge, func.count()).where(BADGE_AWARD.c.revoked_at.is_(None))
                                .group_by(BADGE_AWARD.c.badge)).all())
    language = settings.community.language
    return [{"id": badge.id, "name": badge.name_in(language), "description": badge.description_in(language),
             "rule": criteria(settings, badge.id, language), "holders": holders.get(badge.id, 0)}
            for badge in settings.badges.catalogue().values()]


def _held(conn: Connection, settings: Settings, user: str) -> tuple[community.Person, list[dict[str, Any]]]:
    person = community.resolve_person(conn, settings, user)
    catalogue, language = settings.badges.catalogue(), settings.community.language
    rows = conn.execute(select(BADGE_AWARD).where(BADGE_AWARD.c.person == person.id)
                        .order_by(BADGE_AWARD.c.awarded_at, BADGE_AWARD.c.id)).all()
    return person, [{"badge": row.badge, "name": catalogue[row.badge].name_in(language) if row.badge in catalogue
                     else row.badge, "login": row.login, "platform": row.platform, "awarded_by": row.awarded_by,
                     "awarded_at": iso(row.awarded_at), "reason": row.reason,
                     "assertion": assertion_url(settings, row.uid) if row.uid else None,
                     "revoked_at": iso(row.revoked_at), "revocation_reason": row.revocation_reason} for row in rows]


@badges.command("list")
@config_option
@click.option("--person", "user", help="one person's badges instead: github:LOGIN, gitee:LOGIN or a login")
@click.option("--json", "as_json", is_flag=True, help="print a JSON array (with --person, a JSON object)")
def list_(config_file: str | None, user: str | None, as_json: bool) -> None:
    """The badges and how each is earned, with how many people hold it; or one person's badges."""
    settings = settings_or_exit(config_file)
    db = open_database(settings)
    try:
        with db.reading() as conn:
            if user is None:
                listed = _catalogue(conn, settings)
            else:
                person, held = _held(conn, settings, user)
    except UnknownPerson as error:
        raise click.ClickException(str(error)) from None
    finally:
        db.dispose()
    if user is None:
        if as_json:
            echo_json(listed)
            return
        table = Table("id", "name", *(Column(header, overflow="fold") for header in ("description", "earned by")),
                      "holders", title="Badges")
        for item in listed:
            table.add_row(item["id"], escape(item["name"]), escape(item["description"]), escape(item["rule"]),
                          str(item["holders"]))
        Console().print(table)
        return
    if as_json:
        echo_json({**person_json(person), "badges": held})
        return
    if not held:
        click.echo(f"{user} holds no badge")
        return
    table = Table("badge", "name", "awarded", "by", Column("assertion", overflow="fold"), "status",
                  title=escape(person_label(person)))
    for item in held:
        status = f"revoked: {item['revocation_reason']}" if item["revoked_at"] else "held"
        table.add_row(item["badge"], escape(item["name"]), (item["awarded_at"] or "")[:16].replace("T", " "),
                      escape(item["awarded_by"]), item["assertion"] or "", escape(status))
    Console().print(table)


@badges.command()
@config_option
@click.argument("badge")
@click.argument("user")
@click.option("--reason", help="why (kept with the award and shown in its notification)")
@click.option("--json", "as_json", is_flag=True, help="print a JSON object")
def award(config_file: str | None, badge: str, user: str, reason: str | None, as_json: bool) -> None:
    """Award BADGE to USER, once; [notify] announces it (also `cobot award`).

    USER is github:LOGIN, gitee:LOGIN, a linked identity's name or a login cobot has seen."""
    settings = settings_or_exit(config_file)
    db = open_database(settings)
    try:
        granted, new = grant(db, settings, badge, user, awarded_by="cli", now=system_clock(), reason=reason)
        with db.reading() as conn:  # an award held already: as it was made
            held = conn.execute(select(BADGE_AWARD).where(BADGE_AWARD.c.person == granted.person,
                                                          BADGE_AWARD.c.badge == granted.badge.id)).one()
    except (UnknownBadge, UnknownPerson) as error:
        raise click.ClickException(str(error)) from None
    finally:
        db.dispose()
    if as_json:
        echo_json({"new": new, "badge": granted.badge.id, "person": granted.person, "login": held.login,
                   "platform": held.platform, "awarded_by": held.awarded_by, "awarded_at": iso(held.awarded_at),
                   "reason": held.reason, "assertion": assertion_url(settings, held.uid) if held.uid else None,
                   "revoked_at": iso(held.revoked_at)})
    elif new:
        click.echo(f"awarded {granted.badge.id} to {user}")
    elif held.revoked_at is not None:
        click.echo(f"{user} held {granted.badge.id} and it was revoked; it is not awarded again")
    else:
        click.echo(f"{user} already holds {granted.badge.id}")


@badges.command()
@config_option
@click.argument("badge")
@click.argument("user")
@click.option("--reason", required=True, help="why (published with the revoked assertion)")
@click.option("--json", "as_json", is_flag=True, help="print a JSON object")
def revoke(config_file: str | None, badge: str, user: str, reason: str, as_json: bool) -> None:
    """Revoke USER's BADGE: its Open Badges assertion then answers 410 Gone, with the reason.

    USER is github:LOGIN, gitee:LOGIN, a linked identity's name or a login cobot has seen."""
    settings = settings_or_exit(config_file)
    db = open_database(settings)
    now = system_clock()
    try:
        revoked = withdraw(db, settings, badge, user, reason, now)
    except (UnknownBadge, UnknownPerson) as error:
        raise click.ClickException(str(error)) from None
    finally:
        db.dispose()
    if revoked is None:
        raise click.ClickException(f"{user} does not hold {badge.strip().lower()}")
    held, person = revoked
    if as_json:
        echo_json({"badge": held.id, "person": person, "revoked_at": iso(now), "revocation_reason": reason})
    else:
        click.echo(f"revoked {held.id} of {user}")


def _award_json(settings: Settings, award: Award, recorded: bool) -> dict[str, Any]:
    return {"badge": award.badge.id, "person": award.person, "login": award.login, "platform": award.platform,
            "awarded_at": iso(award.when), "repo": award.repo, "number": award.number,
            "assertion": assertion_url(settings, award.uid) if recorded else None}


@badges.command("recompute")
@config_option
@click.option("--announce", is_flag=True, help="store the `badge` notification of each award ([notify] sends it)")
@click.option("--dry-run", is_flag=True, help="list the badges due, award nothing")
@click.option("--json", "as_json", is_flag=True, help="print a JSON array of the awards")
def recompute_(config_file: str | None, announce: bool, dry_run: bool, as_json: bool) -> None:
    """Award by the rules over all stored history: each human contributor gets the badges their record has earned
    and they do not hold, dated when each was earned; silently unless --announce."""
    settings = settings_or_exit(config_file)
    db = open_database(settings)
    try:
        made = recompute(db, settings, system_clock(), announce=announce and not dry_run, dry_run=dry_run)
    finally:
        db.dispose()
    if as_json:
        echo_json([_award_json(settings, award, not dry_run) for award in made])
        return
    verb = "would award" if dry_run else "awarded"
    click.echo(f"{verb} {len(made)} badge(s)" + (" and stored their notifications" if announce and made and
                                                  not dry_run else ""))
    for award in made:
        where = f" ({award.platform} {award.repo}#{award.number})" if award.repo else ""
        click.echo(f"  - {award.badge.id} to {award.login}, earned {shown_time(award.when)} UTC{where}")
