"""What campaigns keep: their windows and ledgers, hackathon claims and submissions, camp participants and
milestones, posted leaderboards, digest charts. Datetimes are timezone-aware UTC (see bot.store.tables)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel


class CampaignState(SQLModel, table=True):
    """What an operator changed of a campaign's window: started early, closed early (`cobot campaign`)."""

    __tablename__ = "campaign_state"

    id: int | None = Field(default=None, primary_key=True)
    campaign: str = Field(max_length=64, unique=True)
    started_at: datetime | None = None
    closed_at: datetime | None = None


class CampaignEvent(SQLModel, table=True):
    """The ledger of what a campaign did once: an announcement, a reminder, a nudge, a graduation, a post."""

    __tablename__ = "campaign_event"
    __table_args__ = (UniqueConstraint("campaign", "key", name="uq_campaign_event"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign: str = Field(max_length=64)
    key: str = Field(max_length=200)
    at: datetime
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class HackathonClaim(SQLModel, table=True):
    """A task claimed by a person, until it is released (given back, expired, submitted or the hackathon ends)."""

    __tablename__ = "hackathon_claim"
    __table_args__ = (
        Index("ix_hackathon_claim_task", "campaign", "platform", "repo", "number"),
        Index("ix_hackathon_claim_person", "campaign", "person"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign: str = Field(max_length=64)
    platform: str = Field(max_length=16)
    repo: str = Field(max_length=256)
    number: str = Field(max_length=32)
    person: str = Field(max_length=200)
    login: str = Field(max_length=128)
    claimed_at: datetime
    expires_at: datetime
    reminded_at: datetime | None = None
    released_at: datetime | None = None
    release_reason: str | None = Field(default=None, max_length=32)  # unclaimed, expired, submitted, ended


class CampaignSubmission(SQLModel, table=True):
    """A pull request that references a hackathon task, and the points its merge earned."""

    __tablename__ = "campaign_submission"
    __table_args__ = (UniqueConstraint("campaign", "task_platform", "task_repo", "task_number", "pr_repo",
                                       "pr_number", name="uq_campaign_submission"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign: str = Field(max_length=64, index=True)
    task_platform: str = Field(max_length=16)
    task_repo: str = Field(max_length=256)
    task_number: str = Field(max_length=32)
    pr_repo: str = Field(max_length=256)
    pr_number: str = Field(max_length=32)
    person: str = Field(max_length=200)
    login: str = Field(max_length=128)
    submitted_at: datetime
    merged_at: datetime | None = None
    points: int = 0
    status: str = Field(default="submitted", max_length=16)  # submitted, scored, late, closed


class CampParticipant(SQLModel, table=True):
    __tablename__ = "camp_participant"
    __table_args__ = (UniqueConstraint("campaign", "person", name="uq_camp_participant"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign: str = Field(max_length=64, index=True)
    person: str = Field(max_length=200)
    platform: str = Field(max_length=16)
    login: str = Field(max_length=128)
    status: str = Field(max_length=16)  # enrolled, waiting, left, graduated
    joined_at: datetime
    graduated_at: datetime | None = None
    source: str = Field(default="config", max_length=16)  # config, command


class CampMilestoneMet(SQLModel, table=True):
    __tablename__ = "camp_milestone_met"
    __table_args__ = (UniqueConstraint("campaign", "person", "milestone", name="uq_camp_milestone_met"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign: str = Field(max_length=64)
    person: str = Field(max_length=200)
    milestone: str = Field(max_length=64)
    met_at: datetime


class LeaderboardEntry(SQLModel, table=True):
    """One line of a posted leaderboard: who ranked where in which period (the next post shows the change)."""

    __tablename__ = "leaderboard_entry"
    __table_args__ = (UniqueConstraint("campaign", "period", "person", name="uq_leaderboard_entry"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign: str = Field(max_length=64)
    period: str = Field(max_length=32)
    person: str = Field(max_length=200)
    rank: int
    score: float
    posted_at: datetime


class DigestChart(SQLModel, table=True):
    """A digest week's chart, drawn once (when the digest is sent, or when first asked for) and kept: every replica
    and restart serves the same picture, and a week that is over is never drawn again. `key` is the unguessable
    part of its address in the digest's messages (see campaigns.digest_chart)."""

    __tablename__ = "digest_chart"

    campaign: str = Field(primary_key=True, max_length=64)
    week: str = Field(primary_key=True, max_length=8)  # 2026-W47
    language: str = Field(primary_key=True, max_length=8)
    key: str = Field(max_length=32)
    png: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    drawn_at: datetime
