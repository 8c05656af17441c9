"""Blind writes: statements whose effect nothing in the same batch reads back, run together before commit.

The pipeline gathers them over a batch of deliveries and runs each statement once with all its parameter sets
(executemany), which is much cheaper than one round through the database layer per row.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Executable


class Deferred:
    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self._writes: dict[Executable, list[dict[str, Any]]] = {}

    def add(self, statement: Executable, params: dict[str, Any]) -> None:
        self._writes.setdefault(statement, []).append(params)

    def extend(self, other: Deferred) -> None:
        for statement, params in other._writes.items():
            self._writes.setdefault(statement, []).extend(params)

    def __len__(self) -> int:
        return sum(len(params) for params in self._writes.values())

    def flush(self, conn: Connection) -> None:
        for statement, params in self._writes.items():
            conn.execute(statement, params)
        self._writes.clear()
