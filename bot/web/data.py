"""What the dashboard shows, as JSON-able dicts: pure reads `(conn, settings, now, ...) -> dict` on a read-only
connection (`Database.reading()`; the deliveries' on `db.inbox`). The API serves them as they are (bot.web.api,
described by bot.web.openapi); the pages render them.

Each read stays within a few indexed queries with LIMITs, whatever the store holds: the overview's numbers and the
contributors list are counted here rather than by the digest's and the CLI's whole-table reads. Four reuse slower
measures as they are, and the API keeps their results for `dashboard.cache_seconds`: the CHAOSS health of the
overview (bot.community.metrics.health), the leaderboard (OpenDigger activity of everyone), the campaign views
(campaigns.views) and the digest preview.

Moments are ISO 8601 strings with their offset (UTC); people are named as bot.community.people names them (`id`:
`github:alice`, `gitee:bob` or `person:NAME` for linked accounts; `name`; `accounts`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select

from bot.badges.rules import BADGE_AWARD, assertion_url, criteria, profile_url
from bot.cli.notify import OUTBOX_STATUSES, action_row
from bot.community import metrics
from bot.community import people as community
from bot.community.people import CONTRIBUTION_KINDS, Person, UnknownPerson
from bot.config import Settings
from bot.messages.escape import safe_link
from bot.notifiers.registry import channel_secrets
from bot.settings.campaigns import CampSettings, DigestSettings, HackathonSettings
from bot.store.tables import (
    DELIVERY_STATUSES,
    Activity,
    CampaignSubmission,
    CampParticipant,
    Contributor,
    Delivery,
    HackathonClaim,
    OutboxAction,
    Repo,
    Thread,
)
from campaigns import camp, hackathon
from campaigns.base import window
from campaigns.digest import CHART_GROUPS, build_digest, render_markdown, standalone_html
from campaigns.runner import UnknownCampaign
from campaigns.views import campaign_views

ACTIVITY = Activity.__table__  # type: ignore[attr-defined]
CONTRIBUTOR = Contributor.__table__  # type: ignore[attr-defined]
THREAD = Thread.__table__  # type: ignore[attr-defined]
REPO = Repo.__table__  # type: ignore[attr-defined]
DELIVERY = Delivery.__table__  # type: ignore[attr-defined]
OUTBOX = OutboxAction.__table__  # type: ignore[attr-defined]
CLAIM = HackathonClaim.__table__  # type: ignore[attr-defined]
SUBMISSION = CampaignSubmission.__table__  # type: ignore[attr-defined]
PARTICIPANT = CampParticipant.__table__  # type: ignore[attr-defined]

PLATFORMS = ("github", "gitee")
WEEK = timedelta(days=7)
HEALTH_DAYS = 30  # the overview's CHAOSS health: over the last 30 days
RECENT_DAYS = 30  # the contributors list counts each one's contributions over the last 30 days
NEWCOMERS_SHOWN = 50
TIMELINE_SHOWN = 20
RECENT_AWARDS = 20
# the headline numbers, in the digest's order (campaigns.digest)
NUMBERS = ("contributors", "new_contributors", "issues_opened", "prs_opened", "prs_merged", "comments")
REPO_URLS = {"github": "https://github.com/{repo}", "gitee": "https://gitee.com/{repo}"}
THREAD_KINDS_ON_PRS = ("pr.", "review.", "comment.diff", "comment.review")


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


def _human(table: Any = ACTIVITY) -> list[ColumnElement[bool]]:
    return [table.c.is_bot.is_(False), table.c.kind.in_(CONTRIBUTION_KINDS)]


def _day(conn: Connection, column: Any) -> Any:
    """The calendar day (UTC) of a time column, as YYYY-MM-DD."""
    if conn.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d", column)


# -- the overview --------------------------------------------------------------------------------------------------


def _newcomers(since: datetime, until: datetime) -> Any:
    """A subquery: the people whose first contribution ever is in [since, until), with that moment (`first`)."""
    earlier = ACTIVITY.alias("earlier")
    recent = (select(ACTIVITY.c.person, func.min(ACTIVITY.c.occurred_at).label("first"))
              .where(*_human(), ACTIVITY.c.occurred_at >= since, ACTIVITY.c.occurred_at < until)
              .group_by(ACTIVITY.c.person).subquery("recent"))
    before = (select(earlier.c.id).where(earlier.c.person == recent.c.person, earlier.c.occurred_at < since,
                                         *_human(earlier)).exists())
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
    new = conn.execute(select(func.count()).select_from(_newcomers(since, until))).scalar_one()
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
    found = _newcomers(since, until)
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


# -- contributors ------------------------------------------------------------------------------------------------


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def contributors(conn: Connection, settings: Settings, now: datetime, *, q: str | None = None, new: bool = False,
                 since: datetime | None = None, platform: str | None = None, limit: int = 50, offset: int = 0
                 ) -> dict[str, Any]:
    """People who contributed (bots left out), the most recently seen first: `q` a substring of a login, a display
    name or a linked identity's name (any case); `platform` those with an account there; `since` those who
    contributed since then, or with `new` those whose first contribution is since then (default: 7 days ago).
    A page of `limit` from `offset`, with the total; each with their contributions over the last 30 days."""
    if new and since is None:
        since = now - WEEK
    people = CONTRIBUTOR.alias("people")
    contributed = select(ACTIVITY.c.id).where(ACTIVITY.c.person == people.c.person, *_human())
    where: list[ColumnElement[bool]] = [people.c.is_bot.is_(False), contributed.exists()]
    bots = [login.lower() for login in settings.community.bots]
    if bots:
        where.append(func.lower(people.c.login).not_in(bots))
    if q:
        pattern = _like(q)
        where.append(people.c.person.in_(select(CONTRIBUTOR.c.person).where(or_(
            func.lower(CONTRIBUTOR.c.login).like(pattern, escape="\\"),
            func.lower(func.coalesce(CONTRIBUTOR.c.name, "")).like(pattern, escape="\\"),
            and_(CONTRIBUTOR.c.person.like("person:%"), func.lower(CONTRIBUTOR.c.person).like(
                "person:" + pattern, escape="\\"))))))
    if platform:
        where.append(people.c.person.in_(select(CONTRIBUTOR.c.person).where(CONTRIBUTOR.c.platform == platform)))
    if new:
        assert since is not None
        where.append(people.c.person.in_(select(_newcomers(since, now).c.person)))
    elif since is not None:
        where.append(select(ACTIVITY.c.id).where(ACTIVITY.c.person == people.c.person, ACTIVITY.c.occurred_at >= since,
                                                 *_human()).exists())
    first, last = func.min(people.c.first_seen_at), func.max(people.c.last_seen_at)
    matching = select(people.c.person, first.label("first"), last.label("last")).where(*where).group_by(
        people.c.person)
    # the total with the page, in one pass over the people (counted apart only for a page past the end)
    rows = conn.execute(matching.add_columns(func.count().over().label("total"))
                        .order_by(last.desc(), people.c.person).limit(limit).offset(offset)).all()
    total = rows[0].total if rows else conn.execute(select(func.count()).select_from(matching.subquery())).scalar_one()
    ids = [row.person for row in rows]
    recent = _recent_counts(conn, ids, now - timedelta(days=RECENT_DAYS), now)
    named = community.people(conn, ids)
    return {"total": total, "limit": limit, "offset": offset, "recent_days": RECENT_DAYS, "items": [
        {**person_json(named[row.person]), "first_seen": iso(row.first), "last_seen": iso(row.last),
         "recent": recent[row.person]} for row in rows]}


def _recent_counts(conn: Connection, ids: list[str], since: datetime, until: datetime) -> dict[str, dict[str, int]]:
    """Each person's contributions in [since, until): in all, and issues, PRs, comments and reviews opened."""
    found = {person: {"contributions": 0, "issues": 0, "prs": 0, "comments": 0, "reviews": 0} for person in ids}
    if not ids:
        return found
    names = {"issue.opened": "issues", "pr.opened": "prs", "comment.created": "comments",
             "review.submitted": "reviews"}
    for person, kind, count in conn.execute(
            select(ACTIVITY.c.person, ACTIVITY.c.kind, func.count()).where(
                ACTIVITY.c.person.in_(ids), ACTIVITY.c.occurred_at >= since, ACTIVITY.c.occurred_at < until, *_human())
            .group_by(ACTIVITY.c.person, ACTIVITY.c.kind)):
        found[person]["contributions"] += count
        if kind in names:
            found[person][names[kind]] += count
    return found


def find_person(conn: Connection, settings: Settings, who: str) -> Person:
    """A person named as `github:login`, `gitee:login`, `person:NAME` (a linked identity), an identity's name or a
    login cobot has seen on one forge. Raises NotFound (for a login seen on both forges too: say which)."""
    name = who.strip()
    if not storable(name):
        raise NotFound(f"no contributor {name!r} has been seen yet")
    if name.startswith("person:"):
        identity = name.removeprefix("person:")
        if not any(i.name == identity for i in settings.community.identities):
            raise NotFound(f"no linked identity {identity!r} in community.identities")
        return community.people(conn, [name])[name]
    try:
        return community.resolve_person(conn, settings, name)
    except UnknownPerson as error:
        raise NotFound(str(error)) from None


def _score(conn: Connection, person: str, since: datetime, until: datetime) -> float:
    """One person's OpenDigger activity over [since, until), as bot.community.metrics.activity weighs it."""
    months: dict[tuple[str, str, str], float] = defaultdict(float)
    rows = conn.execute(select(ACTIVITY.c.platform, ACTIVITY.c.repo, ACTIVITY.c.kind, ACTIVITY.c.occurred_at).where(
        ACTIVITY.c.person == person, ACTIVITY.c.occurred_at >= since, ACTIVITY.c.occurred_at < until,
        ACTIVITY.c.is_bot.is_(False), ACTIVITY.c.kind.in_(metrics.COUNTED_KINDS)))
    for platform, repo, kind, moment in rows:
        months[(platform, repo, moment.astimezone(UTC).strftime("%Y-%m"))] += metrics.WEIGHTS[kind]
    merged = conn.execute(select(THREAD.c.platform, THREAD.c.repo, THREAD.c.merged_at).where(
        THREAD.c.author_person == person, THREAD.c.is_pr.is_(True), THREAD.c.merged_at >= since,
        THREAD.c.merged_at < until, metrics.human_author()))
    for platform, repo, moment in merged:
        months[(platform, repo, moment.astimezone(UTC).strftime("%Y-%m"))] += metrics.WEIGHTS["pr.merged"]
    return sum(math.sqrt(total) for total in months.values())


def _stats(conn: Connection, person: Person, now: datetime, days: int) -> dict[str, Any]:
    kinds: dict[str, int] = defaultdict(int)
    repos: set[str] = set()
    moments: list[datetime] = []
    for platform, repo, kind, count, earliest, latest in conn.execute(
            select(ACTIVITY.c.platform, ACTIVITY.c.repo, ACTIVITY.c.kind, func.count(),
                   func.min(ACTIVITY.c.occurred_at), func.max(ACTIVITY.c.occurred_at))
            .where(ACTIVITY.c.person == person.id, *_human())
            .group_by(ACTIVITY.c.platform, ACTIVITY.c.repo, ACTIVITY.c.kind)):  # one pass over their history
        kinds[kind] += count
        repos.add(f"{platform}:{repo}")
        moments += [earliest, latest]
    merged = conn.execute(select(func.count()).select_from(THREAD).where(
        THREAD.c.author_person == person.id, THREAD.c.is_pr.is_(True), THREAD.c.merged_at.is_not(None))).scalar_one()
    first, last = conn.execute(select(func.min(CONTRIBUTOR.c.first_seen_at), func.max(CONTRIBUTOR.c.last_seen_at))
                               .where(CONTRIBUTOR.c.person == person.id)).one()
    return {"first_seen": iso(first), "last_seen": iso(last),
            "first_contribution": iso(min(moments)) if moments else None,
            "last_contribution": iso(max(moments)) if moments else None, "contributions": sum(kinds.values()),
            "issues_opened": kinds.get("issue.opened", 0), "prs_opened": kinds.get("pr.opened", 0),
            "prs_merged": merged, "reviews": kinds.get("review.submitted", 0),
            "comments": kinds.get("comment.created", 0), "repos": sorted(repos), "window_days": days,
            "window_score": round(_score(conn, person.id, now - timedelta(days=days), now), 4)}


def timeline(conn: Connection, person: str, limit: int = TIMELINE_SHOWN) -> list[dict[str, Any]]:
    """A person's latest activity (of every kind, the newest first), each with its issue or PR and a link: the
    thread's address, else its repository's, each only when it is an http(s) address (`safe_link`: a delivery or an
    imported archive names them, and a `javascript:` one must never become a link on a page)."""
    rows = conn.execute(select(ACTIVITY.c.kind, ACTIVITY.c.platform, ACTIVITY.c.repo, ACTIVITY.c.number,
                               ACTIVITY.c.actor, ACTIVITY.c.occurred_at)
                        .where(ACTIVITY.c.person == person)
                        .order_by(ACTIVITY.c.occurred_at.desc(), ACTIVITY.c.id.desc()).limit(limit)).all()
    threads: dict[tuple[str, str, str], list[Any]] = defaultdict(list)
    keys = {(row.platform, row.repo, row.number) for row in rows if row.number is not None}
    if keys:
        for found in conn.execute(select(THREAD.c.platform, THREAD.c.repo, THREAD.c.number, THREAD.c.is_pr,
                                         THREAD.c.title, THREAD.c.url).where(
                or_(*(and_(THREAD.c.platform == platform, THREAD.c.repo == repo, THREAD.c.number == number)
                      for platform, repo, number in keys)))):
            threads[(found.platform, found.repo, found.number)].append(found)
    repo_urls: dict[tuple[str, str], str | None] = {}
    if rows:
        for platform, name, url in conn.execute(select(REPO.c.platform, REPO.c.full_name, REPO.c.url).where(or_(*(
                and_(REPO.c.platform == platform, REPO.c.full_name == repo)
                for platform, repo in {(row.platform, row.repo) for row in rows})))):
            repo_urls[(platform, name)] = url
    entries = []
    for row in rows:
        candidates = threads.get((row.platform, row.repo, row.number or ""), [])
        on_pr = row.kind.startswith(THREAD_KINDS_ON_PRS)
        thread = next((t for t in candidates if t.is_pr == on_pr), candidates[0] if candidates else None)
        repo_url = repo_urls.get((row.platform, row.repo)) or (
            REPO_URLS[row.platform].format(repo=row.repo) if row.platform in REPO_URLS else None)
        entries.append({"kind": row.kind, "platform": row.platform, "repo": row.repo, "number": row.number,
                        "login": row.actor, "occurred_at": iso(row.occurred_at),
                        "is_pr": thread.is_pr if thread is not None else None,
                        "title": thread.title if thread is not None else None,
                        "url": safe_link(thread.url if thread is not None else None) or safe_link(repo_url)})
    return entries


def _badges_of(conn: Connection, settings: Settings, person: str, language: str) -> list[dict[str, Any]]:
    catalogue = settings.badges.catalogue()
    rows = conn.execute(select(BADGE_AWARD).where(BADGE_AWARD.c.person == person, BADGE_AWARD.c.revoked_at.is_(None))
                        .order_by(BADGE_AWARD.c.awarded_at, BADGE_AWARD.c.id)).all()
    return [{"badge": row.badge,
             "name": catalogue[row.badge].name_in(language) if row.badge in catalogue else row.badge,
             "platform": row.platform, "login": row.login, "awarded_by": row.awarded_by, "reason": row.reason,
             "awarded_at": iso(row.awarded_at), "image": f"{settings.server.public_url}/badges/{row.badge}.svg",
             "assertion": assertion_url(settings, row.uid) if row.uid else None} for row in rows]


def _campaign_history(conn: Connection, settings: Settings, person: str, now: datetime) -> list[dict[str, Any]]:
    """The hackathons a person claimed tasks in or submitted to, and the training camps they joined."""
    claims: dict[str, list[Any]] = defaultdict(list)
    for row in conn.execute(select(CLAIM).where(CLAIM.c.person == person).order_by(CLAIM.c.claimed_at, CLAIM.c.id)):
        claims[row.campaign].append(row)
    submissions: dict[str, list[Any]] = defaultdict(list)
    for row in conn.execute(select(SUBMISSION).where(SUBMISSION.c.person == person)
                            .order_by(SUBMISSION.c.submitted_at, SUBMISSION.c.id)):
        submissions[row.campaign].append(row)
    history: list[dict[str, Any]] = []
    for name in sorted(claims.keys() | submissions.keys()):
        configured = settings.campaign(name)
        ranked = hackathon.standings(conn, configured) if isinstance(configured, HackathonSettings) else []
        mine = next((row for row in ranked if row.person == person), None)
        history.append({
            "campaign": name, "kind": "hackathon", "title": configured.title if configured else None,
            "status": window(conn, configured).status(now) if configured else None,
            "points": sum(row.points for row in submissions[name] if row.status == "scored"),
            "rank": mine.rank if mine else None,
            "claims": [{"platform": row.platform, "repo": row.repo, "number": row.number,
                        "claimed_at": iso(row.claimed_at), "expires_at": iso(row.expires_at),
                        "released_at": iso(row.released_at), "release_reason": row.release_reason}
                       for row in claims[name]],
            "submissions": [{"task": f"{row.task_platform}:{row.task_repo}#{row.task_number}",
                             "pr": f"{row.pr_repo}#{row.pr_number}", "status": row.status, "points": row.points,
                             "submitted_at": iso(row.submitted_at), "merged_at": iso(row.merged_at)}
                            for row in submissions[name]]})
    for row in conn.execute(select(PARTICIPANT).where(PARTICIPANT.c.person == person)
                            .order_by(PARTICIPANT.c.joined_at, PARTICIPANT.c.id)):
        configured = settings.campaign(row.campaign)
        progress = (camp.progress(conn, configured, person, now) if isinstance(configured, CampSettings) else [])
        history.append({
            "campaign": row.campaign, "kind": "training_camp", "title": configured.title if configured else None,
            "status": window(conn, configured).status(now) if configured else None,
            "participant_status": row.status, "joined_at": iso(row.joined_at), "graduated_at": iso(row.graduated_at),
            "milestones_met": sum(m.met_at is not None for m in progress), "milestones": len(progress),
            "progress": [m.as_dict() for m in progress]})
    return history


def profile(conn: Connection, settings: Settings, now: datetime, who: str, days: int = 30) -> dict[str, Any]:
    """One contributor (see `find_person`): their accounts on GitHub and Gitee, their record of all time and their
    activity over the last `days`, their latest activity with links, the badges they hold with their assertions,
    and what they did in campaigns (hackathon claims, submissions and points; training camp progress)."""
    person = find_person(conn, settings, who)
    language = settings.dashboard.language or settings.community.language
    accounts = select(CONTRIBUTOR.c.platform, CONTRIBUTOR.c.login, CONTRIBUTOR.c.name).where(
        CONTRIBUTOR.c.person == person.id)
    names = {(platform, login.lower()): name for platform, login, name in conn.execute(accounts)}
    found = person_json(person)
    for account in found["accounts"]:
        account["display_name"] = names.get((account["platform"], account["login"].lower()))
    return {**found, "stats": _stats(conn, person, now, days), "timeline": timeline(conn, person.id),
            "badges": _badges_of(conn, settings, person.id, language),
            "campaigns": _campaign_history(conn, settings, person.id, now)}


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

