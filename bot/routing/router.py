"""Routers: how a feature module declares which events its handlers react to."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.events import EVENT_KINDS, Action, Event

if TYPE_CHECKING:
    from bot.routing.context import HandlerContext

HandlerFn = Callable[[Event, "HandlerContext"], Iterable[Action] | None]
AheadFn = Callable[[Sequence[Event], "HandlerContext"], None]


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    pattern: str
    fn: HandlerFn
    filter: tuple[str, str] | None = None

    def matches(self, event: Event) -> bool:
        if self.pattern != "*" and self.pattern != event.kind:
            prefix = self.pattern.removesuffix("*")
            if not (self.pattern.endswith(".*") and event.kind.startswith(prefix)):
                return False
        if self.filter is None:
            return True
        key, value = self.filter
        return event.detail.get(key) == value


class Router:
    """`@router.on("pr.merged")`, `@router.on("issue.*")` or `@router.on("*")`; at most one filter. `@router.ahead`:
    given the events of a batch before any is handled, to read at once what its handlers will ask for."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.routes: list[Route] = []
        self.aheads: list[AheadFn] = []

    def ahead(self, fn: AheadFn) -> AheadFn:
        self.aheads.append(fn)
        return fn

    def on(self, pattern: str, **filter_: str) -> Callable[[HandlerFn], HandlerFn]:
        if len(filter_) > 1:
            raise ValueError("a route takes at most one filter")
        if pattern != "*" and pattern not in EVENT_KINDS and not (
                pattern.endswith(".*") and any(kind.startswith(pattern[:-1]) for kind in EVENT_KINDS)):
            raise ValueError(f"unknown event kind {pattern!r} (see bot/events.py EVENT_KINDS)")

        def register(fn: HandlerFn) -> HandlerFn:
            name = f"{self.name}.{fn.__name__}"
            self.routes.append(Route(name=name, pattern=pattern, fn=fn,
                                     filter=next(iter(filter_.items()), None)))
            return fn
        return register
