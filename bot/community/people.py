"""What the `stats`, `leaderboard`, `contributors` and `award` verbs read, whichever surface asks (a comment
command, Slack or the CLI). Read-only queries on a connection; the surfaces render the results."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import quote

from sqlalchemy import Connection, func, select

from bot.community.kinds import CONTRIBUTION_KINDS, TOTAL_KINDS
from bot.community.metrics import activity, human_author, ranking
from bot.config import Settings
from bot.store.community_tables import Activity, BadgeAward, Contributor, Thread

ACTIVITY = Activity.__table__  # type: ignore[attr-defined]
THREAD = Thread.__table__  # type: ignore[attr-defined]
CONTRIBUTOR = Contributor.__table__  # type: ignore[attr-defined]
BADGE_AWARD = BadgeAward.__table__  # type: ignore[attr-defined]



def profile_path(person_id: str) -> str:
    """The dashboard's page of a person (pages link it; notifications link it under server.public_url)."""
    return "/contributors/" + quote(person_id, safe=":@")


class UnknownPerson(LookupError):
    """A name that matches no contributor, or several."""


@dataclass(frozen=True)
class Account:
    platform: str
    login: str


@dataclass
class Person:
    id: str  # "github:alice", "gitee:bob", or "person:NAME" for linked accounts
    accounts: list[Account] = field(default_factory=list)

    @property
    def name(self) -> str:
        """A linked identity's name; otherwise the login (as the forge spells it, once seen)."""
        if self.accounts and not self.id.startswith("person:"):
            return self.accounts[0].login
        return self.id.split(":", 1)[1]

    def login_on(self, platform: str) -> str | None:
        return next((a.login for a in self.accounts if a.platform == platform), None)


def people(conn: Connection, ids: list[str]) -> dict[str, Person]:
    """The accounts behind person ids (a person seen on no forge yet keeps just the id)."""
    found = {person: Person(person) for person in ids}
    if not ids:
        return found
    rows = conn.execute(select(CONTRIBUTOR.c.person, CONTRIBUTOR.c.platform, CONTRIBUTOR.c.login)
                        .where(CONTRIBUTOR.c.person.in_(ids)).order_by(CONTRIBUTOR.c.platform, CONTRIBUTOR.c.login))
    for person, platform, login in rows:
        found[person].accounts.append(Account(platform, login))
    return found


def resolve_person(conn: Connection, settings: Settings, name: str, platform: str | None = None) -> Person:
    """A contributor named as `github:login`, `gitee:login`, a linked identity's name, or a bare login (with
    `platform`, on that forge; without, on whichever forge knows it, if only one does)."""
    name = name.strip().lstrip("@＠")
    if not name or not name.isprintable():  # a control character or a lone surrogate: no forge has such a login
        raise UnknownPerson(f"{name!r} is not a user name")
    prefix, _, login = name.rpartition(":")
    if prefix in ("github", "gitee"):
        platform, name = prefix, login
    identity = next((i for i in settings.community.identities if i.name.lower() == name.lower()), None)
    if identity is not None and platform is None:
        person_id = f"person:{identity.name}"
        return people(conn, [person_id])[person_id]
    query = select(CONTRIBUTOR.c.platform, CONTRIBUTOR.c.login).where(func.lower(CONTRIBUTOR.c.login) == name.lower())
    if platform:
        query = query.where(CONTRIBUTOR.c.platform == platform)
    matches = list(conn.execute(query))
    if not matches:
        where = f" on {platform}" if platform else ""
        raise UnknownPerson(f"no contributor {name!r}{where} has been seen yet")
    persons = {settings.person_for(platform, login) for platform, login in matches}
    if len(persons) > 1:
        raise UnknownPerson(f"{name!r} is on both forges: say github:{name} or gitee:{name}")
    person_id = persons.pop()
    return people(conn, [person_id])[person_id]


@dataclass
class Stats:
    person: Person
    first_seen: datetime | None
    last_seen: datetime | None
    issues_opened: int
    prs_opened: int
    prs_merged: int
    reviews: int
    comments: int
    repos: list[str]
    badges: list[str]
    window_days: int
    window_score: float
    window_rank: int | None
    ranked_people: int


def stats(conn: Connection, settings: Settings, person: Person, now: datetime, window_days: int) -> Stats:
    """A person's contributions of all time, and their activity and rank over the last `window_days`."""
    kinds = dict(conn.execute(select(ACTIVITY.c.kind, func.count()).where(ACTIVITY.c.person == person.id)
                              .group_by(ACTIVITY.c.kind)).all())
    merged = conn.execute(select(func.count()).select_from(THREAD).where(
        THREAD.c.author_person == person.id, THREAD.c.is_pr.is_(True), THREAD.c.merged_at.is_not(None))).scalar_one()
    repos = sorted({f"{platform}:{repo}" for platform, repo in conn.execute(
        select(ACTIVITY.c.platform, ACTIVITY.c.repo).where(ACTIVITY.c.person == person.id,
                                                           ACTIVITY.c.kind.in_(CONTRIBUTION_KINDS)).distinct())})
    first, last = conn.execute(select(func.min(CONTRIBUTOR.c.first_seen_at), func.max(CONTRIBUTOR.c.last_seen_at))
                               .where(CONTRIBUTOR.c.person == person.id)).one()
    badges = list(conn.execute(select(BADGE_AWARD.c.badge).where(BADGE_AWARD.c.person == person.id,
                                                                  BADGE_AWARD.c.revoked_at.is_(None))
                               .order_by(BADGE_AWARD.c.awarded_at)).scalars())
    board = ranking(activity(conn, now - timedelta(days=window_days), now))
    mine = next((row for row in board if row.person == person.id), None)
    return Stats(person=person, first_seen=first, last_seen=last, issues_opened=kinds.get("issue.opened", 0),
                 prs_opened=kinds.get("pr.opened", 0), prs_merged=merged, reviews=kinds.get("review.submitted", 0),
                 comments=kinds.get("comment.created", 0), repos=repos, badges=badges, window_days=window_days,
                 window_score=mine.score if mine else 0.0, window_rank=mine.rank if mine else None,
                 ranked_people=len(board))


@dataclass
class Standing:
    rank: int
    person: Person
    score: float
    issues: int
    prs: int
    merged: int
    reviews: int
    comments: int


def leaderboard(conn: Connection, now: datetime, days: int, size: int, exclude: set[str] | None = None
                ) -> list[Standing]:
    """The `size` most active people over the last `days` (OpenDigger activity; equal scores share a rank)."""
    board = ranking(activity(conn, now - timedelta(days=days), now, exclude=exclude or set()))[:size]
    found = people(conn, [row.person for row in board])
    return [Standing(rank=row.rank, person=found[row.person], score=row.score,
                     issues=row.counts.get("issue.opened", 0), prs=row.counts.get("pr.opened", 0),
                     merged=row.counts.get("pr.merged", 0), reviews=row.counts.get("review.submitted", 0),
                     comments=row.counts.get("comment.created", 0)) for row in board]


@dataclass
class ContributorRow:
    person: Person
    first_contribution: datetime
    last_contribution: datetime
    contributions: int
    counts: dict[str, int]


def contributors(conn: Connection, since: datetime | None = None, new_only: bool = False, limit: int = 0
                 ) -> list[ContributorRow]:
    """People who contributed (issues, PRs, comments, reviews, pushes; bots left out), most recent first.
    With `since`: those active since then; with `new_only`, those whose first contribution is since then."""
    first = func.min(ACTIVITY.c.occurred_at)
    last = func.max(ACTIVITY.c.occurred_at)
    query = (select(ACTIVITY.c.person, first, last, func.count())
             .where(ACTIVITY.c.is_bot.is_(False), ACTIVITY.c.kind.in_(CONTRIBUTION_KINDS))
             .group_by(ACTIVITY.c.person).order_by(last.desc(), ACTIVITY.c.person))
    if since is not None:
        query = query.having((first if new_only else last) >= since)
    if limit:
        query = query.limit(limit)
    rows = list(conn.execute(query))
    ids = [row[0] for row in rows]
    kinds: dict[str, dict[str, int]] = defaultdict(dict)
    if ids:
        for person, kind, count in conn.execute(
                select(ACTIVITY.c.person, ACTIVITY.c.kind, func.count())
                .where(ACTIVITY.c.person.in_(ids), ACTIVITY.c.kind.in_(CONTRIBUTION_KINDS))
                .group_by(ACTIVITY.c.person, ACTIVITY.c.kind)):
            kinds[person][kind] = count
    found = people(conn, ids)
    return [ContributorRow(found[person], first_at, last_at, total, kinds[person])
            for person, first_at, last_at, total in rows]


def community_totals(conn: Connection) -> dict[str, int]:
    """The whole community's contributors and contributions of all time, bots left out."""
    human = ACTIVITY.c.is_bot.is_(False)
    contributors = conn.execute(select(func.count(ACTIVITY.c.person.distinct()))
                                .where(human, ACTIVITY.c.kind.in_(CONTRIBUTION_KINDS))).scalar_one()
    kinds = dict(conn.execute(select(ACTIVITY.c.kind, func.count()).where(human, ACTIVITY.c.kind.in_(TOTAL_KINDS))
                              .group_by(ACTIVITY.c.kind)).all())
    merged = conn.execute(select(func.count()).select_from(THREAD).where(
        THREAD.c.is_pr.is_(True), THREAD.c.merged_at.is_not(None), human_author())).scalar_one()
    totals = {"contributors": contributors, **{name: kinds.get(kind, 0) for kind, name in TOTAL_KINDS.items()},
              "prs_merged": merged}
    return {name: totals[name] for name in ("contributors", "issues_opened", "prs_opened", "prs_merged", "reviews",
                                            "comments")}
