"""The durable inbox's writer: deliveries are committed before they are acknowledged.

`InboxWriter` stores deliveries. Requests that arrive together are committed together (one transaction per batch),
and each request is answered only once its batch is committed. A signature that signs no body (`Received.nonce`) is
remembered with its delivery in the same transaction, and refused when it comes again with another. The stored
deliveries are processed by `bot.pipeline.processor.Pipeline`, kept running by `bot.pipeline.worker.Worker`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import Connection, Executable, bindparam, select
from sqlalchemy.exc import InterfaceError, OperationalError

from bot.clock import Clock
from bot.platforms.base import Received, Replayed
from bot.store.db import LOCK_PATIENCE, LOCK_RETRY_SECONDS, Database, dialect_insert, is_locked
from bot.store.tables import Delivery, WebhookNonce
from bot.store.writing import WritingFlag, writing_flag

log = logging.getLogger("cobot.inbox")


NONCE_LIFETIME = timedelta(hours=1, minutes=5)  # Gitee's default window (an hour) and clock skew (five minutes)
NONCE_PRUNING = timedelta(minutes=1)  # how often the writer forgets signatures too old to be accepted again


@dataclass(frozen=True, slots=True)
class Incoming:
    platform: str
    received: Received
    status: str = "received"
    error: str | None = None


Stored = int | None | Exception  # a new id; None: seen before; the reason it was not stored


class InboxWriter:
    """Stores deliveries with group commit; `store` returns the new id, or None for a delivery already seen, and
    raises Replayed for one whose signature (`Received.nonce`) came before with another delivery."""

    def __init__(self, db: Database, clock: Clock, executor: Executor, writing: WritingFlag | None = None,
                 nonce_lifetime: timedelta = NONCE_LIFETIME) -> None:
        """`nonce_lifetime`: how long a signature is remembered (as long as it could be accepted again)."""
        self._db = db
        self._nonce_lifetime = nonce_lifetime
        self._nonces_pruned_at: datetime | None = None
        self.writing = writing or writing_flag()
        self._clock = clock
        self._executor = executor
        self._pending: list[tuple[Incoming, asyncio.Future[int | None]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="inbox-writer")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def store(self, item: Incoming) -> int | None:
        future: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        self._wake.set()
        return await future

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, []
            if not batch:
                continue
            self.writing.value += 1  # the worker makes way before it saves statuses (see bot.store.writing)
            try:
                results = await self._write_soon([item for item, _ in batch])
            except Exception as error:  # the database is unavailable: each request is answered 503
                log.exception("could not store %d deliveries", len(batch))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            finally:
                self.writing.value -= 1
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, Exception):
                    future.set_exception(result)
                else:
                    future.set_result(result)

    async def _write_soon(self, items: list[Incoming]) -> list[Stored]:
        """The batch in one transaction; if the database refuses it for what one of them holds, each alone, so that
        a delivery it cannot take costs only itself (its request is answered 503)."""
        try:
            return await self._attempt(items)
        except (OperationalError, InterfaceError):
            raise  # the database is unavailable (or locked for too long): one by one would fail the same
        except Exception as error:
            if len(items) == 1:
                raise
            log.warning("could not store a batch of %d deliveries (%s); storing them one by one", len(items),
                        type(error).__name__)
        results: list[Stored] = []
        for item in items:
            try:
                results += await self._attempt([item])
            except Exception as error:
                log.exception("could not store %s delivery %s", item.platform, item.received.key)
                results.append(error)
        return results

    async def _attempt(self, items: list[Incoming]) -> list[Stored]:
        """SQLite: on the event loop itself (a batch takes a fraction of a millisecond; a thread would wait for
        the GIL), waiting for the write lock asynchronously. PostgreSQL: in the writer's thread."""
        if self._db.dialect != "sqlite":
            return await asyncio.get_running_loop().run_in_executor(self._executor, self.write, items)
        deadline = time.monotonic() + LOCK_PATIENCE
        while True:
            try:
                return self._write_once(items)
            except OperationalError as error:
                if not is_locked(error) or time.monotonic() > deadline:
                    raise
            await asyncio.sleep(LOCK_RETRY_SECONDS)

    def write(self, items: list[Incoming]) -> list[Stored]:
        """Store a batch in one transaction, waiting for the write lock; see `_write_once`."""
        return self._db.retry_when_locked(lambda: self._write_once(items))

    def _write_once(self, items: list[Incoming]) -> list[Stored]:
        """Store a batch in one transaction: each item's new id, None when that delivery was seen before, or Replayed
        when its signature came before with another delivery (then it is not stored). The signatures are
        remembered in the same transaction as their deliveries."""
        now = self._clock()
        results: list[Stored] = [None] * len(items)
        rows, first_of_key = [], {}
        with self._db.engine.begin() as connection:
            if any(item.received.nonce for item in items):
                for index in self._reused_signatures(connection, items, now):
                    results[index] = Replayed("this signature came before with another body")
            for index, item in enumerate(items):
                if results[index] is None:
                    self._add_row(rows, first_of_key, index, item, now)
            stored = connection.execute(_sql(self._db.dialect).insert, rows).all() if rows else []
        for new_id, platform, key in stored:  # rows already stored are not returned: those are duplicates
            results[first_of_key[(platform, key)]] = new_id
        return results

    @staticmethod
    def _add_row(rows: list[dict[str, object]], first_of_key: dict[tuple[str, str], int], index: int, item: Incoming,
                 now: datetime) -> None:
        identity = (item.platform, item.received.key)
        if identity in first_of_key:
            return  # the same delivery twice in one batch: the second is a duplicate
        first_of_key[identity] = index
        received = item.received
        rows.append({"platform": item.platform, "key": received.key, "event": received.event,
                     "action": received.action, "status": item.status, "error": item.error, "received_at": now,
                     "processed_at": now if item.status != "received" else None, "headers": received.headers,
                     "body": received.body})

    def _reused_signatures(self, connection: Connection, items: list[Incoming], now: datetime) -> list[int]:
        """Remember each signature with the key of the delivery it came with (the first one, in the database or in
        this batch); the indexes of the items whose signature is remembered with another key. Once a minute, forget
        the signatures too old to be accepted again."""
        sql = _sql(self._db.dialect)
        first_key: dict[tuple[str, str], str] = {}
        for item in items:
            if item.received.nonce is not None:
                first_key.setdefault((item.platform, item.received.nonce), item.received.key)
        rows = [{"platform": platform, "nonce": nonce, "key": key, "seen_at": now}
                for (platform, nonce), key in first_key.items()]
        new = {(platform, nonce) for platform, nonce in connection.execute(sql.remember_nonce, rows)}
        seen_before: dict[str, list[str]] = {}
        for platform, nonce in first_key:
            if (platform, nonce) not in new:
                seen_before.setdefault(platform, []).append(nonce)
        for platform, nonces in seen_before.items():  # by the primary key (platform, nonce), not a scan
            for nonce, key in connection.execute(sql.nonce_keys, {"platform": platform, "nonces": nonces}):
                first_key[(platform, nonce)] = key
        if self._nonces_pruned_at is None or now - self._nonces_pruned_at >= NONCE_PRUNING:
            connection.execute(sql.forget_nonces, {"horizon": now - self._nonce_lifetime})
            self._nonces_pruned_at = now
        return [index for index, item in enumerate(items) if item.received.nonce is not None
                and first_key[(item.platform, item.received.nonce)] != item.received.key]


DELIVERY = Delivery.__table__  # type: ignore[attr-defined]
NONCE = WebhookNonce.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class WriterStatements:
    """The writer's statements, built for one SQL dialect."""

    insert: Executable
    remember_nonce: Executable
    nonce_keys: Executable
    forget_nonces: Executable


@cache
def _sql(dialect: str) -> WriterStatements:
    columns = ("platform", "key", "event", "action", "status", "error", "received_at", "processed_at", "headers",
               "body")
    return WriterStatements(
        insert=dialect_insert(dialect)(DELIVERY).values(**{c: bindparam(c) for c in columns}, attempts=0)
        .on_conflict_do_nothing().returning(DELIVERY.c.id, DELIVERY.c.platform, DELIVERY.c.key),
        remember_nonce=dialect_insert(dialect)(NONCE)
        .values(**{c: bindparam(c) for c in ("platform", "nonce", "key", "seen_at")})
        .on_conflict_do_nothing().returning(NONCE.c.platform, NONCE.c.nonce),
        nonce_keys=select(NONCE.c.nonce, NONCE.c.key)
        .where(NONCE.c.platform == bindparam("platform"), NONCE.c.nonce.in_(bindparam("nonces", expanding=True))),
        forget_nonces=NONCE.delete().where(NONCE.c.seen_at < bindparam("horizon")),
    )
