"""What a handler gets besides the Event: the store (in the delivery's transaction), config, clock, messages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.config import Settings
from bot.platforms.actions import ForgeRoles
from bot.render import render
from bot.store.db import Database
from bot.store.deferred import Deferred
from bot.store.records import StoredThread, find_thread


@dataclass
class HandlerContext:
    session: Session
    db: Database
    settings: Settings
    clock: Clock
    delivery_id: int | None = None
    later: Deferred = field(default_factory=lambda: Deferred("sqlite"))  # blind writes, run before commit
    quiet: bool = False  # history being imported: record it, say nothing
    threads: dict[tuple[str, str, bool, str], StoredThread] = field(default_factory=dict)  # seen this delivery
    forge_roles: Mapping[str, ForgeRoles | None] = field(default_factory=dict)  # the port to ask forges for roles

    def thread(self, platform: str, repo: str, is_pr: bool, number: str) -> StoredThread | None:
        """The stored issue/PR, as tracking left it for this delivery."""
        key = (platform, repo, is_pr, number)
        if key not in self.threads:
            found = find_thread(self.conn, platform, repo, is_pr, number)
            if found is None:
                return None
            self.threads[key] = found
        return self.threads[key]

    @cached_property
    def conn(self) -> Connection:
        """The connection of the delivery's transaction, for Core statements (the hot path)."""
        return self.session.connection()

    def now(self) -> datetime:
        return self.clock()

    def render(self, template_id: str, language: str, **values: Any) -> str:
        return render(template_id, language, **values)
