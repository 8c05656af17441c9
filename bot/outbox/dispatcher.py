"""The outbox's dispatcher: it performs the actions bot.outbox.storing stored with the state change that caused
them.

The dispatcher claims due actions
with a lease, performs them with a per-installation write rate, retries with backoff (honouring the forge's
Retry-After and rate-limit answers), and marks each comment with a hidden marker so that a retry after a lost
answer finds the comment instead of posting it twice. Without a token for a forge it performs a dry run: it logs
what it would have done and records that.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import Executor
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import bindparam, select

from bot.background import BackgroundLoop
from bot.clock import Clock
from bot.config import OutboxSettings
from bot.events import Action
from bot.messages.render import marker
from bot.notifiers.base import Notification, Notifier
from bot.notifiers.limits import ChannelLimits
from bot.outbox.storing import describe, store_actions
from bot.platforms.actions import ForgeClient, PermanentFailure, RetryLater
from bot.settings.notify import NotifySettings
from bot.store.db import Database
from bot.store.deferred import Deferred
from bot.store.tables import OutboxAction

log = logging.getLogger("cobot.outbox")
T = TypeVar("T")

OUTBOX = OutboxAction.__table__  # type: ignore[attr-defined]
SAVE_RESULT = OUTBOX.update().where(OUTBOX.c.id == bindparam("action_id")).values(
    **{name: bindparam(name) for name in ("status", "result", "last_error", "done_at", "next_attempt_at",
                                           "attempts")})


class WriteRate:
    """At most `per_second` writes per installation (key), spaced evenly; callers wait their turn."""

    def __init__(self, per_second: Mapping[str, float], sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._interval = {key: 1.0 / rate for key, rate in per_second.items()}
        self._next: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._sleep = sleep
        self._monotonic = monotonic

    async def wait(self, key: str) -> None:
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            now = self._monotonic()
            due = self._next.get(key, now)
            if due > now:
                await self._sleep(due - now)
                now = self._monotonic()
            self._next[key] = max(now, due) + self._interval.get(key, 1.0)


def failure_notice(row: OutboxAction, error: str) -> list[Action]:
    """The notification that an action failed for good (none for a failure notice itself: no loops)."""
    if row.kind == "notify" and row.payload.get("topic") == "failure":
        return []
    values = {"source": "outbox", "id": row.id, "what": describe(row)[:300], "error": error[:500]}
    return [Action(kind="notify", key=f"failure:outbox:{row.id}:{row.attempts}", topic="failure",
                   template="failure_notice", values=tuple(values.items()), platform=row.platform, repo=row.repo)]


class Postponed(Exception):
    """A channel's rate limit is reached: the message waits `delay` seconds in the outbox (not an attempt)."""

    def __init__(self, delay: float) -> None:
        super().__init__(f"rate limit: wait {delay:.1f}s")
        self.delay = delay


class Dispatcher(BackgroundLoop):
    name = "outbox-dispatcher"

    def __init__(self, db: Database, settings: OutboxSettings, clock: Clock,
                 clients: Mapping[str, ForgeClient | None], rate: WriteRate, executor: Executor | None = None,
                 notifiers: Mapping[str, Notifier] | None = None, limits: ChannelLimits | None = None,
                 notify: NotifySettings | None = None, language: str = "en") -> None:
        """`executor`: where the database work runs (the inbox worker's thread, so that the two never wait for
        each other's SQLite lock); a thread of asyncio's default pool if None. `notifiers`: the configured
        channels by name; `limits`: their rate limits; `notify` and `language`: where failures are announced."""
        super().__init__()
        self._routes = notify or NotifySettings()
        self._language = language
        self._notifiers = notifiers or {}
        self._limits = limits or ChannelLimits({})
        self._executor = executor
        self._db = db
        self._settings = settings
        self._clock = clock
        self._clients = clients
        self._rate = rate

    async def step(self) -> int:
        return await self.dispatch_due()

    async def dispatch_due(self, limit: int = 50) -> int:
        """Perform the actions that are due; returns how many were attempted.

        Results are saved together, in one transaction, except after a call to a forge, which is saved at once
        (so that a crash repeats as little as possible).
        """
        rows = await self._in_thread(self._claim, limit)
        results: list[dict[str, Any]] = []
        failures: list[Action] = []
        for row in rows:
            result, called_out = await self._perform(row)
            results.append(result)
            if result["status"] == "failed":
                failures += failure_notice(row, result["last_error"] or "")
            if called_out:
                await self._in_thread(self._save, results, failures)
                results, failures = [], []
        if results:
            await self._in_thread(self._save, results, failures)
        return len(rows)

    async def _in_thread(self, work: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, work, *args)

    def _claim(self, limit: int) -> list[OutboxAction]:
        now = self._clock()
        with self._db.session() as session:
            query = (select(OutboxAction).where(OutboxAction.status == "pending", OutboxAction.next_attempt_at <= now)
                     .order_by(OutboxAction.id).limit(limit))
            if self._db.is_postgres:
                query = query.with_for_update(skip_locked=True)
            rows = list(session.execute(query).scalars())
            for row in rows:  # a lease: if this process dies mid-send, the action is due again later
                row.attempts += 1
                row.next_attempt_at = now + timedelta(seconds=self._settings.lease_seconds)
            return rows

    async def _perform(self, row: OutboxAction) -> tuple[dict[str, Any], bool]:
        status, result, error, delay, attempts = "done", None, None, None, row.attempts
        called_out = (self._clients.get(row.platform or "") is not None if row.kind != "notify"
                      else row.channel in self._notifiers)
        try:
            status, result = await self._do(row)
        except Postponed as postponed:  # the channel's rate limit: it waits its turn, and that is no attempt
            status, delay, attempts, called_out = "pending", postponed.delay, row.attempts - 1, False
        except RetryLater as wait:
            error, delay = wait.reason, wait.delay or self._backoff(row.attempts)
        except PermanentFailure as refusal:
            status, error = "failed", str(refusal)
        except Exception as failure:  # connection reset, timeout, a bug: retried, then failed
            error, delay = f"{type(failure).__name__}: {failure}", self._backoff(row.attempts)
        if error is not None and delay is not None:
            status = "failed" if row.attempts >= self._settings.max_attempts else "pending"
        if status == "failed":
            log.error("outbox action %s (%s) failed: %s", row.id, row.key, error)
        elif error:
            log.warning("outbox action %s (%s) will be retried in %.0fs: %s", row.id, row.key, delay, error)
        return {"action_id": row.id, "status": status, "result": result, "last_error": error,
                "delay": delay or 0.0, "attempts": attempts}, called_out

    def _backoff(self, attempts: int) -> float:
        return min(self._settings.retry_base_seconds * 2 ** max(attempts - 1, 0), self._settings.retry_max_seconds)

    async def _do(self, row: OutboxAction) -> tuple[str, str]:
        if row.kind == "notify":
            return "done", await self._notify(row)
        client = self._clients.get(row.platform or "")
        if client is None:
            log.info("dry run (no %s token): would %s", row.platform, describe(row))
            return "dry_run", f"would {describe(row)}"
        assert row.platform and row.repo and row.number
        await self._rate.wait(row.platform)
        is_pr = bool(row.payload.get("is_pr"))
        if row.kind == "comment":
            hidden = marker(row.key)
            body = f"{row.payload['body']}\n\n{hidden}"
            return "done", await client.comment(row.repo, row.number, is_pr, body, hidden, look_first=row.attempts > 1)
        if row.kind == "label":
            return "done", await client.add_labels(row.repo, row.number, is_pr, list(row.payload["labels"]))
        if row.kind == "unlabel":
            done = [await client.remove_label(row.repo, row.number, is_pr, label) for label in row.payload["labels"]]
            return "done", "; ".join(done)
        if row.kind == "assign":
            return "done", await client.assign(row.repo, row.number, is_pr, list(row.payload["logins"]))
        if row.kind == "unassign":
            return "done", await client.unassign(row.repo, row.number, is_pr, list(row.payload["logins"]))
        if row.kind in ("close", "reopen"):
            state = "closed" if row.kind == "close" else "open"
            return "done", await client.set_state(row.repo, row.number, is_pr, state)
        raise PermanentFailure(f"unknown action kind {row.kind!r}")

    async def _notify(self, row: OutboxAction) -> str:
        notifier = self._notifiers.get(row.channel or "")
        if notifier is None:
            raise PermanentFailure(f"channel {row.channel!r} is not configured (any more): see [notify.channels]")
        assert row.channel is not None
        now = self._clock().timestamp()
        wait = self._limits.reserve(row.channel, now)
        if wait > 0:
            raise Postponed(wait)
        try:
            return await notifier.send(Notification.from_payload(row.payload, row.key))
        except PermanentFailure:
            self._limits.release(row.channel, now)
            raise

    def _save(self, results: list[dict[str, Any]], failures: list[Action] | None = None) -> None:
        now = self._clock()
        for result in results:
            done = result["status"] != "pending"
            result["done_at"] = now if done else None
            result["next_attempt_at"] = now + timedelta(seconds=0 if done else result["delay"])
        with self._db.session() as session:
            session.connection().execute(SAVE_RESULT, results)
            if failures:  # announced to the channels routed for failures, in the same transaction
                later = Deferred(self._db.dialect)
                store_actions(later, failures, None, now, self._routes, self._language)
                later.flush(session.connection())
