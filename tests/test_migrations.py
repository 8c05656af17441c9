"""Migrations: replicas that start together on one PostgreSQL database migrate it one at a time."""

from __future__ import annotations

import threading
import uuid

import psycopg
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from bot.store.db import Database, alembic_config


def test_replicas_starting_together_migrate_once(make_settings):
    base = make_settings().database.url
    if not base.startswith("postgresql"):
        pytest.skip("replicas share a PostgreSQL database; SQLite serves one process")
    plain = base.replace("postgresql+psycopg://", "postgresql://")
    name = f"cobot_migrate_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(plain, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = plain.rsplit("/", 1)[0] + f"/{name}"
    errors: list[str] = []

    def start_a_replica() -> None:
        db = Database(url)
        try:
            db.upgrade()
        except Exception as error:  # what a replica would die of
            errors.append(repr(error))
        finally:
            db.dispose()

    try:
        replicas = [threading.Thread(target=start_a_replica) for _ in range(4)]
        for replica in replicas:
            replica.start()
        for replica in replicas:
            replica.join()
        assert errors == []
        db = Database(url)
        with db.engine.connect() as conn:
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        db.dispose()
        assert version == ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    finally:
        with psycopg.connect(plain, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_migrations_make_the_schema_the_tables_describe(db):
    """Every table, column, index and constraint of bot/store/tables.py is made by a migration, and nothing else
    (APScheduler's own table aside): a model changed without its migration fails here, on both databases."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    for store in {db.url: db, db.inbox.url: db.inbox}.values():
        with store.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
        assert [found for found in differences if "apscheduler" not in str(found)] == []
