"""The community as the store knows it: contributors, repos, threads (issues and PRs), the activity log,
milestones reached, badges held and issues claimed. Datetimes are timezone-aware UTC (see bot.store.tables)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class Contributor(SQLModel, table=True):
    __tablename__ = "contributor"
    __table_args__ = (UniqueConstraint("platform", "login", name="uq_contributor_login"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    login: str = Field(max_length=128)
    platform_user_id: str | None = Field(default=None, max_length=64)
    name: str | None = Field(default=None, max_length=256)
    person: str = Field(max_length=200, index=True)
    is_bot: bool = False
    first_seen_at: datetime
    last_seen_at: datetime


class Repo(SQLModel, table=True):
    __tablename__ = "repo"
    __table_args__ = (UniqueConstraint("platform", "full_name", name="uq_repo_name"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    full_name: str = Field(max_length=256)
    url: str | None = Field(default=None, max_length=512)
    first_seen_at: datetime
    last_activity_at: datetime


class Thread(SQLModel, table=True):
    """An issue or a pull request, converged from however its deliveries arrived."""

    __tablename__ = "thread"
    __table_args__ = (
        UniqueConstraint("platform", "repo", "is_pr", "number", name="uq_thread"),
        Index("ix_thread_author", "platform", "author"),
        Index("ix_thread_created", "created_at"),  # the metrics' windows (bot.community.metrics)
        Index("ix_thread_closed", "closed_at"),
        Index("ix_thread_merged", "merged_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    repo: str = Field(max_length=256)
    number: str = Field(max_length=32)
    is_pr: bool
    title: str = Field(default="", sa_column=Column(Text, nullable=False))
    author: str = Field(max_length=128)
    author_person: str = Field(max_length=200, index=True)
    state: str = Field(max_length=16)
    state_at: datetime
    snapshot_at: datetime
    labels: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    assignees: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    url: str | None = Field(default=None, max_length=512)
    created_at: datetime
    closed_at: datetime | None = None
    merged_at: datetime | None = None
    first_response_at: datetime | None = None
    first_responder: str | None = Field(default=None, max_length=128)


class Activity(SQLModel, table=True):
    """The activity log: one row per event that happened, whoever did it."""

    __tablename__ = "activity"
    __table_args__ = (
        UniqueConstraint("delivery_id", "kind", name="uq_activity_delivery_kind"),
        Index("ix_activity_time", "occurred_at"),
        Index("ix_activity_person", "person", "occurred_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int | None = None
    platform: str = Field(max_length=16)
    repo: str = Field(max_length=256)
    kind: str = Field(max_length=32)
    actor: str = Field(max_length=128)
    person: str = Field(max_length=200)
    is_bot: bool = False
    number: str | None = Field(default=None, max_length=32)
    occurred_at: datetime


class Milestone(SQLModel, table=True):
    """A contributor's first issue / first PR / first merge in a scope: reached once, ever."""

    __tablename__ = "milestone"
    __table_args__ = (UniqueConstraint("person", "scope", "kind", name="uq_milestone"),)

    id: int | None = Field(default=None, primary_key=True)
    person: str = Field(max_length=200)
    scope: str = Field(max_length=300)
    kind: str = Field(max_length=32)
    platform: str = Field(max_length=16)
    repo: str = Field(max_length=256)
    number: str = Field(max_length=32)
    reached_at: datetime


class BadgeAward(SQLModel, table=True):
    """A badge a person holds: awarded once, by a maintainer (a command, Slack, the CLI) or by a rule."""

    __tablename__ = "badge_award"
    __table_args__ = (UniqueConstraint("person", "badge", name="uq_badge_award"),)

    id: int | None = Field(default=None, primary_key=True)
    badge: str = Field(max_length=64)
    person: str = Field(max_length=200, index=True)
    login: str = Field(max_length=128)  # the account it was awarded to
    platform: str | None = Field(default=None, max_length=16)
    awarded_by: str = Field(max_length=200)  # who: "github:mei-lin", "slack:U024BE7LH", "cli"
    reason: str | None = Field(default=None, sa_column=Column(Text))
    repo: str | None = Field(default=None, max_length=256)  # where it was earned or announced
    number: str | None = Field(default=None, max_length=32)
    awarded_at: datetime
    uid: str | None = Field(default=None, max_length=64, unique=True)  # the Open Badges assertion's address
    revoked_at: datetime | None = None
    revocation_reason: str | None = Field(default=None, sa_column=Column(Text))


class ThreadClaim(SQLModel, table=True):
    """Who took an issue with `/claim` (outside hackathons): one holder per issue, recorded with the decision to
    assign them, so that a second `/claim` before the forge reports the assignment finds it taken."""

    __tablename__ = "thread_claim"
    __table_args__ = (Index("ix_thread_claim_person", "person"),)

    platform: str = Field(primary_key=True, max_length=16)
    repo: str = Field(primary_key=True, max_length=256)
    number: str = Field(primary_key=True, max_length=32)
    person: str = Field(max_length=200)
    login: str = Field(max_length=128)
    claimed_at: datetime
    action_key: str | None = Field(default=None, max_length=200)  # the outbox's assign action
