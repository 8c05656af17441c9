"""Contributor badges: the catalogue (built-in badges and `[[badges.custom]]`) and awards, each held once.

    [[badges.custom]]
    id = "translator"
    name = "Translator"
    name_zh = "翻译官"
    description = "Translated the documentation"
    description_zh = "参与了文档翻译"

An award is recorded once per person and badge (an award made again changes nothing), and announced: a
notification (topic `badge`, routed by `[notify]`) and, when it was made in an issue or PR, a comment there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, field_validator
from sqlalchemy import Connection

from bot.events import Action
from bot.store.db import Database, dialect_insert
from bot.store.deferred import Deferred
from bot.store.tables import BadgeAward

if TYPE_CHECKING:
    from bot.config import Settings

BADGE_AWARD = BadgeAward.__table__  # type: ignore[attr-defined]
BADGE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


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


class CustomBadge(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    name_zh: str | None = None
    description: str = ""
    description_zh: str | None = None

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not BADGE_ID.match(value):
            raise ValueError("must be lower-case letters, digits and dashes, such as docs-hero")
        return value

    def badge(self) -> Badge:
        return Badge(self.id, {"en": self.name, "zh": self.name_zh or self.name},
                     {"en": self.description, "zh": self.description_zh or self.description})


class BadgeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    custom: list[CustomBadge] = []
    comment_on_award: bool = True  # an award made in an issue or PR is announced there

    @field_validator("custom")
    @classmethod
    def _unique(cls, value: list[CustomBadge]) -> list[CustomBadge]:
        seen = {badge.id for badge in BUILT_IN}
        for index, badge in enumerate(value):
            if badge.id in seen:
                raise ValueError(f"[{index}].id: {badge.id!r} is already a badge")
            seen.add(badge.id)
        return value

    def catalogue(self) -> dict[str, Badge]:
        return {badge.id: badge for badge in (*BUILT_IN, *(custom.badge() for custom in self.custom))}


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


def record_award(conn: Connection, award: Award) -> bool:
    """Record an award; False when the person already holds the badge (nothing changes)."""
    statement = dialect_insert(conn.dialect.name)(BADGE_AWARD).values(
        badge=award.badge.id, person=award.person, login=award.login, platform=award.platform,
        awarded_by=award.awarded_by, reason=award.reason, repo=award.repo, number=award.number,
        awarded_at=award.when).on_conflict_do_nothing().returning(BADGE_AWARD.c.id)
    return conn.execute(statement).first() is not None


def announcement(award: Award) -> Action:
    """The `badge` notification for an award, routed to channels by `[notify]` rules."""
    values = {"login": award.login, "badge_id": award.badge.id, "badge_en": award.badge.name_in("en"),
              "badge_zh": award.badge.name_in("zh"), "about_en": award.badge.description_in("en"),
              "about_zh": award.badge.description_in("zh"), "reason": award.reason or "",
              "repo": award.repo or "", "platform": award.platform or ""}
    return Action(kind="notify", key=f"badge:{award.badge.id}:{award.person}:notify", topic="badge",
                  template="badge_notice", values=tuple(values.items()), platform=award.platform, repo=award.repo,
                  number=award.number)


def grant(db: Database, settings: Settings, badge_id: str, recipient: str, awarded_by: str, now: datetime,
          reason: str | None = None) -> tuple[Award, bool]:
    """Award a badge outside a comment (Slack, the CLI): to `recipient` named as `github:login`, `gitee:login`, a
    linked identity or a login cobot has seen; announced by `[notify]` in the same transaction. Returns the award
    and whether it is new. Raises UnknownBadge, or community.UnknownPerson."""
    from bot.community import resolve_person
    from bot.outbox import store_actions

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
            store_actions(later, [announcement(award)], None, now, settings.notify, settings.community.language)
            later.flush(conn)
    return award, new
