"""`[dashboard]`: the web dashboard and its JSON API (bot.web).

    [dashboard]
    enabled = true        # serve the dashboard pages and /api/
    public = false        # true: read-only pages and GET /api/… open to everyone (deliveries, outbox errors,
                          # timelines: think twice); false: everything needs a login
    session_hours = 12    # how long a login lasts
    failed_logins_per_minute = 10          # wrong tokens one client address (IPv6: its /64) may send; then 429
    failed_logins_per_minute_overall = 60  # wrong tokens from everyone together; then 429 for everyone
    language = "zh"       # default: community.language
    cache_seconds = 60    # slow aggregates (health, the leaderboard, campaign views, the digest) are this old at most
    slow_reads = "process"  # where those are computed: a process of their own at a lower priority, so that a page
                            # being computed never slows webhooks down; "thread": threads of the serving process

The maintainers' login token comes from COBOT_DASHBOARD_TOKEN (`dashboard.token`); without one nobody can log in,
so no maintainer action is possible from the web.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

TOKEN_LENGTH = 16  # at least: a login token is guessed at over the network


class DashboardSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    public: bool = False
    token: str = Field("", repr=False)  # never shown; sessions are signed with a key derived from it
    session_hours: float = Field(12.0, gt=0, le=24 * 366)
    failed_logins_per_minute: int = Field(10, ge=1, le=10_000)  # per client address (bot.web.throttle)
    failed_logins_per_minute_overall: int = Field(60, ge=1, le=100_000)
    language: Literal["zh", "en"] | None = None  # default: community.language
    cache_seconds: float = Field(60.0, ge=0)  # 0: every read is computed afresh
    slow_reads: Literal["process", "thread"] = "process"

    @field_validator("token")
    @classmethod
    def _long_enough(cls, value: str) -> str:
        if value and len(value) < TOKEN_LENGTH:
            raise ValueError(f"must be at least {TOKEN_LENGTH} characters (such as the output of openssl rand -hex 32)")
        return value
