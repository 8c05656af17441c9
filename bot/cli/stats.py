"""`cobot stats`, `cobot contributors`, `cobot leaderboard` and `cobot award`: the community store from the shell.

Reads go through bot.community.people on a read-only connection; awards through bot.badges.awards.grant
(announced by [notify]).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Column, Table

from bot.cli.common import config_option, iso, open_database, settings_or_exit
from bot.clock import system_clock
from bot.community import people as community
from bot.community.metrics import activity, ranking
from bot.community.people import Person, UnknownPerson

PLATFORM_NAMES = {"github": "GitHub", "gitee": "Gitee"}
SINCE_FORMS = "12h, 7d or 4w (hours, days or weeks ago), or a date such as 2026-11-01 (UTC)"
SINCE_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, now: datetime) -> datetime:
    """`12h`, `7d`, `4w` before `now`, or a date (`2026-11-01`: midnight UTC). ValueError for anything else."""
    value = text.strip().lower()
    relative = re.fullmatch(r"([0-9]{1,5})([hdw])", value)
    try:
        if relative:
            return now - timedelta(**{SINCE_UNITS[relative[2]]: int(relative[1])})
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        pass
    raise ValueError(f"--since {text!r}: say {SINCE_FORMS}")


def person_json(person: Person) -> dict[str, Any]:
    return {"person": person.id, "name": person.name,
            "accounts": [{"platform": a.platform, "login": a.login} for a in person.accounts]}


def person_label(person: Person) -> str:
    """`alice (GitHub), ali (Gitee)`; the name alone for a person seen on no forge yet."""
    return ", ".join(f"{a.login} ({PLATFORM_NAMES.get(a.platform, a.platform)})" for a in person.accounts) \
        or person.name


def shown_time(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if value else ""


def echo_json(document: Any) -> None:
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))


@click.command()
@config_option
@click.argument("user", required=False)
@click.option("--days", type=click.IntRange(min=1), help="activity window in days (default: commands.leaderboard_days)")
@click.option("--json", "as_json", is_flag=True, help="print a JSON object")
def stats(config_file: str | None, user: str | None, days: int | None, as_json: bool) -> None:
    """A contributor's record, or the community's totals.

    USER is github:LOGIN, gitee:LOGIN, a linked identity's name or a login; without USER, the whole community."""
    settings = settings_or_exit(config_file)
    days = days or settings.commands.leaderboard_days
    now = system_clock()
    db = open_database(settings)
    try:
        with db.reading() as conn:
            if user is None:
                totals = community.community_totals(conn)
                active = len(ranking(activity(conn, now - timedelta(days=days), now)))
            else:
                found = community.stats(conn, settings, community.resolve_person(conn, settings, user), now, days)
    except UnknownPerson as error:
        raise click.ClickException(str(error)) from None
    finally:
        db.dispose()
    if user is None:
        document = {"community": settings.community.name, **totals, "window_days": days, "active_people": active}
        if as_json:
            echo_json(document)
            return
        table = Table("", "", show_header=False, title=escape(settings.community.name))
        for label, key in (("contributors", "contributors"), ("issues opened", "issues_opened"),
                           ("PRs opened", "prs_opened"), ("PRs merged", "prs_merged"), ("reviews", "reviews"),
                           ("comments", "comments")):
            table.add_row(label, str(document[key]))
        table.add_row(f"active over the last {days} days", str(active))
        Console().print(table)
        return
    if as_json:
        echo_json({**person_json(found.person), "first_seen": iso(found.first_seen), "last_seen": iso(found.last_seen),
                   "issues_opened": found.issues_opened, "prs_opened": found.prs_opened,
                   "prs_merged": found.prs_merged, "reviews": found.reviews, "comments": found.comments,
                   "repos": found.repos, "badges": found.badges, "window_days": found.window_days,
                   "window_score": round(found.window_score, 4), "window_rank": found.window_rank,
                   "ranked_people": found.ranked_people})
        return
    catalogue = settings.badges.catalogue()
    language = settings.community.language
    badges = [f"{b} ({catalogue[b].name_in(language)})" if b in catalogue else b for b in found.badges]
    rank = f"rank {found.window_rank} of {found.ranked_people}" if found.window_rank else \
        f"not ranked ({found.ranked_people} people are)"
    table = Table("", "", show_header=False, title=escape(person_label(found.person)))
    for label, value in (
            ("person", found.person.id), ("first seen", shown_time(found.first_seen)),
            ("last seen", shown_time(found.last_seen)), ("issues opened", str(found.issues_opened)),
            ("PRs opened", str(found.prs_opened)), ("PRs merged", str(found.prs_merged)),
            ("reviews", str(found.reviews)), ("comments", str(found.comments)),
            ("repositories", ", ".join(found.repos)), ("badges", ", ".join(badges)),
            (f"activity, last {found.window_days} days", f"{found.window_score:.2f}, {rank}")):
        table.add_row(label, escape(value))
    Console().print(table)


@click.command()
@config_option
@click.option("--new", "new_only", is_flag=True, help="only people whose first contribution is since --since")
@click.option("--since", help=f"{SINCE_FORMS} (default: all time; 7d with --new)")
@click.option("--limit", type=click.IntRange(min=0), default=200, show_default=True,
              help="most recently active N (0: all)")
@click.option("--json", "as_json", is_flag=True, help="print a JSON array")
def contributors(config_file: str | None, new_only: bool, since: str | None, limit: int, as_json: bool) -> None:
    """Who contributed, most recently active first (issues, PRs, comments, reviews, pushes; bots left out)."""
    settings = settings_or_exit(config_file)
    now = system_clock()
    if new_only and since is None:
        since = "7d"
    try:
        start = parse_since(since, now) if since is not None else None
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    db = open_database(settings)
    try:
        with db.reading() as conn:
            rows = community.contributors(conn, start, new_only, limit)
    finally:
        db.dispose()
    listed = [{**person_json(row.person), "first_contribution": iso(row.first_contribution),
               "last_contribution": iso(row.last_contribution), "contributions": row.contributions,
               "issues": row.counts.get("issue.opened", 0), "prs": row.counts.get("pr.opened", 0),
               "comments": row.counts.get("comment.created", 0), "reviews": row.counts.get("review.submitted", 0)}
              for row in rows]
    if as_json:
        echo_json(listed)
        return
    when = f" since {shown_time(start)} UTC" if start else ""
    if not rows:
        click.echo(("no new contributors" if new_only else "no contributors") + when)
        return
    table = Table(*(Column(header, overflow="fold") for header in (
        "person", "first contribution", "last contribution", "contributions", "issues", "PRs", "comments", "reviews")),
        title=("New contributors" if new_only else "Contributors") + when)  # narrow terminals: folded, not cut
    for row, item in zip(rows, listed, strict=True):
        table.add_row(escape(person_label(row.person)), shown_time(row.first_contribution),
                      shown_time(row.last_contribution), *(str(item[key]) for key in
                                                           ("contributions", "issues", "prs", "comments", "reviews")))
    Console().print(table)
    if limit and len(rows) == limit:
        click.echo(f"the {limit} most recently active; --limit 0 lists all")


@click.command()
@config_option
@click.option("--days", type=click.IntRange(min=1), help="over the last N days (default: commands.leaderboard_days)")
@click.option("--limit", type=click.IntRange(min=1), help="the N most active (default: commands.leaderboard_size)")
@click.option("--json", "as_json", is_flag=True, help="print a JSON array")
def leaderboard(config_file: str | None, days: int | None, limit: int | None, as_json: bool) -> None:
    """The most active people, by OpenDigger's activity (equal scores share a rank)."""
    settings = settings_or_exit(config_file)
    days = days or settings.commands.leaderboard_days
    limit = limit or settings.commands.leaderboard_size
    db = open_database(settings)
    try:
        with db.reading() as conn:
            standings = community.leaderboard(conn, system_clock(), days, limit)
    finally:
        db.dispose()
    if as_json:
        echo_json([{"rank": s.rank, **person_json(s.person), "score": round(s.score, 4), "prs": s.prs,
                    "merged": s.merged, "issues": s.issues, "reviews": s.reviews, "comments": s.comments}
                   for s in standings])
        return
    if not standings:
        click.echo(f"nobody has been active over the last {days} days")
        return
    table = Table("rank", "person", "score", "PRs", "merged", "issues", "reviews", "comments",
                  title=f"Most active over the last {days} days")
    for s in standings:
        table.add_row(str(s.rank), escape(person_label(s.person)), f"{s.score:.2f}",
                      *(str(n) for n in (s.prs, s.merged, s.issues, s.reviews, s.comments)))
    Console().print(table)

