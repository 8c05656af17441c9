"""The handler registry: which handlers run for which event kind, in a fixed order."""

from __future__ import annotations

from bot.events import Event
from bot.routing.router import Route, Router
from campaigns import camp, hackathon_submissions
from handlers import badges, commands, notify, tracking, welcome

# Order matters: tracking records state first, so later handlers see this event's thread and contributor.
ROUTERS: tuple[Router, ...] = (
    tracking.router,
    welcome.router,
    commands.router,
    hackathon_submissions.router,  # submissions and their points
    camp.router,
    badges.router,  # badges earned by their rules (after campaigns: a hackathon task scored)
    notify.router,
)


def routes_for(event: Event, routers: tuple[Router, ...] = ROUTERS) -> list[Route]:
    return [route for router in routers for route in router.routes if route.matches(event)]
