"""`cobot backfill`: a repository's history, read from its forge's API and stored as quiet history.

A reader (bot.platforms.github_history, bot.platforms.gitee_history) reads the repository stage by stage (issues,
pulls, comments, ..., stargazers) and page by page, as the Events the webhooks produce; each page is stored by
`bot.history.ingest` (every handler, quiet: repos, threads, contributors and activity tracked, first-timers'
milestones and badges recorded, nobody greeted, labelled or announced, nothing in the outbox).

- Once: each event is an item of its own, keyed for ever (`backfill:github:owner/repo:issue:12:opened`, see
  `event_key`), so that backfilling again stores nothing twice, and an event the webhooks stored already (the same
  kind, thread, person and time) is not counted twice either. Threads are one row per (platform, repo, is_pr,
  number), whichever way they came. Each event's thread is the thread as it stood then (`as_of`): an issue closed
  today was open when it was opened.
- Resumable: each stage's progress is an ImportState (`backfill:github:owner/repo:issues`; cursor: where the next
  page starts, the `since` of the pass, the newest update seen), written in the transaction that stores the page;
  the repository's own (`backfill:github:owner/repo`) says whether its last run finished. A run that stopped
  resumes at the next page and does not read again the stages it finished; a finished one, run again, reads what
  changed since the newest update it saw (`restart`, or items a handler failed on last time: the whole window).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from typing import Any, Literal, Protocol

from sqlalchemy import Connection, select

from bot.clock import Clock
from bot.config import Settings
from bot.events import Actor, Event, RepoRef, Thread
from bot.history.ingest import IMPORT_STATE, Checkpoint, Ingest, Item, Tally
from bot.pipeline.dispatch import ROUTERS
from bot.platforms.base import parse_time
from bot.platforms.history_reading import Cursor, HistoryReader, Page, later_of, place
from bot.routing.router import Router
from bot.store.community_tables import Thread as ThreadRow
from bot.store.db import Database, dialect_insert

THREAD = ThreadRow.__table__  # type: ignore[attr-defined]
BACKFILL_EVENT = "backfill"  # the deliveries' event: what no platform translates
KEY_LENGTH = 128  # Delivery.key


def key_prefix(platform: str) -> str:
    return f"backfill:{platform}:"


def event_key(event: Event) -> str:
    """The backfilled event's key: the same happening, backfilled again, has the same key."""
    if event.review is not None:
        subject = f"review:{event.review.id}"
    elif event.comment is not None:
        subject = f"comment:{event.comment.place}:{event.comment.id}"
    elif event.thread is not None:
        subject = f"{'pr' if event.thread.is_pr else 'issue'}:{event.thread.number}:{event.kind.split('.', 1)[1]}"
    else:
        subject = f"{event.kind}:{event.actor.login}:{event.occurred_at.isoformat()}"
    prefix, rest = key_prefix(event.platform), f"{event.repo.full_name}:{subject}"
    if len(prefix) + len(rest) <= KEY_LENGTH:
        return prefix + rest
    return prefix + hashlib.sha256(rest.encode()).hexdigest()[:40]


def as_of(thread: Thread, when: datetime) -> Thread:
    """The thread as it stood at `when`: open until it was merged or closed. Its title, labels and assignees are the
    forge's today (all a history API tells), as of the forge's last update."""
    if thread.state == "open":
        return thread
    if thread.state == "merged" and thread.merged_at is not None and when >= thread.merged_at:
        return thread
    if thread.state == "closed" and thread.closed_at is not None and when >= thread.closed_at:
        return thread
    return replace(thread, state="open", closed_at=None, merged_at=None)


def item_of(event: Event) -> Item:
    thread = event.thread
    return Item(key=event_key(event), event=BACKFILL_EVENT, action=event.kind,
                events=(replace(event, thread=as_of(thread, event.occurred_at)) if thread is not None else event,))


def _save(conn: Connection, checkpoint: Checkpoint, now: datetime) -> None:
    """`Ingest.save`, in a transaction of the caller's (several checkpoints at once)."""
    insert = dialect_insert(conn.dialect.name)(IMPORT_STATE).values(
        source=checkpoint.source, cursor=checkpoint.cursor, done=checkpoint.done, updated_at=now)
    conn.execute(insert.on_conflict_do_update(index_elements=["source"], set_={
        "cursor": insert.excluded.cursor, "done": insert.excluded.done, "updated_at": insert.excluded.updated_at}))


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _time(value: Any) -> datetime | None:
    return parse_time(value) if value else None


# -- the threads a stage reads the comments of -------------------------------------------------------------------


class StoredThreads:
    """The repository's issues and PRs as the store holds them (`ThreadSource` for the readers)."""

    def __init__(self, db: Database, platform: str, repo: str) -> None:
        self._db = db
        self._platform = platform
        self._repo = repo
        self._found: dict[str, Thread] = {}  # a stage reads the comments of the same few threads again and again

    def find(self, number: str) -> Thread | None:
        if number not in self._found:
            with self._db.reading() as conn:
                row = conn.execute(select(THREAD).where(
                    THREAD.c.platform == self._platform, THREAD.c.repo == self._repo, THREAD.c.number == number,
                ).order_by(THREAD.c.id)).first()
            if row is None:
                return None
            self._found[number] = _thread(row)
        return self._found[number]

    def listed(self, is_pr: bool | None, since: datetime | None) -> list[Thread]:
        query = select(THREAD).where(THREAD.c.platform == self._platform, THREAD.c.repo == self._repo)
        if is_pr is not None:
            query = query.where(THREAD.c.is_pr == is_pr)
        if since is not None:
            query = query.where(THREAD.c.snapshot_at >= since)
        with self._db.reading() as conn:
            found = [_thread(row) for row in conn.execute(query)]
        return sorted(found, key=place)


def _thread(row: Any) -> Thread:
    return Thread(number=row.number, is_pr=row.is_pr, title=row.title, state=row.state, author=Actor(login=row.author),
                  created_at=row.created_at, updated_at=row.snapshot_at, url=row.url, labels=tuple(row.labels),
                  assignees=tuple(row.assignees), closed_at=row.closed_at, merged_at=row.merged_at)


# -- the run -----------------------------------------------------------------------------------------------------


StageStart = Literal["start", "resume", "skip"]


class Watcher(Protocol):
    """Who is told how the backfill goes (the command line's progress bars)."""

    def repo(self, repo: str, resumed: bool) -> None: ...

    def stage(self, stage: str, start: StageStart) -> None: ...

    def page(self, stage: str, page: Page, tally: Tally) -> None: ...

    def notice(self, text: str) -> None: ...


class Silent:
    def repo(self, repo: str, resumed: bool) -> None:
        pass

    def stage(self, stage: str, start: StageStart) -> None:
        pass

    def page(self, stage: str, page: Page, tally: Tally) -> None:
        pass

    def notice(self, text: str) -> None:
        pass


@dataclass
class RepoSummary:
    repo: str
    tally: Tally = field(default_factory=Tally)
    pages: int = 0
    skipped: list[str] = field(default_factory=list)  # stages finished before this run resumed


@dataclass
class Summary:
    repos: list[RepoSummary] = field(default_factory=list)
    requests: int = 0
    waited: float = 0.0
    seconds: float = 0.0

    @property
    def tally(self) -> Tally:
        total = Tally()
        for repo in self.repos:
            total.add(repo.tally)
        return total

    @property
    def rate(self) -> float:
        """Items read (stored or not) per second."""
        return self.tally.items / self.seconds if self.seconds > 0 else 0.0


class Backfill:
    """One backfill: `run(target)` reads and stores a repository's history, or every repository of an owner."""

    def __init__(self, db: Database, settings: Settings, clock: Clock, reader: HistoryReader,
                 watcher: Watcher | None = None, routers: tuple[Router, ...] = ROUTERS,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._db = db
        self._clock = clock
        self._reader = reader
        self._watcher = watcher or Silent()
        self._ingest = Ingest(db, settings, clock, prefix=key_prefix(reader.platform), platform=reader.platform,
                              routers=routers)
        self._monotonic = monotonic
        self.summary = Summary()  # kept up to date as it goes: what was done before a failure, too

    def run(self, target: str, since: datetime | None = None, restart: bool = False) -> Summary:
        started = self._monotonic()
        try:
            for repo in self._reader.repos(target):
                self._repo(repo, since, restart)
        finally:
            self.summary.seconds = self._monotonic() - started
            self.summary.requests = self._reader.patience.requests
            self.summary.waited = self._reader.patience.waited
        return self.summary

    def _source(self, repo: RepoRef, stage: str | None = None) -> str:
        return f"backfill:{self._reader.platform}:{repo.full_name}" + (f":{stage}" if stage else "")

    def _repo(self, repo: RepoRef, since: datetime | None, restart: bool) -> None:
        summary = RepoSummary(repo.full_name)
        self.summary.repos.append(summary)
        last = self._ingest.checkpoint(self._source(repo))
        resuming = last is not None and not last.done and not restart
        if resuming:
            assert last is not None
            asked, since = since, _time(last.cursor.get("since"))
            if asked is not None and asked != since:
                self._watcher.notice(f"{repo.full_name}: resuming the run since {_iso(since) or 'the beginning'} "
                                     f"(not {_iso(asked)}); --restart starts afresh")
        else:
            self._begin(repo, since, restart)
        self._watcher.repo(repo.full_name, resuming)
        threads = StoredThreads(self._db, self._reader.platform, repo.full_name)
        for stage in self._reader.stages:
            state = self._ingest.checkpoint(self._source(repo, stage))
            if state is not None and state.done:
                self._watcher.stage(stage, "skip")
                summary.skipped.append(stage)
                continue
            self._stage(repo, stage, state.cursor if state is not None else {}, threads, summary)
        self._ingest.save(Checkpoint(self._source(repo), {"since": _iso(since),
                                                          "finished_at": _iso(self._clock())}, True))

    def _begin(self, repo: RepoRef, since: datetime | None, restart: bool) -> None:
        """A new run: every stage from its first page, since `since` or the newest update its last run saw (not
        when the last run left items out: a handler failed on them). Written at once: a run that stops while it
        begins begins again."""
        now = self._clock()
        with self._db.session() as session:
            conn = session.connection()
            for stage in self._reader.stages:
                before = None if restart else self._ingest.checkpoint(self._source(repo, stage))
                newest = _time(before.cursor.get("newest")) if before is not None else None
                start = None if before is not None and before.cursor.get("failed") else newest
                _save(conn, Checkpoint(self._source(repo, stage), {
                    "since": _iso(later_of(since, start)), "newest": _iso(newest)}), now)
            _save(conn, Checkpoint(self._source(repo), {"since": _iso(since), "started_at": _iso(now)}), now)

    def _stage(self, repo: RepoRef, stage: str, cursor: Cursor, threads: StoredThreads,
               summary: RepoSummary) -> None:
        source = self._source(repo, stage)
        since, newest = _time(cursor.get("since")), _time(cursor.get("newest"))
        failed = int(cursor.get("failed", 0))
        position = {key: value for key, value in cursor.items() if key not in ("since", "newest", "failed")}
        self._watcher.stage(stage, "resume" if position else "start")
        final = False
        for page in self._reader.read(repo, stage, position, since, threads):
            newest, position = later_of(newest, page.newest), page.cursor
            reached = partial(self._reached, source, since, newest, failed, position, page.final)
            tally = self._ingest.store([item_of(event) for event in page.events], reached)
            failed += tally.failed
            summary.tally.add(tally)
            summary.pages += 1
            self._watcher.page(stage, page, tally)
            final = page.final
        if not final:  # nothing was read (no threads to read the comments of): done all the same
            self._ingest.save(Checkpoint(source, self._cursor(since, newest, failed, position), True))

    def _reached(self, source: str, since: datetime | None, newest: datetime | None, failed: int,
                 position: Cursor, final: bool, tally: Tally) -> Checkpoint:
        """Where a page gets its stage; items a handler failed on are counted, for the next run to offer them again
        (the whole window, see `_begin`)."""
        return Checkpoint(source, self._cursor(since, newest, failed + tally.failed, position), final)

    @staticmethod
    def _cursor(since: datetime | None, newest: datetime | None, failed: int, position: Cursor) -> Cursor:
        return {"since": _iso(since), "newest": _iso(newest), **({"failed": failed} if failed else {}), **position}
