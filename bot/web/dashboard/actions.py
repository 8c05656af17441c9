"""What maintainers may do from the dashboard, as the CLI does it: replay a delivery, retry a failed outbox action,
award a badge, close a campaign. Blocking (run them in a thread); each answers a JSON-able dict and raises
bot.web.dashboard.data.NotFound for something unknown, Conflict for something in the wrong state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from bot.badges.awards import BADGE_AWARD, assertion_url, grant
from bot.badges.rules import UnknownBadge
from bot.clock import Clock
from bot.community.people import UnknownPerson, people
from bot.config import Settings
from bot.outbox.storing import describe
from bot.pipeline.processor import Pipeline
from bot.store.db import Database
from bot.store.tables import OutboxAction
from bot.web.apart import SLOW_READS
from bot.web.dashboard.data import NotFound, delivery_json, iso, outbox_action, person_json
from campaigns.base import window
from campaigns.digest_chart import draw
from campaigns.runner import CampaignRunner, UnknownCampaign

AWARDED_BY = "dashboard"


class Conflict(Exception):
    """An action the thing it is on is not in the state for (the API answers 409)."""


def replay(pipeline: Pipeline, delivery_id: int) -> dict[str, Any]:
    """Run a delivery through the handlers again (`cobot deliveries replay`): the delivery as it then is."""
    try:
        return delivery_json(pipeline.replay(delivery_id))
    except LookupError as error:
        raise NotFound(str(error)) from None


def retry(db: Database, settings: Settings, now: datetime, action_id: int) -> dict[str, Any]:
    """Send a failed outbox action again (`cobot outbox retry`): pending, due now, its attempts counted afresh."""
    with db.session() as session:
        action = session.get(OutboxAction, action_id)
        if action is None:
            raise NotFound(f"no outbox action with id {action_id}")
        if action.status != "failed":
            raise Conflict(f"outbox action {action_id} is {action.status}: only failed ones are retried")
        action.status, action.attempts, action.done_at = "pending", 0, None
        action.next_attempt_at = now
    with db.reading() as conn:
        return outbox_action(conn, settings, action_id)


def award(db: Database, settings: Settings, now: datetime, badge: str, user: str, reason: str | None = None
          ) -> dict[str, Any]:
    """Award a badge (`cobot award`), once; [notify] announces a new award. The award as it stands (an award held
    already: as it was made), and whether it is new."""
    try:
        made, new = grant(db, settings, badge, user, awarded_by=AWARDED_BY, now=now, reason=reason)
    except (UnknownBadge, UnknownPerson) as error:
        raise NotFound(str(error)) from None
    with db.reading() as conn:
        held = conn.execute(select(BADGE_AWARD).where(BADGE_AWARD.c.person == made.person,
                                                      BADGE_AWARD.c.badge == made.badge.id)).one()
        person = people(conn, [made.person])[made.person]
    return {"new": new, "badge": made.badge.id, "person": person_json(person), "login": held.login,
            "platform": held.platform, "awarded_by": held.awarded_by, "awarded_at": iso(held.awarded_at),
            "reason": held.reason, "assertion": assertion_url(settings, held.uid) if held.uid else None}


def close(db: Database, settings: Settings, clock: Clock, name: str, dry_run: bool = False) -> dict[str, Any]:
    """End a campaign now (`cobot campaign close`): its final results decided and announced (with `dry_run`, only
    what that would do). The actions, and the campaign's status after."""
    runner = CampaignRunner(db, settings, clock, draw=SLOW_READS.blocking(draw))  # (a digest's chart: not here)
    try:
        result = runner.close(name, dry_run)
    except UnknownCampaign as error:
        raise NotFound(str(error)) from None
    configured = runner.campaign(name)
    with db.reading() as conn:
        status = window(conn, configured).status(clock())
    return {"campaign": result.campaign, "dry_run": result.dry_run, "status": status,
            "actions": [{"kind": action.kind, "key": action.key, "channel": action.channel,
                         "platform": action.platform, "repo": action.repo, "number": action.number,
                         "description": describe(action)} for action in result.actions]}
