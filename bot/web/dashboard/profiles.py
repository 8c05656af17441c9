"""Who contributed, as the dashboard shows them (bot.web.dashboard.data's reads, for people): the contributors list,
searched and filtered (`contributors`), and one contributor's profile (`profile`: record, linked accounts, timeline with
links, badges, campaigns), found by any of their names (`find_person`). """

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select

from bot.badges.awards import BADGE_AWARD, assertion_url
from bot.community import metrics
from bot.community import people as community
from bot.community.people import Person, UnknownPerson
from bot.config import Settings
from bot.messages.escape import safe_link
from bot.settings.campaigns import CampSettings, HackathonSettings
from bot.store.campaign_tables import CampaignSubmission, CampParticipant, HackathonClaim
from bot.store.community_tables import Contributor, Repo
from bot.web.dashboard.data import (
    ACTIVITY,
    THREAD,
    WEEK,
    NotFound,
    human,
    iso,
    newcomer_query,
    person_json,
    storable,
)
from campaigns import camp, hackathon
from campaigns.base import window

CONTRIBUTOR = Contributor.__table__  # type: ignore[attr-defined]
REPO = Repo.__table__  # type: ignore[attr-defined]
CLAIM = HackathonClaim.__table__  # type: ignore[attr-defined]
SUBMISSION = CampaignSubmission.__table__  # type: ignore[attr-defined]
PARTICIPANT = CampParticipant.__table__  # type: ignore[attr-defined]

RECENT_DAYS = 30  # the contributors list counts each one's contributions over the last 30 days
TIMELINE_SHOWN = 20
REPO_URLS = {"github": "https://github.com/{repo}", "gitee": "https://gitee.com/{repo}"}
THREAD_KINDS_ON_PRS = ("pr.", "review.", "comment.diff", "comment.review")


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
    contributed = select(ACTIVITY.c.id).where(ACTIVITY.c.person == people.c.person, *human())
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
        where.append(people.c.person.in_(select(newcomer_query(since, now).c.person)))
    elif since is not None:
        where.append(select(ACTIVITY.c.id).where(ACTIVITY.c.person == people.c.person, ACTIVITY.c.occurred_at >= since,
                                                 *human()).exists())
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
                ACTIVITY.c.person.in_(ids), ACTIVITY.c.occurred_at >= since, ACTIVITY.c.occurred_at < until, *human())
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
            .where(ACTIVITY.c.person == person.id, *human())
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
