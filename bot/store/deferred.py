"""Blind writes: statements whose effect nothing in the same batch reads back, run together before commit.

The pipeline gathers them over a batch of deliveries and runs each statement once with all its parameter sets
(executemany, straight through the driver: `run_many`), which is much cheaper than one round through the
database layer per row. An upsert's rows can be keyed (by an orderable key, its conflict target): a row whose key
was added already is folded into that one (`fold`), as the upsert would fold it into the stored row, so that a
repo or a person seen a hundred times in a batch is written once; keyed rows are written in the order of their
keys, which walks the unique index in order (a good part cheaper than in the order they came).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Dialect, Executable

Fold = Callable[[dict[str, Any], dict[str, Any]], None]  # (the row added first, one of the same key added later)


class Deferred:
    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self._writes: dict[Executable, list[dict[str, Any]]] = {}
        self._keyed: dict[Executable, dict[Hashable, dict[str, Any]]] = {}
        self._folds: dict[Executable, Fold] = {}

    def add(self, statement: Executable, params: dict[str, Any], key: Hashable = None, fold: Fold | None = None
            ) -> None:
        if fold is None:
            self._writes.setdefault(statement, []).append(params)
            return
        rows = self._keyed.get(statement)
        if rows is None:
            rows = self._keyed[statement] = {}
            self._folds[statement] = fold
        found = rows.get(key)
        if found is None:
            rows[key] = params
        else:
            fold(found, params)

    def extend(self, other: Deferred) -> None:
        for statement, params in other._writes.items():
            self._writes.setdefault(statement, []).extend(params)
        for statement, rows in other._keyed.items():
            fold = other._folds[statement]
            for key, row in rows.items():
                self.add(statement, row, key, fold)

    def __len__(self) -> int:
        return sum(map(len, self._writes.values())) + sum(map(len, self._keyed.values()))

    def flush(self, conn: Connection) -> None:
        for statement, params in self._writes.items():
            run_many(conn, statement, params)
        for statement, rows in self._keyed.items():  # in the order of their keys: the index is walked in order
            run_many(conn, statement, [rows[key] for key in sorted(rows)])
        self._writes.clear()
        self._keyed.clear()
        self._folds.clear()


class Many:
    """A statement run with many parameter sets straight through the driver: compiled once, and each value put
    through its column type's bind processor as SQLAlchemy would, without SQLAlchemy's bookkeeping for each set
    (most of the cost of an executemany of small rows). A statement that returns rows or expands a parameter is
    run by SQLAlchemy itself."""

    def __init__(self, statement: Executable, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect, for_executemany=True)  # no implicit RETURNING of the key
        self.statement = statement
        self.sql = str(compiled)
        self.direct = not getattr(compiled, "effective_returning", None) and "POSTCOMPILE" not in self.sql
        self.positional = compiled.positional
        names = list(compiled.positiontup or ()) if compiled.positional else list(compiled.binds)
        self._columns: list[tuple[str, Callable[[Any], Any] | None, Any]] = []
        for name in names:
            bind = compiled.binds[name]
            given = None if bind.required else bind.effective_value  # a value written in the statement
            self._columns.append((name, bind.type.dialect_impl(dialect).bind_processor(dialect), given))

    def run(self, conn: Connection, rows: list[dict[str, Any]]) -> int:
        """Run it; the rows it changed, as the driver counts them (-1 if it cannot tell)."""
        if not rows:
            return 0
        if not self.direct:
            return conn.execute(self.statement, rows).rowcount
        columns: dict[str, list[Any]] = {}  # column by column: the values of a parameter, processed once each
        for name, process, given in self._columns:
            if name in columns:
                continue
            try:
                values = list(map(itemgetter(name), rows))
            except KeyError:
                values = [row.get(name, given) for row in rows]
            columns[name] = values if process is None else _processed(process, values)
        if self.positional:
            params: list[Any] = list(zip(*(columns[name] for name, _, _ in self._columns), strict=True))
        else:
            params = [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]
        return conn.exec_driver_sql(self.sql, params).rowcount


def _processed(process: Callable[[Any], Any], values: list[Any]) -> list[Any]:
    """`process` on each value, once for each distinct value (the rows of a batch share many a time)."""
    try:
        done = {value: process(value) for value in set(values)}
    except TypeError:  # not hashable
        return list(map(process, values))
    return list(map(done.__getitem__, values))


_COMPILED: dict[tuple[Executable, str], Many] = {}  # the statements are built once each (per dialect)


def run_many(conn: Connection, statement: Executable, rows: list[dict[str, Any]]) -> int:
    """Run a statement with all these parameter sets (see `Many`); the rows it changed (-1: the driver cannot
    tell)."""
    key = (statement, conn.dialect.name)
    many = _COMPILED.get(key)
    if many is None:
        many = _COMPILED[key] = Many(statement, conn.dialect)
    return many.run(conn, rows)


Binds = list[tuple[str, Callable[[Any], Any]]]  # the parameters that have a bind processor
_PLAIN: dict[tuple[Executable, str], tuple[str, Binds, tuple[str, ...] | None]] = {}  # SQL, binds, positions


def fetch_plain(conn: Connection, statement: Executable, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The rows of a statement run straight through the driver (compiled once; each value put through its type's
    bind processor as SQLAlchemy would), as the driver returns them: for what needs no processing on its way out
    (ids, keys)."""
    key = (statement, conn.dialect.name)
    found = _PLAIN.get(key)
    if found is None:
        compiled = statement.compile(dialect=conn.dialect)
        binds = [(name, process) for name, bind in compiled.binds.items()
                 if (process := bind.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)) is not None]
        found = _PLAIN[key] = (str(compiled), binds, tuple(compiled.positiontup or ()) if compiled.positional
                               else None)
    sql, binds, positions = found
    values = dict(params)
    for name, process in binds:
        values[name] = process(values[name])
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql, tuple(map(values.__getitem__, positions)) if positions is not None else values)
        return [tuple(row) for row in cursor.fetchall()]
    finally:
        cursor.close()
