"""Runs campaigns: one tick of one campaign in one transaction, its actions stored in the outbox with it. What is
slow (a digest's chart) is done before the transaction opens (its kind's `prepare`, see campaigns.base): on SQLite
the transaction holds the store's write lock, which the inbox pipeline waits for. Charts are drawn by the `draw`
the runner is given (by whoever owns it: the scheduler's draws away from a serving process); here by default.

Used by the scheduler's jobs (bot/pipeline/scheduler.py),
by `cobot campaign start|close` and by the tests, which run whole
campaigns in simulated time by calling `tick` with the clock they move.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.clock import Clock
from bot.config import Settings
from bot.events import Action
from bot.notifiers.routing import route_notification
from bot.outbox.storing import store_actions
from bot.settings.campaigns import CampaignBase
from bot.store.db import Database
from bot.store.deferred import Deferred
from campaigns import registry
from campaigns.base import CampaignContext, Drawer, JobSpec, Preparation, set_state
from campaigns.digest_chart import draw as draw_here

log = logging.getLogger("cobot.campaigns")


class _DryRun(Exception):
    def __init__(self, actions: list[Action]) -> None:
        super().__init__("dry run")
        self.actions = actions


class UnknownCampaign(LookupError):
    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"no campaign named {name!r} (campaigns: {', '.join(known) or 'none configured'})")


@dataclass(frozen=True)
class TickResult:
    campaign: str
    actions: list[Action]  # as routed: one notification per channel
    dry_run: bool


class CampaignRunner:
    def __init__(self, db: Database, settings: Settings, clock: Clock, draw: Drawer = draw_here) -> None:
        self._db = db
        self._settings = settings
        self._clock = clock
        self._draw = draw  # a chart's PNG (slow: never inside the tick's transaction, but where it must)

    def campaign(self, name: str) -> CampaignBase:
        found = self._settings.campaign(name)
        if found is None:
            raise UnknownCampaign(name, [c.name for c in self._settings.campaigns])
        return found

    def jobs(self, now: datetime | None = None) -> list[JobSpec]:
        """Every campaign's wake-up moments (see campaigns.base), plus a tick each for what is due in between."""
        now = now or self._clock()
        specs: list[JobSpec] = []
        for campaign in self._settings.campaigns:
            specs += registry.kind_of(campaign).jobs(campaign, now)
        return specs

    def tick(self, name: str, now: datetime | None = None, dry_run: bool = False) -> TickResult:
        """Do what is due for one campaign (nothing is stored with `dry_run`: the actions are only returned)."""
        return self._in_transaction(self.campaign(name), now or self._clock(), dry_run)

    def tick_all(self, now: datetime | None = None) -> list[TickResult]:
        now = now or self._clock()
        results = []
        for campaign in self._settings.campaigns:
            try:
                results.append(self._in_transaction(campaign, now, False))
            except Exception:  # one campaign's bug does not stop the others; the next tick tries again
                log.exception("campaign %s: the tick failed", campaign.name)
        return results

    def start(self, name: str, dry_run: bool = False) -> TickResult:
        """Start a campaign now, ahead of its configured start (a running campaign is left as it is)."""
        now = self._clock()
        return self._in_transaction(self.campaign(name), now, dry_run, started_at=now)

    def close(self, name: str, dry_run: bool = False) -> TickResult:
        """End a campaign now, ahead of its configured end: its final results are decided at once."""
        now = self._clock()
        return self._in_transaction(self.campaign(name), now, dry_run, closed_at=now)

    def _in_transaction(self, campaign: CampaignBase, now: datetime, dry_run: bool, **state: datetime
                        ) -> TickResult:
        language = self._settings.community.language
        kind = registry.kind_of(campaign)
        prepare = getattr(kind, "prepare", None)
        prepared = {} if prepare is None else prepare(campaign, Preparation(
            reading=self._db.reading, settings=self._settings, now=now, draw=self._draw))  # (no write lock yet)
        try:
            with self._db.session() as session:
                conn = session.connection()
                if state:
                    set_state(conn, campaign.name, **state)
                ctx = CampaignContext(conn=conn, settings=self._settings, now=now, prepared=prepared,
                                      draw=self._draw)
                actions = kind.tick(campaign, ctx)
                routed = [routed for action in actions for routed in (
                    route_notification(action, self._settings.notify, language) if action.kind == "notify"
                    else [action])]
                if dry_run:
                    raise _DryRun(routed)
                later = Deferred(self._db.dialect)
                store_actions(later, routed, None, now, self._settings.notify, language)
                later.flush(conn)
        except _DryRun as dry:  # the transaction is rolled back: nothing happened
            return TickResult(campaign.name, dry.actions, True)
        if routed:
            log.info("campaign %s: %d actions at %s", campaign.name, len(routed), now.isoformat())
        return TickResult(campaign.name, routed, False)
