"""The badge catalogue, as `[badges]` configures it: the built-in badges and `[[badges.custom]]`, and what earns each
(bot.badges.rules evaluates it; bot.badges.awards records awards).

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
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

BADGE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
RESERVED_IDS = frozenset({"issuer", "assertions", "people"})  # addresses of bot.web.badges
REPO_NAME = re.compile(r"^(?:(?P<platform>github|gitee):)?(?P<name>[^\s/:]+/[^\s/]+)$")
RULE_EVENTS = ("pr.merged", "issue.opened", "pr.opened", "review.submitted", "comment.created")  # what a rule counts
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
