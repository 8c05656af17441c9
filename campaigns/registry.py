"""The campaign kinds, by the `kind` their config names; and their event handlers, for bot/pipeline/dispatch.py."""

from __future__ import annotations

from types import ModuleType

from bot.settings.campaigns import CampaignBase
from campaigns import camp, digest, hackathon, leaderboard

KINDS: dict[str, ModuleType] = {"hackathon": hackathon, "training_camp": camp, "leaderboard": leaderboard,
                                "digest": digest}


def kind_of(campaign: CampaignBase) -> ModuleType:
    return KINDS[campaign.kind]  # type: ignore[attr-defined]
