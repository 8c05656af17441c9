"""SQLModel tables. Datetimes are timezone-aware UTC (SQLModel's UTCDateTime; SQLite keeps them as text)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

DELIVERY_STATUSES = ("received", "processed", "ignored", "failed", "rejected")


class Delivery(SQLModel, table=True):
    """One webhook request as received (secrets stripped), and what became of it."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("platform", "key", name="uq_delivery_platform_key"),
        Index("ix_delivery_status_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    key: str = Field(max_length=128)
    event: str = Field(max_length=64)
    action: str | None = Field(default=None, max_length=64)
    status: str = Field(default="received", max_length=16)
    error: str | None = Field(default=None, sa_column=Column(Text))
    attempts: int = 0
    received_at: datetime
    next_attempt_at: datetime | None = None
    processed_at: datetime | None = None
    headers: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class HandlerRun(SQLModel, table=True):
    """A handler that has completed for a delivery, so a retry runs only the ones that failed."""

    __tablename__ = "handler_run"
    __table_args__ = (UniqueConstraint("delivery_id", "handler", name="uq_handler_run"),)

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(index=True)
    handler: str = Field(max_length=64)


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


class OutboxAction(SQLModel, table=True):
    """An action decided by a handler, stored with the state change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("key", name="uq_outbox_key"),
        Index("ix_outbox_status_due", "status", "next_attempt_at"),
        Index("ix_outbox_channel", "channel"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200)
    kind: str = Field(max_length=16)
    platform: str | None = Field(default=None, max_length=16)
    repo: str | None = Field(default=None, max_length=256)
    number: str | None = Field(default=None, max_length=32)
    channel: str | None = Field(default=None, max_length=64)  # notifications: the [notify.channels] name
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    delivery_id: int | None = Field(default=None, index=True)
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    result: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime
    next_attempt_at: datetime
    done_at: datetime | None = None


class ForgeRole(SQLModel, table=True):
    """What a forge last said of someone's permission on a repo (a cache: see commands.permission_cache_seconds)."""

    __tablename__ = "forge_role"
    __table_args__ = (UniqueConstraint("platform", "repo", "login", name="uq_forge_role"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    repo: str = Field(max_length=256)
    login: str = Field(max_length=128)  # lower case
    role: str = Field(max_length=16)  # contributor, triager, maintainer
    checked_at: datetime


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


class ImportState(SQLModel, table=True):
    """Where an import of history got to (a backfill from a forge's API, a GH Archive file), so that one that was
    interrupted resumes instead of starting again."""

    __tablename__ = "import_state"
    __table_args__ = (UniqueConstraint("source", name="uq_import_state_source"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=300)  # e.g. backfill:github:owner/repo:issues, gharchive:<file sha256>
    cursor: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    done: bool = False
    updated_at: datetime


class EventClaim(SQLModel, table=True):
    """An event taken by the delivery that first carried it: the same event under another delivery id (an org hook
    beside a repo hook, an App beside a hook, a replayed body) changes nothing (see `bot.events.event_identity`)."""

    __tablename__ = "event_claim"

    identity: str = Field(primary_key=True, max_length=64)
    delivery_id: int
    claimed_at: datetime


class WebhookNonce(SQLModel, table=True):
    """A signature seen on a delivery that signs no body (Gitee's signing mode covers only its timestamp): reused
    with another body inside its window, it is refused. Kept in the inbox's database, written with the delivery."""

    __tablename__ = "webhook_nonce"
    __table_args__ = (Index("ix_webhook_nonce_seen", "seen_at"),)

    platform: str = Field(primary_key=True, max_length=16)
    nonce: str = Field(primary_key=True, max_length=64)  # a digest of the signature, never the signature itself
    key: str = Field(max_length=128)  # the delivery it came with
    seen_at: datetime


class DashboardSession(SQLModel, table=True):
    """A dashboard login held by the server, so that logging out (or an operator) ends it everywhere."""

    __tablename__ = "dashboard_session"
    __table_args__ = (Index("ix_dashboard_session_expires", "expires_at"),)

    id: str = Field(primary_key=True, max_length=64)  # the cookie's random session id
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    remote: str | None = Field(default=None, max_length=64)  # where it logged in from


class CommandUse(SQLModel, table=True):
    """A slash command someone ran (or tried to), for the per-person limits of `[commands]`."""

    __tablename__ = "command_use"
    __table_args__ = (Index("ix_command_use_person", "person", "used_at"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    repo: str = Field(max_length=256)
    number: str = Field(max_length=32)
    person: str = Field(max_length=200)
    command: str = Field(max_length=32)
    used_at: datetime
    comment_id: str | None = Field(default=None, max_length=64)  # the comment it came in: counted once


class NotifyUse(SQLModel, table=True):
    """An event notification decided for the per-person bound `notify.per_person_per_hour`: once per person and
    notification, so a redelivered or replayed event is decided as it was (`bot.notifiers.per_person`)."""

    __tablename__ = "notify_use"
    __table_args__ = (Index("ix_notify_use_person", "person", "outcome", "decided_at"),)

    key: str = Field(primary_key=True, max_length=40)  # a digest of the person and the notification's key
    person: str = Field(max_length=200)
    outcome: str = Field(max_length=16)  # announced, held, notice (held, and said so)
    decided_at: datetime


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
