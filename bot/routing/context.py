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
from bot.messages.render import render_message
from bot.platforms.actions import ForgeRoles
from bot.store.book import Book
from bot.store.db import Database
from bot.store.deferred import Deferred
from bot.store.threads import StoredThread


@dataclass
class HandlerContext:
    session: Session
    db: Database
    settings: Settings
    clock: Clock
    delivery_id: int | None = None
    later: Deferred = field(default_factory=lambda: Deferred("sqlite"))  # blind writes, run before commit
    quiet: bool = False  # history being imported: record it, say nothing
    threads: Book = field(default_factory=Book)  # the threads and milestones of the batch (see `conn`)
    forge_roles: Mapping[str, ForgeRoles | None] = field(default_factory=dict)  # the port to ask forges for roles

    def thread(self, platform: str, repo: str, is_pr: bool, number: str) -> StoredThread | None:
        """The stored issue/PR, as tracking left it for this delivery."""
        return self.threads.thread(self.connection, (platform, repo, is_pr, number))

    @cached_property
    def connection(self) -> Connection:
        """The connection of the delivery's transaction, as it is: what `threads` reads and writes through."""
        return self.session.connection()

    @property
    def conn(self) -> Connection:
        """The connection of the delivery's transaction, for Core statements, with what `threads` holds written
        first: whatever a handler reads there, the handlers before it wrote."""
        connection = self.connection
        self.threads.flush(connection)
        return connection

    def now(self) -> datetime:
        return self.clock()

    def render(self, template_id: str, language: str, **values: Any) -> str:
        return render_message(template_id, language, **values)
