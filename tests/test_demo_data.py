"""The demo stream: repeatable, shaped like the platforms' deliveries, and telling the story the demo shows."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import tomllib
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config import settings_from_mapping
from bot.demo.stream import DEMO_CONFIG, MAINTAINERS, NEWCOMERS, DemoDelivery, demo_deliveries
from bot.platforms.gitee import GiteeWebhooks
from bot.platforms.github import GitHubWebhooks

START = datetime(2024, 5, 15, 9, 30, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[1]
GITHUB_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
GITEE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")
REPO_KEYS = {"repository", "project", "repo", "forkee", "source_repo", "target_repo"}


@pytest.fixture(scope="module")
def stream() -> list[DemoDelivery]:
    return demo_deliveries(START)


def github(stream: list[DemoDelivery], event: str | None = None) -> list[DemoDelivery]:
    return [d for d in stream if d.platform == "github" and (event is None or d.event == event)]


def gitee(stream: list[DemoDelivery], event: str | None = None) -> list[DemoDelivery]:
    return [d for d in stream if d.platform == "gitee" and (event is None or d.event == event)]


def digest(stream: list[DemoDelivery]) -> str:
    rows = [[d.platform, d.event, d.delivery_id, d.payload] for d in stream]
    return hashlib.sha256(json.dumps(rows, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def times(value: Any, inside_repo: bool = False) -> list[tuple[str, str, bool]]:
    """Every (key, time string, inside a repository object) in a payload."""
    found: list[tuple[str, str, bool]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str) and (key.endswith("_at") or key in ("timestamp", "time")):
                found.append((key, item, inside_repo))
            else:
                found.extend(times(item, inside_repo or key in REPO_KEYS))
    elif isinstance(value, list):
        for item in value:
            found.extend(times(item, inside_repo))
    return found


# ---------------------------------------------------------------- repeatable, serialisable, safe

def test_the_same_start_gives_the_same_stream(stream):
    again = demo_deliveries(START)
    assert again == stream
    assert digest(again) == digest(stream)


def test_the_stream_does_not_depend_on_the_process(stream):
    """No `hash()` or randomness: another interpreter, another hash seed, the same bytes."""
    code = ("import sys; from datetime import datetime; from bot.demo.stream import demo_deliveries; "
            "from tests.test_demo_data import digest; "
            "print(digest(demo_deliveries(datetime.fromisoformat(sys.argv[1]))))")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    result = subprocess.run([sys.executable, "-c", code, START.isoformat()], cwd=ROOT, env=env,
                            capture_output=True, text=True, check=True)
    assert result.stdout.strip() == digest(stream)


def test_another_start_moves_the_story_but_keeps_it(stream):
    later = demo_deliveries(START + timedelta(days=30))
    assert [(d.platform, d.event, d.payload.get("action")) for d in later] == \
        [(d.platform, d.event, d.payload.get("action")) for d in stream]
    assert digest(later) != digest(stream)


def test_a_naive_start_is_taken_as_utc(stream):
    assert demo_deliveries(START.replace(tzinfo=None)) == stream


def test_every_payload_is_json_serialisable(stream):
    for item in stream:
        text = json.dumps(item.payload, ensure_ascii=False)
        assert json.loads(text) == item.payload


def test_no_payload_carries_the_fields_the_sender_adds_when_signing(stream):
    for item in stream:
        assert not {"password", "sign", "timestamp"} & item.payload.keys(), item.event


def test_it_is_a_stream_of_the_right_size(stream):
    assert 60 <= len(stream) <= 90
    assert {d.platform for d in stream} == {"github", "gitee"}


def test_times_are_iso_8601_in_the_two_weeks_before_start(stream):
    earliest = START - timedelta(days=15)
    for item in stream:
        pattern = GITHUB_TIME if item.platform == "github" else GITEE_TIME
        for key, value, inside_repo in times(item.payload):
            assert pattern.match(value), (item.event, key, value)
            if not inside_repo:  # a repository's own created_at is older than the story
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
                assert earliest <= moment < START, (item.event, key, value)


# ---------------------------------------------------------------- GitHub shapes

GITHUB_THREAD_KEYS = {"number", "title", "body", "state", "user", "labels", "assignees", "created_at",
                      "updated_at", "closed_at", "html_url"}
GITHUB_PR_KEYS = GITHUB_THREAD_KEYS | {"merged", "merged_at", "draft", "head", "base"}


def check_user(user: dict[str, Any]) -> None:
    assert {"login", "id", "type"} <= user.keys()
    assert user["type"] == ("Bot" if user["login"].endswith("[bot]") else user["type"])
    assert user["type"] in {"User", "Bot", "Organization"}


def check_thread(item: dict[str, Any], keys: set[str]) -> None:
    assert keys <= item.keys()
    check_user(item["user"])
    assert all("name" in label for label in item["labels"])
    assert all("login" in person for person in item["assignees"])
    assert item["state"] in {"open", "closed"}


@pytest.mark.parametrize("event", ["issues", "issue_comment", "pull_request", "pull_request_review", "push",
                                   "star", "fork", "release", "member", "ping"])
def test_every_github_delivery_has_the_fields_cobot_reads(stream, event):
    deliveries = github(stream, event)
    assert deliveries, f"no {event} delivery"
    for item in deliveries:
        payload = item.payload
        repo = payload["repository"]
        assert {"full_name", "html_url", "name"} <= repo.keys() and "login" in repo["owner"]
        check_user(payload["sender"])
        assert payload["sender"]["type"] in {"User", "Bot"}
        if event == "issues":
            check_thread(payload["issue"], GITHUB_THREAD_KEYS)
        elif event == "issue_comment":
            check_thread(payload["issue"], GITHUB_THREAD_KEYS)
            assert {"id", "body", "user", "created_at", "html_url"} <= payload["comment"].keys()
        elif event == "pull_request":
            check_thread(payload["pull_request"], GITHUB_PR_KEYS)
            assert "ref" in payload["pull_request"]["head"] and "ref" in payload["pull_request"]["base"]
        elif event == "pull_request_review":
            check_thread(payload["pull_request"], GITHUB_PR_KEYS)
            review = payload["review"]
            assert {"id", "state", "body", "user", "submitted_at", "html_url"} <= review.keys()
            assert review["state"] in {"approved", "commented", "changes_requested"}
        elif event == "push":
            assert {"ref", "before", "after", "commits", "head_commit", "pusher"} <= payload.keys()
            assert {"timestamp", "id", "message"} <= payload["head_commit"].keys()
        elif event == "star":
            assert payload["action"] == "created" and payload["starred_at"]
        elif event == "fork":
            assert {"full_name", "created_at", "owner"} <= payload["forkee"].keys()
        elif event == "release":
            assert payload["action"] == "published"
            assert {"tag_name", "name", "published_at", "html_url", "author"} <= payload["release"].keys()
        elif event == "member":
            assert payload["action"] == "added" and payload["member"]["login"]
        elif event == "ping":
            assert payload["zen"] and payload["hook_id"]


def test_a_comment_on_a_pr_is_marked_as_one_and_a_comment_on_an_issue_is_not(stream):
    on_pr = {"pull_request" in d.payload["issue"] for d in github(stream, "issue_comment")}
    assert on_pr == {True, False}
    for item in github(stream, "issue_comment"):
        if "pull_request" in item.payload["issue"]:
            assert item.payload["issue"]["pull_request"]["url"].endswith(f"/pulls/{item.payload['issue']['number']}")


def test_github_deliveries_have_uuid_ids_and_gitee_none(stream):
    for item in github(stream):
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", item.delivery_id or "")
    assert all(item.delivery_id is None for item in gitee(stream))


# ---------------------------------------------------------------- Gitee shapes

HOOK_NAMES = {"Issue Hook": "issue_hooks", "Merge Request Hook": "merge_request_hooks", "Note Hook": "note_hooks",
              "Push Hook": "push_hooks", "Tag Push Hook": "tag_push_hooks"}


def check_gitee_user(user: dict[str, Any]) -> None:
    assert user["login"] and user["username"] == user["login"] and "id" in user


@pytest.mark.parametrize("event", sorted(HOOK_NAMES))
def test_every_gitee_delivery_is_shaped_like_a_real_one(stream, event):
    deliveries = gitee(stream, event)
    assert deliveries, f"no {event} delivery"
    for item in deliveries:
        payload = item.payload
        assert payload["hook_name"] == HOOK_NAMES[event]
        assert payload["repository"]["full_name"] == payload["project"]["full_name"] == "lumen-ai/lumen-cn"
        check_gitee_user(payload["sender"])
        if event == "Issue Hook":
            issue = payload["issue"]
            assert payload["action"] in {"open", "assign", "state_change"}
            assert re.fullmatch(r"I[0-9A-Z]{5}", issue["number"])
            assert issue["state"] in {"open", "progressing", "closed"}
            assert {"title", "user", "labels", "assignee", "created_at", "updated_at", "html_url"} <= issue.keys()
            check_gitee_user(issue["user"])
        elif event == "Merge Request Hook":
            pr = payload["pull_request"]
            assert payload["action"] in {"open", "update", "merge", "close"} and payload["action_desc"]
            assert pr["state"] in {"open", "closed", "merged"} and pr["merged"] == (pr["state"] == "merged")
            assert {"number", "merged_at", "user", "labels", "assignees", "created_at", "updated_at",
                    "html_url"} <= pr.keys()
            assert isinstance(pr["number"], int)
        elif event == "Note Hook":
            assert payload["action"] == "comment"
            assert {"id", "body", "user", "created_at", "html_url"} <= payload["comment"].keys()
            if payload["noteable_type"] == "Issue":
                assert payload["issue"] and payload["pull_request"] is None
            else:
                assert payload["noteable_type"] == "PullRequest"
                assert payload["pull_request"] and payload["issue"] is None
        else:
            assert {"ref", "before", "after", "head_commit", "pusher", "user"} <= payload.keys()
            assert payload["ref"].startswith("refs/tags/" if event == "Tag Push Hook" else "refs/heads/")


def test_gitee_notes_cover_issues_and_pull_requests(stream):
    assert {d.payload["noteable_type"] for d in gitee(stream, "Note Hook")} == {"Issue", "PullRequest"}


def test_no_two_gitee_deliveries_look_alike(stream):
    """Gitee sends no delivery id: cobot identifies a delivery by its body, so distinct events need distinct bodies."""
    bodies = [json.dumps(d.payload, sort_keys=True, ensure_ascii=False) for d in gitee(stream)]
    assert len(set(bodies)) == len(bodies)


# ---------------------------------------------------------------- the story's special deliveries

def test_one_issue_is_closed_before_its_opening_is_delivered(stream):
    first_seen: dict[tuple[str, int], str] = {}
    for item in github(stream, "issues"):
        first_seen.setdefault((item.payload["repository"]["full_name"], item.payload["issue"]["number"]),
                              item.payload["action"])
    assert [key for key, action in first_seen.items() if action == "closed"] == [("lumen-ai/lumen", 142)]
    closed, opened = [d for d in github(stream, "issues") if d.payload["issue"]["number"] == 142]
    assert (closed.payload["action"], opened.payload["action"]) == ("closed", "opened")
    assert closed.payload["issue"]["closed_at"] > opened.payload["issue"]["created_at"]


def test_exactly_one_github_delivery_is_redelivered_unchanged(stream):
    counts = Counter(d.delivery_id for d in github(stream))
    repeated = [key for key, n in counts.items() if n > 1]
    assert len(repeated) == 1 and counts[repeated[0]] == 2
    first, again = [d for d in github(stream) if d.delivery_id == repeated[0]]
    assert first == again
    assert (again.event, again.payload["action"], again.payload["number"]) == ("pull_request", "opened", 144)
    positions = [i for i, d in enumerate(stream) if d.delivery_id == repeated[0]]
    assert positions[1] > positions[0] + 1  # redelivered later, not back to back


def test_one_ping_one_member_one_release_and_a_tag_on_each_platform(stream):
    assert len(github(stream, "ping")) == 1 and stream[0].event == "ping"
    assert [d.payload["member"]["login"] for d in github(stream, "member")] == ["chenhao"]
    assert [d.payload["release"]["tag_name"] for d in github(stream, "release")] == ["v0.4.0"]
    assert [d.payload["ref"] for d in github(stream, "push") if d.payload["ref"].startswith("refs/tags/")] == \
        ["refs/tags/v0.4.0"]
    assert [d.payload["ref"] for d in gitee(stream, "Tag Push Hook")] == ["refs/tags/v0.4.0"]
    assert len(github(stream, "star")) >= 3 and len(github(stream, "fork")) >= 3


def test_dependabot_opens_a_pr_as_a_bot(stream):
    opened = [d.payload for d in github(stream, "pull_request") if d.payload["action"] == "opened"
              and d.payload["pull_request"]["user"]["login"] == "dependabot[bot]"]
    assert len(opened) == 1
    assert opened[0]["pull_request"]["user"]["type"] == "Bot" and opened[0]["sender"]["type"] == "Bot"


def merged_prs(stream: list[DemoDelivery]) -> dict[tuple[str, str, int], str]:
    merged = {}
    for item in github(stream, "pull_request"):
        pr = item.payload["pull_request"]
        if item.payload["action"] == "closed" and pr["merged"]:
            merged[("github", item.payload["repository"]["full_name"], pr["number"])] = pr["user"]["login"]
    for item in gitee(stream, "Merge Request Hook"):
        if item.payload["action"] == "merge":
            pr = item.payload["pull_request"]
            merged[("gitee", item.payload["repository"]["full_name"], pr["number"])] = pr["user"]["login"]
    return merged


def test_which_prs_merge_and_which_do_not(stream):
    assert merged_prs(stream) == {
        ("github", "lumen-ai/lumen", 143): "dependabot[bot]",
        ("github", "lumen-ai/lumen", 144): "priya-k",
        ("github", "lumen-ai/lumen", 145): "zhangwei-dev",
        ("gitee", "lumen-ai/lumen-cn", 12): "liuyang2024",
    }
    closed_unmerged = [(d.payload["repository"]["full_name"], d.payload["number"])
                       for d in github(stream, "pull_request")
                       if d.payload["action"] == "closed" and not d.payload["pull_request"]["merged"]]
    assert closed_unmerged == [("lumen-ai/lumen-docs", 57)]


def test_an_issue_is_closed_then_reopened(stream):
    actions = [d.payload["action"] for d in github(stream, "issues") if d.payload["issue"]["number"] == 141]
    assert actions == ["opened", "labeled", "closed", "reopened", "closed"]


def test_newcomers_open_first_issues_and_prs_on_both_platforms(stream):
    authors: dict[str, set[str]] = {"github": set(), "gitee": set()}
    for item in stream:
        payload = item.payload
        opened = payload.get("action") in ("opened", "open")
        thread = payload.get("issue") or payload.get("pull_request")
        if opened and thread:
            authors[item.platform].add(thread["user"]["login"])
    for person, accounts in NEWCOMERS.items():
        for platform, login in accounts.items():
            assert login in authors[platform], (person, platform)
    assert {"github", "gitee"} == set(NEWCOMERS["zhangwei"])
    assert not set(MAINTAINERS) & {login for accounts in NEWCOMERS.values() for login in accounts.values()}


def test_maintainers_triage_on_both_platforms(stream):
    actors = {(d.platform, d.payload["sender"]["login"]) for d in stream}
    assert {("github", "mei-lin"), ("github", "oscar-dev"), ("github", "aiko-t"), ("gitee", "chenhao")} <= actors


def test_every_delivery_translates_into_events(stream):
    platforms = {"github": GitHubWebhooks("secret"), "gitee": GiteeWebhooks("secret")}
    for item in stream:
        events = platforms[item.platform].translate(item.event, item.payload, START)
        assert events or item.event == "ping", (item.platform, item.event, item.payload.get("action"))


# ---------------------------------------------------------------- the configuration

def test_the_demo_config_validates_and_describes_the_community():
    settings = settings_from_mapping(tomllib.loads(DEMO_CONFIG), "the demo configuration", env={})
    community = settings.community
    assert community.name == "Lumen AI" and community.language == "en"
    assert {grantee.split(":", 1)[1] for grantee in community.maintainers} == set(MAINTAINERS)
    assert all(settings.names_account(community.maintainers, "github", login) for login in MAINTAINERS)
    assert settings.welcome.scope == "repo"
    assert settings.repo_language("github", "lumen-ai/lumen") == "en"
    assert settings.repo_language("github", "lumen-ai/lumen-docs") == "en"
    assert settings.repo_language("gitee", "lumen-ai/lumen-cn") == "zh"
    assert settings.person_for("github", "zhangwei-dev") == settings.person_for("gitee", "zhang_wei")
    assert settings.is_bot("lumen-ci") and settings.is_bot("dependabot[bot]")
    assert not settings.is_bot("priya-k")
