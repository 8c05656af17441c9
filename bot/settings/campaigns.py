"""`[[campaigns]]`: hackathons, training camps and leaderboards, validated at start-up.

Each campaign has a `name` (a slug, used on the command line and in commands), a `kind`, a window (`start`,
`end`; a date without an offset is read in the campaign's `timezone`), the repos it covers (`github:owner/repo`,
`gitee:owner/repo`, or `owner/repo` for whichever forge has it; each must be in `[[community.repos]]`), and the
settings of its kind. Cross-checks (unknown repos, overlapping hackathons on one repo, a leaderboard counting the
points of a hackathon that does not exist) run in `check_campaigns`, with the community's repos in hand.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Language = Literal["zh", "en"]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
REPO = re.compile(r"^(?:(github|gitee):)?([^/\s:]+/[^/\s]+)$")
ACCOUNT = re.compile(r"^(github|gitee):([A-Za-z0-9][A-Za-z0-9._-]*)$")
THREAD_REF = re.compile(r"^(github|gitee):([^/\s]+/[^/\s#]+)#([A-Za-z0-9]+)$")
CRITERIA = ("issue.opened", "pr.opened", "pr.merged", "review.submitted", "comment.created", "issue.answered")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _clock_time(value: str) -> str:
    try:
        time.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a time of day such as 09:00") from None
    return value


class CampaignBase(Section):
    name: str
    title: str = ""
    start: datetime
    end: datetime | None = None
    timezone: str = "UTC"
    language: Language | None = None  # default: community.language
    repos: list[str] = []

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError("must be lower-case letters, digits and dashes, such as spring-hackathon")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder of zones, such as "Europe"
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as Asia/Shanghai)") from None
        return value

    @field_validator("repos")
    @classmethod
    def _repos(cls, value: list[str]) -> list[str]:
        for repo in value:
            if not REPO.match(repo):
                raise ValueError(f"{repo!r}: a repo is owner/name, or github:owner/name or gitee:owner/name")
        return value

    @model_validator(mode="after")
    def _window(self) -> CampaignBase:
        zone = ZoneInfo(self.timezone)
        if self.start.tzinfo is None:
            self.start = self.start.replace(tzinfo=zone)
        if self.end is not None and self.end.tzinfo is None:
            self.end = self.end.replace(tzinfo=zone)
        if self.end is not None and self.end <= self.start:
            raise ValueError("end: must be after start")
        if not self.title:
            self.title = self.name
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def covers(self, platform: str, repo: str) -> bool:
        """Whether a repo is one of the campaign's (all tracked repos when it lists none)."""
        if not self.repos:
            return True
        for entry in self.repos:
            forge, _, name = entry.rpartition(":")
            if name.lower() == repo.lower() and forge in ("", platform):
                return True
        return False


def _local(value: datetime, zone: ZoneInfo) -> datetime:
    return value.replace(tzinfo=zone) if value.tzinfo is None else value


class TaskSettings(Section):
    """A task of the task table: an issue, its points (default: from its labels) and an optional title."""

    issue: str  # github:owner/repo#12, gitee:owner/repo#I4CYEO
    points: int | None = Field(None, ge=0)
    title: str = ""

    @field_validator("issue")
    @classmethod
    def _thread(cls, value: str) -> str:
        if not THREAD_REF.match(value):
            raise ValueError("must be github:owner/repo#NUMBER or gitee:owner/repo#NUMBER")
        return value

    def where(self) -> tuple[str, str, str]:
        match = THREAD_REF.match(self.issue)
        assert match is not None
        return match[1], match[2], match[3]


class HackathonSettings(CampaignBase):
    kind: Literal["hackathon"]
    end: datetime
    task_label: str | None = "hackathon"  # issues with this label in the repos are tasks (None: the table only)
    points: dict[str, int] = {"easy": 10, "medium": 20, "hard": 40}  # difficulty label → points
    default_points: int = Field(10, ge=0)
    tasks: list[TaskSettings] = []
    claim_limit: int = Field(2, ge=1)  # tasks one person may hold at once
    claim_ttl_hours: float = Field(72.0, gt=0)
    remind_before_hours: float = Field(24.0, ge=0)

    @field_validator("points")
    @classmethod
    def _non_negative(cls, value: dict[str, int]) -> dict[str, int]:
        for label, points in value.items():
            if points < 0:
                raise ValueError(f"{label!r}: points cannot be negative")
        return value

    @model_validator(mode="after")
    def _some_tasks(self) -> HackathonSettings:
        if not self.task_label and not self.tasks:
            raise ValueError("tasks: a hackathon needs a task_label or a task table")
        return self


class Criterion(Section):
    """A count of events measured from the campaign's start: `issue.answered` is a comment on someone else's
    issue; `pr.merged` counts the participant's own PRs merged."""

    event: Literal["issue.opened", "pr.opened", "pr.merged", "review.submitted", "comment.created", "issue.answered"]
    count: int = Field(1, ge=1)


class MilestoneSettings(Section):
    id: str
    title: str = ""
    due: datetime
    criteria: list[Criterion] = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError("must be lower-case letters, digits and dashes")
        return value


class CampSettings(CampaignBase):
    kind: Literal["training_camp"]
    end: datetime
    capacity: int | None = Field(None, ge=1)  # beyond it, `/campaign join` puts people on a waiting list
    participants: list[str] = []  # github:login, gitee:login: enrolled from the start
    open_enrolment: bool = True  # `/campaign join NAME`
    milestones: list[MilestoneSettings] = Field(min_length=1)
    badge: str = "camp-graduate"
    home: str | None = None  # github:owner/repo#12: the issue where weekly nudges are posted
    nudge_weekday: Weekday = "monday"
    nudge_time: Annotated[str, Field(pattern=r"^\d{2}:\d{2}$")] = "09:00"

    @field_validator("participants")
    @classmethod
    def _accounts(cls, value: list[str]) -> list[str]:
        for account in value:
            if not ACCOUNT.match(account):
                raise ValueError(f"{account!r}: a participant is github:LOGIN or gitee:LOGIN")
        return value

    @field_validator("home")
    @classmethod
    def _home(cls, value: str | None) -> str | None:
        if value is not None and not THREAD_REF.match(value):
            raise ValueError("must be github:owner/repo#NUMBER or gitee:owner/repo#NUMBER")
        return value

    @field_validator("nudge_time")
    @classmethod
    def _time(cls, value: str) -> str:
        return _clock_time(value)

    @model_validator(mode="after")
    def _milestones_in_window(self) -> CampSettings:
        seen: set[str] = set()
        for index, milestone in enumerate(self.milestones):
            milestone.due = _local(milestone.due, self.zone)
            if milestone.id in seen:
                raise ValueError(f"milestones[{index}].id: {milestone.id!r} is used twice")
            seen.add(milestone.id)
            if not self.start < milestone.due <= self.end:
                raise ValueError(f"milestones[{index}].due: must be after start and no later than end")
            if not milestone.title:
                milestone.title = milestone.id
        return self

    def home_thread(self) -> tuple[str, str, str] | None:
        match = THREAD_REF.match(self.home or "")
        return (match[1], match[2], match[3]) if match else None


class LeaderboardSettings(CampaignBase):
    kind: Literal["leaderboard"]
    period: Literal["weekly", "monthly", "campaign"] = "weekly"
    by: Literal["activity", "points"] = "activity"
    points_from: str | None = None  # the hackathon whose points rank people (by = "points")
    exclude_maintainers: bool = False
    size: int = Field(10, ge=1, le=100)
    post_weekday: Weekday = "monday"  # weekly: the day the past week's ranking is posted
    post_time: Annotated[str, Field(pattern=r"^\d{2}:\d{2}$")] = "09:00"

    @field_validator("post_time")
    @classmethod
    def _time(cls, value: str) -> str:
        return _clock_time(value)

    @model_validator(mode="after")
    def _consistent(self) -> LeaderboardSettings:
        if self.by == "points" and not self.points_from:
            raise ValueError("points_from: ranking by points needs the name of a hackathon")
        if self.period == "campaign" and self.end is None:
            raise ValueError("end: a campaign-long leaderboard needs an end")
        return self


class DigestSettings(CampaignBase):
    """The weekly community digest: every `weekday` at `time`, last week's numbers for the community or one repo
    (`scope = "github:owner/repo"`), sent where `[notify]` routes the topic `digest`."""

    kind: Literal["digest"]
    scope: str = "community"
    weekday: Weekday = "monday"
    time: Annotated[str, Field(pattern=r"^\d{2}:\d{2}$")] = "09:00"
    response_hours: float = Field(48.0, gt=0)  # an issue or PR waiting longer for a first response is listed
    stale_days: int = Field(14, ge=1)  # an open PR without news for this long is listed as stale
    top: int = Field(5, ge=1, le=50)  # how many contributors, merged PRs, waiting issues… each list shows

    @field_validator("time")
    @classmethod
    def _time(cls, value: str) -> str:
        return _clock_time(value)

    @field_validator("scope")
    @classmethod
    def _scope(cls, value: str) -> str:
        if value != "community" and not REPO.match(value):
            raise ValueError('must be "community" or a repo such as github:owner/name')
        return value

    def repo(self) -> tuple[str, str] | None:
        """(platform, full name) of a repo digest; None for the community's."""
        if self.scope == "community":
            return None
        forge, _, name = self.scope.rpartition(":")
        return (forge or "github", name)


Campaign = Annotated[HackathonSettings | CampSettings | LeaderboardSettings | DigestSettings,
                     Field(discriminator="kind")]


def check_campaigns(campaigns: list[Campaign], known_repos: list[tuple[str, str]]) -> None:
    """What one campaign cannot check alone; raises ValueError naming the key (`campaigns[2].repos`)."""
    known = {(platform, name.lower()) for platform, name in known_repos}
    names: dict[str, int] = {}
    for index, campaign in enumerate(campaigns):
        where = f"campaigns[{index}]"
        if campaign.name in names:
            raise ValueError(f"{where}.name: {campaign.name!r} is already campaigns[{names[campaign.name]}]")
        names[campaign.name] = index
        for repo in campaign.repos:
            forge, _, name = repo.rpartition(":")
            if not any(name.lower() == known_name and forge in ("", platform) for platform, known_name in known):
                raise ValueError(f"{where}.repos: {repo!r} is not in [[community.repos]]")
        if isinstance(campaign, DigestSettings) and campaign.scope != "community":
            forge, _, name = campaign.scope.rpartition(":")
            if not any(name.lower() == known_name and forge in ("", platform) for platform, known_name in known):
                raise ValueError(f"{where}.scope: {campaign.scope!r} is not in [[community.repos]]")
        if isinstance(campaign, HackathonSettings):
            for task_index, task in enumerate(campaign.tasks):
                platform, repo, _ = task.where()
                if not campaign.covers(platform, repo):
                    raise ValueError(f"{where}.tasks[{task_index}].issue: {repo} is not one of the campaign's repos")
    hackathons = [(i, c) for i, c in enumerate(campaigns) if isinstance(c, HackathonSettings)]
    for (_, first), (j, second) in ((a, b) for a in hackathons for b in hackathons if a[0] < b[0]):
        if first.start < second.end and second.start < first.end and _share_repos(first, second):
            raise ValueError(f"campaigns[{j}].start: {second.name!r} overlaps {first.name!r} on the same repos "
                             "(a task would belong to two hackathons)")
    for index, campaign in enumerate(campaigns):
        if isinstance(campaign, LeaderboardSettings) and campaign.points_from:
            source = names.get(campaign.points_from)
            if source is None or not isinstance(campaigns[source], HackathonSettings):
                raise ValueError(f"campaigns[{index}].points_from: no hackathon named {campaign.points_from!r}")


def _share_repos(first: CampaignBase, second: CampaignBase) -> bool:
    if not first.repos or not second.repos:
        return True
    for entry in first.repos:
        forge, _, name = entry.rpartition(":")
        if any(second.covers(platform, name) for platform in ((forge,) if forge else ("github", "gitee"))):
            return True
    return False


def weekly_times(after: datetime, until: datetime | None, weekday: str, at: str, zone: ZoneInfo
                 ) -> list[datetime]:
    """The moments `weekday` at `at` (local time in `zone`) from `after` (excluded) to `until` (included)."""
    clock = time.fromisoformat(at)
    local = after.astimezone(zone)
    day = local.date() + timedelta(days=(WEEKDAYS.index(weekday) - local.weekday()) % 7)
    moments = []
    while True:
        moment = datetime.combine(day, clock, zone)
        if moment > after:
            if until is not None and moment > until:
                return moments
            moments.append(moment)
            if until is None:
                return moments
        day += timedelta(days=7)
