"""The `[commands]` and `[slack]` sections: who may run what, and how Slack reaches cobot.

    [commands]
    forge_permissions = true          # ask GitHub/Gitee for a commenter's permission on the repo
    permission_cache_seconds = 600

    [[commands.roles]]
    where = "lumen-ai"                # "*", an owner, or "owner/repo"; "github:" or "gitee:" in front for one forge
    maintainers = ["github:mei-lin"]  # an account on one forge, or the name of a [[community.identities]] entry
    triagers = ["gitee:kenji-w", "zhangwei"]

    [commands.require]                # who may run a command, when not its default
    close = "maintainer"

    [slack]                           # the signing secret comes from COBOT_SLACK_SIGNING_SECRET
    [[slack.users]]
    id = "U024BE7LH"
    role = "maintainer"
    github = "mei-lin"
"""

from __future__ import annotations

import re
from enum import IntEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from yarl import URL

RoleName = Literal["contributor", "triager", "maintainer"]
LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,98}[A-Za-z0-9_])?(?:\[bot\])?$")
FORGES = ("github", "gitee")


def grantee_problem(value: str, identities: set[str]) -> str | None:
    """What is wrong with `value` as someone a role is granted to (None: nothing). A grant names one account on
    one forge (`github:mei-lin`) or a person (the name of a `[[community.identities]]` entry, lower-cased in
    `identities`): a bare login would grant the same rights to whoever registers that login on another forge."""
    forge, colon, login = value.partition(":")
    if colon:
        if forge.lower() not in FORGES:
            return f"{value!r}: unknown forge {forge!r} (write {' or '.join(f'{name}:LOGIN' for name in FORGES)})"
        if not LOGIN.match(login):
            return f"{value!r}: {login!r} is not a user name"
        return None
    if value.lower() in identities:
        return None
    return (f"{value!r} names no forge: write github:{value} or gitee:{value} (the account on that forge), or the "
            "name of a [[community.identities]] entry (that person's linked accounts)")


# The comment commands, in the order /help lists them: what `[commands.require]` may name. bot.commands.registry
# defines each (tests/test_command_registry.py keeps the two in step).
COMMAND_NAMES = ("claim", "unclaim", "assign", "unassign", "label", "remove-label", "good-first-issue", "help-wanted",
                 "close", "reopen", "stats", "leaderboard", "award", "campaign", "help")


class Role(IntEnum):
    """What someone may do; each role may do what the ones below it may."""

    CONTRIBUTOR = 0  # everyone who comments
    TRIAGER = 1
    MAINTAINER = 2

    @classmethod
    def named(cls, name: str) -> Role:
        return cls[name.upper()]

    @property
    def label(self) -> str:
        return self.name.lower()


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RoleGrant(Section):
    """Roles given in config, for every repo (`*`), an owner's repos, or one repo; on one forge or both."""

    where: str = "*"
    maintainers: list[str] = []
    triagers: list[str] = []

    @field_validator("where")
    @classmethod
    def _scope(cls, value: str) -> str:
        platform, _, rest = value.rpartition(":")
        if platform not in ("", "github", "gitee"):
            raise ValueError("must be *, OWNER or OWNER/REPO, optionally prefixed with github: or gitee:")
        if rest != "*" and (not rest or rest.count("/") > 1 or rest.startswith("/") or rest.endswith("/")):
            raise ValueError("must be *, OWNER or OWNER/REPO, optionally prefixed with github: or gitee:")
        return value

    def covers(self, platform: str, repo: str) -> bool:
        forge, _, scope = self.where.rpartition(":")
        if forge and forge != platform:
            return False
        if scope == "*":
            return True
        repo = repo.lower()
        scope = scope.lower()
        return repo == scope if "/" in scope else repo.split("/", 1)[0] == scope


class CommandSettings(Section):
    enabled: bool = True
    forge_permissions: bool = True  # without a token for the forge, only the roles in config count
    permission_cache_seconds: float = Field(600.0, ge=0)
    roles: list[RoleGrant] = []
    require: dict[str, RoleName] = {}  # command name → the role it needs, instead of its default
    blocked: list[str] = []  # logins whose commands are ignored
    labels: list[str] = []  # the labels /label may add (empty: any)
    good_first_issue_label: str = "good first issue"
    help_wanted_label: str = "help wanted"
    leaderboard_days: int = Field(30, ge=1)
    leaderboard_size: int = Field(10, ge=1, le=100)
    # what one comment, and one person, may ask of cobot (anyone can comment: each is a reply and forge writes)
    max_per_comment: int = Field(10, ge=1, le=50)  # commands run from one comment; the reply says the rest were not
    max_arguments: int = Field(10, ge=1, le=100)  # arguments of one command (the labels of a /label, ...)
    max_argument_length: int = Field(100, ge=16, le=1000)  # characters of one argument
    per_person_per_hour: int = Field(30, ge=0)  # commands a contributor runs in an hour (0: no limit; triagers and
    #                                             maintainers have none); past it they are ignored, said once
    max_open_claims: int = Field(3, ge=0)  # issues one person holds through /claim at once, outside hackathons
    #                                        (0: no limit)

    @field_validator("require")
    @classmethod
    def _known_commands(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if name not in COMMAND_NAMES:
                raise ValueError(f"unknown command {name!r} (commands: {', '.join(sorted(COMMAND_NAMES))})")
        return value


class SlackUser(Section):
    """A Slack member, the role they have in cobot, and their forge accounts (for `stats` without a name)."""

    id: str
    role: RoleName = "contributor"
    github: str | None = None
    gitee: str | None = None

    @field_validator("id")
    @classmethod
    def _slack_id(cls, value: str) -> str:
        if not re.fullmatch(r"[UW][A-Z0-9]{2,}", value):
            raise ValueError("must be a Slack member id such as U024BE7LH")
        return value


class SlackSettings(Section):
    signing_secret: str = Field("", repr=False)  # from COBOT_SLACK_SIGNING_SECRET
    language: Literal["zh", "en"] | None = None  # default: community.language
    answer_within_seconds: float = Field(0.8, ge=0, le=2.5)  # slower answers follow by response_url
    # Where a slow answer may be posted (a request's `response_url`): https on the default port of one of these
    # hosts; a host listed with a port ("127.0.0.1:8443", for a test) on that port only.
    response_hosts: list[str] = ["hooks.slack.com", "hooks.slack-gov.com"]
    users: list[SlackUser] = []

    def user(self, user_id: str) -> SlackUser | None:
        return next((user for user in self.users if user.id == user_id), None)

    @field_validator("response_hosts")
    @classmethod
    def _host_or_host_and_port(cls, hosts: list[str]) -> list[str]:
        for entry in hosts:
            if response_address(entry) is None:
                raise ValueError(f"{entry!r} is no host name, nor a host and a port (hooks.slack.com, "
                                 "127.0.0.1:8443)")
        return hosts

    def response_addresses(self) -> frozenset[tuple[str, int | None]]:
        """The (host, port) pairs a `response_url` may name; port None: the default port of its scheme."""
        return frozenset(address for entry in self.response_hosts if (address := response_address(entry)))


def response_address(entry: str) -> tuple[str, int | None] | None:
    """`hooks.slack.com` → ("hooks.slack.com", None); `127.0.0.1:8443`, `[::1]:8443` → (host, 8443); None for
    anything else (a path, a user, a port out of range, a space)."""
    if not entry or entry.endswith(":") or any(char.isspace() or char in "/\\@?#" for char in entry):
        return None
    try:
        parsed = URL(f"//{entry}")
    except ValueError:
        return None
    port = parsed.explicit_port
    if not parsed.host or (port is not None and not 1 <= port <= 65535):
        return None
    return parsed.host.lower(), port
