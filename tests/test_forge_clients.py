"""The GitHub (PyGithub) and Gitee (aiohttp) clients against a local server speaking both REST APIs."""

from __future__ import annotations

import asyncio
import socket
import time
import traceback
from email.utils import formatdate

import pytest

from bot.platforms.actions import PermanentFailure, RetryLater
from bot.platforms.gitee_api import GiteeClient
from bot.platforms.github_api import GitHubClient
from tests.forge_server import GITEE, GITHUB, FakeForge, forge_server

GITHUB_TOKEN = "ghp_forge_clients_secret_0123456789"
GITEE_TOKEN = "gitee_forge_clients_secret_abcdef"
TOKENS = {GITHUB: GITHUB_TOKEN, GITEE: GITEE_TOKEN}
MARKER = "<!-- cobot:action:42 -->"
REPO = {GITHUB: "acme/rocket", GITEE: "kit101/drone-yml-test"}
ISSUE = {GITHUB: "7", GITEE: "I4CYEO"}
PLATFORMS = [GITHUB, GITEE]

Client = GitHubClient | GiteeClient


@pytest.fixture
async def forge():
    async with forge_server() as (fake, _base):
        yield fake


def make_client(platform: str, base_url: str, timeout: float = 5.0) -> Client:
    if platform == GITHUB:
        return GitHubClient(GITHUB_TOKEN, f"{base_url}/github", timeout)
    return GiteeClient(GITEE_TOKEN, f"{base_url}/gitee/api/v5", timeout)


@pytest.fixture(params=PLATFORMS)
async def pair(request, forge):
    """(platform, client) for each forge, closed after the test."""
    client = make_client(request.param, forge.base_url)
    yield request.param, client
    await client.close()


def full_text(error: BaseException) -> str:
    """Everything a log line with the traceback would show, chained exceptions included."""
    return "".join(traceback.format_exception(error)) + repr(error)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- comments ---------------------------------------------------------------------------------------------------


async def test_github_comment_is_posted_with_token_auth_and_nothing_else(forge: FakeForge):
    client = make_client(GITHUB, forge.base_url)
    url = await client.comment("acme/rocket", "7", False, f"Welcome! {MARKER}", MARKER, look_first=False)
    await client.close()

    [write] = forge.requests  # lazy objects: no GET of the repository or the issue first
    assert (write.method, write.path) == ("POST", "/github/repos/acme/rocket/issues/7/comments")
    assert write.body == {"body": f"Welcome! {MARKER}"}
    assert write.auth in (f"token {GITHUB_TOKEN}", f"Bearer {GITHUB_TOKEN}")
    assert forge.comment_bodies(GITHUB, "acme/rocket", "7") == [f"Welcome! {MARKER}"]
    assert url == forge.comments[forge.key(GITHUB, "acme/rocket", "7")][0]["html_url"]


async def test_github_pull_request_comment_goes_to_the_issue_conversation(forge: FakeForge):
    client = make_client(GITHUB, forge.base_url)
    await client.comment("acme/rocket", "12", True, "LGTM", MARKER, look_first=False)
    await client.close()
    assert [r.path for r in forge.writes()] == ["/github/repos/acme/rocket/issues/12/comments"]


@pytest.mark.parametrize(("is_pr", "kind"), [(False, "issues"), (True, "pulls")])
async def test_gitee_comment_is_posted_with_access_token(forge: FakeForge, is_pr: bool, kind: str):
    client = make_client(GITEE, forge.base_url)
    number = "3" if is_pr else "I4CYEO"
    url = await client.comment("kit101/drone-yml-test", number, is_pr, f"欢迎 {MARKER}", MARKER, look_first=False)
    await client.close()

    [write] = forge.requests
    assert (write.method, write.path) == ("POST", f"/gitee/api/v5/repos/kit101/drone-yml-test/{kind}/{number}/comments")
    assert write.body == {"access_token": GITEE_TOKEN, "body": f"欢迎 {MARKER}"}
    assert write.auth is None and write.query == {}  # the token is in the JSON body, not in the URL
    comment_id = forge.comments[forge.key(GITEE, "kit101/drone-yml-test", number, is_pr)][0]["id"]
    assert url.endswith(f"/kit101/drone-yml-test/{kind}/{number}#note_{comment_id}")


async def test_gitee_path_parts_are_url_quoted(forge: FakeForge):
    client = make_client(GITEE, forge.base_url)
    await client.comment("开源社区/仓库 一", "I4CYEO", False, "hi", MARKER, look_first=False)
    await client.add_labels("开源社区/仓库 一", "I4CYEO", False, ["good first issue"])
    await client.close()
    assert forge.comment_bodies(GITEE, "开源社区/仓库 一", "I4CYEO") == ["hi"]
    assert forge.label_names(GITEE, "开源社区/仓库 一", "I4CYEO") == ["good first issue"]


async def test_comments_run_off_the_event_loop_and_in_parallel(pair):
    platform, client = pair
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        for _ in range(5):
            await asyncio.sleep(0.01)
            ticks += 1

    results = await asyncio.gather(ticker(), *(client.comment(REPO[platform], ISSUE[platform], False, f"c{n}",
                                                              MARKER, look_first=False) for n in range(8)))
    assert ticks == 5 and len(set(results[1:])) == 8


# -- look_first ------------------------------------------------------------------------------------------------


async def test_look_first_finds_the_marker_beyond_the_first_page_and_does_not_post(pair, forge: FakeForge):
    platform, client = pair
    repo, number = REPO[platform], ISSUE[platform]
    forge.seed_comments(platform, repo, number, [f"note {n}" for n in range(150)] + [f"done {MARKER}"])
    expected = forge.comments[forge.key(platform, repo, number)][-1]

    url = await client.comment(repo, number, False, f"done {MARKER}", MARKER, look_first=True)

    assert forge.writes() == []
    assert len(forge.reads()) == 2  # 100 a page: two GETs for 151 comments
    assert all(r.query.get("per_page") == "100" for r in forge.reads())
    assert url.endswith(f"#note_{expected['id']}" if platform == GITEE else expected["html_url"])


async def test_look_first_posts_when_no_comment_holds_the_marker(pair, forge: FakeForge):
    platform, client = pair
    repo, number = REPO[platform], ISSUE[platform]
    forge.seed_comments(platform, repo, number, ["an unrelated comment", "<!-- cobot:action:41 -->"])

    await client.comment(repo, number, False, f"new {MARKER}", MARKER, look_first=True)

    assert len(forge.writes()) == 1 and len(forge.reads()) == 1
    assert forge.comment_bodies(platform, repo, number)[-1] == f"new {MARKER}"


async def test_gitee_reads_send_the_token_as_access_token(forge: FakeForge):
    client = make_client(GITEE, forge.base_url)
    await client.comment("kit101/drone-yml-test", "5", True, f"x {MARKER}", MARKER, look_first=True)
    await client.close()
    [read] = forge.reads()
    assert read.path == "/gitee/api/v5/repos/kit101/drone-yml-test/pulls/5/comments"
    assert read.query == {"access_token": GITEE_TOKEN, "page": "1", "per_page": "100"}


async def test_a_lost_answer_then_a_retry_leaves_one_comment(pair, forge: FakeForge):
    platform, client = pair
    repo, number = REPO[platform], ISSUE[platform]
    forge.lose_next_answer()

    with pytest.raises(RetryLater) as lost:
        await client.comment(repo, number, False, f"hello {MARKER}", MARKER, look_first=False)
    url = await client.comment(repo, number, False, f"hello {MARKER}", MARKER, look_first=True)

    assert lost.value.delay == 0  # a 502: the caller's backoff decides
    assert forge.comment_bodies(platform, repo, number) == [f"hello {MARKER}"]
    assert len(forge.writes()) == 1 and "#" in url


# -- labels ----------------------------------------------------------------------------------------------------


async def test_github_labels_are_added_to_the_issue(forge: FakeForge):
    client = make_client(GITHUB, forge.base_url)
    result = await client.add_labels("acme/rocket", "7", True, ["bug", "good first issue"])
    await client.close()

    [write] = forge.requests
    assert (write.method, write.path, write.body) == (
        "POST", "/github/repos/acme/rocket/issues/7/labels", ["bug", "good first issue"])
    assert result == "labels added: bug, good first issue"
    assert forge.label_names(GITHUB, "acme/rocket", "7") == ["bug", "good first issue"]


@pytest.mark.parametrize(("is_pr", "number", "kind"), [(False, "I4CYEO", "issues"), (True, "3", "pulls")])
async def test_gitee_labels_are_sent_as_a_body_array(forge: FakeForge, is_pr: bool, number: str, kind: str):
    client = make_client(GITEE, forge.base_url)
    result = await client.add_labels("kit101/drone-yml-test", number, is_pr, ["bug", "新手任务"])
    await client.close()

    [write] = forge.requests
    assert write.path == f"/gitee/api/v5/repos/kit101/drone-yml-test/{kind}/{number}/labels"
    assert write.body == {"access_token": GITEE_TOKEN, "body": ["bug", "新手任务"]}
    assert result == "labels added: bug, 新手任务"
    assert forge.label_names(GITEE, "kit101/drone-yml-test", number, is_pr) == ["bug", "新手任务"]


async def test_no_labels_sends_nothing(pair, forge: FakeForge):
    platform, client = pair
    assert await client.add_labels(REPO[platform], ISSUE[platform], False, []) == "no labels to add"
    assert forge.requests == []


# -- errors ----------------------------------------------------------------------------------------------------

SECONDARY = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."

# (status, headers, message, expected exception, expected delay or None); "+N" in a reset header: N s from now
COMMON_ANSWERS = [
    (429, {"Retry-After": "1"}, "slow down", RetryLater, 1.0),
    (429, {}, "Too Many Requests", RetryLater, 60.0),
    (503, {"Retry-After": "+30"}, "maintenance", RetryLater, 30.0),  # an HTTP date 30 s from now
    (400, {"Retry-After": "3"}, "whatever", RetryLater, 3.0),
    (500, {}, "Internal Server Error", RetryLater, 0.0),
    (502, {}, "Bad Gateway", RetryLater, 0.0),
    (401, {}, "Bad credentials", PermanentFailure, None),
    (403, {}, "Forbidden", PermanentFailure, None),
    (404, {}, "Not Found", PermanentFailure, None),
    (422, {}, "Validation Failed", PermanentFailure, None),
]
GITHUB_ANSWERS = [
    (403, {}, SECONDARY, RetryLater, 60.0),
    (403, {"retry-after": "17"}, SECONDARY, RetryLater, 17.0),
    (429, {}, SECONDARY, RetryLater, 60.0),
    (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "+120"}, "API rate limit exceeded for installation",
     RetryLater, 120.0),
    (429, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "+45"}, "API rate limit exceeded", RetryLater, 45.0),
    (403, {"x-ratelimit-remaining": "12"}, "Resource not accessible by integration", PermanentFailure, None),
    (410, {}, "Issues are disabled for this repo", PermanentFailure, None),
]
GITEE_ANSWERS = [
    (403, {}, "Rate Limit Exceeded", RetryLater, 60.0),
    (405, {}, "Method Not Allowed", PermanentFailure, None),
]
CASES = ([(GITHUB, *case) for case in COMMON_ANSWERS + GITHUB_ANSWERS]
         + [(GITEE, *case) for case in COMMON_ANSWERS + GITEE_ANSWERS])


def absolute_times(headers: dict[str, str]) -> dict[str, str]:
    """`+N` placeholders as GitHub sends them: an epoch time for the reset, an HTTP date for Retry-After."""
    resolved = {}
    for name, value in headers.items():
        if value.startswith("+") and name.lower() == "retry-after":
            value = formatdate(time.time() + int(value), usegmt=True)
        elif value.startswith("+"):
            value = str(int(time.time()) + int(value))
        resolved[name] = value
    return resolved


@pytest.mark.parametrize(("platform", "status", "headers", "message", "expected", "delay"), CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[3][:24]}" for c in CASES])
@pytest.mark.parametrize("operation", ["comment", "labels"])
async def test_answers_are_classified(forge: FakeForge, operation, platform, status, headers, message, expected,
                                      delay):
    client = make_client(platform, forge.base_url)
    forge.fail_next(status, absolute_times(headers), f"{message} (token {TOKENS[platform]})")
    with pytest.raises(expected) as raised:
        if operation == "comment":
            await client.comment(REPO[platform], ISSUE[platform], False, "hi", MARKER, look_first=False)
        else:
            await client.add_labels(REPO[platform], ISSUE[platform], False, ["bug"])
    await client.close()

    assert type(raised.value) is expected
    if delay is not None:
        assert raised.value.delay == pytest.approx(delay, abs=2)
    assert str(status) in str(raised.value)
    assert TOKENS[platform] not in full_text(raised.value)  # even when the forge echoes it back
    assert forge.comments == {} and forge.labels == {}


async def test_a_refusal_while_looking_first_is_classified_too(pair, forge: FakeForge):
    platform, client = pair
    forge.fail_next(429, {"Retry-After": "2"}, method="GET")
    with pytest.raises(RetryLater) as raised:
        await client.comment(REPO[platform], ISSUE[platform], False, f"x {MARKER}", MARKER, look_first=True)
    assert raised.value.delay == 2.0 and forge.writes() == []
    assert TOKENS[platform] not in full_text(raised.value)  # Gitee's GET carried it in the URL


async def test_a_wrong_token_is_a_permanent_failure(pair, forge: FakeForge):
    platform, client = pair
    forge.valid_tokens = {"someone-else"}
    with pytest.raises(PermanentFailure) as raised:
        await client.comment(REPO[platform], ISSUE[platform], False, "hi", MARKER, look_first=False)
    assert "401" in str(raised.value) and TOKENS[platform] not in full_text(raised.value)


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_an_unreachable_forge_is_retried_with_the_callers_backoff(platform):
    client = make_client(platform, f"http://127.0.0.1:{free_port()}", timeout=2)
    with pytest.raises(RetryLater) as raised:
        await client.comment(REPO[platform], ISSUE[platform], False, "hi", MARKER, look_first=False)
    await client.close()
    assert raised.value.delay == 0 and TOKENS[platform] not in full_text(raised.value)


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_a_slow_forge_times_out_into_retry_later(forge: FakeForge, platform):
    client = make_client(platform, forge.base_url, timeout=1)
    forge.delay_next(1.5)
    with pytest.raises(RetryLater) as raised:
        await client.add_labels(REPO[platform], ISSUE[platform], False, ["bug"])
    await client.close()
    assert raised.value.delay == 0 and "unreachable" in str(raised.value)


@pytest.mark.parametrize(("platform", "repo", "number"), [
    (GITHUB, "acme/rocket", "I4CYEO"), (GITHUB, "no-slash", "1"), (GITEE, "no-slash", "I1")])
async def test_malformed_targets_fail_without_a_request(forge: FakeForge, platform, repo, number):
    client = make_client(platform, forge.base_url)
    with pytest.raises(PermanentFailure):
        await client.comment(repo, number, False, "hi", MARKER, look_first=False)
    await client.close()
    assert forge.requests == []


async def test_close_twice_is_harmless(pair):
    _platform, client = pair
    await client.close()
    await client.close()
