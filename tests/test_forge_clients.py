"""The GitHub (PyGithub) and Gitee (aiohttp) clients against a local server speaking both REST APIs."""

from __future__ import annotations

import asyncio
import socket
import time
import traceback
from email.utils import formatdate
from urllib.parse import quote

import pytest
from github import Github

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
PULL = {GITHUB: "12", GITEE: "3"}
GH = "/github/repos/acme/rocket"
GE = "/gitee/api/v5/repos/kit101/drone-yml-test"
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
    await client.add_labels("开源社区/仓库 一", "I4CYEO", False, ["good first issue", "bug"])
    await client.remove_label("开源社区/仓库 一", "I4CYEO", False, "bug")
    await client.assign("开源社区/仓库 一", "I4CYEO", False, ["小明"])
    await client.set_state("开源社区/仓库 一", "I4CYEO", False, "closed")
    await client.close()
    assert forge.comment_bodies(GITEE, "开源社区/仓库 一", "I4CYEO") == ["hi"]
    assert forge.label_names(GITEE, "开源社区/仓库 一", "I4CYEO") == ["good first issue"]
    assert forge.assignee_names(GITEE, "开源社区/仓库 一", "I4CYEO") == ["小明"]
    assert forge.state_of(GITEE, "开源社区/仓库 一", "I4CYEO") == "closed"
    assert forge.requests[-1].raw_path == f"/gitee/api/v5/repos/{quote('开源社区')}/issues/I4CYEO"
    assert forge.requests[-1].body["repo"] == "仓库 一"  # the repository's path travels in the body


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


# -- removing labels -------------------------------------------------------------------------------------------

# (platform, is_pr, label, the path as sent): GitHub wants a slash in a name as it is (PyGithub leaves it so)
UNLABEL_CASES = [
    (GITHUB, False, "bug", f"{GH}/issues/7/labels/bug"),
    (GITHUB, True, "good first issue", f"{GH}/issues/12/labels/good%20first%20issue"),
    (GITHUB, False, "area/docs", f"{GH}/issues/7/labels/area/docs"),
    (GITEE, False, "bug", f"{GE}/issues/I4CYEO/labels/bug"),
    (GITEE, True, "新手 任务", f"{GE}/pulls/3/labels/{quote('新手 任务')}"),
    (GITEE, False, "area/docs", f"{GE}/issues/I4CYEO/labels/area%2Fdocs"),
]


@pytest.mark.parametrize(("platform", "is_pr", "label", "raw_path"), UNLABEL_CASES,
                         ids=[f"{c[0]}-{'pr' if c[1] else 'issue'}-{c[2]}" for c in UNLABEL_CASES])
async def test_a_label_is_removed(forge: FakeForge, platform, is_pr, label, raw_path):
    repo, number = REPO[platform], (PULL if is_pr else ISSUE)[platform]
    forge.seed_thread(platform, repo, number, is_pr=is_pr, labels=["keep", label])
    client = make_client(platform, forge.base_url)
    result = await client.remove_label(repo, number, is_pr, label)
    await client.close()

    [write] = forge.requests
    assert (write.method, write.raw_path, write.body) == ("DELETE", raw_path, None)
    if platform == GITHUB:
        assert write.query == {} and write.auth in (f"token {GITHUB_TOKEN}", f"Bearer {GITHUB_TOKEN}")
    else:
        assert write.query == {"access_token": GITEE_TOKEN}
    assert result == f"label removed: {label}"
    assert forge.label_names(platform, repo, number, is_pr) == ["keep"]


@pytest.mark.parametrize("is_pr", [False, True])
async def test_removing_a_label_that_is_not_there_is_no_failure(pair, forge: FakeForge, is_pr: bool):
    platform, client = pair
    repo, number = REPO[platform], (PULL if is_pr else ISSUE)[platform]
    forge.seed_thread(platform, repo, number, is_pr=is_pr, labels=["keep"])
    assert await client.remove_label(repo, number, is_pr, "bug") == "label bug was not there"
    assert len(forge.requests) == 1 and forge.label_names(platform, repo, number, is_pr) == ["keep"]


async def test_a_lost_answer_then_a_retry_removes_the_label_once(pair, forge: FakeForge):
    platform, client = pair
    repo, number = REPO[platform], ISSUE[platform]
    forge.seed_thread(platform, repo, number, labels=["bug"])
    forge.lose_next_answer()
    with pytest.raises(RetryLater):
        await client.remove_label(repo, number, False, "bug")
    assert await client.remove_label(repo, number, False, "bug") == "label bug was not there"
    assert forge.label_names(platform, repo, number) == []


# -- assignees -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("is_pr", [False, True])
async def test_github_assignees_are_added_and_removed(forge: FakeForge, is_pr: bool):
    number = PULL[GITHUB] if is_pr else ISSUE[GITHUB]
    client = make_client(GITHUB, forge.base_url)
    assigned = await client.assign("acme/rocket", number, is_pr, ["alice", "bob"])
    unassigned = await client.unassign("acme/rocket", number, is_pr, ["alice", "carol"])
    await client.close()

    add, remove = forge.requests  # PRs are issues to this API
    assert (add.method, add.path, add.body) == ("POST", f"{GH}/issues/{number}/assignees",
                                                {"assignees": ["alice", "bob"]})
    assert (remove.method, remove.path, remove.body) == ("DELETE", f"{GH}/issues/{number}/assignees",
                                                         {"assignees": ["alice", "carol"]})
    assert assigned == "assigned: @alice, @bob" and unassigned == "unassigned: @alice, @carol"
    assert forge.assignee_names(GITHUB, "acme/rocket", number) == ["bob"]


async def test_github_says_whom_it_did_not_assign(forge: FakeForge):
    forge.unknown_users = {"ghost"}
    client = make_client(GITHUB, forge.base_url)
    result = await client.assign("acme/rocket", "7", False, ["Alice", "ghost"])
    only_ghost = await client.assign("acme/rocket", "7", False, ["ghost"])
    await client.close()
    assert result == "assigned: @Alice; GitHub did not assign @ghost (no access to the repository?)"
    assert only_ghost == "GitHub did not assign @ghost (no access to the repository?)"
    assert forge.assignee_names(GITHUB, "acme/rocket", "7") == ["Alice"]


async def test_gitee_pull_request_assignees_are_comma_separated(forge: FakeForge):
    client = make_client(GITEE, forge.base_url)
    assigned = await client.assign("kit101/drone-yml-test", "3", True, ["alice", "bob"])
    unassigned = await client.unassign("kit101/drone-yml-test", "3", True, ["alice", "carol"])
    await client.close()

    add, remove = forge.requests
    assert (add.method, add.path, add.query) == ("POST", f"{GE}/pulls/3/assignees", {})
    assert add.body == {"access_token": GITEE_TOKEN, "assignees": "alice,bob"}
    assert (remove.method, remove.path, remove.body) == ("DELETE", f"{GE}/pulls/3/assignees", None)
    assert remove.query == {"access_token": GITEE_TOKEN, "assignees": "alice,carol"}
    assert assigned == "assigned: @alice, @bob" and unassigned == "unassigned: @alice, @carol"
    assert forge.assignee_names(GITEE, "kit101/drone-yml-test", "3", is_pr=True) == ["bob"]


async def test_a_gitee_issue_takes_its_one_assignee_at_the_owners_level(forge: FakeForge):
    forge.seed_thread(GITEE, "kit101/drone-yml-test", "I4CYEO", assignees=["carol"])
    client = make_client(GITEE, forge.base_url)
    result = await client.assign("kit101/drone-yml-test", "I4CYEO", False, ["alice"])
    await client.close()

    [write] = forge.requests
    assert (write.method, write.path, write.query) == ("PATCH", "/gitee/api/v5/repos/kit101/issues/I4CYEO", {})
    assert write.body == {"access_token": GITEE_TOKEN, "repo": "drone-yml-test", "assignee": "alice"}
    assert result == "assigned: @alice"
    assert forge.assignee_names(GITEE, "kit101/drone-yml-test", "I4CYEO") == ["alice"]  # it replaces carol


async def test_a_gitee_issue_refuses_two_assignees_without_a_request(forge: FakeForge):
    client = make_client(GITEE, forge.base_url)
    with pytest.raises(PermanentFailure, match="Gitee issues take one assignee"):
        await client.assign("kit101/drone-yml-test", "I4CYEO", False, ["alice", "bob"])
    await client.close()
    assert forge.requests == []


# (the issue's assignee before, whom to unassign, its assignees after, the result)
GITEE_ISSUE_UNASSIGN = [
    (["alice"], ["bob", "Alice"], [], "unassigned: @alice"),
    (["carol"], ["alice"], ["carol"], "not assigned to @alice (assignee: @carol)"),
    ([], ["alice"], [], "not assigned to @alice"),
]


@pytest.mark.parametrize(("before", "logins", "after", "expected"), GITEE_ISSUE_UNASSIGN)
async def test_a_gitee_issue_is_unassigned_only_from_its_assignee(forge: FakeForge, before, logins, after, expected):
    forge.seed_thread(GITEE, "kit101/drone-yml-test", "I4CYEO", assignees=before)
    client = make_client(GITEE, forge.base_url)
    result = await client.unassign("kit101/drone-yml-test", "I4CYEO", False, logins)
    await client.close()

    read, *writes = forge.requests
    assert (read.method, read.path, read.query) == ("GET", f"{GE}/issues/I4CYEO", {"access_token": GITEE_TOKEN})
    if after == before:
        assert writes == []  # nothing to clear: no PATCH
    else:
        [write] = writes
        assert (write.method, write.path) == ("PATCH", "/gitee/api/v5/repos/kit101/issues/I4CYEO")
        assert write.body == {"access_token": GITEE_TOKEN, "repo": "drone-yml-test", "assignee": ""}
    assert result == expected
    assert forge.assignee_names(GITEE, "kit101/drone-yml-test", "I4CYEO") == after


@pytest.mark.parametrize("is_pr", [False, True])
async def test_no_one_to_assign_sends_nothing(pair, forge: FakeForge, is_pr: bool):
    platform, client = pair
    number = (PULL if is_pr else ISSUE)[platform]
    assert await client.assign(REPO[platform], number, is_pr, []) == "no one to assign"
    assert await client.unassign(REPO[platform], number, is_pr, []) == "no one to unassign"
    assert forge.requests == []


# -- state -----------------------------------------------------------------------------------------------------

# (platform, is_pr, the path, the JSON body beside the state)
STATE_CASES = [
    (GITHUB, False, f"{GH}/issues/7", {}),
    (GITHUB, True, f"{GH}/issues/12", {}),
    (GITEE, False, "/gitee/api/v5/repos/kit101/issues/I4CYEO", {"access_token": GITEE_TOKEN, "repo": "drone-yml-test"}),
    (GITEE, True, f"{GE}/pulls/3", {"access_token": GITEE_TOKEN}),
]


@pytest.mark.parametrize(("platform", "is_pr", "path", "body"), STATE_CASES,
                         ids=[f"{c[0]}-{'pr' if c[1] else 'issue'}" for c in STATE_CASES])
async def test_issues_and_pull_requests_are_closed_and_reopened(forge: FakeForge, platform, is_pr, path, body):
    repo, number = REPO[platform], (PULL if is_pr else ISSUE)[platform]
    client = make_client(platform, forge.base_url)
    closed = await client.set_state(repo, number, is_pr, "closed")
    state_after_close = forge.state_of(platform, repo, number, is_pr)
    reopened = await client.set_state(repo, number, is_pr, "open")
    await client.close()

    assert [(r.method, r.path, r.query, r.body) for r in forge.requests] == [
        ("PATCH", path, {}, {**body, "state": "closed"}), ("PATCH", path, {}, {**body, "state": "open"})]
    assert (closed, reopened) == ("state set to closed", "state set to open")
    assert state_after_close == "closed" and forge.state_of(platform, repo, number, is_pr) == "open"


async def test_an_unknown_state_fails_without_a_request(pair, forge: FakeForge):
    platform, client = pair
    with pytest.raises(PermanentFailure, match="open or closed"):
        await client.set_state(REPO[platform], ISSUE[platform], False, "merged")  # type: ignore[arg-type]
    assert forge.requests == []


async def test_the_github_issue_reflects_what_was_done(forge: FakeForge):
    client = make_client(GITHUB, forge.base_url)
    await client.add_labels("acme/rocket", "7", False, ["bug"])
    await client.assign("acme/rocket", "7", False, ["alice"])
    await client.set_state("acme/rocket", "7", False, "closed")
    await client.close()

    reader = Github(base_url=f"{forge.base_url}/github", retry=None)
    issue = await asyncio.to_thread(lambda: reader.get_repo("acme/rocket").get_issue(7))  # PyGithub reads it back
    reader.close()
    assert (issue.state, [u.login for u in issue.assignees], [label.name for label in issue.labels]) == (
        "closed", ["alice"], ["bug"])


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
OPERATIONS = ["comment", "labels", "unlabel", "assign", "unassign", "close"]
# every operation meets every answer, except a 404 to removing a label: that label was not there (no failure)
OPERATION_CASES = [(operation, *case) for operation in OPERATIONS for case in CASES
                   if not (operation == "unlabel" and case[1] == 404)]


async def perform(client: Client, platform: str, operation: str) -> str:
    """One write to the usual issue (Gitee's unassign reads the issue first: the answer meets that read)."""
    repo, number = REPO[platform], ISSUE[platform]
    if operation == "comment":
        return await client.comment(repo, number, False, "hi", MARKER, look_first=False)
    if operation == "labels":
        return await client.add_labels(repo, number, False, ["bug"])
    if operation == "unlabel":
        return await client.remove_label(repo, number, False, "bug")
    if operation == "assign":
        return await client.assign(repo, number, False, ["alice"])
    if operation == "unassign":
        return await client.unassign(repo, number, False, ["alice"])
    return await client.set_state(repo, number, False, "closed")


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


@pytest.mark.parametrize(("operation", "platform", "status", "headers", "message", "expected", "delay"),
                         OPERATION_CASES, ids=[f"{c[0]}-{c[1]}-{c[2]}-{c[4][:24]}" for c in OPERATION_CASES])
async def test_answers_are_classified(forge: FakeForge, operation, platform, status, headers, message, expected,
                                      delay):
    client = make_client(platform, forge.base_url)
    forge.fail_next(status, absolute_times(headers), f"{message} (token {TOKENS[platform]})")
    with pytest.raises(expected) as raised:
        await perform(client, platform, operation)
    await client.close()

    assert type(raised.value) is expected
    if delay is not None:
        assert raised.value.delay == pytest.approx(delay, abs=2)
    assert str(status) in str(raised.value)
    assert TOKENS[platform] not in full_text(raised.value)  # even when the forge echoes it back
    assert forge.comments == {} and forge.labels == {} and forge.assignees == {} and forge.states == {}
    assert len(forge.requests) == 1  # nothing more after a refusal


@pytest.mark.parametrize("operation", OPERATIONS[2:])
async def test_a_wrong_token_fails_the_new_writes_for_good(pair, forge: FakeForge, operation):
    platform, client = pair
    forge.valid_tokens = {"someone-else"}
    with pytest.raises(PermanentFailure) as raised:
        await perform(client, platform, operation)
    assert "401" in str(raised.value) and TOKENS[platform] not in full_text(raised.value)


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
