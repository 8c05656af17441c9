"""The platform-neutral Event and Action types.

Platforms translate deliveries into Events; handlers read Events and return Actions.
Nothing here knows a forge's payload shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

EVENT_KINDS: frozenset[str] = frozenset({
    "issue.opened", "issue.edited", "issue.closed", "issue.reopened", "issue.labeled", "issue.unlabeled",
    "issue.assigned", "issue.unassigned",
    "pr.opened", "pr.updated", "pr.edited", "pr.closed", "pr.merged", "pr.reopened", "pr.labeled",
    "pr.unlabeled", "pr.assigned", "pr.unassigned",
    "comment.created", "review.submitted",
    "push", "tag.created", "tag.deleted",
    "star.created", "star.deleted", "fork.created", "release.published", "member.added",
})


@dataclass(frozen=True, slots=True)
class Actor:
    login: str
    id: str | None = None
    name: str | None = None
    is_bot: bool = False


@dataclass(frozen=True, slots=True)
class RepoRef:
    full_name: str
    url: str | None = None

    @property
    def owner(self) -> str:
        return self.full_name.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.full_name.split("/", 1)[1]


@dataclass(frozen=True, slots=True)
class Thread:
    """An issue or a pull request as the delivery saw it."""

    number: str
    is_pr: bool
    title: str
    state: Literal["open", "closed", "merged"]
    author: Actor
    created_at: datetime
    updated_at: datetime
    url: str | None = None
    labels: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()
    closed_at: datetime | None = None
    merged_at: datetime | None = None
    body: str = ""


@dataclass(frozen=True, slots=True)
class Comment:
    id: str
    body: str
    author: Actor
    created_at: datetime
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Review:
    id: str
    state: str
    body: str
    author: Actor
    submitted_at: datetime


@dataclass(frozen=True, slots=True)
class Push:
    ref: str
    before: str
    after: str
    commit_count: int
    created: bool = False
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Event:
    kind: str
    platform: str
    repo: RepoRef
    actor: Actor
    occurred_at: datetime
    thread: Thread | None = None
    comment: Comment | None = None
    review: Review | None = None
    push: Push | None = None
    detail: dict[str, str] = field(default_factory=dict)


ActionKind = Literal["comment", "label", "notify"]


@dataclass(frozen=True, slots=True)
class Action:
    """Something to do outside cobot; stored in the outbox, performed by the dispatcher.

    `key` is the idempotency key: the same decision, reached again, has the same key and is not stored twice.
    """

    kind: ActionKind
    key: str
    platform: str | None = None
    repo: str | None = None
    number: str | None = None
    is_pr: bool = False
    body: str | None = None
    labels: tuple[str, ...] = ()
    title: str | None = None
    topic: str | None = None
    language: str | None = None

    def payload(self) -> dict[str, Any]:
        """What the outbox stores besides the columns (kind, key, platform, repo, number)."""
        return {"is_pr": self.is_pr, "body": self.body, "labels": list(self.labels), "title": self.title,
                "topic": self.topic, "language": self.language}
