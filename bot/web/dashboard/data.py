"""What the dashboard shows, as JSON-able dicts: pure reads `(conn, settings, now, ...) -> dict` on a read-only
connection (`Database.reading()`; the deliveries' on `db.inbox`). The API serves them as they are
(bot.web.dashboard.api, described by bot.web.dashboard.openapi); the pages render them. The reads of people (the
contributors list, a profile) are bot.web.dashboard.profiles', built on the helpers here.

Each read stays within a few indexed queries with LIMITs, whatever the store holds: the overview's numbers and the
contributors list are counted by them rather than by the digest's and the CLI's whole-table reads. Four reuse slower
measures as they are, and the API keeps their results for `dashboard.cache_seconds`: the CHAOSS health of the
overview (bot.community.metrics.health), the leaderboard (OpenDigger activity of everyone), the campaign views
(campaigns.views) and the digest preview.

Moments are ISO 8601 strings with their offset (UTC); people are named as bot.community.people names them (`id`:
`github:alice`, `gitee:bob` or `person:NAME` for linked accounts; `name`; `accounts`).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Connection, func, select

from bot.badges.awards import BADGE_AWARD, assertion_url, profile_url
from bot.badges.rules import criteria
from bot.community import metrics
from bot.community import people as community
from bot.community.kinds import CONTRIBUTION_KINDS
from bot.community.people import Person
from bot.config import Settings
from bot.notifiers.registry import channel_secrets
from bot.outbox.rows import action_row
from bot.settings.campaigns import DigestSettings
from bot.store.community_tables import Activity, Thread
from bot.store.tables import DELIVERY_STATUSES, OUTBOX_STATUSES, Delivery, OutboxAction
from campaigns.base import window
from campaigns.digest import CHART_GROUPS, build_digest, render_markdown, standalone_html
from campaigns.runner import UnknownCampaign
from campaigns.views import campaign_views

ACTIVITY = Activity.__table__  # type: ignore[attr-defined]
THREAD = Thread.__table__  # type: ignore[attr-defined]
DELIVERY = Delivery.__table__  # type: ignore[attr-defined]
OUTBOX = OutboxAction.__table__  # type: ignore[attr-defined]

PLATFORMS = ("github", "gitee")
WEEK = timedelta(days=7)
HEALTH_DAYS = 30  # the overview's CHAOSS health: over the last 30 days
NEWCOMERS_SHOWN = 50
RECENT_AWARDS = 20
# the headline numbers, in the digest's order (campaigns.digest)
NUMBERS = ("contributors", "new_contributors", "issues_opened", "prs_opened", "prs_merged", "comments")


class NotFound(LookupError):
    """Something asked for by name or id that is not there; the message says what (the API answers 404)."""


def storable(text: str) -> bool:
    """Whether both databases can hold (and so be asked about) a text: no NUL character, no lone surrogate."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def person_json(person: Person) -> dict[str, Any]:
    """A person as every read names them: id, name, and their accounts with each profile's address."""
    return {"id": person.id, "name": person.name,
            "accounts": [{"platform": a.platform, "login": a.login, "url": profile_url(a.platform, a.login)}
                         for a in person.accounts]}


def human(table: Any = ACTIVITY) -> list[ColumnElement[bool]]:
    return [table.c.is_bot.is_(False), table.c.kind.in_(CONTRIBUTION_KINDS)]


def _day(conn: Connection, column: Any) -> Any:
    """The calendar day (UTC) of a time column, as YYYY-MM-DD."""
    if conn.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d", column)


# -- the overview --------------------------------------------------------------------------------------------------


def newcomer_query(since: datetime, until: datetime) -> Any:
    """A subquery: the people whose first contribution ever is in [since, until), with that moment (`first`)."""
    earlier = ACTIVITY.alias("earlier")
    recent = (select(ACTIVITY.c.person, func.min(ACTIVITY.c.occurred_at).label("first"))
              .where(*human(), ACTIVITY.c.occurred_at >= since, ACTIVITY.c.occurred_at < until)
              .group_by(ACTIVITY.c.person).subquery("recent"))
    before = (select(earlier.c.id).where(earlier.c.person == recent.c.person, earlier.c.occurred_at < since,
                                         *human(earlier)).exists())
    return select(recent.c.person, recent.c.first).where(~before).subquery("newcomers")


def window_numbers(conn: Connection, since: datetime, until: datetime) -> dict[str, int]:
    """The digest's headline numbers of [since, until) for the community (as campaigns.digest counts them, without
    computing the rest of its health metrics): contributors, new contributors, issues and PRs opened, PRs merged,
    comments (conversation and diff)."""
    in_window = [ACTIVITY.c.is_bot.is_(False), ACTIVITY.c.occurred_at >= since, ACTIVITY.c.occurred_at < until]
    kinds = dict(conn.execute(select(ACTIVITY.c.kind, func.count()).where(*in_window)
                              .group_by(ACTIVITY.c.kind)).all())
    contributors = conn.execute(select(func.count(ACTIVITY.c.person.distinct())).where(
        *in_window, ACTIVITY.c.kind.in_(CONTRIBUTION_KINDS))).scalar_one()
    merged = conn.execute(select(func.count()).select_from(THREAD).where(
        THREAD.c.is_pr.is_(True), THREAD.c.merged_at >= since, THREAD.c.merged_at < until,
        metrics.human_author())).scalar_one()
    new = conn.execute(select(func.count()).select_from(newcomer_query(since, until))).scalar_one()
    return {"contributors": contributors, "new_contributors": new, "issues_opened": kinds.get("issue.opened", 0),
            "prs_opened": kinds.get("pr.opened", 0), "prs_merged": merged,
            "comments": kinds.get("comment.created", 0) + kinds.get("comment.diff", 0)}


def daily_activity(conn: Connection, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """People's activity per UTC day of [since, until), in the digest chart's groups (opened, comments, reviews,
    merged): one entry per day, days without any included."""
    group_of = {kind: group for group, members in CHART_GROUPS.items() for kind in members}
    day = _day(conn, ACTIVITY.c.occurred_at)
    rows = conn.execute(select(day, ACTIVITY.c.kind, func.count()).where(
        ACTIVITY.c.is_bot.is_(False), ACTIVITY.c.occurred_at >= since, ACTIVITY.c.occurred_at < until,
        ACTIVITY.c.kind.in_(group_of)).group_by(day, ACTIVITY.c.kind))
    days: dict[str, dict[str, Any]] = {}
    moment = since.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    while moment < until:
        key = moment.date().isoformat()
        days[key] = {"day": key, **dict.fromkeys(CHART_GROUPS, 0)}
        moment += timedelta(days=1)
    for key, kind, count in rows:
        if key in days:
            days[key][group_of[kind]] += count
    return list(days.values())


def health(conn: Connection, since: datetime, until: datetime) -> dict[str, Any]:
    """The community's CHAOSS health over [since, until) (bot.community.metrics.health), with the window."""
    return {"since": iso(since), "until": iso(until), **asdict(metrics.health(conn, since, until))}


def newcomers(conn: Connection, since: datetime, until: datetime, limit: int = NEWCOMERS_SHOWN
              ) -> list[dict[str, Any]]:
    """The people whose first contribution is in [since, until), the latest first (at most `limit`)."""
    found = newcomer_query(since, until)
    rows = conn.execute(select(found.c.person, found.c.first).order_by(found.c.first.desc(), found.c.person)
                        .limit(limit)).all()
    named = community.people(conn, [person for person, _ in rows])
    return [{**person_json(named[person]), "first_contribution": iso(first)} for person, first in rows]


def overview(conn: Connection, settings: Settings, now: datetime, days: int = 30) -> dict[str, Any]:
    """The community at a glance: the last 7 days' headline numbers beside the 7 before, activity per day over the
    last `days`, CHAOSS health over the last 30 days, and this week's newcomers."""
    this_week = window_numbers(conn, now - WEEK, now)
    last_week = window_numbers(conn, now - 2 * WEEK, now - WEEK)
    return {
        "community": settings.community.name, "generated_at": iso(now), "since": iso(now - WEEK), "until": iso(now),
        "numbers": [{"name": name, "value": this_week[name], "previous": last_week[name],
                     "change": this_week[name] - last_week[name]} for name in NUMBERS],
        "activity": {"days": days, "groups": list(CHART_GROUPS),
                     "series": daily_activity(conn, now - timedelta(days=days), now)},
        "health": health(conn, now - timedelta(days=HEALTH_DAYS), now),
        "newcomers": newcomers(conn, now - WEEK, now),
    }


# -- the leaderboard and the campaigns -------------------------------------------------------------------------------


def leaderboard(conn: Connection, settings: Settings, now: datetime, days: int = 30, limit: int = 10
                ) -> dict[str, Any]:
    """The `limit` most active people over the last `days` (OpenDigger activity, equal scores sharing a rank)."""
    standings = community.leaderboard(conn, now, days, limit)
    return {"generated_at": iso(now), "days": days, "since": iso(now - timedelta(days=days)), "until": iso(now),
            "items": [{"rank": s.rank, **person_json(s.person), "score": round(s.score, 4), "prs": s.prs,
                       "merged": s.merged, "issues": s.issues, "reviews": s.reviews, "comments": s.comments}
                      for s in standings]}


def campaign_list(conn: Connection, settings: Settings, now: datetime) -> dict[str, Any]:
    """Every configured campaign: name, kind, title, status and window (a campaign's view: `campaign`)."""
    items = []
    for configured in settings.campaigns:
        span = window(conn, configured)
        items.append({"name": configured.name, "kind": configured.kind, "title": configured.title,
                      "status": span.status(now), "start": iso(span.start), "end": iso(span.end),
                      "closed_early": span.closed_early})
    return {"items": items}


def campaign(conn: Connection, settings: Settings, now: datetime, name: str) -> dict[str, Any]:
    """One campaign's view, as `cobot campaign show --json` gives it (campaigns.views). Raises NotFound."""
    if settings.campaign(name) is None:
        raise NotFound(str(UnknownCampaign(name, [c.name for c in settings.campaigns])))
    return campaign_views(conn, settings, now, only=name)[0]


def digest_preview(conn: Connection, settings: Settings, now: datetime, since: datetime | None = None,
                   until: datetime | None = None, language: str | None = None, campaign_name: str | None = None
                   ) -> dict[str, Any]:
    """The weekly digest of [since, until) (default: the 7 days before now) for the community or a digest campaign's
    scope, as Markdown (for chat) and as a standalone HTML page (its chart inline), with its numbers. Nothing is
    sent. Raises NotFound for a campaign that is not a digest; ValueError when `since` is not before `until`."""
    configured = None
    if campaign_name is not None:
        found = settings.campaign(campaign_name)
        if not isinstance(found, DigestSettings):
            digests = [c.name for c in settings.campaigns if isinstance(c, DigestSettings)]
            raise NotFound(f"no digest campaign named {campaign_name!r} (digests: {', '.join(digests) or 'none'})")
        configured = found
    until = until or now
    since = since or until - WEEK
    if since >= until:
        raise ValueError("since must be before until")
    language = (language or (configured.language if configured else None) or settings.dashboard.language
                or settings.community.language)
    built = build_digest(conn, settings, configured, since, until, language)
    document = built.as_dict()
    document["days"] = [{"day": day, **counts} for day, counts in built.days]
    return {"since": iso(since), "until": iso(until), "language": language,
            "campaign": configured.name if configured else None, "markdown": render_markdown(built, language),
            "html": standalone_html(built, language), "digest": document}


# -- badges ------------------------------------------------------------------------------------------------------


def badges(conn: Connection, settings: Settings, now: datetime, language: str | None = None) -> dict[str, Any]:
    """The badge catalogue (how each is earned, how many hold it) and the latest awards."""
    language = language or settings.dashboard.language or settings.community.language
    held = dict(conn.execute(select(BADGE_AWARD.c.badge, func.count()).where(BADGE_AWARD.c.revoked_at.is_(None))
                             .group_by(BADGE_AWARD.c.badge)).all())
    catalogue = settings.badges.catalogue()
    rules = settings.badges.rules()
    base = settings.server.public_url
    latest = conn.execute(select(BADGE_AWARD).where(BADGE_AWARD.c.revoked_at.is_(None))
                          .order_by(BADGE_AWARD.c.awarded_at.desc(), BADGE_AWARD.c.id.desc())
                          .limit(RECENT_AWARDS)).all()
    named = community.people(conn, list({row.person for row in latest}))
    return {
        "badges": [{"id": badge.id, "name": badge.name_in(language), "description": badge.description_in(language),
                    "criteria": criteria(settings, badge.id, language),
                    "rule": rules[badge.id].kind if badge.id in rules else "hand", "holders": held.get(badge.id, 0),
                    "image": f"{base}/badges/{badge.id}.svg", "badge_class": f"{base}/badges/{badge.id}"}
                   for badge in catalogue.values()],
        "recent": [{"badge": row.badge, "person": person_json(named[row.person]), "login": row.login,
                    "platform": row.platform, "awarded_by": row.awarded_by, "reason": row.reason,
                    "awarded_at": iso(row.awarded_at),
                    "assertion": assertion_url(settings, row.uid) if row.uid else None} for row in latest]}


# -- operations ----------------------------------------------------------------------------------------------------


def delivery_json(row: Any) -> dict[str, Any]:
    """A delivery as operations show it: what came, and what became of it (never its headers or body)."""
    return {"id": row.id, "platform": row.platform, "event": row.event, "action": row.action, "status": row.status,
            "error": row.error, "attempts": row.attempts, "key": row.key, "received_at": iso(row.received_at),
            "next_attempt_at": iso(row.next_attempt_at), "processed_at": iso(row.processed_at)}


DELIVERY_COLUMNS = ("id", "platform", "event", "action", "status", "error", "attempts", "key", "received_at",
                    "next_attempt_at", "processed_at")


def deliveries(inbox: Connection, settings: Settings, now: datetime, *, status: str | None = None, limit: int = 50,
               offset: int = 0) -> dict[str, Any]:
    """Received webhook deliveries, the newest first (on a connection to `db.inbox`): a page, with the total."""
    if status is not None and status not in DELIVERY_STATUSES:
        raise ValueError(f"status: one of {', '.join(DELIVERY_STATUSES)}")
    where = [DELIVERY.c.status == status] if status else []
    total = inbox.execute(select(func.count()).select_from(DELIVERY).where(*where)).scalar_one()
    rows = inbox.execute(select(*(DELIVERY.c[name] for name in DELIVERY_COLUMNS)).where(*where)
                         .order_by(DELIVERY.c.id.desc()).limit(limit).offset(offset)).all()
    return {"total": total, "limit": limit, "offset": offset, "items": [delivery_json(row) for row in rows]}


def delivery(inbox: Connection, delivery_id: int) -> dict[str, Any]:
    row = inbox.execute(select(*(DELIVERY.c[name] for name in DELIVERY_COLUMNS))
                        .where(DELIVERY.c.id == delivery_id)).first()
    if row is None:
        raise NotFound(f"no delivery with id {delivery_id}")
    return delivery_json(row)


def outbox_json(row: Any, secrets: list[str]) -> dict[str, Any]:
    """An outbox action as `cobot outbox --json` shows it: its result and error masked, no payload."""
    shown = action_row(cast(OutboxAction, row), secrets)
    for name in ("created_at", "next_attempt_at", "done_at"):
        shown[name] = iso(getattr(row, name))
    return shown


OUTBOX_COLUMNS = ("id", "kind", "channel", "platform", "repo", "number", "status", "attempts", "key", "result",
                  "last_error", "delivery_id", "created_at", "next_attempt_at", "done_at")


def outbox(conn: Connection, settings: Settings, now: datetime, *, status: str | None = None, limit: int = 50,
           offset: int = 0) -> dict[str, Any]:
    """Outbox actions (comments, labels, notifications…), the newest first: a page, with the total."""
    if status is not None and status not in OUTBOX_STATUSES:
        raise ValueError(f"status: one of {', '.join(OUTBOX_STATUSES)}")
    where = [OUTBOX.c.status == status] if status else []
    total = conn.execute(select(func.count()).select_from(OUTBOX).where(*where)).scalar_one()
    rows = conn.execute(select(*(OUTBOX.c[name] for name in OUTBOX_COLUMNS)).where(*where)
                        .order_by(OUTBOX.c.id.desc()).limit(limit).offset(offset)).all()
    secrets = channel_secrets(settings.notify)
    return {"total": total, "limit": limit, "offset": offset, "items": [outbox_json(row, secrets) for row in rows]}


def outbox_action(conn: Connection, settings: Settings, action_id: int) -> dict[str, Any]:
    row = conn.execute(select(*(OUTBOX.c[name] for name in OUTBOX_COLUMNS)).where(OUTBOX.c.id == action_id)).first()
    if row is None:
        raise NotFound(f"no outbox action with id {action_id}")
    return outbox_json(row, channel_secrets(settings.notify))

