"""A store filled once (through the pipeline) and copied into each test that reads it, instead of filled again:
SQLite's files copied, PostgreSQL's rows and id sequences copied back into the test's emptied database."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from sqlmodel import SQLModel

from bot.store.db import Database, inbox_url


def _files(url: str) -> list[Path]:
    """An SQLite store's two files: the main one and the inbox."""
    return [Path(url.removeprefix("sqlite:///")), Path(inbox_url(url).removeprefix("sqlite:///"))]


def _connect(url: str) -> psycopg.Connection:
    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))


class StoreCopy:
    """What a filled store holds, taken once (`take`) and put into the empty store of each test (`put`)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder  # SQLite: the copies of the files
        self.tables: list[tuple[str, bytes]] = []  # PostgreSQL: each table's rows (COPY's binary format)
        self.sequences: list[tuple[str, int]] = []  # PostgreSQL: each id sequence used, at its last value

    @classmethod
    def take(cls, db: Database, folder: Path) -> StoreCopy:
        """The store `db` as it is now (nothing may write it meanwhile)."""
        copy = cls(folder)
        if db.url.startswith("sqlite"):
            for source, name in zip(_files(db.url), ("cobot.db", "cobot-inbox.db"), strict=True):
                with sqlite3.connect(source) as reading, sqlite3.connect(folder / name) as written:
                    reading.backup(written)  # the file with what its write-ahead log holds
                reading.close()
                written.close()
            return copy
        with _connect(db.url) as connection, connection.cursor() as cursor:
            for table in SQLModel.metadata.sorted_tables:
                rows = bytearray()
                with cursor.copy(f'COPY "{table.name}" TO STDOUT (FORMAT BINARY)') as out:
                    for chunk in out:
                        rows += chunk
                copy.tables.append((table.name, bytes(rows)))
            cursor.execute("SELECT sequencename, last_value FROM pg_sequences "
                           "WHERE schemaname = current_schema() AND last_value IS NOT NULL")
            copy.sequences = [(name, value) for name, value in cursor.fetchall()]
        return copy

    def put(self, url: str) -> None:
        """Make the store at `url` hold what this copy holds: SQLite, files written over (no connection to them may
        be open) or made; PostgreSQL, a database whose tables are empty and whose sequences start again (as
        tests/conftest.py's `database_url` leaves it)."""
        if url.startswith("sqlite"):
            for name, target in zip(("cobot.db", "cobot-inbox.db"), _files(url), strict=True):
                target.parent.mkdir(parents=True, exist_ok=True)
                with sqlite3.connect(self.folder / name) as reading, sqlite3.connect(target) as written:
                    reading.backup(written)
                reading.close()
                written.close()
            return
        with _connect(url) as connection, connection.cursor() as cursor:
            for name, rows in self.tables:
                with cursor.copy(f'COPY "{name}" FROM STDIN (FORMAT BINARY)') as into:
                    into.write(rows)
            for name, value in self.sequences:
                cursor.execute("SELECT setval(%s, %s, true)", (f'"{name}"', value))


class FilledStores:
    """Per module: stores filled once for each backend (and `key`, what the filling depends on), copied into the
    stores of the next tests."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.copies: dict[str, StoreCopy] = {}
        self.worlds: dict[str, Any] = {}

    @staticmethod
    def _key(url: str, key: str) -> str:
        return f"{'sqlite' if url.startswith('sqlite') else 'postgres'}:{key}"

    def put(self, url: str, key: str) -> bool:
        """Copy the store kept for `key` into the store at `url` (see `StoreCopy.put`): whether one was kept."""
        copy = self.copies.get(self._key(url, key))
        if copy is not None:
            copy.put(url)
        return copy is not None

    def keep(self, db: Database, key: str) -> None:
        """Keep a copy of the store `db` as it is now, for `key`."""
        folder = self.folder / str(len(self.copies))
        folder.mkdir()
        self.copies[self._key(db.url, key)] = StoreCopy.take(db, folder)

    def world(self, url: str, key: str, make_harness: Callable[[], Any], fill: Callable[[Any], Any],
              with_harness: Callable[[Any, Any], Any]) -> Any:
        """The world `fill` makes in the store at `url` (through `make_harness()`), or, when a test before filled one
        for the same backend and `key`, that world's copy with a harness on `url`."""
        if self.put(url, key):
            return with_harness(self.worlds[self._key(url, key)], make_harness())
        world = fill(make_harness())
        self.keep(world.harness.db, key)
        self.worlds[self._key(url, key)] = world
        return world
