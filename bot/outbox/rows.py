"""What an outbox action shows when it is listed (`cobot outbox`, the dashboard's operations): where it goes, how it
fared, its result and error with every channel secret masked, and never its payload."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.notifiers.base import mask
from bot.store.tables import OutboxAction


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def action_row(action: OutboxAction, secrets: list[str]) -> dict[str, Any]:
    """`action` as a row of a listing, its result and error masked of `secrets` (the channels' URLs and tokens)."""
    def shown(value: str | None) -> str | None:
        return mask(value, *secrets) if value else value

    where = action.channel if action.kind == "notify" else f"{action.platform} {action.repo}#{action.number}"
    return {
        "id": action.id, "kind": action.kind, "where": where, "channel": action.channel,
        "platform": action.platform, "repo": action.repo, "number": action.number, "status": action.status,
        "attempts": action.attempts, "key": action.key, "result": shown(action.result),
        "error": shown(action.last_error), "delivery_id": action.delivery_id, "created_at": _iso(action.created_at),
        "next_attempt_at": _iso(action.next_attempt_at), "done_at": _iso(action.done_at),
    }
