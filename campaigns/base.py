"""What every campaign kind shares: its context (store, settings, clock), its effective window and status, the
ledger of what it did once, and how it announces.

A kind is a module of `campaigns/` (see `campaigns.registry`) with:
- `jobs(campaign, now) -> list[JobSpec]`: the moments it wants to be woken at (its announcements, due dates,
  weekly posts); every campaign is also ticked every `scheduler.tick_seconds`;
- `tick(campaign, ctx) -> list[Action]`: everything due at `ctx.now`, decided once (the ledger), so a tick run
  twice, late, or after a restart neither repeats nor skips anything; it returns `ctx.actions`, which the
  helpers below (`announce`, `comment`, `act`) fill;
- `view(campaign, conn, settings, now, participant=None) -> dict`: what `cobot campaign show` and Slack show;
- optionally `router`: its event handlers;
- optionally `prepare(campaign, preparation) -> dict`: slow work its tick will need (drawing a chart), done before
  the tick's transaction opens (which holds the store's write lock on SQLite: nothing slow may happen inside it);
  what it returns is the tick's `ctx.prepared`.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from bot.config import Settings
from bot.events import Action
from bot.messages.render import render_message
from bot.settings.campaigns import CampaignBase, weekly_times
from bot.store.campaign_tables import CampaignEvent, CampaignState
from bot.store.db import dialect_insert

CAMPAIGN_EVENT = CampaignEvent.__table__  # type: ignore[attr-defined]
CAMPAIGN_STATE = CampaignState.__table__  # type: ignore[attr-defined]

Status = Literal["scheduled", "running", "ended"]
Days = list[tuple[str, dict[str, int]]]  # a chart's days: (YYYY-MM-DD, counts by group)
Drawer = Callable[[Days, str], bytes]  # a chart's days and language → its PNG (campaigns.digest_chart's `draw`, run
#                                       where the runner's owner says: away from a serving process)


@dataclass(frozen=True, slots=True)
class Every:
    seconds: float


@dataclass(frozen=True, slots=True)
class At:
    moment: datetime


@dataclass(frozen=True, slots=True)
class Weekly:
    weekday: str  # monday … sunday
    time: str  # HH:MM
    timezone: str


@dataclass(frozen=True, slots=True)
class Monthly:
    day: int
    time: str
    timezone: str


@dataclass(frozen=True, slots=True)
class JobSpec:
    """A moment a campaign wants to be ticked at; `id` is stable across restarts (the job store keeps it)."""

    id: str
    when: Every | At | Weekly | Monthly


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime | None
    closed_early: bool = False

    def status(self, now: datetime) -> Status:
        if now < self.start:
            return "scheduled"
        if self.end is not None and now >= self.end:
            return "ended"
        return "running"

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment and (self.end is None or moment < self.end)


@dataclass(frozen=True)
class Period:
    """A stretch of time a campaign reports on once: a week, a month, or the whole campaign."""

    key: str  # 2026-W48, 2026-11, or "campaign"
    start: datetime
    end: datetime


def weekly_periods(start: datetime, until: datetime, weekday: str, at: str, zone: ZoneInfo) -> list[Period]:
    """The weeks reported on by `until`, oldest first: each is the seven days before the day of its report
    (reported on Monday at `at`: last week, Monday to Sunday, in `zone`), none before `start`."""
    found = []
    for moment in weekly_times(start, until, weekday, at, zone):
        closed = datetime.combine(moment.astimezone(zone).date(), time(), zone)
        if closed > start:
            opened = closed - timedelta(days=7)
            year, week, _ = opened.isocalendar()
            found.append(Period(f"{year}-W{week:02d}", max(opened, start), closed))
    return found


def monthly_periods(start: datetime, until: datetime, at: str, zone: ZoneInfo) -> list[Period]:
    """The months reported on by `until` (on the first of the next month at `at`), oldest first."""
    found = []
    day = start.astimezone(zone).date().replace(day=1)
    clock = time.fromisoformat(at)
    while True:
        day = _next_month(day)
        if datetime.combine(day, clock, zone) > until:
            return found
        previous = (day - timedelta(days=1)).replace(day=1)
        found.append(Period(f"{previous.year}-{previous.month:02d}",
                            max(datetime.combine(previous, time(), zone), start), datetime.combine(day, time(), zone)))


def _next_month(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1]) + timedelta(days=1)


def window(conn: Connection, campaign: CampaignBase) -> Window:
    """The campaign's window as config sets it and as `cobot campaign start|close` changed it."""
    row = conn.execute(select(CAMPAIGN_STATE.c.started_at, CAMPAIGN_STATE.c.closed_at)
                       .where(CAMPAIGN_STATE.c.campaign == campaign.name)).one_or_none()
    start, end = campaign.start, campaign.end
    if row is not None and row.started_at is not None and row.started_at < start:
        start = row.started_at
    closed_early = False
    if row is not None and row.closed_at is not None and (end is None or row.closed_at < end):
        end, closed_early = row.closed_at, True
    return Window(start, end, closed_early)


def set_state(conn: Connection, campaign: str, **changes: datetime) -> None:
    """Record `started_at` or `closed_at` for a campaign (the first value recorded wins)."""
    insert = dialect_insert(conn.dialect.name)(CAMPAIGN_STATE).values(campaign=campaign, **changes)
    conn.execute(insert.on_conflict_do_nothing(index_elements=["campaign"]))
    for name, value in changes.items():
        column = CAMPAIGN_STATE.c[name]
        conn.execute(CAMPAIGN_STATE.update().where(CAMPAIGN_STATE.c.campaign == campaign, column.is_(None))
                     .values({name: value}))


@dataclass(frozen=True)
class Reply:
    """What a campaign answers to a command (`/claim` on a task, `/campaign join`): a message from
    `bot/templates/{zh,en}/campaigns/TEMPLATE.md.j2`, and the assignments that go with it."""

    template: str
    values: dict[str, Any] = field(default_factory=dict)
    assign: tuple[str, ...] = ()
    unassign: tuple[str, ...] = ()


@dataclass(frozen=True)
class Preparation:
    """What a kind's `prepare` works with, before its tick's transaction: read-only connections (no write lock:
    `with preparation.reading() as conn`), the settings, the tick's time, and how to draw a chart (slow: seconds for
    the first one, which may start a process)."""

    reading: Callable[[], AbstractContextManager[Connection]]
    settings: Settings
    now: datetime
    draw: Drawer


@dataclass
class CampaignContext:
    """A tick's (or an event handler's) view of the world: one transaction, settings, and the time; for a tick,
    what its kind's `prepare` made ready before the transaction, and how to draw a chart the preparation could not
    foresee (the week changed in between: slow, inside the transaction, so only then)."""

    conn: Connection
    settings: Settings
    now: datetime
    actions: list[Action] = field(default_factory=list)
    prepared: dict[str, Any] = field(default_factory=dict)
    draw: Drawer | None = None

    def window(self, campaign: CampaignBase) -> Window:
        return window(self.conn, campaign)

    def language(self, campaign: CampaignBase) -> str:
        return campaign.language or self.settings.community.language

    def once(self, campaign: CampaignBase, key: str, **detail: Any) -> bool:
        """Record that `key` happened for this campaign; False when it already had (so: do it only if True)."""
        insert = dialect_insert(self.conn.dialect.name)(CAMPAIGN_EVENT).values(
            campaign=campaign.name, key=key, at=self.now, detail=detail)
        return self.conn.execute(insert.on_conflict_do_nothing().returning(CAMPAIGN_EVENT.c.id)).first() is not None

    def happened(self, campaign: CampaignBase, key: str) -> bool:
        return self.conn.execute(select(CAMPAIGN_EVENT.c.id).where(
            CAMPAIGN_EVENT.c.campaign == campaign.name, CAMPAIGN_EVENT.c.key == key)).first() is not None

    def announce(self, campaign: CampaignBase, key: str, template: str, **values: Any) -> None:
        """A notification (topic `campaign`) to the channels `[notify]` routes campaigns to, rendered from
        `bot/templates/{zh,en}/campaigns/TEMPLATE` (and `TEMPLATE_title`) in each channel's language."""
        values = {"campaign": campaign.name, "title": campaign.title, **values}
        self.actions.append(Action(kind="notify", key=f"campaign:{campaign.name}:{key}", topic="campaign",
                                   template=f"campaigns/{template}", values=tuple(values.items())))

    def comment(self, campaign: CampaignBase, key: str, where: tuple[str, str, str], is_pr: bool, template: str,
                **values: Any) -> None:
        """A comment on an issue or PR (platform, repo, number), in the campaign's language."""
        language = self.language(campaign)
        body = render_message(f"campaigns/{template}", language, campaign=campaign.name, title=campaign.title, **values)
        platform, repo, number = where
        self.actions.append(Action(kind="comment", key=f"campaign:{campaign.name}:{key}", platform=platform,
                                   repo=repo, number=number, is_pr=is_pr, body=body, language=language))

    def act(self, action: Action) -> None:
        self.actions.append(action)
