"""Whether a person has earned a badge: the rules of the catalogue (bot.settings.badges) evaluated from the store
for one person (linked accounts are one person): their issues and PRs as tracked, the activity log, hackathon
submissions; and a badge found by its id, with its criteria in words."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, select

from bot.community.kinds import CONTRIBUTION_KINDS
from bot.config import Settings
from bot.messages.render import render
from bot.settings.badges import Badge, BadgeSettings, Rule
from bot.store.campaign_tables import CampaignSubmission
from bot.store.community_tables import Activity, BadgeAward, Thread

BADGE_AWARD = BadgeAward.__table__  # type: ignore[attr-defined]
ACTIVITY = Activity.__table__  # type: ignore[attr-defined]
THREAD = Thread.__table__  # type: ignore[attr-defined]
SUBMISSION = CampaignSubmission.__table__  # type: ignore[attr-defined]
# Which rows of the activity log each event a rule may count is (a comment of nothing but commands is none).
LOGGED_AS = {"review.submitted": ("review.submitted",),
             "comment.created": ("comment.created", "comment.diff", "comment.review")}


class UnknownBadge(LookupError):
    def __init__(self, badge_id: str, known: list[str]) -> None:
        super().__init__(f"unknown badge {badge_id!r} (badges: {', '.join(known)})")
        self.badge_id = badge_id
        self.known = known


def find_badge(settings: BadgeSettings, badge_id: str) -> Badge:
    catalogue = settings.catalogue()
    badge = catalogue.get(badge_id.strip().lower())
    if badge is None:
        raise UnknownBadge(badge_id, sorted(catalogue))
    return badge


def criteria(settings: Settings, badge_id: str, language: str) -> str:
    """How a badge is earned, in words (a rule's Open Badges criteria, `cobot badges list`)."""
    rule = settings.badges.rules().get(badge_id)
    values: dict[str, Any] = {"kind": rule.kind if rule else "hand", "community": settings.community.name}
    if rule is not None:
        values.update(event=rule.event, count=rule.count, repos=list(rule.repos), labels=list(rule.labels),
                      within_days=rule.within_days)
    return render("badges/criteria", language, **values)


@dataclass(frozen=True, slots=True)
class Earned:
    """A badge a person's record earns: from `at` (when the rule was first met), for the issue or PR that met it."""

    badge: Badge
    at: datetime
    platform: str | None = None
    repo: str | None = None
    number: str | None = None


@dataclass(frozen=True, slots=True)
class _Item:
    at: datetime
    platform: str
    repo: str
    number: str | None
    labels: tuple[str, ...] = ()


@dataclass
class _Record:
    """What the rules read of one person, fetched as the rules need it."""

    conn: Connection
    person: str
    _threads: list[Any] | None = None
    _activity: dict[str, list[_Item]] | None = None

    def threads(self) -> list[Any]:
        if self._threads is None:
            self._threads = list(self.conn.execute(select(
                THREAD.c.platform, THREAD.c.repo, THREAD.c.number, THREAD.c.is_pr, THREAD.c.labels,
                THREAD.c.created_at, THREAD.c.merged_at).where(THREAD.c.author_person == self.person)))
        return self._threads

    def activity(self) -> dict[str, list[_Item]]:
        """The person's rows of the activity log by kind, each with the labels of its issue or PR."""
        if self._activity is None:
            on = and_(THREAD.c.platform == ACTIVITY.c.platform, THREAD.c.repo == ACTIVITY.c.repo,
                      THREAD.c.number == ACTIVITY.c.number)
            kinds = {*CONTRIBUTION_KINDS, *(kind for logged in LOGGED_AS.values() for kind in logged)}
            rows = self.conn.execute(
                select(ACTIVITY.c.id, ACTIVITY.c.kind, ACTIVITY.c.platform, ACTIVITY.c.repo, ACTIVITY.c.number,
                       ACTIVITY.c.occurred_at, THREAD.c.labels).select_from(ACTIVITY.outerjoin(THREAD, on))
                .where(ACTIVITY.c.person == self.person, ACTIVITY.c.is_bot.is_(False), ACTIVITY.c.kind.in_(kinds)))
            seen: set[int] = set()
            self._activity = {}
            for row in rows:
                if row.id not in seen:  # an issue and a PR of the same number (never on one forge): once
                    seen.add(row.id)
                    self._activity.setdefault(row.kind, []).append(
                        _Item(row.occurred_at, row.platform, row.repo, row.number, tuple(row.labels or ())))
        return self._activity

    def items(self, event: str) -> list[_Item]:
        if event in LOGGED_AS:
            logged = self.activity()
            return [item for kind in LOGGED_AS[event] for item in logged.get(kind, [])]
        is_pr = event != "issue.opened"
        return [_Item(row.merged_at if event == "pr.merged" else row.created_at, row.platform, row.repo, row.number,
                      tuple(row.labels or ())) for row in self.threads()
                if row.is_pr == is_pr and (event != "pr.merged" or row.merged_at is not None)]

    def scored(self) -> list[_Item]:
        rows = self.conn.execute(select(SUBMISSION.c.task_platform, SUBMISSION.c.pr_repo, SUBMISSION.c.pr_number,
                                        SUBMISSION.c.merged_at, SUBMISSION.c.submitted_at)
                                 .where(SUBMISSION.c.person == self.person, SUBMISSION.c.status == "scored"))
        return [_Item(row.merged_at or row.submitted_at, row.task_platform, row.pr_repo, row.pr_number)
                for row in rows]


def _order(items: Iterable[_Item]) -> list[_Item]:
    return sorted(items, key=lambda item: (item.at, item.platform, item.repo, item.number or ""))


def _counted(rule: Rule, items: list[_Item]) -> _Item | None:
    """The item with which `count` of them were reached (within `within_days` of each other, if set)."""
    chosen = _order(item for item in items if rule.covers(item.platform, item.repo) and rule.labelled(item.labels))
    if rule.within_days is None:
        return chosen[rule.count - 1] if len(chosen) >= rule.count else None
    window = timedelta(days=rule.within_days)
    for last in range(rule.count - 1, len(chosen)):
        if chosen[last].at - chosen[last - rule.count + 1].at <= window:
            return chosen[last]
    return None


def _monday(moment: datetime) -> date:
    return moment.date() - timedelta(days=moment.weekday())


def _streak(weeks: int, items: list[_Item]) -> _Item | None:
    """The first contribution of the first ISO week that ends `weeks` consecutive weeks with contributions."""
    first_of_week: dict[date, _Item] = {}
    for item in _order(items):
        first_of_week.setdefault(_monday(item.at), item)
    run, previous = 0, None
    for monday in sorted(first_of_week):
        run = run + 1 if previous is not None and monday - previous == timedelta(weeks=1) else 1
        previous = monday
        if run >= weeks:
            return first_of_week[monday]
    return None


def qualified(conn: Connection, settings: BadgeSettings, person: str, skip: Iterable[str] = (),
              moved_by: str | None = None) -> list[Earned]:
    """The badges a person's record earns by their rules (leaving out `skip`; only the rules an event of kind
    `moved_by` can move, if given), each from when it was earned."""
    record = _Record(conn, person)
    catalogue = settings.catalogue()
    skipped = set(skip)
    found: list[Earned] = []
    for badge_id, rule in settings.rules().items():
        if badge_id in skipped or rule.kind == "camp" or (moved_by is not None and not rule.moved_by(moved_by)):
            continue
        if rule.kind == "event":
            item = _counted(rule, record.items(rule.event))
        elif rule.kind == "streak":
            logged = record.activity()
            item = _streak(rule.count, [entry for kind in CONTRIBUTION_KINDS for entry in logged.get(kind, [])])
        else:
            item = next(iter(_order(record.scored())), None)
        if item is not None:
            found.append(Earned(catalogue[badge_id], item.at, item.platform, item.repo, item.number))
    return found


def held(conn: Connection, person: str) -> set[str]:
    """The badges a person has been awarded, revoked ones included (those are not awarded again)."""
    return set(conn.execute(select(BADGE_AWARD.c.badge).where(BADGE_AWARD.c.person == person)).scalars())


def due(conn: Connection, settings: BadgeSettings, person: str, moved_by: str | None = None) -> list[Earned]:
    """The badges a person's record earns and they have not been awarded (of the rules `moved_by` can move)."""
    return qualified(conn, settings, person, skip=held(conn, person), moved_by=moved_by)


