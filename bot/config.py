"""config.toml → validated settings; secrets from environment variables.

Each feature owns its section model. A bad value stops start-up with a message naming the key.
"""

from __future__ import annotations

import glob
import os
import tomllib
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.settings.badges import BadgeSettings
from bot.settings.campaigns import Campaign, check_campaigns
from bot.settings.commands import CommandSettings, SlackSettings, grantee_problem
from bot.settings.dashboard import DashboardSettings
from bot.settings.notify import NotifySettings

Language = Literal["zh", "en"]
PlatformName = Literal["github", "gitee"]

ENV_OVERRIDES: dict[str, tuple[str, str]] = {
    "COBOT_DATABASE_URL": ("database", "url"),
    "COBOT_GITHUB_WEBHOOK_SECRET": ("github", "webhook_secret"),
    "COBOT_GITEE_WEBHOOK_SECRET": ("gitee", "webhook_secret"),
    "COBOT_GITHUB_TOKEN": ("github", "token"),
    "COBOT_GITEE_TOKEN": ("gitee", "token"),
    "COBOT_SLACK_SIGNING_SECRET": ("slack", "signing_secret"),
    "COBOT_DASHBOARD_TOKEN": ("dashboard", "token"),
}


class ConfigError(Exception):
    """A configuration problem, worded for the operator (names the key)."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServerSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    max_body_bytes: int = Field(25 * 1024 * 1024, gt=0)  # one webhook body (every other route: 64 KB)
    webhook_body_budget_bytes: int = Field(64 * 1024 * 1024, gt=0)  # webhook bodies being read, all together
    # Of that budget, what one client address (IPv6: its /64) may hold at once; None: max_body_bytes.
    webhook_body_per_client_bytes: int | None = Field(None, gt=0)
    body_timeout_seconds: float = Field(20.0, gt=0)  # to read one request body (any route's), once its head arrived
    body_idle_seconds: float = Field(5.0, gt=0)  # at most this long without a byte of a webhook body
    header_timeout_seconds: float = Field(15.0, gt=0)  # `cobot serve`: a request head arrives within, or goodbye
    max_connections: int = Field(1000, ge=1)  # `cobot serve`: connections open at once; beyond, answered 503
    max_connections_per_address: int = Field(250, ge=1)  # of them from one IPv4 address or IPv6 /64 (≤ the above)
    public_url: str = ""  # how others reach this cobot (https://cobot.example.org): badge and chart addresses

    @model_validator(mode="after")
    def _budget_holds_a_body(self) -> ServerSettings:
        if self.webhook_body_budget_bytes < self.max_body_bytes:
            raise ValueError(f"webhook_body_budget_bytes ({self.webhook_body_budget_bytes}) must be at least "
                             f"max_body_bytes ({self.max_body_bytes}), or the largest delivery could never be read")
        per_client = self.webhook_body_per_client_bytes
        if per_client is not None and not self.max_body_bytes <= per_client <= self.webhook_body_budget_bytes:
            raise ValueError(f"webhook_body_per_client_bytes ({per_client}) must be at least max_body_bytes "
                             f"({self.max_body_bytes}) and at most webhook_body_budget_bytes "
                             f"({self.webhook_body_budget_bytes})")
        return self

    @property
    def body_bytes_per_client(self) -> int:
        """What one client address may hold of the webhook body budget."""
        return self.webhook_body_per_client_bytes or self.max_body_bytes

    @field_validator("public_url")
    @classmethod
    def _http(cls, value: str) -> str:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("must be an http:// or https:// URL, such as https://cobot.example.org")
        return value.rstrip("/")


class DatabaseSettings(Section):
    url: str = "sqlite:///cobot.db"
    auto_migrate: bool = True

    @field_validator("url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value


class ForgeSettings(Section):
    webhook_secret: str = Field("", repr=False)
    token: str = Field("", repr=False)
    api_url: str = ""
    writes_per_second: float = Field(1.0, gt=0)


class GitHubSettings(ForgeSettings):
    api_url: str = "https://api.github.com"


class GiteeSettings(ForgeSettings):
    api_url: str = "https://gitee.com/api/v5"
    timestamp_tolerance_seconds: int = Field(3600, gt=0)
    future_skew_seconds: int = Field(300, ge=0)  # how far ahead of our clock X-Gitee-Timestamp may be


class RepoSettings(Section):
    platform: PlatformName
    name: str
    language: Language | None = None

    @field_validator("name")
    @classmethod
    def _owner_slash_name(cls, value: str) -> str:
        if value.count("/") != 1 or value.startswith("/") or value.endswith("/"):
            raise ValueError("must be OWNER/REPO")
        return value


class IdentitySettings(Section):
    """One person's accounts on several platforms, so they count as one contributor."""

    name: str
    github: str | None = None
    gitee: str | None = None


class CommunitySettings(Section):
    name: str = "Our community"
    language: Language = "en"
    maintainers: list[str] = []  # "github:login", "gitee:login" or an identity's name: maintainers everywhere
    bots: list[str] = []
    repos: list[RepoSettings] = []
    identities: list[IdentitySettings] = []


class WelcomeSettings(Section):
    enabled: bool = True
    scope: Literal["repo", "community"] = "repo"
    label: str = "first-time-contributor"
    notify_maintainers: bool = True
    congratulate_first_merge: bool = True


class InboxSettings(Section):
    worker: Literal["process", "thread"] = "process"
    max_attempts: int = Field(5, ge=1)
    retry_base_seconds: float = Field(2.0, gt=0)
    retry_max_seconds: float = Field(600.0, gt=0)
    batch_size: int = Field(100, ge=1)


class OutboxSettings(Section):
    max_attempts: int = Field(8, ge=1)
    retry_base_seconds: float = Field(5.0, gt=0)
    retry_max_seconds: float = Field(3600.0, gt=0)
    request_timeout_seconds: float = Field(30.0, gt=0)
    lease_seconds: float = Field(300.0, gt=0)  # an action being sent by a process that died is sent again after


class SchedulerSettings(Section):
    enabled: bool = True
    tick_seconds: float = Field(60.0, ge=1)  # every campaign is ticked at least this often
    leader_check_seconds: float = Field(10.0, gt=0)  # how soon another replica takes over from one that died


class Settings(Section):
    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    github: GitHubSettings = GitHubSettings()
    gitee: GiteeSettings = GiteeSettings()
    community: CommunitySettings = CommunitySettings()
    welcome: WelcomeSettings = WelcomeSettings()
    inbox: InboxSettings = InboxSettings()
    outbox: OutboxSettings = OutboxSettings()
    notify: NotifySettings = NotifySettings()
    commands: CommandSettings = CommandSettings()
    slack: SlackSettings = SlackSettings()
    badges: BadgeSettings = BadgeSettings()
    campaigns: list[Campaign] = []
    scheduler: SchedulerSettings = SchedulerSettings()
    dashboard: DashboardSettings = DashboardSettings()

    @model_validator(mode="after")
    def _campaigns_fit_the_community(self) -> Settings:
        check_campaigns(self.campaigns, [(repo.platform, repo.name) for repo in self.community.repos])
        badges = self.badges.catalogue()
        for index, campaign in enumerate(self.campaigns):
            badge = getattr(campaign, "badge", None)
            if badge is not None and badge not in badges:
                raise ValueError(f"campaigns[{index}].badge: unknown badge {badge!r} (badges: {', '.join(badges)})")
        return self

    @model_validator(mode="after")
    def _grants_name_accounts(self) -> Settings:
        """Every role grant names an account on one forge, or a linked identity: never a bare login."""
        identities = {identity.name.lower() for identity in self.community.identities}
        lists = [("community.maintainers", self.community.maintainers)]
        for index, grant in enumerate(self.commands.roles):
            lists += [(f"commands.roles[{index}].maintainers", grant.maintainers),
                      (f"commands.roles[{index}].triagers", grant.triagers)]
        for key, names in lists:
            for position, name in enumerate(names):
                problem = grantee_problem(name, identities)
                if problem is not None:
                    raise ValueError(f"{key}[{position}]: {problem}")
        return self

    def grantee_person(self, grantee: str) -> str:
        """The person a grant names (`github:mei-lin` → that account's person; an identity's name → that person)."""
        forge, colon, login = grantee.partition(":")
        if colon:
            return self.person_for(forge.lower(), login)
        identity = next(i for i in self.community.identities if i.name.lower() == grantee.lower())
        return f"person:{identity.name}"

    def names_account(self, grantees: list[str], platform: str, login: str) -> bool:
        """Whether one of `grantees` names this account: the account itself (`github:login`), or the identity it is
        linked to (an identity's name). The same login on another forge is another account."""
        account, person = f"{platform}:{login.lower()}", self.person_for(platform, login).lower()
        for grantee in grantees:
            lowered = grantee.lower()
            if lowered == account if ":" in lowered else person == f"person:{lowered}":
                return True
        return False

    def maintainer_persons(self) -> set[str]:
        """The persons `community.maintainers` names."""
        return {self.grantee_person(grantee) for grantee in self.community.maintainers}

    def campaign(self, name: str) -> Campaign | None:
        return next((campaign for campaign in self.campaigns if campaign.name == name), None)

    def forge(self, platform: str) -> ForgeSettings:
        return self.github if platform == "github" else self.gitee

    def repo_language(self, platform: str, full_name: str) -> str:
        for repo in self.community.repos:
            if repo.platform == platform and repo.name.lower() == full_name.lower():
                return repo.language or self.community.language
        return self.community.language

    @cached_property
    def _linked(self) -> dict[tuple[str, str], str]:
        """(platform, lower-case login) → the person id of a linked identity."""
        return {(platform, login.lower()): f"person:{identity.name}" for identity in self.community.identities
                for platform in ("github", "gitee") if (login := getattr(identity, platform, None))}

    @cached_property
    def _bots(self) -> frozenset[str]:
        return frozenset(bot.lower() for bot in self.community.bots)

    def person_for(self, platform: str, login: str) -> str:
        """The community-wide identity of a platform account (linked accounts share one)."""
        lowered = login.lower()
        return self._linked.get((platform, lowered)) or f"{platform}:{lowered}"

    def is_bot(self, login: str) -> bool:
        lowered = login.lower()
        return lowered.endswith("[bot]") or lowered in self._bots


def _format_validation_error(error: ValidationError, source: str) -> str:
    lines = [f"invalid configuration in {source}:"]
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        lines.append(f"  {key}: {message}" if key else f"  {message}")
    return "\n".join(lines)


def settings_from_mapping(data: dict, source: str = "configuration", env: dict[str, str] | None = None
                          ) -> Settings:
    """Validate a parsed config, with environment overrides applied on top."""
    merged = {section: dict(values) if isinstance(values, dict) else values for section, values in data.items()}
    for variable, (section, key) in ENV_OVERRIDES.items():
        value = (os.environ if env is None else env).get(variable)
        if value:
            target = merged.setdefault(section, {})
            if not isinstance(target, dict):
                raise ConfigError(f"invalid configuration in {source}:\n  {section}: must be a table")
            target[key] = value
    try:
        return Settings.model_validate(merged, context={"env": os.environ if env is None else env})
    except ValidationError as error:
        raise ConfigError(_format_validation_error(error, source)) from None


def config_path(explicit: str | None) -> Path | None:
    """`--config`, then `$COBOT_CONFIG`, then `./config.toml` (None when none exists)."""
    if explicit:
        return Path(explicit)
    if os.environ.get("COBOT_CONFIG"):
        return Path(os.environ["COBOT_CONFIG"])
    default = Path("config.toml")
    return default if default.exists() else None


def load_settings(explicit: str | None = None, env: dict[str, str] | None = None) -> Settings:
    path = config_path(explicit)
    if path is None:
        return settings_from_mapping({}, "defaults", env)
    data = _read_toml(path)
    patterns = data.pop("include", [])
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise ConfigError(f"invalid configuration in {path}:\n  include: must be a list of file patterns, "
                          'such as ["campaigns/*.toml"]')
    for pattern in patterns:
        matches = sorted(Path(found) for found in glob.glob(str(path.parent / pattern))
                         if Path(found).resolve() != path.resolve())  # a pattern may match this file itself
        if not matches:
            raise ConfigError(f"invalid configuration in {path}:\n  include: {pattern!r} matches no file")
        for included in matches:
            for name, value in _read_toml(included).items():
                if name != "campaigns" or not isinstance(value, list):
                    raise ConfigError(f"invalid configuration in {included}:\n  {name}: an included file holds "
                                      "[[campaigns]] only")
                data.setdefault("campaigns", []).extend(value)
    return settings_from_mapping(data, str(path), env)


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"configuration file not found: {path}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from None
