"""The database: engine creation, sessions, migrations, and dialect-aware helpers."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection, Engine, Insert, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

MIGRATIONS = Path(__file__).parent / "migrations"
LOCK_PATIENCE = 30.0  # seconds a writer waits for SQLite's write lock before giving up
LOCK_RETRY_SECONDS = 0.0005
T = TypeVar("T")


def normalise_url(url: str) -> str:
    """postgresql:// means psycopg 3 here (the driver cobot installs)."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url[len("postgres://"):]
    return url


def _sqlite_pragmas(busy_timeout_ms: int, checkpoints: bool) -> Callable[[Any, Any], None]:
    def configure(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # cobot issues BEGIN itself (see _sqlite_begin)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA foreign_keys=ON")
        if not checkpoints:  # another connection's commits move the WAL into the database file
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()
    return configure


READ_ONLY = "cobot_read_only"


def _sqlite_begin(connection: Any) -> None:
    """Take the write lock up front: a deferred transaction that reads, then writes, fails at once under WAL
    when another writer committed in between, instead of waiting its turn. Reads (`Database.reading`) take none."""
    read_only = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def make_engine(url: str, wait_for_lock: bool = True, checkpoints: bool = True) -> Engine:
    """`wait_for_lock=False` (SQLite): fail at once with "database is locked" instead of SQLite's own waiting,
    whose sleeps grow to 100 ms; the caller retries at a finer grain (see `Database.retry_when_locked`).
    `checkpoints=False` (SQLite): commits never copy the WAL into the database file (a checkpoint can take tens
    of milliseconds); for a connection whose commits must be quick while other connections do that work."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        if url not in ("sqlite://", "sqlite:///:memory:"):
            path = url.split("///", 1)[1]
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        busy_ms = 30000 if wait_for_lock else 0
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": busy_ms / 1000},
                               poolclass=NullPool if url == "sqlite://" else None)
        event.listen(engine, "connect", _sqlite_pragmas(busy_ms, checkpoints))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def inbox_url(url: str) -> str:
    """Where the deliveries are stored. PostgreSQL: the same database. SQLite: a file of its own beside the main
    one (`cobot.db` → `cobot-inbox.db`). SQLite has one writer per file, and processing holds the main file's
    write lock most of the time under load: with the deliveries in a file of their own, acknowledging a delivery
    never waits for processing."""
    url = normalise_url(url)
    if not url.startswith("sqlite:///") or url == "sqlite:///:memory:":
        return url
    path = Path(url.removeprefix("sqlite:///"))
    if path.stem.endswith("-inbox"):
        return url
    return "sqlite:///" + str(path.with_name(f"{path.stem}-inbox{path.suffix or '.db'}"))


def scheduler_url(url: str) -> str:
    """Where the scheduler keeps its jobs. PostgreSQL: the same database (table `apscheduler_jobs`). SQLite: a file
    of its own (`cobot.db` → `cobot-scheduler.db`): APScheduler reads and writes its jobs on the event loop, which
    must never wait for the main file's write lock that processing holds."""
    url = normalise_url(url)
    if not url.startswith("sqlite:///") or url == "sqlite:///:memory:":
        return url
    path = Path(url.removeprefix("sqlite:///"))
    return "sqlite:///" + str(path.with_name(f"{path.stem}-scheduler{path.suffix or '.db'}"))


MIGRATION_LOCK = 0x636F626F746D  # "cobotm": replicas migrate one at a time


class Database:
    """One engine and its session factory; `inbox` is where the deliveries are (see `inbox_url`)."""

    def __init__(self, url: str, wait_for_lock: bool = True, checkpoints: bool = True) -> None:
        self.url = normalise_url(url)
        self.checkpoints = checkpoints
        self.engine = make_engine(url, wait_for_lock, checkpoints)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._inbox: Database | None = None

    @property
    def inbox(self) -> Database:
        """The database that holds the deliveries: this one, or (SQLite) the file beside it (whose commits
        checkpoint if this one's do)."""
        if self._inbox is None:
            url = inbox_url(self.url)
            self._inbox = self if url == self.url else Database(url, checkpoints=self.checkpoints)
        return self._inbox

    @property
    def has_separate_inbox(self) -> bool:
        return inbox_url(self.url) != self.url

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection in a read-only transaction (on SQLite it takes no write lock)."""
        with self.engine.connect() as connection:
            connection.execution_options(**{READ_ONLY: True})
            with connection.begin():
                yield connection

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def insert(self, table: Any) -> Insert:
        """An INSERT that understands ON CONFLICT for the current dialect."""
        return dialect_insert(self.dialect)(table)

    def retry_when_locked(self, work: Callable[[], T], patience: float = LOCK_PATIENCE) -> T:
        """Run `work` (a whole transaction), again every half millisecond while SQLite's write lock is taken."""
        deadline = time.monotonic() + patience
        while True:
            try:
                return work()
            except OperationalError as error:
                if not is_locked(error) or time.monotonic() > deadline:
                    raise
                time.sleep(LOCK_RETRY_SECONDS)

    def upgrade(self) -> None:
        """Bring the schema to the newest migration, here and in the inbox file (which has the same schema). On
        PostgreSQL, replicas starting together take turns (a transaction-level advisory lock)."""
        with self.engine.begin() as connection:
            if self.is_postgres:
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            config = alembic_config(self.url)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        if self.inbox is not self:
            self.inbox.upgrade()

    def dispose(self) -> None:
        self.engine.dispose()
        if self._inbox is not None and self._inbox is not self:
            self._inbox.dispose()


def is_locked(error: OperationalError) -> bool:
    """SQLite's answer when another connection holds the write lock (and this one does not wait for it)."""
    return "database is locked" in str(error)


def dialect_insert(dialect: str) -> Callable[[Any], Insert]:
    """The INSERT construct with ON CONFLICT support for a dialect name (both speak the same SQL for it)."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def alembic_config(url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config
