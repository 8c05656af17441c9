"""SQLModel tables of the service's own records: deliveries as received and processed (and what dedupes them), the
outbox, imports' progress, dashboard sessions, and the caches and per-person bounds of commands and notifications.
Datetimes are timezone-aware UTC (SQLModel's UTCDateTime; SQLite keeps them as text).

The community's tables are in bot.store.community_tables, the campaigns' in bot.store.campaign_tables; importing
this module registers them all on SQLModel.metadata (bot/store/migrations/env.py and tests/conftest.py rely on it).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.campaign_tables import (  # noqa: F401  (registered on SQLModel.metadata with this module's tables)
    CampaignEvent,
    CampaignState,
    CampaignSubmission,
    CampMilestoneMet,
    CampParticipant,
    DigestChart,
    HackathonClaim,
    LeaderboardEntry,
)
from bot.store.community_tables import (  # noqa: F401  (registered on SQLModel.metadata with this module's tables)
    Activity,
    BadgeAward,
    Contributor,
    Milestone,
    Repo,
    Thread,
    ThreadClaim,
)

DELIVERY_STATUSES = ("received", "processed", "ignored", "failed", "rejected")
OUTBOX_STATUSES = ("pending", "done", "dry_run", "failed")


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
