"""Who may run a command: the roles in config, and the forge's own word on a repo's collaborators.

A person's role on a repo is the higher of two: what `[[commands.roles]]` (and `community.maintainers`, who are
maintainers everywhere) grant, and what the forge says of their permission on the repo (admin, maintain and write
make a maintainer, triage a triager). Config grants name an account on one forge (`github:mei-lin`) or a linked
identity (`[[community.identities]]`), never a bare login: whoever registers `mei-lin` on another forge gets
nothing (`Settings.names_account`). The forge is asked only when config does not already allow the command,
and its answer is kept for `commands.permission_cache_seconds` in the `forge_role` table.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, select

from bot.config import Settings
from bot.platforms.actions import ForgeRoles, PermanentFailure
from bot.settings.commands import Role
from bot.store.db import dialect_insert
from bot.store.tables import ForgeRole

log = logging.getLogger("cobot.commands")

FORGE_ROLE = ForgeRole.__table__  # type: ignore[attr-defined]


def config_role(settings: Settings, platform: str, repo: str, login: str) -> Role:
    """The role config grants the account `platform:login` on `repo` (contributor when it grants none)."""
    if settings.names_account(settings.community.maintainers, platform, login):
        return Role.MAINTAINER
    role = Role.CONTRIBUTOR
    for grant in settings.commands.roles:
        if not grant.covers(platform, repo):
            continue
        if settings.names_account(grant.maintainers, platform, login):
            return Role.MAINTAINER
        if settings.names_account(grant.triagers, platform, login):
            role = Role.TRIAGER
    return role


def is_blocked(settings: Settings, login: str, platform: str | None = None) -> bool:
    """Whether `commands.blocked` names the account (`github:login`), or its login on every forge (a bare login:
    blocking errs on the side of doing less)."""
    lowered = login.lower()
    names = (lowered, f"{platform}:{lowered}") if platform else (lowered,)
    return any(name.lower() in names for name in settings.commands.blocked)


class RoleResolver:
    """Roles for one delivery's commands: config first, then the forge (cached in the store)."""

    def __init__(self, settings: Settings, forge_roles: Mapping[str, ForgeRoles | None], conn: Connection,
                 now: datetime) -> None:
        self._settings = settings
        self._forge_roles = forge_roles if settings.commands.forge_permissions else {}
        self._conn = conn
        self._now = now

    def role(self, platform: str, repo: str, login: str, needed: Role) -> Role:
        """`login`'s role on `repo`, asking the forge only when config's answer falls short of `needed`."""
        granted = config_role(self._settings, platform, repo, login)
        if granted >= needed:
            return granted
        return max(granted, self._forge_role(platform, repo, login))

    def _forge_role(self, platform: str, repo: str, login: str) -> Role:
        reader = self._forge_roles.get(platform)
        if reader is None:
            return Role.CONTRIBUTOR
        key = {"platform": platform, "repo": repo.lower(), "login": login.lower()}
        cached = self._conn.execute(
            select(FORGE_ROLE.c.role, FORGE_ROLE.c.checked_at).where(
                FORGE_ROLE.c.platform == bindparam("platform"), FORGE_ROLE.c.repo == bindparam("repo"),
                FORGE_ROLE.c.login == bindparam("login")), key).one_or_none()
        ttl = timedelta(seconds=self._settings.commands.permission_cache_seconds)
        if cached is not None and self._now - cached.checked_at < ttl:
            return Role.named(cached.role)
        try:
            name = reader.role(repo, login)  # RetryLater propagates: the delivery is tried again later
        except PermanentFailure as refusal:
            log.warning("cannot read %s's permission on %s %s (only config roles count): %s", login, platform, repo,
                        refusal)
            return Role.CONTRIBUTOR
        insert = dialect_insert(self._conn.dialect.name)(FORGE_ROLE).values(**key, role=name, checked_at=self._now)
        self._conn.execute(insert.on_conflict_do_update(index_elements=["platform", "repo", "login"],
                                                        set_={"role": name, "checked_at": self._now}))
        return Role.named(name)
