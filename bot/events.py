"""The platform-neutral Event and Action types.

Platforms translate deliveries into Events; handlers read Events and return Actions.
Nothing here knows a forge's payload shape.
"""

from __future__ import annotations

import hashlib
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


CommentPlace = Literal["thread", "diff", "review"]


@dataclass(frozen=True, slots=True)
class Comment:
    id: str
    body: str
    author: Actor
    created_at: datetime
    url: str | None = None
    place: CommentPlace = "thread"  # the conversation; a line of a PR's diff (a review comment); a review's body


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


def event_identity(event: Event) -> str:
    """What names this event whichever delivery carries it: the forge's own ids (the thread's number in its repo,
    the comment's, the review's, the commit a push ends at), who did it, and, for what has no id of its own, when and
    what it changed (the labels or assignees a thread was left with). An org's hook and a repo's hook, an App and a
    hook, a replayed body under a new delivery id: one event, one identity."""
    thread, comment, review, push = event.thread, event.comment, event.review, event.push
    ids = (comment.id if comment else "", review.id if review else "", f"{push.ref}@{push.after}" if push else "")
    own_id = next((found for found in ids if found and not found.endswith("None")), "")  # str(None): no id sent
    changed: tuple[str, ...] = ()
    if thread is not None and event.kind.endswith(("labeled", "assigned")):
        changed = tuple(sorted(thread.labels if event.kind.endswith("labeled") else thread.assignees))
    parts = (
        event.platform, event.repo.full_name.lower(), event.kind,
        f"{'pr' if thread.is_pr else 'issue'}#{thread.number}" if thread else "", own_id,
        event.actor.id or event.actor.login.lower(),
        "" if own_id else event.occurred_at.isoformat(),  # an id names it; else its time (a delivery may lack one)
        *(f"{key}={value}" for key, value in sorted(event.detail.items())), *changed,
    )
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:40]


ActionKind = Literal["comment", "label", "unlabel", "assign", "unassign", "close", "reopen", "notify"]


@dataclass(frozen=True, slots=True)
class Action:
    """Something to do outside cobot; stored in the outbox, performed by the dispatcher.

    `key` is the idempotency key: the same decision, reached again, has the same key and is not stored twice.

    A `notify` action says what happened once (`topic`, `template` and its `values`, and what routing looks at:
    `event_kind`, `platform`, `repo`, `labels`); the outbox turns it into one message per channel that the
    `[notify]` rules route it to, each rendered in that channel's language (`bot.notifiers.routing`).
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
    template: str | None = None  # notify: message template id; its title is the template `{id}_title`
    values: tuple[tuple[str, Any], ...] = ()  # notify: the template's values
    event_kind: str | None = None  # notify: the event it is about, if any
    link: str | None = None  # notify: where to read more
    fields: tuple[tuple[str, str], ...] = ()  # notify: (label, value) pairs
    channel: str | None = None  # notify, once routed: the [notify.channels] name
    logins: tuple[str, ...] = ()  # assign, unassign: whom
    html_template: str | None = None  # notify: an HTML rendering for e-mail (bot/templates/LANG/ID.html.j2)
    attachments: tuple[tuple[str, str, str], ...] = ()  # notify: (file name, content type, base64 data)
    html: str | None = None  # notify, once routed: the HTML rendering

    def payload(self) -> dict[str, Any]:
        """What the outbox stores besides the columns (kind, key, platform, repo, number, channel)."""
        if self.kind == "notify":
            payload = {"title": self.title, "body": self.body, "link": self.link,
                       "fields": [list(pair) for pair in self.fields], "language": self.language, "topic": self.topic}
            if self.html is not None:
                payload["html"] = self.html
            if self.attachments:
                payload["attachments"] = [list(item) for item in self.attachments]
            return payload
        return {"is_pr": self.is_pr, "body": self.body, "labels": list(self.labels), "title": self.title,
                "topic": self.topic, "language": self.language, "logins": list(self.logins)}
