"""What a forge's history reader gives `cobot backfill` (bot.history.backfill), and how it waits for the forge.

A reader (bot.platforms.github_history, bot.platforms.gitee_history) reads a repository's history stage by stage
(issues, pulls, comments, ...), one page at a time, and hands each page over as the Events the webhooks produce,
with where the next page starts (`Page.cursor`: the page number, or the thread and page). The backfill stores
the page and that cursor together, so that an interrupted backfill starts again at the page after the last one
stored. `Patience` is the waiting: the forge's rate limits (waited out, announced) and its 5xx (retried with
backoff), through a sleep that tests replace.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from bot.events import Actor, Event, RepoRef, Thread
from bot.platforms.actions import PermanentFailure, RetryLater

T = TypeVar("T")
Cursor = dict[str, Any]  # JSON: where a stage's next page starts, as its reader names it
Fetched = tuple[list[Event], datetime | None, bool, int | None]  # events, newest update, more pages?, pages
Translate = Callable[[dict[str, Any]], tuple[list[Event], datetime | None]]  # an item: its events, its update


class NotATarget(PermanentFailure):
    """What was named to backfill is no repository's or owner's name (nothing was read: nothing to resume)."""


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a stage: its events, where the next page starts, and how far the stage has got."""

    events: list[Event]
    cursor: Cursor
    newest: datetime | None = None  # the latest update among its items (the next run starts there)
    done: int = 0  # units of the stage done after this page (pages, or threads), for the progress bar
    total: int | None = None  # units in the stage, when the forge says (GitHub's Link, Gitee's total_page)
    final: bool = False  # nothing comes after it


class ThreadSource(Protocol):
    """The issues and pull requests the store holds for the repository being read (stages after issues and
    pulls read their comments and reviews)."""

    def find(self, number: str) -> Thread | None: ...

    def listed(self, is_pr: bool | None, since: datetime | None) -> list[Thread]:
        """Oldest first (see `place`); updated since `since`, when given."""
        ...


class HistoryReader(Protocol):
    platform: str
    stages: tuple[str, ...]
    patience: Patience

    def repos(self, target: str) -> list[RepoRef]:
        """`owner/repo`: that repository, as the forge spells it; an owner alone: every repository it has."""
        ...

    def read(self, repo: RepoRef, stage: str, cursor: Cursor, since: datetime | None,
             threads: ThreadSource) -> Iterator[Page]: ...

    def close(self) -> None: ...


@dataclass
class Patience:
    """Calls the forge: waits out what the forge names (a rate limit's reset, Retry-After) and retries a 5xx or a
    lost connection a few times with backoff; counts requests and seconds waited."""

    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], float] = time.time
    notice: Callable[[str], None] = field(default=lambda text: None)
    attempts: int = 4  # tries of one request that meets a 5xx or no connection
    backoff: float = 1.0  # seconds before the first retry; doubled each time
    most_waits: int = 20  # rate-limit waits for one request before giving up
    requests: int = 0
    waited: float = 0.0

    def call(self, send: Callable[[], T]) -> T:
        """`send()` once or more: it raises RetryLater (wait, then again) or PermanentFailure (given up at once)."""
        failures = waits = 0
        while True:
            self.requests += 1
            try:
                return send()
            except RetryLater as error:
                if error.delay > 0:
                    waits += 1
                    if waits > self.most_waits:
                        raise
                    self.wait(error.delay, error.reason)
                    continue
                failures += 1
                if failures >= self.attempts:
                    raise RetryLater(f"{error.reason} (gave up after {failures} attempts)", 0) from None
                self.wait(self.backoff * 2 ** (failures - 1), error.reason)

    def wait(self, seconds: float, reason: str) -> None:
        """Sleep `seconds`, saying why and until when."""
        seconds = max(seconds, 0.0)
        until = datetime.fromtimestamp(self.now() + seconds, UTC)
        self.notice(f"{reason}: waiting {seconds:.0f}s, until {until:%Y-%m-%d %H:%M:%S} UTC")
        self.sleep(seconds)
        self.waited += seconds


def later_of(first: datetime | None, second: datetime | None) -> datetime | None:
    if first is None or second is None:
        return first or second
    return max(first, second)


def thread_history(platform: str, repo: RepoRef, thread: Thread, closed_by: Actor | None = None,
                   merged_by: Actor | None = None) -> list[Event]:
    """What the webhooks would have said of an issue or PR: opened at created_at by its author, then merged at
    merged_at (by the merger when known, else the author) or closed at closed_at (by the closer when known)."""
    prefix = "pr" if thread.is_pr else "issue"
    if thread.state == "merged" and thread.merged_at is None:
        thread = replace(thread, merged_at=thread.closed_at or thread.updated_at)
    if thread.state == "closed" and thread.closed_at is None:  # a forge that does not say when: its last update
        thread = replace(thread, closed_at=thread.updated_at)
    events = [Event(kind=f"{prefix}.opened", platform=platform, repo=repo, actor=thread.author,
                    occurred_at=thread.created_at, thread=thread)]
    if thread.state == "merged" and thread.merged_at is not None:
        events.append(Event(kind="pr.merged", platform=platform, repo=repo, actor=merged_by or thread.author,
                            occurred_at=thread.merged_at, thread=thread))
    elif thread.state == "closed" and thread.closed_at is not None:
        events.append(Event(kind=f"{prefix}.closed", platform=platform, repo=repo, actor=closed_by or thread.author,
                            occurred_at=thread.closed_at, thread=thread))
    return events


def translated(items: list[dict[str, Any]], translate: Translate) -> tuple[list[Event], datetime | None]:
    """A page's items as events, and the newest update among them."""
    events: list[Event] = []
    newest: datetime | None = None
    for item in items:
        found, when = translate(item)
        events += found
        newest = later_of(newest, when)
    return events, newest


def flat_pages(cursor: Cursor, fetch: Callable[[int], Fetched]) -> Iterator[Page]:
    """A list read page by page from `cursor["page"]` (1 at first); `fetch(page)` reads one."""
    page = int(cursor.get("page", 1))
    while True:
        events, newest, more, total = fetch(page)
        yield Page(events, {"page": page + 1}, newest, done=page, total=total if total is not None or more else page,
                   final=not more)
        if not more:
            return
        page += 1


Place = tuple[datetime, bool, str]


def place(thread: Thread) -> Place:
    """Where a thread comes in a list of threads: oldest first, then issues before PRs, then by number."""
    return thread.created_at, thread.is_pr, thread.number


def per_thread_pages(listed: list[Thread], cursor: Cursor, fetch: Callable[[Thread, int], Fetched]) -> Iterator[Page]:
    """A list per thread (its comments, its reviews), thread after thread (see `place`), each page by page:
    `cursor["after"]` is the last thread done ([created_at, is_pr, number]), `cursor["page"]` the next page of the
    thread after it."""
    given = cursor.get("after")
    after: Place | None = (datetime.fromisoformat(given[0]), bool(given[1]), str(given[2])) if given else None
    page = int(cursor.get("page", 1))
    ordered = sorted(listed, key=place)
    remaining = [thread for thread in ordered if after is None or place(thread) > after]
    done = len(ordered) - len(remaining)
    for index, thread in enumerate(remaining):
        while True:
            events, newest, more, _ = fetch(thread, page)
            if more:
                page += 1
            else:
                after, page, done = place(thread), 1, done + 1
            mark = [after[0].isoformat(), after[1], after[2]] if after is not None else None
            yield Page(events, {"after": mark, "page": page}, newest, done=done, total=len(ordered),
                       final=not more and index == len(remaining) - 1)
            if not more:
                break
