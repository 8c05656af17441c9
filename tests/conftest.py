"""Shared fixtures: a real database (SQLite, and PostgreSQL when COBOT_TEST_POSTGRES_URL is set), settings,
a running cobot server, signing helpers, and the third-party fixtures folder."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlmodel import SQLModel

import bot.store.tables  # noqa: F401  (the tables to empty)
from bot.clock import FakeClock
from bot.config import Settings, settings_from_mapping
from bot.store.db import Database
from tests.helpers import AT_NEWEST, GITEE_SECRET, GITHUB_SECRET, migrated_store

BACKENDS = ["sqlite", "postgres"]


def _postgres_url() -> str | None:
    return os.environ.get("COBOT_TEST_POSTGRES_URL")


def _admin(url: str) -> psycopg.Connection:
    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)


def _database_url(base: str, name: str) -> str:
    return base.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def postgres_database() -> Any:
    """One migrated database for the session of each pytest-xdist worker (a process: gw0, gw1, ...), named after
    it; each test empties its tables first."""
    base = _postgres_url()
    if not base:
        yield None
        return
    name = f"cobot_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:8]}"
    with _admin(base) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = _database_url(base, name)
    database = Database(url)
    database.upgrade()
    database.dispose()
    AT_NEWEST.add(database.url)
    _EMPTYING[url] = _admin(url)
    yield url
    AT_NEWEST.discard(database.url)
    _EMPTYING.pop(url).close()
    with _admin(base) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_EMPTYING: dict[str, psycopg.Connection] = {}  # the session's connection to its database, that empties it


def _empty_tables(url: str) -> None:
    """Empty every table and restart every id, as TRUNCATE of all the tables does; but truncate only the tables the
    tests before wrote (holding a row, or their ids' sequence used): each table truncated costs milliseconds."""
    names = [table.name for table in SQLModel.metadata.sorted_tables]
    holding = " UNION ".join(f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM \"{name}\")" for name in names)
    counted = ("SELECT owner.relname FROM pg_sequences used "
               "JOIN pg_class sequence ON sequence.relname = used.sequencename "
               "AND sequence.relnamespace = used.schemaname::regnamespace "
               "JOIN pg_depend owned ON owned.objid = sequence.oid AND owned.deptype IN ('a', 'i') "
               "JOIN pg_class owner ON owner.oid = owned.refobjid "
               "WHERE used.last_value IS NOT NULL AND owner.relnamespace = current_schema()::regnamespace")
    connection = _EMPTYING[url]
    written = {name for (name,) in connection.execute(f"{holding} UNION {counted}")} & set(names)
    if written:
        tables = ", ".join(f'"{name}"' for name in names if name in written)
        connection.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cobot.db'}"
    if not _postgres_url():
        pytest.skip("PostgreSQL tests run when COBOT_TEST_POSTGRES_URL is set (.ci/run sets it)")
    url = request.getfixturevalue("postgres_database")
    _empty_tables(url)
    return url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def make_settings(database_url: str) -> Callable[..., Settings]:
    def build(**sections: dict[str, Any]) -> Settings:
        data: dict[str, Any] = {
            "database": {"url": database_url},
            "github": {"webhook_secret": GITHUB_SECRET},
            "gitee": {"webhook_secret": GITEE_SECRET},
            "inbox": {"retry_base_seconds": 0.05, "retry_max_seconds": 0.2, "worker": "thread"},
            "outbox": {"retry_base_seconds": 0.05, "retry_max_seconds": 0.2},
            "community": {"name": "Test Community", "maintainers": ["github:maintainer-max", "gitee:maintainer-max"]},
        }
        for name, values in sections.items():
            if isinstance(values, list):  # campaigns: a list of tables
                data[name] = values
            else:
                data.setdefault(name, {}).update(values)
        return settings_from_mapping(data, "test", env={})
    return build


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
def db(settings: Settings) -> Any:
    database = migrated_store(settings.database.url)
    yield database
    database.dispose()


@pytest.fixture
def harness(settings: Settings, clock: FakeClock) -> Any:
    from tests.helpers import Harness

    built = Harness(settings, clock)
    yield built
    built.close()


@pytest.fixture
def make_harness(make_settings: Callable[..., Settings], clock: FakeClock) -> Any:
    from tests.helpers import Harness

    built: list[Harness] = []

    def build(**sections: dict[str, Any]) -> Harness:
        built.append(Harness(make_settings(**sections), clock))
        return built[-1]
    yield build
    for item in built:
        item.close()


def _utf8_safe(value: Any) -> Any:
    """`value` with every string made encodable as UTF-8 (a lone surrogate written as its escape)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace").decode("utf-8")
        return value
    if isinstance(value, dict):
        return {_utf8_safe(key): _utf8_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_utf8_safe(item) for item in value)
    return value


@pytest.hookimpl(hookwrapper=True)
def pytest_report_to_serializable(config: pytest.Config, report: pytest.TestReport) -> Any:
    """A report goes from a pytest-xdist worker to the controller as UTF-8, which a lone surrogate in what a test
    logged (test_inbox's key that SQLite refuses) cannot be: it travels escaped instead of ending the run."""
    outcome = yield
    data = outcome.get_result()
    if data is not None:
        outcome.force_result(_utf8_safe(data))
