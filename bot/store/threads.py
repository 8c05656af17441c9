"""A stored issue or pull request (`StoredThread`, a row of `thread`) and the pure rules that merge into it what
each delivery saw, so that thread state converges whatever order its deliveries arrive in. `bot.store.book.Book`
reads, changes and writes threads with these rules."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from operator import attrgetter
from typing import Any

from bot.events import Thread

MUTABLE_THREAD_FIELDS = ("title", "labels", "assignees", "url", "snapshot_at", "state", "state_at", "created_at",
                         "closed_at", "merged_at", "first_response_at", "first_responder")

# A later state wins; at the same instant, the one further along its lifecycle wins. Merged is final.
STATE_RANK = {"open": 0, "closed": 1, "merged": 2}

ThreadKey = tuple[str, str, bool, str]  # platform, repo, is_pr, number
KEY = ("platform", "repo", "is_pr", "number")


@dataclass(eq=False)
class StoredThread:
    """A thread as stored (`id` None: new in this batch); a `Book` changes it and writes it."""

    id: int | None
    platform: str
    repo: str
    number: str
    is_pr: bool
    title: str
    author: str
    author_person: str
    state: str
    state_at: datetime
    snapshot_at: datetime
    labels: list[str]
    assignees: list[str]
    url: str | None
    created_at: datetime
    closed_at: datetime | None
    merged_at: datetime | None
    first_response_at: datetime | None
    first_responder: str | None

    @property
    def key(self) -> ThreadKey:
        return self.platform, self.repo, self.is_pr, self.number

    def values(self) -> dict[str, Any]:
        return dict(zip(MUTABLE_THREAD_FIELDS, _mutable(self), strict=True))


THREAD_COLUMNS = tuple(item.name for item in fields(StoredThread))
_mutable = attrgetter(*MUTABLE_THREAD_FIELDS)
inserted_values = attrgetter(*THREAD_COLUMNS[1:])  # a new row's values, in THREAD_COLUMNS' order (its id aside)


def new_thread(platform: str, repo: str, seen: Thread, author_person: str, when: datetime) -> StoredThread:
    """An issue/PR not stored yet, as the delivery that first saw it tells it."""
    return StoredThread(
        id=None, platform=platform, repo=repo, number=seen.number, is_pr=seen.is_pr, title=seen.title,
        author=seen.author.login, author_person=author_person, state=seen.state, state_at=when,
        snapshot_at=seen.updated_at, labels=list(seen.labels), assignees=list(seen.assignees), url=seen.url,
        created_at=seen.created_at, closed_at=seen.closed_at, merged_at=seen.merged_at, first_response_at=None,
        first_responder=None)


def merge_thread(row: StoredThread, seen: Thread, when: datetime) -> bool:
    """Merge what one delivery saw of an issue/PR into the stored thread; whether anything changed."""
    before = _mutable(row)
    if seen.updated_at > row.snapshot_at:
        row.title, row.labels, row.assignees = seen.title, list(seen.labels), list(seen.assignees)
        row.url, row.snapshot_at = seen.url or row.url, seen.updated_at
    if row.state != "merged" and (when, STATE_RANK[seen.state]) > (row.state_at, STATE_RANK[row.state]):
        row.state, row.state_at = seen.state, when
    if seen.merged_at:
        row.state, row.merged_at = "merged", seen.merged_at
    if row.state == "open":
        row.closed_at = None
    elif seen.state != "open":
        row.closed_at = seen.closed_at or seen.merged_at or row.closed_at or when
    if seen.created_at < row.created_at:
        row.created_at = seen.created_at
    return _mutable(row) != before


def note_response(row: StoredThread, responder: str, person: str, is_bot: bool, when: datetime) -> bool:
    """The first reply on a thread by someone other than its author (bots do not count); whether it is this one."""
    if is_bot or person == row.author_person or when < row.created_at:
        return False
    if row.first_response_at is None or when < row.first_response_at:
        row.first_response_at, row.first_responder = when, responder
        return True
    return False

