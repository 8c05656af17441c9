"""`cobot backfill` against the local fake GitHub and Gitee (tests/forge_server.py), on SQLite and PostgreSQL: a
repository's history stored quietly with exact counts, read page by page, rate limits waited out, resumed after an
interruption, idempotent with itself and with the webhooks, and the command line."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli.main import main
from bot.events import Event
from bot.history.backfill import Backfill, Silent, Summary
from bot.history.ingest import Tally
from bot.pipeline.dispatch import ROUTERS
from bot.platforms.actions import PermanentFailure, RetryLater
from bot.platforms.gitee_history import GiteeHistory
from bot.platforms.github_history import GitHubHistory
from bot.platforms.history_reading import HistoryReader, Page, Patience
from bot.routing.router import Router
from bot.store.community_tables import Activity, BadgeAward, Contributor, Milestone, Repo, Thread
from bot.store.db import Database
from bot.store.tables import Delivery, ImportState, OutboxAction
from tests.forge_server import GITEE, GITHUB, FakeForge, Request, forge_server
from tests.payloads import issue_event, pr_event

REPO = "acme/rocket"
GITEE_REPO = "kit101/drone-yml-test"
TOKEN = "ghp_backfill_secret_0123456789"
GITEE_TOKEN = "gitee_backfill_secret_abcdef"
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC).timestamp()  # what the readers' clock says
# Everything a webhook would make cobot say: greetings, badges announced and commented, event notifications.
LOUD = {"notify": {"channels": {"team": {"kind": "webhook", "url": "https://hooks.example.org/cobot"}},
                   "rules": [{"topics": ["newcomer", "badge"], "channels": ["team"]},
                             {"events": ["issue.opened", "pr.opened", "pr.merged", "comment.created", "star.created"],
                              "channels": ["team"]}]},
        "badges": {"auto_award": True, "comment_on_award": True}}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@pytest.fixture
async def forge():
    async with forge_server() as (fake, _base):
        yield fake


@pytest.fixture
def world(make_harness, forge: FakeForge) -> Any:
    """The store and pipeline (for webhooks), configured to speak to the fake forges, and loud."""
    return make_harness(github={"token": TOKEN, "api_url": f"{forge.base_url}/github"},
                        gitee={"token": GITEE_TOKEN, "api_url": f"{forge.base_url}/gitee/api/v5"}, **LOUD)


# -- the histories -----------------------------------------------------------------------------------------------


def seed_github(forge: FakeForge, repo: str = REPO) -> None:
    forge.add_issue(GITHUB, repo, 1, "alice", "2026-10-01T10:00:00Z", state="closed", closed="2026-10-03T10:00:00Z",
                    closed_by="max")
    forge.add_issue(GITHUB, repo, 2, "bob", "2026-10-02T10:00:00Z", labels=("bug",))
    forge.add_pull(GITHUB, repo, 3, "carol", "2026-10-04T10:00:00Z", merged="2026-10-05T10:00:00Z", merged_by="max")
    forge.add_pull(GITHUB, repo, 4, "bob", "2026-10-04T12:00:00Z", state="closed", closed="2026-10-07T10:00:00Z")
    forge.add_issue(GITHUB, repo, 5, "alice", "2026-10-06T10:00:00Z")
    forge.add_pull(GITHUB, repo, 6, "dependabot[bot]", "2026-10-08T10:00:00Z")
    forge.add_comment(GITHUB, repo, 1, "max", "2026-10-01T11:00:00Z", "Can you share the log?")
    forge.add_comment(GITHUB, repo, 1, "alice", "2026-10-01T12:00:00Z", "Here it is.")
    forge.add_comment(GITHUB, repo, 2, "max", "2026-10-02T11:00:00Z", "/label bug")
    forge.add_comment(GITHUB, repo, 3, "dave", "2026-10-04T11:00:00Z", "Nice!", is_pr=True)
    forge.add_comment(GITHUB, repo, 3, "max", "2026-10-04T13:00:00Z", "Nit: a typo.", on_diff=True)
    forge.add_review(repo, 3, "max", "2026-10-04T14:00:00Z", body="LGTM")
    forge.add_review(repo, 3, "dave", "2026-10-04T15:00:00Z", state="COMMENTED")
    forge.add_review(repo, 4, "max", None, state="PENDING")
    forge.add_star(GITHUB, repo, "erin", "2026-09-30T10:00:00Z")
    forge.add_star(GITHUB, repo, "alice", "2026-10-02T09:00:00Z")


GITHUB_KINDS = Counter({
    "issue.opened": 3,  # 1, 2, 5
    "issue.closed": 1,  # 1
    "pr.opened": 3,  # 3, 4, 6
    "pr.merged": 1,  # 3
    "pr.closed": 1,  # 4, closed without a merge
    "comment.created": 3,  # max and alice on 1, dave in 3's conversation
    "command": 1,  # max's "/label bug" on 2: nothing but a command
    "comment.diff": 1,  # max on a line of 3's diff
    "review.submitted": 2,  # max and dave on 3 (max's review of 4 is pending: no time yet)
    "comment.review": 1,  # max's review body "LGTM"
    "star.created": 2,  # erin, alice
})
GITHUB_EVENTS = sum(GITHUB_KINDS.values())  # 19


def seed_gitee(forge: FakeForge, repo: str = GITEE_REPO) -> None:
    forge.add_issue(GITEE, repo, "I1AAAA", "alice", "2026-10-01T10:00:00Z", state="closed",
                    closed="2026-10-03T10:00:00Z")
    forge.add_issue(GITEE, repo, "I1BBBB", "bob", "2026-10-02T10:00:00Z", state="rejected",
                    closed="2026-10-02T12:00:00Z")
    forge.add_issue(GITEE, repo, "I1CCCC", "carol", "2026-10-03T10:00:00Z", state="progressing", labels=("bug",))
    forge.add_pull(GITEE, repo, 1, "carol", "2026-10-04T10:00:00Z", merged="2026-10-05T10:00:00Z")
    forge.add_pull(GITEE, repo, 2, "alice", "2026-10-05T10:00:00Z", state="closed", closed="2026-10-06T10:00:00Z")
    forge.add_comment(GITEE, repo, "I1AAAA", "max", "2026-10-01T11:00:00Z", "复现步骤？")
    forge.add_comment(GITEE, repo, 1, "max", "2026-10-04T11:00:00Z", "LGTM", is_pr=True)
    forge.add_comment(GITEE, repo, 1, "dave", "2026-10-04T12:00:00Z", "这里有个拼写错误", on_diff=True)
    forge.add_star(GITEE, repo, "erin", "2026-09-30T10:00:00Z")


GITEE_KINDS = Counter({
    "issue.opened": 3,  # I1AAAA, I1BBBB, I1CCCC
    "issue.closed": 2,  # I1AAAA closed, I1BBBB rejected (progressing is open)
    "pr.opened": 2,  # 1, 2
    "pr.merged": 1,  # 1
    "pr.closed": 1,  # 2
    "comment.created": 2,  # max on I1AAAA, max in 1's conversation
    "comment.diff": 1,  # dave on a line of 1's diff
    "star.created": 1,  # erin
})


# -- running a backfill ------------------------------------------------------------------------------------------


class Interrupted(Exception):
    """What stops a test's backfill after some pages (as a crash, or ^C, would)."""


class Recorder(Silent):
    """Remembers the pages and notices; raises Interrupted once `stop_after` pages are stored."""

    def __init__(self, stop_after: int | None = None) -> None:
        self.pages: list[tuple[str, int, int | None, int]] = []  # stage, done, total, events
        self.notices: list[str] = []
        self.stop_after = stop_after

    def page(self, stage: str, page: Page, tally: Tally) -> None:
        self.pages.append((stage, page.done, page.total, len(page.events)))
        if self.stop_after is not None and len(self.pages) >= self.stop_after:
            raise Interrupted

    def notice(self, text: str) -> None:
        self.notices.append(text)


def patience(slept: list[float] | None = None, notices: list[str] | None = None) -> Patience:
    return Patience(sleep=slept.append if slept is not None else lambda seconds: None, now=lambda: NOW,
                    notice=notices.append if notices is not None else lambda text: None)


def github(world: Any, slept: list[float] | None = None, per_page: int = 100,
           notices: list[str] | None = None) -> GitHubHistory:
    return GitHubHistory(world.settings.github.token, world.settings.github.api_url, 5.0, patience(slept, notices),
                         per_page)


def gitee(world: Any, slept: list[float] | None = None, per_page: int = 100) -> GiteeHistory:
    return GiteeHistory(world.settings.gitee.token, world.settings.gitee.api_url, 5.0, patience(slept), per_page)


async def backfill(world: Any, reader: HistoryReader, target: str = REPO, watcher: Any = None,
                   db: Database | None = None, **options: Any) -> Summary:
    run = Backfill(db or world.db, world.settings, world.clock, reader, watcher)
    try:
        return await asyncio.to_thread(run.run, target, **options)
    finally:
        reader.close()


def kinds(world: Any, platform: str = GITHUB) -> Counter[str]:
    return Counter(row.kind for row in world.rows(Activity, Activity.platform == platform))


def threads(world: Any, platform: str = GITHUB) -> dict[str, tuple[Any, ...]]:
    return {row.number: (row.is_pr, row.state, row.closed_at, row.merged_at, row.labels, row.first_responder)
            for row in world.rows(Thread, Thread.platform == platform)}


def _plain(value: Any) -> Any:
    return json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else value


def snapshot(db: Database) -> dict[str, list[Any]]:
    """Everything a backfill writes, without the ids and times of writing (which differ from run to run)."""
    def rows(table: Any, *skip: str, store: Database = db) -> list[Any]:
        with store.reading() as conn:
            found = conn.execute(select(table.__table__)).mappings().all()
        return sorted((tuple((name, _plain(value)) for name, value in sorted(row.items())
                             if name not in ("id", *skip)) for row in found), key=repr)
    return {"threads": rows(Thread), "activity": rows(Activity, "delivery_id"), "milestones": rows(Milestone),
            "contributors": rows(Contributor), "repos": rows(Repo), "badges": rows(BadgeAward, "uid"),
            "imports": rows(ImportState, "updated_at"), "outbox": rows(OutboxAction),
            "deliveries": rows(Delivery, "received_at", "processed_at", store=db.inbox)}


def path_is(*suffixes: str, page: str | None = None) -> Callable[[Request], bool]:
    return lambda request: request.path.endswith(suffixes) and page in (None, request.query.get("page"))


# -- a repository's history, quietly ----------------------------------------------------------------------------


async def test_a_github_repository_is_stored_as_quiet_history_with_exact_counts(world, forge: FakeForge):
    seed_github(forge)
    summary = await backfill(world, github(world))

    assert kinds(world) == GITHUB_KINDS
    assert summary.tally.events == summary.tally.items == GITHUB_EVENTS and summary.tally.duplicates == 0
    activity = {(row.kind, row.number): row.actor for row in world.rows(Activity)}
    assert activity[("issue.closed", "1")] == "alice"  # GitHub's list does not say who closed it: its author
    assert activity[("pr.merged", "3")] == "carol"  # nor who merged it
    assert threads(world) == {
        "1": (False, "closed", at("2026-10-03T10:00:00Z"), None, [], "max"),
        "2": (False, "open", None, None, ["bug"], "max"),
        "3": (True, "merged", at("2026-10-05T10:00:00Z"), at("2026-10-05T10:00:00Z"), [], "dave"),
        "4": (True, "closed", at("2026-10-07T10:00:00Z"), None, [], None),
        "5": (False, "open", None, None, [], None),
        "6": (True, "open", None, None, [], None),
    }
    firsts = {("github:alice", "first_issue", "1"), ("github:bob", "first_issue", "2"),
              ("github:carol", "first_pr", "3"), ("github:bob", "first_pr", "4"),  # dependabot is a bot
              ("github:carol", "first_merge", "3")}
    assert {(m.person, m.kind, m.number, m.scope) for m in world.rows(Milestone)} == {
        (*first, scope) for first in firsts for scope in ("repo:github:acme/rocket", "community")}
    assert {(c.login, c.is_bot) for c in world.rows(Contributor)} == {
        ("alice", False), ("bob", False), ("carol", False), ("max", False), ("dave", False), ("erin", False),
        ("dependabot[bot]", True)}
    assert {(b.badge, b.person) for b in world.rows(BadgeAward)} == {
        ("first-issue", "github:alice"), ("first-issue", "github:bob"), ("first-pr-merged", "github:carol"),
        ("first-review", "github:max"), ("first-review", "github:dave")}
    assert world.rows(OutboxAction) == []  # nobody greeted, labelled, congratulated or announced
    deliveries = world.rows(Delivery)
    assert len(deliveries) == GITHUB_EVENTS
    assert {(d.event, d.status) for d in deliveries} == {("backfill", "processed")}
    assert all(d.key.startswith("backfill:github:acme/rocket:") for d in deliveries)
    assert {r.full_name for r in world.rows(Repo)} == {REPO}


async def test_a_gitee_repository_is_stored_as_quiet_history_with_exact_counts(world, forge: FakeForge):
    seed_gitee(forge)
    summary = await backfill(world, gitee(world), GITEE_REPO)

    assert kinds(world, GITEE) == GITEE_KINDS and summary.tally.events == sum(GITEE_KINDS.values())
    assert threads(world, GITEE) == {
        "I1AAAA": (False, "closed", at("2026-10-03T10:00:00Z"), None, [], "max"),
        "I1BBBB": (False, "closed", at("2026-10-02T12:00:00Z"), None, [], None),
        "I1CCCC": (False, "open", None, None, ["bug"], None),
        "1": (True, "merged", at("2026-10-05T10:00:00Z"), at("2026-10-05T10:00:00Z"), [], "max"),
        "2": (True, "closed", at("2026-10-06T10:00:00Z"), None, [], None),
    }
    firsts = {("gitee:alice", "first_issue"), ("gitee:bob", "first_issue"), ("gitee:carol", "first_issue"),
              ("gitee:carol", "first_pr"), ("gitee:alice", "first_pr"), ("gitee:carol", "first_merge")}
    assert {(m.person, m.kind) for m in world.rows(Milestone)} == firsts
    assert len(world.rows(Milestone)) == 2 * len(firsts)  # in the repo and in the community
    assert world.rows(OutboxAction) == []
    reads = forge.reads(GITEE)
    assert {r.token for r in reads} == {GITEE_TOKEN} and all(r.query["access_token"] == GITEE_TOKEN for r in reads)


async def test_since_reads_what_changed_since_then(world, forge: FakeForge):
    seed_github(forge)
    await backfill(world, github(world), since=at("2026-10-05T00:00:00Z"))

    # Issues updated since (GitHub filters): 5. PRs updated since (filtered here): 3 (merged), 4 (closed), 6.
    # Comments, reviews and stars are all older.
    assert kinds(world) == Counter({"issue.opened": 1, "pr.opened": 3, "pr.merged": 1, "pr.closed": 1})
    [issues] = [r for r in forge.reads(GITHUB) if r.path.endswith("/issues")]
    assert issues.query["since"] == "2026-10-05T00:00:00Z"


async def test_a_comment_on_a_thread_not_read_is_stored_with_that_thread_as_github_shows_it(world, forge: FakeForge):
    forge.add_issue(GITHUB, REPO, 1, "alice", "2026-09-01T10:00:00Z")  # not updated since: not listed
    forge.add_pull(GITHUB, REPO, 2, "bob", "2026-09-02T10:00:00Z", merged="2026-09-03T10:00:00Z")
    forge.add_comment(GITHUB, REPO, 1, "max", "2026-10-06T10:00:00Z", "Still happening?")
    forge.add_comment(GITHUB, REPO, 2, "max", "2026-10-06T11:00:00Z", "Thanks!", is_pr=True)
    await backfill(world, github(world), since=at("2026-10-05T00:00:00Z"))

    assert kinds(world) == Counter({"comment.created": 2})
    assert threads(world) == {"1": (False, "open", None, None, [], "max"),
                              "2": (True, "merged", at("2026-09-03T10:00:00Z"), at("2026-09-03T10:00:00Z"), [],
                                    "max")}
    assert [r.path for r in forge.reads(GITHUB) if r.path.endswith(("/issues/1", "/issues/2"))] == [
        "/github/repos/acme/rocket/issues/1", "/github/repos/acme/rocket/issues/2"]  # once each


async def test_every_repository_of_an_organisation(world, forge: FakeForge):
    seed_github(forge)
    forge.add_issue(GITHUB, "acme/docs", 1, "zoe", "2026-10-10T10:00:00Z")
    for name in (REPO, "acme/docs"):
        forge.add_repo(GITHUB, name)
    summary = await backfill(world, github(world), "acme")

    assert [repo.repo for repo in summary.repos] == ["acme/docs", REPO]
    assert Counter(row.repo for row in world.rows(Activity)) == {REPO: GITHUB_EVENTS, "acme/docs": 1}


# -- pages ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", [GITHUB, GITEE])
async def test_every_page_is_read_and_the_last_one_is_known(world, forge: FakeForge, platform: str):
    repo = REPO if platform == GITHUB else GITEE_REPO
    for number in range(1, 6):
        forge.add_issue(platform, repo, number if platform == GITHUB else f"I{number}", f"user{number}",
                        f"2026-10-0{number}T10:00:00Z")
    recorder = Recorder()
    reader = github(world, per_page=2) if platform == GITHUB else gitee(world, per_page=2)
    await backfill(world, reader, repo, recorder)

    assert kinds(world, platform) == Counter({"issue.opened": 5})
    assert [(done, total, events) for stage, done, total, events in recorder.pages if stage == "issues"] == [
        (1, 3, 2), (2, 3, 2), (3, 3, 1)]  # 5 issues, 2 a page: 3 pages, the last known from the first
    listed = [r for r in forge.reads(platform) if r.path.endswith("/issues")]
    assert [(r.query["page"], r.query["per_page"]) for r in listed] == [("1", "2"), ("2", "2"), ("3", "2")]
    assert [a.number for a in world.rows(Activity, order=Activity.id)] == [
        str(number) if platform == GITHUB else f"I{number}" for number in range(1, 6)]  # oldest first


# -- waiting for the forge ---------------------------------------------------------------------------------------


async def test_github_rate_limits_are_waited_out_and_5xx_retried(world, forge: FakeForge):
    seed_github(forge)
    forge.answer_headers_next({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) + 30)},
                              when=path_is("/issues"))  # the last request until the reset: wait before the next
    forge.fail_next(403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) + 120)},
                    "API rate limit exceeded for user ID 1.", when=path_is("/pulls"))
    forge.fail_next(429, {"Retry-After": "7"}, "You have exceeded a secondary rate limit.",
                    when=path_is("/issues/comments"))
    forge.fail_next(502, message="Bad Gateway", times=2, when=path_is("/pulls/comments"))
    slept: list[float] = []
    notices: list[str] = []
    summary = await backfill(world, github(world, slept, notices=notices))

    assert slept == [30.0, 120.0, 7.0, 1.0, 2.0]  # the resets named, Retry-After, then backoff
    assert "until 2026-11-02 09:02:00 UTC" in notices[1]
    assert kinds(world) == GITHUB_KINDS and summary.waited == sum(slept)
    pulls = [r for r in forge.reads(GITHUB) if r.path.endswith("/pulls")]
    assert len(pulls) == 2  # refused once, then read


async def test_gitee_rate_limits_are_waited_out_and_5xx_retried(world, forge: FakeForge):
    seed_gitee(forge)
    forge.fail_next(429, {"Retry-After": "15"}, "Too Many Requests", when=path_is("/issues"))
    forge.fail_next(403, message="Rate Limit Exceeded", when=path_is("/pulls"))
    forge.fail_next(503, message="Service Unavailable", when=path_is("/comments"))
    forge.fail_next(403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) + 45)}, "Forbidden",
                    when=path_is("/stargazers"))
    slept: list[float] = []
    await backfill(world, gitee(world, slept), GITEE_REPO)

    assert slept == [15.0, 60.0, 1.0, 45.0]  # Retry-After; a minute when Gitee names no time; backoff; the reset
    assert kinds(world, GITEE) == GITEE_KINDS


async def test_a_forge_that_keeps_failing_stops_the_backfill_and_the_next_run_finishes(world, forge: FakeForge):
    seed_github(forge)
    forge.fail_next(500, message="Internal Server Error", times=4, when=path_is("/pulls"))
    slept: list[float] = []
    with pytest.raises(RetryLater, match="gave up after 4 attempts"):
        await backfill(world, github(world, slept))
    assert slept == [1.0, 2.0, 4.0]
    assert kinds(world) == Counter({"issue.opened": 3, "issue.closed": 1})  # the issues were stored

    await backfill(world, github(world))
    assert kinds(world) == GITHUB_KINDS


# -- resuming ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["forge refuses", "crash"])
async def test_an_interrupted_backfill_resumes_where_it_stopped_and_ends_as_an_uninterrupted_one(
        world, forge: FakeForge, tmp_path: Path, how: str):
    seed_github(forge)
    # Two a page: issues 3 pages (the 6 items GitHub lists there, PRs included), pulls 2, then comments 2.
    if how == "forge refuses":
        forge.fail_next(404, message="Not Found", when=path_is("/issues/comments", page="2"))
        with pytest.raises(PermanentFailure, match="GitHub 404"):
            await backfill(world, github(world, per_page=2))
    else:
        with pytest.raises(Interrupted):
            await backfill(world, github(world, per_page=2), watcher=Recorder(stop_after=6))
    state = {row.source: (row.done, row.cursor.get("page")) for row in world.rows(ImportState)}
    base = "backfill:github:acme/rocket"
    assert (state[f"{base}:issues"], state[f"{base}:pulls"], state[f"{base}:comments"]) == (
        (True, 4), (True, 3), (False, 2))  # finished, finished, next page 2
    assert state[base] == (False, None)  # the repository's run: not finished

    read_before = len(forge.requests)
    recorder = Recorder()
    summary = await backfill(world, github(world, per_page=2), watcher=recorder)
    again = [(r.path.removeprefix("/github/repos/acme/rocket"), r.query.get("page")) for r in
             forge.requests[read_before:]]
    assert again[:2] == [("", None), ("/issues/comments", "2")]  # the repository, then where it stopped
    assert not any(path in ("/issues", "/pulls") for path, _ in again)  # finished stages are not read again
    assert summary.repos[0].skipped == ["issues", "pulls"]

    reference = Database(f"sqlite:///{tmp_path / 'reference.db'}")
    reference.upgrade()
    try:
        await backfill(world, github(world, per_page=2), db=reference)
        assert snapshot(world.db) == snapshot(reference)
    finally:
        reference.dispose()
    assert kinds(world) == GITHUB_KINDS


# -- once --------------------------------------------------------------------------------------------------------


async def test_backfilling_again_changes_nothing(world, forge: FakeForge):
    seed_github(forge)
    await backfill(world, github(world))
    before = snapshot(world.db)

    again = await backfill(world, github(world))  # what changed since the newest update seen: stored already
    assert again.tally.events == 0 and again.tally.duplicates == again.tally.items > 0
    everything = await backfill(world, github(world), restart=True)  # every page again
    assert everything.tally.events == 0 and everything.tally.duplicates == GITHUB_EVENTS

    after = snapshot(world.db)
    assert {name: rows for name, rows in after.items() if name != "imports"} == {
        name: rows for name, rows in before.items() if name != "imports"}


def refusing(login: str) -> Router:
    """A handler that cannot store `login`'s issues today (run after every other handler)."""
    flaky = Router("flaky")

    @flaky.on("issue.opened")
    def refuse(event: Event, ctx: Any) -> None:
        if event.actor.login == login:
            raise RuntimeError(f"{login}'s issue cannot be stored today")
    return flaky


async def test_items_a_handler_failed_on_are_offered_again_by_the_next_run(world, forge: FakeForge):
    seed_github(forge)
    run = Backfill(world.db, world.settings, world.clock, github(world), routers=(*ROUTERS, refusing("bob")))
    summary = await asyncio.to_thread(run.run, REPO)
    assert summary.tally.failed == 1 and "bob's issue cannot be stored today" in summary.tally.errors[0]
    [issues] = world.rows(ImportState, ImportState.source == "backfill:github:acme/rocket:issues")
    assert issues.cursor["failed"] == 1

    read_before = len(forge.requests)
    again = await backfill(world, github(world))  # the issues' whole window, not since the newest update seen
    [listed] = [r for r in forge.requests[read_before:] if r.path.endswith("/issues")]
    assert "since" not in listed.query and again.tally.failed == 0
    assert kinds(world) == GITHUB_KINDS


async def test_an_item_a_handler_failed_on_leaves_nothing_behind(world, forge: FakeForge):
    seed_github(forge)
    run = Backfill(world.db, world.settings, world.clock, github(world), routers=(*ROUTERS, refusing("bob")))
    await asyncio.to_thread(run.run, REPO)
    assert kinds(world)["issue.opened"] == 2  # bob's is not stored ...
    assert ("github:bob", "first_issue") not in {(m.person, m.kind) for m in world.rows(Milestone)}  # nor its first


async def test_history_a_webhook_stored_already_is_not_counted_twice(world, forge: FakeForge):
    seed_github(forge)
    world.deliver("issues", issue_event("opened", 1, "alice", created="2026-10-01T10:00:00Z"))
    greeted = len(world.rows(OutboxAction))
    assert greeted > 0  # the webhook greeted alice

    summary = await backfill(world, github(world))
    assert kinds(world) == GITHUB_KINDS  # issue 1 opened: once
    assert summary.tally.overlapping == 1 and summary.tally.events == GITHUB_EVENTS - 1
    assert len(world.rows(Thread, Thread.number == "1")) == 1
    assert len(world.rows(OutboxAction)) == greeted  # and the backfill said nothing more


async def test_webhooks_after_a_backfill_update_the_same_threads_and_greet_no_old_timer(world, forge: FakeForge):
    seed_github(forge)
    await backfill(world, github(world))
    assert world.rows(OutboxAction) == []  # alice's first issue, backfilled: not greeted

    world.deliver("issues", issue_event("labeled", 5, "alice", sender="max", created="2026-10-06T10:00:00Z",
                                        updated="2026-10-20T10:00:00Z", labels=("question",)))
    world.deliver("issues", issue_event("opened", 7, "alice", created="2026-10-21T10:00:00Z"))
    world.deliver("pull_request", pr_event("opened", 8, "carol", created="2026-10-21T11:00:00Z"))
    assert len(world.rows(Thread)) == 6 + 2  # 5 is the backfilled thread, updated
    [five] = world.rows(Thread, Thread.number == "5")
    assert (five.labels, five.title) == (["question"], "Item 5")
    assert greetings(world) == []  # alice's second issue and carol's second PR: nobody is new
    assert {a.key.split("@")[0] for a in world.rows(OutboxAction)} == {  # announced as the rules ask, that is all
        "event:github:acme/rocket:issue.opened:issue:7", "event:github:acme/rocket:pr.opened:pr:8"}

    world.deliver("issues", issue_event("opened", 9, "frank", created="2026-10-22T10:00:00Z"))
    assert greetings(world) == ["welcome:repo:github:acme/rocket:github:frank:first_issue:comment",
                                "welcome:repo:github:acme/rocket:github:frank:first_issue:label",
                                "welcome:repo:github:acme/rocket:github:frank:first_issue:notify@team"]


def greetings(world: Any) -> list[str]:
    return [a.key for a in world.rows(OutboxAction) if a.key.startswith("welcome:")]


# -- the command line ----------------------------------------------------------------------------------------------


def config(tmp_path: Path, world: Any, forge: FakeForge) -> Path:
    path = tmp_path / "config.toml"
    path.write_text("\n".join([
        "[database]", f'url = "{world.settings.database.url}"',
        "[github]", f'token = "{TOKEN}"', f'api_url = "{forge.base_url}/github"',
        "[gitee]", f'token = "{GITEE_TOKEN}"', f'api_url = "{forge.base_url}/gitee/api/v5"', ""]), encoding="utf-8")
    return path


async def cobot(*args: str) -> tuple[int, str]:
    result = await asyncio.to_thread(CliRunner().invoke, main, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.output


async def test_the_command_line_backfills_github_and_never_shows_the_token(world, forge: FakeForge, tmp_path: Path):
    seed_github(forge)
    path = str(config(tmp_path, world, forge))
    code, output = await cobot("backfill", "github", REPO, "--config", path)
    assert code == 0, output
    assert f"{GITHUB_EVENTS} events stored, 0 duplicates skipped" in output
    assert all(stage in output for stage in ("issues", "pulls", "comments", "review_comments", "reviews",
                                             "stargazers"))
    assert kinds(world) == GITHUB_KINDS and world.rows(OutboxAction) == []

    code, output = await cobot("backfill", "status", "--config", path)
    assert code == 0 and "backfill:github:acme/rocket:issues" in output

    forge.valid_tokens = {"another token"}
    code, output = await cobot("backfill", "github", REPO, "--restart", "--config", path)
    assert code == 1 and "GitHub 401: Bad credentials" in output and "run the same command again" in output
    assert TOKEN not in output


async def test_the_command_line_backfills_gitee_and_never_shows_the_token(world, forge: FakeForge, tmp_path: Path):
    seed_gitee(forge)
    path = str(config(tmp_path, world, forge))
    code, output = await cobot("backfill", "gitee", GITEE_REPO, "--since", "2026-09-01", "--config", path)
    assert code == 0, output
    assert f"{sum(GITEE_KINDS.values())} events stored" in output and GITEE_TOKEN not in output
    assert kinds(world, GITEE) == GITEE_KINDS

    forge.fail_next(401, message="401 Unauthorized: Access token does not exist", times=4)
    code, output = await cobot("backfill", "gitee", GITEE_REPO, "--restart", "--config", path)
    assert code == 1 and "Gitee 401" in output and GITEE_TOKEN not in output
    code, output = await cobot("backfill", "gitee", "no-slash", "--config", path)
    assert code == 1 and "owner/name" in output and "resume" not in output  # (nothing was begun)
    code, output = await cobot("backfill", "github", "acme/rocket/extra", "--config", path)
    assert code == 1 and "owner/name, not 'acme/rocket/extra'" in output and "resume" not in output


async def test_a_merge_a_webhook_credited_to_its_merger_is_not_counted_again(world, forge: FakeForge):
    """GitHub's lists do not say who merged: the backfill credits the author, the webhook named the merger. It is
    one merge all the same."""
    seed_github(forge)
    world.deliver("pull_request", pr_event("closed", 3, "carol", sender="max", created="2026-10-04T10:00:00Z",
                                           state="closed", closed="2026-10-05T10:00:00Z",
                                           merged="2026-10-05T10:00:00Z", updated="2026-10-05T10:00:00Z"))
    await backfill(world, github(world))
    assert kinds(world)["pr.merged"] == 1
