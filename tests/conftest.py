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
from tests.helpers import GITEE_SECRET, GITHUB_SECRET

BACKENDS = ["sqlite", "postgres"]


def _postgres_url() -> str | None:
    return os.environ.get("COBOT_TEST_POSTGRES_URL")


def _admin(url: str) -> psycopg.Connection:
    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)


def _database_url(base: str, name: str) -> str:
    return base.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def postgres_database() -> Any:
    """One migrated database for the session; each test empties its tables first."""
    base = _postgres_url()
    if not base:
        yield None
        return
    name = f"cobot_test_{uuid.uuid4().hex[:8]}"
    with _admin(base) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = _database_url(base, name)
    database = Database(url)
    database.upgrade()
    database.dispose()
    yield url
    with _admin(base) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _empty_tables(url: str) -> None:
    tables = ", ".join(f'"{table.name}"' for table in SQLModel.metadata.sorted_tables)
    with _admin(url) as connection:
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
    database = Database(settings.database.url)
    database.upgrade()
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
