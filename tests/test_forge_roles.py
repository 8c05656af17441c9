"""Role lookups (GitHubRoles with PyGithub, GiteeRoles with requests) against the local fake forge.

They block on purpose (handlers call them from a worker thread), and the fake forge runs on the test's event loop:
so every call goes through `asyncio.to_thread`, as calling it from the loop's own thread would wait forever.
"""

from __future__ import annotations

import asyncio
import inspect
import socket
import traceback

import pytest

from bot.platforms.actions import PermanentFailure, RetryLater
from bot.platforms.gitee_api import GiteeRoles
from bot.platforms.github_api import GitHubRoles
from bot.platforms.registry import forge_roles
from tests.forge_server import GITEE, GITHUB, FakeForge, forge_server

GITHUB_TOKEN = "ghp_roles_secret_0123456789"
GITEE_TOKEN = "gitee_roles_secret_abcdef"
TOKENS = {GITHUB: GITHUB_TOKEN, GITEE: GITEE_TOKEN}
REPO = {GITHUB: "acme/rocket", GITEE: "kit101/drone-yml-test"}
PLATFORMS = [GITHUB, GITEE]

Reader = GitHubRoles | GiteeRoles


@pytest.fixture
async def forge():
    async with forge_server() as (fake, _base):
        yield fake


def make_reader(platform: str, base_url: str, timeout: float = 5.0) -> Reader:
    if platform == GITHUB:
        return GitHubRoles(GITHUB_TOKEN, f"{base_url}/github", timeout)
    return GiteeRoles(GITEE_TOKEN, f"{base_url}/gitee/api/v5", timeout)


@pytest.fixture(params=PLATFORMS)
def pair(request, forge):
    """(platform, reader) for each forge, closed after the test."""
    reader = make_reader(request.param, forge.base_url)
    yield request.param, reader
    reader.close()


async def role_of(reader: Reader, login: str, repo: str | None = None) -> str:
    platform = GITHUB if isinstance(reader, GitHubRoles) else GITEE
    return await asyncio.to_thread(reader.role, repo or REPO[platform], login)


def full_text(error: BaseException) -> str:
    return "".join(traceback.format_exception(error)) + repr(error)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# (platform, what the forge holds for the user, the role); GitHub: role_name, Gitee: permission
ROLES = [
    (GITHUB, "admin", "maintainer"),
    (GITHUB, "maintain", "maintainer"),
    (GITHUB, "write", "maintainer"),
    (GITHUB, "triage", "triager"),
    (GITHUB, "read", "contributor"),
    (GITHUB, "none", "contributor"),
    (GITHUB, "security-reviewer", "contributor"),  # a custom role
    (GITHUB, None, "contributor"),  # not a collaborator: GitHub answers "read" for a public repository
    (GITEE, "admin", "maintainer"),
    (GITEE, "write", "maintainer"),
    (GITEE, "push", "maintainer"),
    (GITEE, "maintain", "maintainer"),
    (GITEE, "master", "maintainer"),
    (GITEE, "developer", "maintainer"),
    (GITEE, "read", "contributor"),
    (GITEE, "pull", "contributor"),
    (GITEE, "reporter", "contributor"),
    (GITEE, None, "contributor"),  # not a member: Gitee answers 404
]


@pytest.mark.parametrize(("platform", "held", "expected"), ROLES, ids=[f"{c[0]}-{c[1]}" for c in ROLES])
async def test_roles_are_mapped(forge: FakeForge, platform, held, expected):
    if held is not None:
        forge.permissions[(platform, REPO[platform], "alice")] = held
    reader = make_reader(platform, forge.base_url)
    assert await role_of(reader, "alice") == expected
    reader.close()


async def test_github_asks_for_the_permission_with_the_token_in_the_header(forge: FakeForge):
    reader = make_reader(GITHUB, forge.base_url)
    await role_of(reader, "alice")
    reader.close()
    [read] = forge.requests  # lazy: no GET of the repository first
    assert (read.method, read.path, read.query) == ("GET", "/github/repos/acme/rocket/collaborators/alice/permission",
                                                    {})
    assert read.auth in (f"token {GITHUB_TOKEN}", f"Bearer {GITHUB_TOKEN}")


async def test_gitee_asks_for_the_permission_with_the_token_in_the_query(forge: FakeForge):
    reader = make_reader(GITEE, forge.base_url)
    await role_of(reader, "小明", "开源社区/仓库 一")
    reader.close()
    [read] = forge.requests
    assert (read.method, read.path) == ("GET", "/gitee/api/v5/repos/开源社区/仓库 一/collaborators/小明/permission")
    assert read.query == {"access_token": GITEE_TOKEN} and read.auth is None


async def test_someone_who_does_not_exist_is_a_contributor(pair, forge: FakeForge):
    platform, reader = pair
    forge.permissions[(platform, REPO[platform], "ghost")] = "admin"
    forge.unknown_users = {"ghost"}
    assert await role_of(reader, "ghost") == "contributor"


async def test_the_role_is_read_in_each_repository(pair, forge: FakeForge):
    platform, reader = pair
    forge.permissions[(platform, "acme/other", "alice")] = "admin"
    assert await role_of(reader, "alice", "acme/other") == "maintainer"
    assert await role_of(reader, "alice") == "contributor"


# (status, headers, expected exception, expected delay or None)
ANSWERS = [
    (500, {}, RetryLater, 0.0),
    (502, {}, RetryLater, 0.0),
    (503, {"Retry-After": "30"}, RetryLater, 30.0),
    (429, {}, RetryLater, 60.0),
    (401, {}, PermanentFailure, None),
    (403, {}, PermanentFailure, None),
    (422, {}, PermanentFailure, None),
]


@pytest.mark.parametrize(("status", "headers", "expected", "delay"), ANSWERS, ids=[str(a[0]) for a in ANSWERS])
async def test_answers_are_classified(pair, forge: FakeForge, status, headers, expected, delay):
    platform, reader = pair
    forge.fail_next(status, headers, f"refused (token {TOKENS[platform]})")
    with pytest.raises(expected) as raised:
        await role_of(reader, "alice")
    assert type(raised.value) is expected and str(status) in str(raised.value)
    if delay is not None:
        assert raised.value.delay == pytest.approx(delay)
    assert TOKENS[platform] not in full_text(raised.value)  # even when the forge echoes it back


async def test_github_rate_limits_are_retried_after_the_reset(forge: FakeForge):
    reader = make_reader(GITHUB, forge.base_url)
    forge.fail_next(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "9999999999"}, "API rate limit exceeded")
    with pytest.raises(RetryLater) as raised:
        await role_of(reader, "alice")
    reader.close()
    assert raised.value.delay > 60


async def test_a_wrong_token_is_a_permanent_failure(pair, forge: FakeForge):
    platform, reader = pair
    forge.valid_tokens = {"someone-else"}
    with pytest.raises(PermanentFailure) as raised:
        await role_of(reader, "alice")
    assert "401" in str(raised.value) and TOKENS[platform] not in full_text(raised.value)


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_an_unreachable_forge_is_retry_later(platform):
    reader = make_reader(platform, f"http://127.0.0.1:{free_port()}", timeout=2)
    with pytest.raises(RetryLater) as raised:
        await role_of(reader, "alice")
    reader.close()
    assert raised.value.delay == 0 and "unreachable" in str(raised.value)
    assert TOKENS[platform] not in full_text(raised.value)  # Gitee's URL carried it


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_a_slow_forge_times_out_into_retry_later(forge: FakeForge, platform):
    reader = make_reader(platform, forge.base_url, timeout=1)
    forge.delay_next(1.5)
    with pytest.raises(RetryLater) as raised:
        await role_of(reader, "alice")
    reader.close()
    assert raised.value.delay == 0 and "unreachable" in str(raised.value)


@pytest.mark.parametrize(("platform", "repo"), [(GITHUB, "no-slash"), (GITEE, "a/b/c")])
async def test_a_malformed_repository_fails_without_a_request(forge: FakeForge, platform, repo):
    reader = make_reader(platform, forge.base_url)
    with pytest.raises(PermanentFailure):
        await role_of(reader, "alice", repo)
    reader.close()
    assert forge.requests == []


async def test_role_is_a_plain_blocking_call(pair, forge: FakeForge):
    """Synchronous: a handler's worker thread, which has no event loop, gets the answer itself."""
    platform, reader = pair
    forge.permissions[(platform, REPO[platform], "alice")] = "admin"
    assert not inspect.iscoroutinefunction(reader.role)

    def in_a_thread_without_a_loop() -> str:
        with pytest.raises(RuntimeError):
            asyncio.get_running_loop()
        return reader.role(REPO[platform], "alice")

    answers = await asyncio.gather(*(asyncio.to_thread(in_a_thread_without_a_loop) for _ in range(4)))
    assert answers == ["maintainer"] * 4


def test_close_twice_is_harmless(forge: FakeForge):
    for platform in PLATFORMS:
        reader = make_reader(platform, forge.base_url)
        reader.close()
        reader.close()


def test_a_reader_per_forge_with_a_token(make_settings):
    readers = forge_roles(make_settings(github={"token": GITHUB_TOKEN}))
    assert isinstance(readers["github"], GitHubRoles) and readers["gitee"] is None
    readers["github"].close()
    both = forge_roles(make_settings(github={"token": GITHUB_TOKEN}, gitee={"token": GITEE_TOKEN}))
    assert isinstance(both["github"], GitHubRoles) and isinstance(both["gitee"], GiteeRoles)
    for reader in both.values():
        reader.close()
