"""What a handler gets besides the Event: the store (in the delivery's transaction), config, clock, messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.config import Settings
from bot.render import render
from bot.store.db import Database


@dataclass
class HandlerContext:
    session: Session
    db: Database
    settings: Settings
    clock: Clock
    delivery_id: int | None = None
    quiet: bool = False  # history being imported: record it, say nothing

    def now(self) -> datetime:
        return self.clock()

    def render(self, template_id: str, language: str, **values: Any) -> str:
        return render(template_id, language, **values)
