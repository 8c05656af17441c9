"""Importing GH Archive hourly files: GitHub's public events, stored as history (quiet, once, resumable).

    GHArchiveImport(db, settings, orgs=["rust-lang"]).run(Path("2015-01-01-12.json.gz")) -> FileReport

A file is streamed (gzip, a line at a time: constant memory) by a reader process (`bot.history.gharchive_reader`),
which keeps the records of the orgs and repos asked for (all when none is), reads them and translates them into
Events (`bot.platforms.gharchive`) while this process stores the previous batch; for a whole file it also writes
each batch's items in the ledger (`bot.history.ledger`) before it sends the batch. That is about 40 % of the work,
on a core of its own. Each batch of records is stored in one transaction through every handler,
quietly (`bot.history.ingest`): each record is an item keyed `gharchive-<record id>`, so that a file imported
again, or another file holding the same records, changes nothing.

Where a file got to is kept (`ImportState`, source `gharchive:<sha256 of the file>`, with the scope when orgs or
repos are given; cursor: the lines read, and the counts so far) with each batch, so that an import interrupted
half-way resumes after its last committed batch, and a file imported completely is not read again (unless
`again`).
"""

from __future__ import annotations

import fcntl
import gc
import hashlib
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import bot
from bot.clock import Clock, system_clock
from bot.config import Settings
from bot.history.gharchive_reader import EVENT, MAX_PROBLEMS, PREFIX, Scope, frames
from bot.history.ingest import Checkpoint, Ingest, Item, Tally
from bot.history.ledger import Ledger
from bot.store.db import Database

BATCH_SIZE = 1000  # records a transaction
COPY_EVERY = 5  # batches a copy of the write-ahead logs (each copy writes the pages changed since the last)

log = logging.getLogger("cobot.history")


@dataclass
class FileReport:
    """What importing a file came to (counts since the import of the file began; rates of this run)."""

    file: str
    sha256: str
    scope: dict[str, list[str]]
    read: int = 0  # records (lines) read
    kept: int = 0  # of the orgs and repos asked for
    skipped: Counter[str] = field(default_factory=Counter)  # kept, but nothing cobot tracks: by type (and action)
    stored: Tally = field(default_factory=Tally)  # imported, duplicates, events, by kind …
    line: int = 0  # the lines read and committed
    done: bool = False
    already: bool = False  # imported before: not read again
    resumed_from: int = 0  # the line this run began after
    seconds: float = 0.0  # this run
    read_now: int = 0  # records read by this run
    events_now: int = 0  # events stored by this run
    problems: list[str] = field(default_factory=list)  # unreadable records, by line

    @property
    def rate(self) -> float:
        """Events stored a second, in this run."""
        return self.events_now / self.seconds if self.seconds else 0.0

    @property
    def read_rate(self) -> float:
        """Records read a second, in this run."""
        return self.read_now / self.seconds if self.seconds else 0.0

    def cursor(self) -> dict[str, Any]:
        return {"line": self.line, "read": self.read, "kept": self.kept, "skipped": dict(sorted(self.skipped.items())),
                "stored": self.stored.as_dict(), "file": self.file, "scope": self.scope,
                "problems": self.problems}

    def resume(self, cursor: dict[str, Any]) -> None:
        self.line = int(cursor.get("line", 0))
        self.read, self.kept = int(cursor.get("read", 0)), int(cursor.get("kept", 0))
        self.skipped = Counter(cursor.get("skipped") or {})
        self.stored = Tally.from_dict(cursor.get("stored") or {})
        self.problems = list(cursor.get("problems") or [])

    def as_dict(self) -> dict[str, Any]:
        stored = self.stored
        return {"file": self.file, "sha256": self.sha256, "scope": self.scope, "read": self.read, "kept": self.kept,
                "imported": stored.imported, "events": stored.events, "duplicates": stored.duplicates,
                "overlapping": stored.overlapping, "failed": stored.failed, "errors": list(stored.errors),
                "skipped": dict(sorted(self.skipped.items())), "kinds": dict(sorted(stored.kinds.items())),
                "done": self.done, "already": self.already, "resumed_from": self.resumed_from,
                "seconds": round(self.seconds, 3), "rate": round(self.rate, 1), "read_rate": round(self.read_rate, 1),
                "problems": list(self.problems)}


Progress = Callable[[FileReport, int, int], None]  # the report so far, bytes read of the file, its size


class GHArchiveImport:
    """Imports GH Archive files into the store, quietly; `run` one file after another (in the order of the hours
    they hold: who was first is decided in that order)."""

    def __init__(self, db: Database, settings: Settings, clock: Clock = system_clock, *,
                 orgs: Iterable[str] = (), repos: Iterable[str] = (), batch_size: int = BATCH_SIZE,
                 again: bool = False, progress: Progress | None = None,
                 before_commit: Callable[[int], None] | None = None) -> None:
        """`again`: read a file imported before once more (what is stored already is counted as duplicates);
        `before_commit(n)`: called in the transaction of the n-th batch of a run, its work done (a test's way to
        interrupt an import)."""
        self.scope = Scope.of(orgs, repos)
        self._db, self._settings, self._clock = db, settings, clock
        self._ingest = Ingest(db, settings, clock, prefix=PREFIX, platform="github")
        self._batch_size = batch_size
        self._again = again
        self._progress = progress
        self._before_commit = before_commit

    def _hook(self, batch: int) -> Callable[[], None] | None:
        hook = self._before_commit
        return (lambda: hook(batch)) if hook is not None else None

    def run(self, path: Path) -> FileReport:
        sha256 = file_sha256(path)
        source = self.scope.source(sha256)
        report = FileReport(file=path.name, sha256=sha256, scope=self.scope.describe())
        state = self._ingest.checkpoint(source)
        if state is not None and state.done and not self._again:
            report.resume(state.cursor)
            report.done = report.already = True
            return report
        if state is not None and not state.done:
            report.resume(state.cursor)
            report.resumed_from = report.line
        size = path.stat().st_size
        started = time.perf_counter()
        with _seldom_collected(), _WalCopies(self._db) as wal:
            ingest = self._ingest if wal.db is self._db else Ingest(wal.db, self._settings, self._clock,
                                                                    prefix=PREFIX, platform="github")
            with closing(_messages(path, report.line, self.scope, self._batch_size,
                                   self._ledger_for_reader(wal.db))) as messages:
                for number, message in enumerate(messages, start=1):
                    self._store(ingest, source, report, number, message)
                    wal.copy()
                    report.seconds = time.perf_counter() - started
                    if self._progress is not None:
                        self._progress(report, message.position, size)
        return report

    def _ledger_for_reader(self, db: Database) -> dict[str, str] | None:
        """The ledger the reader is to write (`bot.history.ledger`), if it is to: when every record is kept (the
        big imports: the ledger is a tenth of their work, which the reader's core takes over), and the inbox takes
        a writer of its own (PostgreSQL; SQLite's inbox in a file of its own). A scoped import keeps few records of
        a file: its reader starts quicker without the database layer."""
        if self.scope or not (db.is_postgres or db.has_separate_inbox):
            return None
        return {"url": db.inbox.url, "platform": "github", "prefix": PREFIX, "now": self._clock().isoformat()}

    def _store(self, ingest: Ingest, source: str, report: FileReport, number: int, message: _Message) -> None:
        """A batch, and the checkpoint it reaches (with the counts so far) in the same transaction."""
        report.read += message.read
        report.read_now += message.read
        report.kept += message.kept
        report.skipped.update(message.skipped)
        report.problems.extend(message.problems[:MAX_PROBLEMS - len(report.problems)])
        report.line, report.done = message.line, message.done

        def reached(tally: Tally) -> Checkpoint:
            report.stored.add(tally)
            report.events_now += tally.events
            return Checkpoint(source, report.cursor(), report.done)

        ingest.store(message.items(), reached, before_commit=self._hook(number), ledger=message.ledger)


class _WalCopies:
    """SQLite: the import writes through connections whose commits leave their write-ahead logs (the database's
    and the inbox's) to a thread of its own, which copies them into the files (`PRAGMA wal_checkpoint`) after every
    `COPY_EVERY` batches while the next ones are stored, so that the copying and the file system's flushes do not
    hold the import up (and a page that each batch changes, an index's, is copied once for several); the last copy
    is made before the import returns. PostgreSQL: the database as it is, nothing else."""

    def __init__(self, db: Database) -> None:
        self._own = db.dialect == "sqlite" and db.has_separate_inbox  # (a database in memory has no WAL)
        self.db = Database(db.url, checkpoints=False) if self._own else db
        self._due = threading.Event()
        self._batches = 0
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="gharchive-wal", daemon=True)

    def __enter__(self) -> _WalCopies:
        if self._own:
            self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        if self._own:
            self._stopping = True
            self._due.set()
            self._thread.join()
            self.db.dispose()

    def copy(self) -> None:
        """A batch was committed."""
        self._batches += 1
        if self._batches % COPY_EVERY == 0:
            self._due.set()

    def _run(self) -> None:
        files = [self.db.engine.raw_connection(), self.db.inbox.engine.raw_connection()]
        try:
            while True:
                self._due.wait()
                self._due.clear()
                stopping = self._stopping
                for raw in files:
                    cursor = raw.cursor()
                    try:
                        cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
                    except Exception:  # the next one will do (a commit does it if none does)
                        log.warning("could not copy the write-ahead log of an import", exc_info=True)
                    finally:
                        cursor.close()
                if stopping:
                    return
        finally:
            for raw in files:
                raw.close()


@contextmanager
def _seldom_collected() -> Iterator[None]:
    """The cyclic garbage collector, seldom: what exists before the import is left out of its collections
    (`gc.freeze`), and new objects are looked at every 200,000 allocations rather than 700. A batch makes hundreds
    of thousands of objects, hardly any of them cyclic: collected as usual, a tenth of the import's time; every
    10,000 allocations, still 4 %; now about one collection in ten batches."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(200_000, 10, 10)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as raw:
        while chunk := raw.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def hour_of(path: Path) -> tuple[int, int, int, int] | None:
    """The hour a GH Archive file holds, from its name (`2015-01-01-9.json.gz`: the hour is not zero-padded)."""
    parts = path.name.split(".", 1)[0].split("-")
    if len(parts) != 4 or not all(part.isdigit() for part in parts):
        return None
    year, month, day, hour = (int(part) for part in parts)
    return year, month, day, hour


def in_hour_order(paths: Iterable[Path]) -> list[Path]:
    """Files in the order of their hours (names that are not GH Archive's last, as given)."""
    given = list(paths)
    return sorted(given, key=lambda path: (hour_of(path) is None, hour_of(path) or (0, 0, 0, 0)))


# -- the reader process ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Message:
    """A batch from the reader: the records it read since the last, what it kept and translated (as the reader
    sent them: `items` makes the Items)."""

    line: int
    position: int  # bytes read of the compressed file
    read: int
    kept: int
    skipped: dict[str, int]
    problems: list[str]
    packed: list[tuple[str, str, str | None, list[tuple[Any, ...]]]]  # key, event, action, the Events sent
    done: bool
    ledger: Ledger | None  # the items' ledger, if the reader wrote it

    def items(self) -> list[Item]:
        return [Item(key, event, action, tuple(map(EVENT.decode, events)))
                for key, event, action, events in self.packed]


PIPE_BYTES = 1 << 20  # Linux's most for a pipe an unprivileged process widens (fs.pipe-max-size)


def _widen(pipe: IO[bytes]) -> None:
    """A pipe that holds a batch or two (Linux: 64 KiB unless widened), so that the reader can work a batch ahead
    of the importer rather than wait for it to read the one before."""
    with suppress(AttributeError, OSError):  # not Linux, or a lower limit: a narrower pipe does, a little slower
        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)


def _messages(path: Path, after: int, scope: Scope, batch_size: int, ledger: dict[str, str] | None
              ) -> Generator[_Message, None, None]:
    """The batches of a file after its line `after`, read by a process of its own (`bot.history.gharchive_reader`),
    which works on the next batch while the caller stores this one (and writes their `ledger`, if given)."""
    given = {"path": str(path.resolve()), "after": after, "orgs": sorted(scope.orgs), "repos": sorted(scope.repos),
             "batch_size": batch_size, "ledger": ledger}
    root = str(Path(bot.__file__).resolve().parent.parent)  # where `bot` is, wherever this runs from
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (root, os.environ.get("PYTHONPATH"))))}
    reader = subprocess.Popen([sys.executable, "-m", "bot.history.gharchive_reader"],
                              stdout=subprocess.PIPE, stdin=subprocess.PIPE, env=env)
    assert reader.stdin is not None and reader.stdout is not None
    _widen(reader.stdout)
    try:
        try:
            with reader.stdin:
                reader.stdin.write(json.dumps(given).encode())
        except BrokenPipeError:  # it stopped at once: told below, by its exit code
            pass
        for kind, *rest in frames(reader.stdout):
            if kind == "error":
                raise RuntimeError(f"cannot read {path.name}: {rest[0]}")
            line, position, read, kept, skipped, problems, packed, done, written = rest
            yield _Message(line, position, read, kept, skipped, problems, packed, done,
                           None if written is None else Ledger(*written))
            if done:
                return
        raise RuntimeError(f"the reader of {path.name} stopped (exit code {reader.wait()})")
    finally:
        reader.stdout.close()
        try:
            reader.wait(5)
        except subprocess.TimeoutExpired:
            reader.kill()
            reader.wait()
