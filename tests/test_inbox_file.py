"""Where deliveries are kept: on SQLite a file of their own, so that storing one never waits for processing."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from sqlalchemy import update

from bot.app.factory import COBOT, create_app
from bot.store.community_tables import Activity, Thread
from bot.store.db import Database, inbox_url
from bot.store.tables import Delivery, OutboxAction
from tests.helpers import body_of, count, eventually, github_headers
from tests.payloads import issue_event

T0 = "2026-11-01T10:00:00Z"


@pytest.mark.parametrize(("url", "expected"), [
    ("sqlite:///cobot.db", "sqlite:///cobot-inbox.db"),
    ("sqlite:////data/cobot.db", "sqlite:////data/cobot-inbox.db"),
    ("sqlite:///state/community.sqlite3", "sqlite:///state/community-inbox.sqlite3"),
    ("sqlite:///cobot", "sqlite:///cobot-inbox.db"),
    ("sqlite:///cobot-inbox.db", "sqlite:///cobot-inbox.db"),  # already the inbox: itself
    ("sqlite:///:memory:", "sqlite:///:memory:"),
    ("postgresql://cobot@db/cobot", "postgresql+psycopg://cobot@db/cobot"),  # one database holds everything
])
def test_the_inbox_is_a_file_beside_the_sqlite_database_and_the_same_postgresql_database(url, expected):
    assert inbox_url(url) == expected


def test_deliveries_are_stored_in_the_inbox_file_and_state_in_the_main_one(harness, settings):
    harness.deliver("issues", issue_event("opened", 1, "alice", created=T0))
    assert count(harness.db, Delivery) == 1 and count(harness.db, Thread) == 1
    if harness.db.has_separate_inbox:
        assert harness.db.inbox.url.endswith("cobot-inbox.db")
        with harness.db.session() as session:  # the main file's deliveries table stays empty
            assert session.query(Delivery).count() == 0
    else:
        assert harness.db.inbox is harness.db


def test_a_connection_without_checkpoints_leaves_them_to_the_others(tmp_path):
    url = f"sqlite:///{tmp_path / 'cobot.db'}"
    quick, usual = Database(url, checkpoints=False), Database(url)
    for db, pages in ((quick, 0), (usual, 1000)):
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == pages
        db.dispose()


async def test_storing_a_delivery_never_waits_for_processing_to_commit(aiohttp_client, make_settings, tmp_path):
    """Processing holds the main file's write lock for long stretches under load: here, for the whole test."""
    settings = make_settings()
    if not settings.database.url.startswith("sqlite"):
        pytest.skip("SQLite only: PostgreSQL locks rows, not the database")
    client = await aiohttp_client(create_app(settings))
    db = client.app[COBOT].db
    holder = sqlite3.connect(db.url.removeprefix("sqlite:///"), isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # the main file's write lock, taken and kept
    try:
        body = body_of(issue_event("opened", 5, "erin", created=T0))
        response = await asyncio.wait_for(
            client.post("/webhooks/github", data=body, headers=github_headers("issues", body)), timeout=5)
        assert response.status == 202
        assert count(db, Delivery, Delivery.status == "received") == 1  # stored, not processed: the lock is held
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    await eventually(lambda: count(db, Delivery, Delivery.status == "processed") == 1, timeout=20,
                     message="processed once the lock was released")


def test_a_status_lost_after_the_effects_were_committed_runs_again_harmlessly(harness):
    """SQLite: statuses are saved in the inbox file after the main commit; a crash in between leaves the
    delivery `received`, and it is processed again. Nothing is doubled."""
    harness.deliver("issues", issue_event("opened", 3, "newcomer-nia", created=T0))
    before = {table: count(harness.db, table) for table in (Thread, Activity, OutboxAction)}
    assert before[OutboxAction] == 2  # welcome comment and label
    with harness.db.inbox.session() as session:  # the status save that the crash prevented
        session.execute(update(Delivery).values(status="received", processed_at=None))
    harness.process()
    assert {table: count(harness.db, table) for table in before} == before
    assert count(harness.db, Delivery, Delivery.status == "processed") == 1


def test_reading_takes_no_write_lock(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'cobot.db'}")
    db.upgrade()
    with db.reading() as connection:
        connection.exec_driver_sql("SELECT count(*) FROM delivery").scalar_one()
        other = sqlite3.connect(str(tmp_path / "cobot.db"), timeout=0)
        other.execute("BEGIN IMMEDIATE")  # would raise "database is locked" if the read held the write lock
        other.execute("ROLLBACK")
        other.close()
    db.dispose()
