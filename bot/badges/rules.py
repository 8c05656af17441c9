"""Contributor badges: the catalogue (built-in badges and `[[badges.custom]]`), the rules that earn them, and
awards, each held once.

    [badges]
    auto_award = true                 # award badges by their rules as the events that earn them arrive
    issuer_email = "community@example.org"

    [[badges.custom]]
    id = "translator"
    name = "Translator"
    name_zh = "翻译官"
    description = "Translated the documentation"
    description_zh = "参与了文档翻译"
    rule = { event = "pr.merged", count = 3, repos = ["acme/docs-zh"], labels = ["translation"], within_days = 90 }

A rule is evaluated from the store for one person (linked accounts are one person): their issues and PRs as
tracked, the activity log, hackathon submissions. An award is recorded once per person and badge (an award made
again changes nothing; a revoked one is not made again), and announced: a notification (topic `badge`, routed by
`[notify]`) and, when it was made in an issue or PR, a comment there. Each award has an Open Badges assertion
address (`uid`, see bot.web.badges).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Connection, and_, select

from bot.events import Action
from bot.messages.render import render
from bot.store.db import Database, dialect_insert
from bot.store.deferred import Deferred
from bot.store.tables import Activity, BadgeAward, CampaignSubmission, Contributor, Thread

if TYPE_CHECKING:
    from bot.config import Settings

BADGE_AWARD = BadgeAward.__table__  # type: ignore[attr-defined]
ACTIVITY = Activity.__table__  # type: ignore[attr-defined]
THREAD = Thread.__table__  # type: ignore[attr-defined]
SUBMISSION = CampaignSubmission.__table__  # type: ignore[attr-defined]
CONTRIBUTOR = Contributor.__table__  # type: ignore[attr-defined]
BADGE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
RESERVED_IDS = frozenset({"issuer", "assertions", "people"})  # addresses of bot.web.badges
REPO_NAME = re.compile(r"^(?:(?P<platform>github|gitee):)?(?P<name>[^\s/:]+/[^\s/]+)$")
PROFILE_URLS = {"github": "https://github.com/{login}", "gitee": "https://gitee.com/{login}"}

# What a rule may count, and which rows of the activity log each is (a comment of nothing but commands is none).
RULE_EVENTS = ("pr.merged", "issue.opened", "pr.opened", "review.submitted", "comment.created")
LOGGED_AS = {"review.submitted": ("review.submitted",),
             "comment.created": ("comment.created", "comment.diff", "comment.review")}
AWARDED_BY_RULE = "rule"
CONTRIBUTING = ("issue.opened", "pr.opened", "review.submitted", "comment.created", "push")  # events that count


@dataclass(frozen=True, slots=True)
class Badge:
    id: str
    name: dict[str, str]  # language → name
    description: dict[str, str]

    def name_in(self, language: str) -> str:
        return self.name.get(language) or self.name["en"]

    def description_in(self, language: str) -> str:
        return self.description.get(language) or self.description["en"]


def _builtin(badge_id: str, en: str, zh: str, about_en: str, about_zh: str) -> Badge:
    return Badge(badge_id, {"en": en, "zh": zh}, {"en": about_en, "zh": about_zh})


BUILT_IN: tuple[Badge, ...] = (
    _builtin("first-issue", "First issue", "首个 Issue", "Opened a first issue", "提交了第一个 Issue"),
    _builtin("first-pr-merged", "First PR merged", "首个 PR 合并", "Had a first pull request merged",
             "第一个 Pull Request 被合并"),
    _builtin("first-review", "First review", "首次评审", "Reviewed a first pull request", "完成了第一次代码评审"),
    _builtin("merged-10", "10 PRs merged", "合并 10 个 PR", "Had 10 pull requests merged",
             "已有 10 个 Pull Request 被合并"),
    _builtin("merged-50", "50 PRs merged", "合并 50 个 PR", "Had 50 pull requests merged",
             "已有 50 个 Pull Request 被合并"),
    _builtin("merged-100", "100 PRs merged", "合并 100 个 PR", "Had 100 pull requests merged",
             "已有 100 个 Pull Request 被合并"),
    _builtin("bug-hunter", "Bug hunter", "捉虫达人", "Found and reported bugs", "发现并报告了缺陷"),
    _builtin("docs-hero", "Docs hero", "文档英雄", "Made the documentation better", "改进了项目文档"),
    _builtin("hackathon-finisher", "Hackathon finisher", "黑客松完赛者", "Finished a hackathon task",
             "完成了黑客松任务"),
    _builtin("camp-graduate", "Training camp graduate", "训练营结业", "Graduated from a training camp",
             "从训练营顺利结业"),
    _builtin("streak", "Active streak", "持续活跃", "Active week after week", "连续多周保持活跃"),
)


class BadgeRule(BaseModel):
    """`rule = { event = "pr.merged", count = 3, repos = [...], labels = [...], within_days = 30 }`: `count` of
    `event` by the person, in `repos` (`github:owner/repo`, or `owner/repo` on either forge), on issues or PRs
    carrying one of `labels`, all within `within_days` of the last of them."""

    model_config = ConfigDict(extra="forbid")

    event: str
    count: int = 1
    repos: list[str] = []
    labels: list[str] = []
    within_days: int | None = None

    @field_validator("event")
    @classmethod
    def _known_event(cls, value: str) -> str:
        if value not in RULE_EVENTS:
            raise ValueError(f"unknown event {value!r} (events: {', '.join(RULE_EVENTS)})")
        return value

    @field_validator("count", "within_days")
    @classmethod
    def _positive(cls, value: int | None) -> int | None:
        if value is not None and value < 1:
            raise ValueError("must be at least 1")
        return value

    @field_validator("repos")
    @classmethod
    def _repo_names(cls, value: list[str]) -> list[str]:
        for index, name in enumerate(value):
            if not REPO_NAME.match(name):
                raise ValueError(f"[{index}]: {name!r} is not OWNER/REPO, github:OWNER/REPO or gitee:OWNER/REPO")
        return value


class CustomBadge(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    name_zh: str | None = None
    description: str = ""
    description_zh: str | None = None
    rule: BadgeRule | None = None  # none: awarded by hand only (/award, Slack, the CLI)

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not BADGE_ID.match(value):
            raise ValueError("must be lower-case letters, digits and dashes, such as docs-hero")
        if value in RESERVED_IDS:
            raise ValueError(f"{value!r} names an address of the badge pages: choose another id")
        return value

    def badge(self) -> Badge:
        return Badge(self.id, {"en": self.name, "zh": self.name_zh or self.name},
                     {"en": self.description, "zh": self.description_zh or self.description})


class BadgeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    custom: list[CustomBadge] = []
    comment_on_award: bool = True  # an award made in an issue or PR is announced there
    auto_award: bool = False  # award badges by their rules as events arrive (`cobot badges recompute`: history)
    bug_label: str = "bug"  # bug-hunter: issues opened carrying this label ...
    bug_hunter_count: int = Field(3, ge=1)  # ... at least this many
    docs_labels: list[str] = ["documentation", "docs", "文档"]  # docs-hero: merged PRs carrying one of these ...
    docs_hero_count: int = Field(3, ge=1)  # ... at least this many
    streak_weeks: int = Field(4, ge=1)  # streak: active in this many consecutive ISO weeks
    issuer_email: str = ""  # the Open Badges issuer's contact address (Open Badges asks issuers for one)
    issuer_url: str = ""  # the issuer's home page (default: server.public_url)

    @field_validator("custom")
    @classmethod
    def _unique(cls, value: list[CustomBadge]) -> list[CustomBadge]:
        seen = {badge.id for badge in BUILT_IN}
        for index, badge in enumerate(value):
            if badge.id in seen:
                raise ValueError(f"[{index}].id: {badge.id!r} is already a badge")
            seen.add(badge.id)
        return value

    @field_validator("issuer_url")
    @classmethod
    def _http(cls, value: str) -> str:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("must be an http:// or https:// URL, such as https://example.org")
        return value

    def catalogue(self) -> dict[str, Badge]:
        return {badge.id: badge for badge in (*BUILT_IN, *(custom.badge() for custom in self.custom))}

    def rules(self) -> dict[str, Rule]:
        """What earns each badge that cobot can decide on, or that a campaign awards (`camp`)."""
        found = {
            "first-issue": Rule("event", "issue.opened"),
            "first-pr-merged": Rule("event", "pr.merged"),
            "first-review": Rule("event", "review.submitted"),
            "merged-10": Rule("event", "pr.merged", 10),
            "merged-50": Rule("event", "pr.merged", 50),
            "merged-100": Rule("event", "pr.merged", 100),
            "bug-hunter": Rule("event", "issue.opened", self.bug_hunter_count, labels=(self.bug_label,)),
            "docs-hero": Rule("event", "pr.merged", self.docs_hero_count, labels=tuple(self.docs_labels)),
            "hackathon-finisher": Rule("hackathon"),
            "camp-graduate": Rule("camp"),
            "streak": Rule("streak", count=self.streak_weeks),
        }
        for custom in self.custom:
            if custom.rule is not None:
                given = custom.rule
                found[custom.id] = Rule("event", given.event, given.count, tuple(given.repos), tuple(given.labels),
                                        given.within_days)
        return found


@dataclass(frozen=True, slots=True)
class Rule:
    """What earns a badge in the store's terms: `count` of `event` (in `repos`, labelled with one of `labels`,
    within `within_days`), `count` consecutive ISO weeks with a contribution (`streak`), a hackathon task scored
    (`hackathon`), or a training camp's graduation (`camp`, awarded by the camp itself)."""

    kind: Literal["event", "streak", "hackathon", "camp"]
    event: str = ""
    count: int = 1
    repos: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    within_days: int | None = None

    def moved_by(self, kind: str) -> bool:
        """Whether an event of this kind can bring someone to meet the rule (a label can, for a rule on labels)."""
        if self.kind == "event":
            return kind == self.event or (bool(self.labels) and kind in ("issue.labeled", "pr.labeled"))
        if self.kind == "streak":
            return kind in CONTRIBUTING
        return self.kind == "hackathon" and kind == "pr.merged"

    def covers(self, platform: str, repo: str) -> bool:
        if not self.repos:
            return True
        for name in self.repos:
            match = REPO_NAME.match(name)
            assert match is not None  # checked with the config
            if match["name"].lower() == repo.lower() and match["platform"] in (None, platform):
                return True
        return False

    def labelled(self, labels: Iterable[str]) -> bool:
        wanted = {label.casefold() for label in self.labels}
        return not wanted or any(label.casefold() in wanted for label in labels)


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


# -- evaluating the rules ----------------------------------------------------------------------------------------


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
            from bot.community.people import (
                CONTRIBUTION_KINDS,  # bot.community.people imports bot.config, which imports this
            )

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
    from bot.community.people import CONTRIBUTION_KINDS

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


# -- awards ------------------------------------------------------------------------------------------------------


def _new_uid() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class Award:
    badge: Badge
    person: str
    login: str
    platform: str | None
    awarded_by: str
    when: datetime
    reason: str | None = None
    repo: str | None = None
    number: str | None = None
    uid: str = field(default_factory=_new_uid)  # the Open Badges assertion's address, once recorded


def record_award(conn: Connection, award: Award) -> bool:
    """Record an award; False when the person already holds the badge (nothing changes)."""
    statement = dialect_insert(conn.dialect.name)(BADGE_AWARD).values(
        badge=award.badge.id, person=award.person, login=award.login, platform=award.platform,
        awarded_by=award.awarded_by, reason=award.reason, repo=award.repo, number=award.number,
        awarded_at=award.when, uid=award.uid).on_conflict_do_nothing().returning(BADGE_AWARD.c.id)
    return conn.execute(statement).first() is not None


def revoke(conn: Connection, person: str, badge_id: str, reason: str, when: datetime) -> bool:
    """Revoke a badge a person holds (its assertion then answers 410 Gone); False when they do not hold it."""
    result = conn.execute(BADGE_AWARD.update().where(
        BADGE_AWARD.c.person == person, BADGE_AWARD.c.badge == badge_id, BADGE_AWARD.c.revoked_at.is_(None))
        .values(revoked_at=when, revocation_reason=reason))
    return result.rowcount == 1


def assertion_path(uid: str) -> str:
    return f"/badges/assertions/{uid}"


def assertion_url(settings: Settings, uid: str) -> str:
    """Where an award's assertion is (relative to cobot's address when `server.public_url` is not set)."""
    return settings.server.public_url + assertion_path(uid)


def profile_url(platform: str | None, login: str) -> str | None:
    """A forge account's profile page."""
    pattern = PROFILE_URLS.get(platform or "")
    return pattern.format(login=login) if pattern else None


def announcement(award: Award, assertion: str = "") -> Action:
    """The `badge` notification for an award, routed to channels by `[notify]` rules; `assertion`: where its
    Open Badges assertion is, if cobot has a public address."""
    values = {"login": award.login, "badge_id": award.badge.id, "badge_en": award.badge.name_in("en"),
              "badge_zh": award.badge.name_in("zh"), "about_en": award.badge.description_in("en"),
              "about_zh": award.badge.description_in("zh"), "reason": award.reason or "",
              "repo": award.repo or "", "platform": award.platform or "", "assertion": assertion}
    return Action(kind="notify", key=f"badge:{award.badge.id}:{award.person}:notify", topic="badge",
                  template="badge_notice", values=tuple(values.items()), platform=award.platform, repo=award.repo,
                  number=award.number, link=assertion or None)


def public_assertion(settings: Settings, award: Award) -> str:
    """Where the award's assertion is, when cobot has a public address (else nothing to link to)."""
    return assertion_url(settings, award.uid) if settings.server.public_url else ""


def grant(db: Database, settings: Settings, badge_id: str, recipient: str, awarded_by: str, now: datetime,
          reason: str | None = None) -> tuple[Award, bool]:
    """Award a badge outside a comment (Slack, the CLI): to `recipient` named as `github:login`, `gitee:login`, a
    linked identity or a login cobot has seen; announced by `[notify]` in the same transaction. Returns the award
    and whether it is new. Raises UnknownBadge, or community.UnknownPerson."""
    from bot.community.people import resolve_person
    from bot.outbox.dispatcher import store_actions

    badge = find_badge(settings.badges, badge_id)
    with db.session() as session:
        conn = session.connection()
        person = resolve_person(conn, settings, recipient)
        account = person.accounts[0] if person.accounts else None
        award = Award(badge=badge, person=person.id, login=account.login if account else person.name,
                      platform=account.platform if account else None, awarded_by=awarded_by, when=now,
                      reason=reason)
        new = record_award(conn, award)
        if new:
            later = Deferred(db.dialect)
            store_actions(later, [announcement(award, public_assertion(settings, award))], None, now,
                          settings.notify, settings.community.language)
            later.flush(conn)
    return award, new


def withdraw(db: Database, settings: Settings, badge_id: str, recipient: str, reason: str, now: datetime
             ) -> tuple[Badge, str] | None:
    """Revoke `recipient`'s badge (named as for `grant`): the badge and the person, or None when they do not hold
    it. Raises UnknownBadge, or community.UnknownPerson."""
    from bot.community.people import resolve_person

    badge = find_badge(settings.badges, badge_id)
    with db.session() as session:
        conn = session.connection()
        person = resolve_person(conn, settings, recipient)
        return (badge, person.id) if revoke(conn, person.id, badge.id, reason, now) else None


def _humans(conn: Connection, settings: Settings) -> dict[str, list[tuple[str, str]]]:
    """Every human contributor: person → their (platform, login) accounts."""
    found: dict[str, list[tuple[str, str]]] = {}
    rows = conn.execute(select(CONTRIBUTOR.c.person, CONTRIBUTOR.c.platform, CONTRIBUTOR.c.login)
                        .where(CONTRIBUTOR.c.is_bot.is_(False))
                        .order_by(CONTRIBUTOR.c.person, CONTRIBUTOR.c.platform, CONTRIBUTOR.c.login))
    for person, platform, login in rows:
        if not settings.is_bot(login):
            found.setdefault(person, []).append((platform, login))
    return found


def recompute(db: Database, settings: Settings, now: datetime, announce: bool = False, dry_run: bool = False
              ) -> list[Award]:
    """Every rule for every human contributor over all stored history: the badges due are awarded, each dated when
    it was earned, silently (`announce`: with their `badge` notifications stored). Each person in a transaction of
    their own; `dry_run` decides and changes nothing. Awards without an assertion address are given one. Returns
    the awards made (or, dry, due)."""
    from bot.outbox.dispatcher import store_actions

    with db.reading() as conn:
        people = _humans(conn, settings)
    made: list[Award] = []
    for person, accounts in people.items():
        with db.session() as session:
            conn = session.connection()
            later = Deferred(db.dialect)
            for earned in due(conn, settings.badges, person):
                platform, login = next(((p, login) for p, login in accounts if p == earned.platform), accounts[0])
                award = Award(badge=earned.badge, person=person, login=login, platform=platform,
                              awarded_by=AWARDED_BY_RULE, when=earned.at, repo=earned.repo, number=earned.number)
                if dry_run:
                    made.append(award)
                elif record_award(conn, award):
                    made.append(award)
                    if announce:
                        store_actions(later, [announcement(award, public_assertion(settings, award))], None, now,
                                      settings.notify, settings.community.language)
            later.flush(conn)
    if not dry_run:
        with db.session() as session:
            conn = session.connection()
            for award_id in conn.execute(select(BADGE_AWARD.c.id).where(BADGE_AWARD.c.uid.is_(None))).scalars():
                conn.execute(BADGE_AWARD.update().where(BADGE_AWARD.c.id == award_id).values(uid=_new_uid()))
    return made
