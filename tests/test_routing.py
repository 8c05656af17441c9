"""Routers: what a feature module may register, and which events reach which handlers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.events import Actor, Event, RepoRef
from bot.pipeline.dispatch import routes_for
from bot.routing.router import Router


def event(kind: str) -> Event:
    return Event(kind=kind, platform="github", repo=RepoRef("a/b"), actor=Actor("x"),
                 occurred_at=datetime(2026, 1, 1, tzinfo=UTC))


def test_a_route_takes_at_most_one_filter():
    with pytest.raises(ValueError, match="at most one filter"):
        Router("x").on("comment.created", command="claim", repo="a")


@pytest.mark.parametrize("pattern", ["pr.merge", "issues.opened", "star.*x", "nothing.*"])
def test_unknown_event_kinds_are_refused(pattern):
    with pytest.raises(ValueError, match="unknown event kind"):
        Router("x").on(pattern)


@pytest.mark.parametrize(("pattern", "kind", "matches"), [
    ("*", "push", True), ("pr.*", "pr.merged", True), ("pr.*", "push", False), ("pr.merged", "pr.merged", True),
    ("pr.merged", "pr.closed", False)])
def test_patterns(pattern, kind, matches):
    router = Router("t")
    router.on(pattern)(lambda event, ctx: None)
    assert bool(routes_for(event(kind), (router,))) is matches


def test_a_filter_matches_the_event_detail():
    router = Router("t")
    router.on("comment.created", command="claim")(lambda event, ctx: None)
    claim = Event(**dict(
        kind="comment.created", platform="github", repo=RepoRef("a/b"), actor=Actor("x"),
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC), detail={"command": "claim"}))
    assert routes_for(claim, (router,)) and not routes_for(event("comment.created"), (router,))


def test_tracking_runs_before_welcome():
    names = [route.name for route in routes_for(event("issue.opened"))]
    assert names == ["tracking.record", "welcome.welcome_first", "badges.award_earned", "notify.announce"]
