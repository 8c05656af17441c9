"""The platforms cobot speaks to, built from settings: webhook verifiers and, where a token is set, API clients
and role readers."""

from __future__ import annotations

from bot.config import Settings
from bot.platforms.actions import ForgeClient, ForgeRoles
from bot.platforms.base import WebhookPlatform
from bot.platforms.gitee import GiteeWebhooks
from bot.platforms.github import GitHubWebhooks

# The forges whose issues take one assignee (Gitee: `PATCH .../issues/{number}` sets `assignee`, see
# bot/platforms/gitee_api.py); their pull requests, and GitHub's issues and pull requests, take several.
ONE_ASSIGNEE_ISSUES = frozenset({"gitee"})


def single_assignee(platform: str, is_pr: bool) -> bool:
    """Whether an issue or pull request of `platform` takes one assignee at most (assigning another replaces it)."""
    return not is_pr and platform in ONE_ASSIGNEE_ISSUES


def webhook_platforms(settings: Settings) -> dict[str, WebhookPlatform]:
    return {
        "github": GitHubWebhooks(settings.github.webhook_secret),
        "gitee": GiteeWebhooks(settings.gitee.webhook_secret, settings.gitee.timestamp_tolerance_seconds,
                               settings.gitee.future_skew_seconds),
    }


def forge_clients(settings: Settings) -> dict[str, ForgeClient | None]:
    """An API client per forge that has a token; None (dry run) for the others. Imported only when used."""
    timeout = settings.outbox.request_timeout_seconds
    clients: dict[str, ForgeClient | None] = {"github": None, "gitee": None}
    if settings.github.token:
        from bot.platforms.github_api import GitHubClient

        clients["github"] = GitHubClient(settings.github.token, settings.github.api_url, timeout)
    if settings.gitee.token:
        from bot.platforms.gitee_api import GiteeClient

        clients["gitee"] = GiteeClient(settings.gitee.token, settings.gitee.api_url, timeout)
    return clients


def forge_roles(settings: Settings) -> dict[str, ForgeRoles | None]:
    """A role reader per forge that has a token; None for the others. Imported only when used."""
    timeout = settings.outbox.request_timeout_seconds
    readers: dict[str, ForgeRoles | None] = {"github": None, "gitee": None}
    if settings.github.token:
        from bot.platforms.github_api import GitHubRoles

        readers["github"] = GitHubRoles(settings.github.token, settings.github.api_url, timeout)
    if settings.gitee.token:
        from bot.platforms.gitee_api import GiteeRoles

        readers["gitee"] = GiteeRoles(settings.gitee.token, settings.gitee.api_url, timeout)
    return readers
