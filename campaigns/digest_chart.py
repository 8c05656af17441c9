"""A digest week's chart: which weeks have one, the picture, and the store that keeps it.

- `chart_period(conn, campaign, week, now)`: the week `2026-W47` as the digest reports on it (the seven days
  before the day of its report, in the campaign's time zone, none before the campaign's start), once its digest is
  due; anything else raises `NoChart` saying why (a malformed week, `0001-W01`, `2026-W00`, one before the campaign
  began, after it ended, or not over yet). Dates are checked before any moment is computed: nothing overflows.
- `draw(days, language)`: the PNG (matplotlib, imported here only). It runs where nothing is served: in the slow
  reads' worker process (bot.web.apart), or for a digest being sent where the campaign runner's owner says (the
  scheduler's: the inbox worker's process, else the slow reads' worker), before the tick's transaction opens.
- `week_png(...)`: the week's counts read and drawn, in that worker (its read-only connection).
- `kept` / `keep`: the table `digest_chart`, one picture per campaign, week and language, with the random `key` of
  its address. A week that is over does not change its picture: it is drawn once (when its digest is sent, or
  first asked for) and never again, so the chart in a message always matches the message. Events that arrive late
  for a week (a backfill) change the dashboard's numbers, not a chart already drawn; delete its row to redraw it.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, select

from bot.settings.campaigns import WEEKDAYS, DigestSettings
from bot.store.campaign_tables import DigestChart
from bot.store.community_tables import Activity
from bot.store.db import dialect_insert
from campaigns.base import Days, Period, weekly_periods, window

ACTIVITY = Activity.__table__  # type: ignore[attr-defined]
DIGEST_CHART = DigestChart.__table__  # type: ignore[attr-defined]

KEY_BYTES = 16  # of randomness in a chart's address: 22 characters, never guessed
WIDTH, HEIGHT, DPI = 6.4, 2.6, 100  # inches: 640 × 260 pixels
# What the chart stacks, day by day: activity kinds in groups.
CHART_GROUPS: dict[str, tuple[str, ...]] = {
    "opened": ("issue.opened", "pr.opened"),
    "comments": ("comment.created", "comment.diff", "comment.review"),
    "reviews": ("review.submitted",),
    "merged": ("pr.merged",),
}
LABELS = {"en": {"opened": "issues & PRs opened", "comments": "comments", "reviews": "reviews",
                 "merged": "PRs merged"},
          "zh": {"opened": "opened", "comments": "comments", "reviews": "reviews", "merged": "merged"}}
COLOURS = {"opened": "#2f81f7", "comments": "#8957e5", "reviews": "#bf8700", "merged": "#1a7f37"}



class NoChart(LookupError):
    """There is no chart at that address; the message says why, for the person who asked."""


@dataclass(frozen=True, slots=True)
class Chart:
    png: bytes
    key: str  # the random part of its address: /digests/NAME/WEEK/KEY.png


def chart_path(campaign: str, week: str, key: str) -> str:
    """The address a digest's message links its chart at (after `server.public_url`)."""
    return f"/digests/{campaign}/{week}/{key}.png"


# -- which weeks have a chart ------------------------------------------------------------------------------------


def parse_week(text: str) -> tuple[int, int]:
    """`2026-W47` → (2026, 47), an ISO week that exists; NoChart for anything else."""
    year, dash, week = text.partition("-W")
    if not (dash and len(year) == 4 and len(week) == 2 and (year + week).isascii() and (year + week).isdigit()):
        raise NoChart("a week is written like 2026-W47 (an ISO year, -W, and the week's two digits)")
    try:
        date.fromisocalendar(int(year), int(week), 1)
    except ValueError:
        raise NoChart(f"{text} is no week of the calendar (the weeks of a year are numbered from 01 to 52 or "
                      "53)") from None
    return int(year), int(week)


def chart_period(conn: Connection, campaign: DigestSettings, week: str, now: datetime) -> Period:
    """The period the digest reported on (or would have, had cobot been running) as `week`, once its report was
    due by `now`; NoChart otherwise."""
    try:
        return _period(conn, campaign, week, now)
    except OverflowError:  # (a campaign that begins in the year 1)
        raise NoChart(f"there is no digest of {week}") from None


def _period(conn: Connection, campaign: DigestSettings, week: str, now: datetime) -> Period:
    year, number = parse_week(week)
    opened_on = date.fromisocalendar(year, number, WEEKDAYS.index(campaign.weekday) + 1)
    zone = campaign.zone
    if opened_on > now.astimezone(zone).date():  # dates only: 9999-W52 never becomes a moment
        raise NoChart(f"the digest of {week} is not due yet: its chart is drawn when it is")
    span = window(conn, campaign)
    begins = span.start.astimezone(zone).date()
    if opened_on + timedelta(days=7) <= begins:  # its seven days end before the campaign begins (0001-W01 too)
        raise NoChart(f"{campaign.name} begins on {begins.isoformat()}: there is no digest of {week}")
    opened = datetime.combine(opened_on, time(), zone)
    due = datetime.combine(opened_on + timedelta(days=7), time.fromisoformat(campaign.time), zone)
    until = now if span.end is None else min(now, span.end)
    # the weeks reported on between the day before and the day after its report: the same reckoning as the digest's
    around = weekly_periods(max(span.start, opened - timedelta(days=1)), min(until, due + timedelta(days=1)),
                            campaign.weekday, campaign.time, zone)
    for period in around:
        if period.key == week:
            return period
    if span.end is not None and due > span.end:
        raise NoChart(f"{campaign.name} ended on {span.end.astimezone(zone).date().isoformat()}: there is no "
                      f"digest of {week}")
    raise NoChart(f"the digest of {week} is not due yet: its chart is drawn when it is")


def first_activity(conn: Connection, campaign: DigestSettings) -> datetime | None:
    """When the first event the digest counts happened (its repo's, for a repo digest); None before any."""
    where = [ACTIVITY.c.is_bot.is_(False)]
    repo = campaign.repo()
    if repo is not None:
        where += [ACTIVITY.c.platform == repo[0], ACTIVITY.c.repo == repo[1]]
    return conn.execute(select(ACTIVITY.c.occurred_at).where(*where).order_by(ACTIVITY.c.occurred_at).limit(1)
                        ).scalar_one_or_none()


# -- the picture ---------------------------------------------------------------------------------------------------


def chart_days(conn: Connection, since: datetime, until: datetime, repo: tuple[str, str] | None, zone: Any) -> Days:
    """The days of [since, until) in `zone`, each with its count of human events by chart group."""
    kinds = [kind for group in CHART_GROUPS.values() for kind in group]
    where = [] if repo is None else [ACTIVITY.c.platform == repo[0], ACTIVITY.c.repo == repo[1]]
    rows = conn.execute(select(ACTIVITY.c.kind, ACTIVITY.c.occurred_at).where(
        ACTIVITY.c.is_bot.is_(False), ACTIVITY.c.occurred_at >= since, ACTIVITY.c.occurred_at < until,
        ACTIVITY.c.kind.in_(kinds), *where)).all()
    group_of = {kind: group for group, members in CHART_GROUPS.items() for kind in members}
    days: dict[date, dict[str, int]] = {}
    day = since.astimezone(zone).date()
    while datetime.combine(day, datetime.min.time(), zone) < until:
        days[day] = dict.fromkeys(CHART_GROUPS, 0)
        day += timedelta(days=1)
    for kind, moment in rows:
        counts = days.get(moment.astimezone(zone).date())
        if counts is not None:
            counts[group_of[kind]] += 1
    return [(day.isoformat(), counts) for day, counts in days.items()]


def draw(days: Days, language: str) -> bytes:
    """The week's activity, day by day, stacked by kind: a small PNG (matplotlib, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    names = LABELS.get(language, LABELS["en"])
    figure = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI)
    axes = figure.add_subplot()
    labels = [day[5:] for day, _ in days]
    bottom = [0] * len(labels)
    for group in CHART_GROUPS:
        values = [counts[group] for _, counts in days]
        axes.bar(labels, values, bottom=bottom, label=names[group], color=COLOURS[group], width=0.7)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.set_ylabel("events")
    axes.spines[["top", "right"]].set_visible(False)
    axes.legend(loc="upper left", fontsize=7, frameon=False, ncols=4)
    axes.set_ylim(0, max([*bottom, 1]) * 1.3)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def week_png(conn: Connection, settings: Any, now: datetime, name: str, since: datetime, until: datetime,
             language: str) -> bytes:
    """A digest campaign's week, read and drawn (a slow read: bot.web.apart runs it in its worker)."""
    campaign = settings.campaign(name)
    return draw(chart_days(conn, since, until, campaign.repo(), campaign.zone), language)


# -- the store -----------------------------------------------------------------------------------------------------


def kept(conn: Connection, campaign: str, week: str, language: str) -> Chart | None:
    row = conn.execute(select(DIGEST_CHART.c.png, DIGEST_CHART.c.key).where(
        DIGEST_CHART.c.campaign == campaign, DIGEST_CHART.c.week == week, DIGEST_CHART.c.language == language)
    ).one_or_none()
    return None if row is None else Chart(png=row.png, key=row.key)


def keep(conn: Connection, campaign: str, week: str, language: str, png: bytes, now: datetime) -> Chart:
    """Keep a chart just drawn, with a new random key; when another replica (or the digest) kept one first, that
    one stays and is returned: one picture, one address."""
    insert = dialect_insert(conn.dialect.name)(DIGEST_CHART).values(
        campaign=campaign, week=week, language=language, key=secrets.token_urlsafe(KEY_BYTES), png=png,
        drawn_at=now)
    conn.execute(insert.on_conflict_do_nothing(index_elements=["campaign", "week", "language"]))
    found = kept(conn, campaign, week, language)
    if found is None:  # (inserted just now, or there before: not deleted in between, in one transaction)
        raise LookupError(f"the chart of {campaign} {week} is not where it was just kept")
    return found


def for_the_digest(conn: Connection, campaign: DigestSettings, period: Period, language: str,
                   png: Callable[[], bytes], now: datetime) -> Chart:
    """The chart a digest being sent shows: kept (it was asked for already), or `png()` (drawn before the tick's
    transaction) kept in the same transaction as the digest, so the links in its messages find it."""
    found = kept(conn, campaign.name, period.key, language)
    if found is not None:
        return found
    return keep(conn, campaign.name, period.key, language, png(), now)
