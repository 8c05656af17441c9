"""Actions stored with the transaction that decided them, one row per action and channel, each under an
idempotency key (a decision reached twice is stored once); and an action described in a line."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from functools import cache

from sqlalchemy import Executable, bindparam

from bot.events import Action
from bot.notifiers.routing import route_notification
from bot.settings.notify import NotifySettings
from bot.store.db import dialect_insert
from bot.store.deferred import Deferred
from bot.store.tables import OutboxAction

OUTBOX = OutboxAction.__table__  # type: ignore[attr-defined]


@cache
def _insert_action(dialect: str) -> Executable:
    columns = ("key", "kind", "platform", "repo", "number", "channel", "payload", "delivery_id", "created_at")
    return (dialect_insert(dialect)(OUTBOX).values(**{c: bindparam(c) for c in columns}, status="pending",
                                                   attempts=0, next_attempt_at=bindparam("created_at"))
            .on_conflict_do_nothing())


KEY_LENGTH = 200  # the outbox's key column


def fitting_key(key: str) -> str:
    """`key` when it fits its column; else its start and a digest of all of it (the same key always gives the same
    one, so a decision reached again is still recognised). A key holds repo names, channel names and refs a forge
    lets grow long: on PostgreSQL an over-long one would fail the row, and with it the delivery's handlers."""
    if len(key) <= KEY_LENGTH:
        return key
    return f"{key[:KEY_LENGTH - 42]}#{hashlib.sha256(key.encode('utf-8', 'surrogatepass')).hexdigest()[:41]}"


def store_actions(later: Deferred, actions: Iterable[Action], delivery_id: int | None, now: datetime,
                  notify: NotifySettings, language: str) -> int:
    """Store actions with the transaction that decided them (an action decided before is not stored again).
    A notification becomes one row per channel its rules route it to (`language`: the community's)."""
    count = 0
    for decided in actions:
        routed = ([decided] if decided.kind != "notify" or decided.channel
                  else route_notification(decided, notify, language))
        for action in routed:
            later.add(_insert_action(later.dialect), {
                "key": fitting_key(action.key), "kind": action.kind, "platform": action.platform, "repo": action.repo,
                "number": action.number, "channel": action.channel, "payload": action.payload(),
                "delivery_id": delivery_id, "created_at": now})
            count += 1
    return count


def describe(row: OutboxAction | Action) -> str:
    """An action in a line: what it does, where (a stored row, or an action not stored yet)."""
    payload = row.payload if isinstance(row, OutboxAction) else row.payload()
    where = f"{row.platform} {row.repo}#{row.number}"
    if row.kind == "comment":
        return f"comment on {where}: {payload.get('body', '')[:200]!r}"
    if row.kind == "label":
        return f"add labels {', '.join(payload.get('labels', []))} to {where}"
    if row.kind == "unlabel":
        return f"remove labels {', '.join(payload.get('labels', []))} from {where}"
    if row.kind in ("assign", "unassign"):
        return f"{row.kind} {', '.join('@' + login for login in payload.get('logins', []))} on {where}"
    if row.kind in ("close", "reopen"):
        return f"{row.kind} {where}"
    return f"notify {row.channel} [{payload.get('topic')}] {payload.get('title')}"
