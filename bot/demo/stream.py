"""The `cobot demo` stream: two weeks of a small fictional AI community, as webhook deliveries.

Everything here was written for cobot (people, repos, text); only the *shapes* follow the platforms:
GitHub's documented webhook payloads, and Gitee's as seen in real deliveries (see
/work/shared/fixtures/gitee/SOURCES.md). Bodies carry no `password`, `sign` or `timestamp`: whoever sends
a Gitee delivery adds those when signing it.

The community "Lumen AI" has `lumen-ai/lumen` and `lumen-ai/lumen-docs` on GitHub and `lumen-ai/lumen-cn`
on Gitee. The story is told in `_tell_story`, in delivery order; `demo_deliveries(start)` places it in the
two weeks before `start`, deterministically.
"""

from __future__ import annotations

import copy
import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Literal

CST = timezone(timedelta(hours=8), "CST")
ZERO_SHA = "0" * 40
STORY_DAYS = 14
_DELIVERY_NAMESPACE = uuid.UUID("5b6f2a9e-3c1d-4e8a-9f70-1d2c3b4a5e6f")
_GITEE_HOOK_ID = 2417730

DEMO_CONFIG = """\
# The configuration `cobot demo` runs with (secrets, database and server are added by the demo).
[community]
name = "Lumen AI"
language = "en"
maintainers = ["github:mei-lin", "github:oscar-dev", "github:chenhao", "github:aiko-t",
               "gitee:mei-lin", "gitee:chenhao"]
bots = ["lumen-ci"]

[[community.repos]]
platform = "github"
name = "lumen-ai/lumen"
language = "en"

[[community.repos]]
platform = "github"
name = "lumen-ai/lumen-docs"
language = "en"

[[community.repos]]
platform = "gitee"
name = "lumen-ai/lumen-cn"
language = "zh"

[[community.identities]]
name = "zhangwei"
github = "zhangwei-dev"
gitee = "zhang_wei"

[welcome]
scope = "repo"
"""


@dataclass(frozen=True)
class DemoDelivery:
    platform: Literal["github", "gitee"]
    event: str  # the X-GitHub-Event or X-Gitee-Event header value
    payload: dict[str, Any]
    delivery_id: str | None  # X-GitHub-Delivery; Gitee sends none


# People: login -> display name (commit author names, Gitee `name`).
NAMES: dict[str, str] = {
    "mei-lin": "Mei Lin", "oscar-dev": "Oscar Álvarez", "chenhao": "陈浩", "aiko-t": "Aiko Tanaka",
    "priya-k": "Priya Kumar", "kenji-w": "Kenji Watanabe", "zhangwei-dev": "Zhang Wei", "zhang_wei": "张伟",
    "liuyang2024": "刘洋", "wangxiaoyu": "王小雨", "tomas-r": "Tomás Rivera", "lumen-ci": "Lumen CI",
    "dependabot[bot]": "dependabot[bot]", "rin-ai": "Rin", "dataxu": "Xu Da", "hiro-s": "Hiro Sato",
    "ml-enthusiast": "Sam", "nadia-o": "Nadia Okafor",
}
_FIXED_IDS = {"dependabot[bot]": 49699333}
LABEL_COLORS: dict[str, str] = {
    "bug": "d73a4a", "enhancement": "a2eeef", "help wanted": "008672", "dependencies": "0366d6",
    "platform: windows": "5319e7", "documentation": "0075ca", "question": "d876e3", "文档": "0075CA", "求助": "00B5AD",
}
_GITEE_STATE_NAMES = {"open": "待办的", "progressing": "进行中", "closed": "已完成"}
_ORG = "lumen-ai"


def _number(*parts: object, digits: int = 8) -> int:
    """A stable number for a name (ids must not change between runs, so no `hash()`)."""
    value = int(hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()[:12], 16)
    return 10 ** (digits - 1) + value % (9 * 10 ** (digits - 1))


def _sha(*parts: object) -> str:
    return hashlib.sha1("/".join(map(str, parts)).encode()).hexdigest()


def user_id(login: str) -> int:
    return _FIXED_IDS.get(login) or _number("user", login)


def gh_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def gitee_time(when: datetime) -> str:
    return when.astimezone(CST).isoformat(timespec="seconds")


def _gh_time_or_none(when: datetime | None) -> str | None:
    return gh_time(when) if when else None


def _gitee_time_or_none(when: datetime | None) -> str | None:
    return gitee_time(when) if when else None


# ---------------------------------------------------------------- GitHub payload builders

def gh_user(login: str) -> dict[str, Any]:
    kind = "Bot" if login.endswith("[bot]") else "User"
    path = f"apps/{login[:-5]}" if kind == "Bot" else login
    return {"login": login, "id": user_id(login), "type": kind, "site_admin": False,
            "html_url": f"https://github.com/{path}", "url": f"https://api.github.com/users/{login}"}


def gh_owner(login: str) -> dict[str, Any]:
    """The owner of a repo or branch: the org, or a person (for forks)."""
    return gh_user(login) | {"type": "Organization" if login == _ORG else "User"}


def gh_org() -> dict[str, Any]:
    return {"login": _ORG, "id": _number("org", _ORG), "url": f"https://api.github.com/orgs/{_ORG}"}


def gh_repo(full_name: str) -> dict[str, Any]:
    owner, name = full_name.split("/")
    return {"id": _number("repo", full_name, digits=9), "name": name, "full_name": full_name, "private": False,
            "owner": gh_owner(owner), "html_url": f"https://github.com/{full_name}",
            "url": f"https://api.github.com/repos/{full_name}", "fork": owner != _ORG,
            "default_branch": "main", "language": "Python" if name == "lumen" else "MDX",
            "description": {"lumen": "A small, fast inference runtime for open LLMs",
                            "lumen-docs": "Documentation site for Lumen"}.get(name, "")}


def _gh_envelope(repo: str, sender: str, **fields: Any) -> dict[str, Any]:
    payload = dict(fields)
    payload.update(repository=gh_repo(repo), organization=gh_org(), sender=gh_user(sender))
    return payload


def _gh_label(name: str) -> dict[str, Any]:
    return {"id": _number("label", name, digits=10), "name": name, "color": LABEL_COLORS.get(name, "ededed"),
            "default": name in {"bug", "enhancement", "documentation", "help wanted", "question"}}


@dataclass
class DemoThread:
    """An issue or PR as it stands now; builders snapshot it into payloads."""

    platform: Literal["github", "gitee"]
    repo: str
    number: int | str
    is_pr: bool
    title: str
    body: str
    author: str
    created: datetime
    updated: datetime
    state: str = "open"
    labels: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    closed: datetime | None = None
    merged: datetime | None = None
    merged_by: str | None = None
    merge_sha: str | None = None
    comments: int = 0
    draft: bool = False
    reopened: bool = False
    head: str = ""
    head_owner: str = ""
    head_sha: str = ""
    base_sha: str = ""
    type_name: str = "任务"

    @property
    def id(self) -> int:
        return _number(self.platform, self.repo, self.number, self.is_pr)

    @property
    def html_url(self) -> str:
        if self.platform == "gitee":
            return f"https://gitee.com/{self.repo}/{'pulls' if self.is_pr else 'issues'}/{self.number}"
        return f"https://github.com/{self.repo}/{'pull' if self.is_pr else 'issues'}/{self.number}"


def gh_issue(t: DemoThread) -> dict[str, Any]:
    """`issue` as in `issues` and `issue_comment` deliveries (a PR, seen through the issues API, too)."""
    api = f"https://api.github.com/repos/{t.repo}/issues/{t.number}"
    issue: dict[str, Any] = {
        "url": api, "html_url": t.html_url, "id": t.id, "number": t.number,
        "title": t.title, "body": t.body, "user": gh_user(t.author), "labels": [_gh_label(n) for n in t.labels],
        "state": "closed" if t.state == "closed" else "open",
        "state_reason": "completed" if t.state == "closed" else ("reopened" if t.reopened else None),
        "locked": False, "assignee": gh_user(t.assignees[0]) if t.assignees else None,
        "assignees": [gh_user(a) for a in t.assignees], "comments": t.comments,
        "created_at": gh_time(t.created), "updated_at": gh_time(t.updated), "closed_at": _gh_time_or_none(t.closed),
    }
    if t.is_pr:
        issue["pull_request"] = {"url": f"https://api.github.com/repos/{t.repo}/pulls/{t.number}",
                                 "html_url": t.html_url, "diff_url": f"{t.html_url}.diff",
                                 "patch_url": f"{t.html_url}.patch", "merged_at": _gh_time_or_none(t.merged)}
    return issue


def gh_pr(t: DemoThread) -> dict[str, Any]:
    """`pull_request` as in `pull_request` and `pull_request_review` deliveries."""
    head_repo = f"{t.head_owner}/{t.repo.split('/')[1]}" if t.head_owner else t.repo
    return {
        "url": f"https://api.github.com/repos/{t.repo}/pulls/{t.number}", "id": t.id, "number": t.number,
        "html_url": t.html_url, "state": "closed" if t.state in ("closed", "merged") else "open", "locked": False,
        "title": t.title, "body": t.body, "user": gh_user(t.author), "labels": [_gh_label(n) for n in t.labels],
        "assignee": gh_user(t.assignees[0]) if t.assignees else None,
        "assignees": [gh_user(a) for a in t.assignees], "requested_reviewers": [],
        "created_at": gh_time(t.created), "updated_at": gh_time(t.updated), "closed_at": _gh_time_or_none(t.closed),
        "merged_at": _gh_time_or_none(t.merged), "merged": t.merged is not None,
        "merged_by": gh_user(t.merged_by) if t.merged_by else None, "merge_commit_sha": t.merge_sha,
        "draft": t.draft, "comments": t.comments,
        "head": {"label": f"{t.head_owner or _ORG}:{t.head}", "ref": t.head, "sha": t.head_sha,
                 "repo": gh_repo(head_repo), "user": gh_owner(t.head_owner or _ORG)},
        "base": {"label": f"{_ORG}:main", "ref": "main", "sha": t.base_sha, "repo": gh_repo(t.repo),
                 "user": gh_owner(_ORG)},
    }


def gh_comment_object(t: DemoThread, comment_id: int, who: str, when: datetime, body: str) -> dict[str, Any]:
    return {"id": comment_id, "html_url": f"{t.html_url}#issuecomment-{comment_id}",
            "issue_url": f"https://api.github.com/repos/{t.repo}/issues/{t.number}", "user": gh_user(who),
            "created_at": gh_time(when), "updated_at": gh_time(when), "body": body}


def gh_commit(repo: str, sha: str, message: str, author: str, when: datetime, *, web_merge: bool = False,
              modified: tuple[str, ...] = ()) -> dict[str, Any]:
    person = {"name": NAMES.get(author, author), "username": author,
              "email": f"{user_id(author)}+{author}@users.noreply.github.com"}
    committer = ({"name": "GitHub", "email": "noreply@github.com", "username": "web-flow"} if web_merge
                 else person)
    return {"id": sha, "tree_id": _sha("tree", sha), "distinct": True, "message": message,
            "timestamp": gh_time(when), "url": f"https://github.com/{repo}/commit/{sha}", "author": person,
            "committer": committer, "added": [], "removed": [], "modified": list(modified)}


# ---------------------------------------------------------------- Gitee payload builders

def gitee_user(login: str) -> dict[str, Any]:
    return {"id": user_id(login), "login": login, "name": NAMES.get(login, login), "username": login,
            "user_name": login, "email": f"{login}@users.noreply.example.org", "type": "User", "site_admin": False,
            "remark": None, "avatar_url": None, "html_url": f"https://gitee.com/{login}",
            "url": f"https://gitee.com/{login}"}


def gitee_git_user(login: str) -> dict[str, Any]:
    """The short user form of push deliveries (`pusher`, `user`)."""
    return {"id": user_id(login), "name": NAMES.get(login, login), "username": login, "user_name": login,
            "email": f"{login}@users.noreply.example.org", "url": f"https://gitee.com/{login}"}


def gitee_repo(full_name: str, when: datetime) -> dict[str, Any]:
    owner, name = full_name.split("/")
    url = f"https://gitee.com/{full_name}"
    return {"id": _number("gitee-repo", full_name), "name": name, "path": name, "full_name": full_name,
            "path_with_namespace": full_name, "name_with_namespace": full_name, "namespace": owner,
            "owner": gitee_user(owner), "description": "Lumen 中文社区：中文文档、教程与国内镜像",
            "private": False, "fork": owner != _ORG, "html_url": url, "url": url, "homepage": url,
            "clone_url": f"{url}.git", "git_http_url": f"{url}.git", "ssh_url": f"git@gitee.com:{full_name}.git",
            "git_ssh_url": f"git@gitee.com:{full_name}.git", "default_branch": "master", "language": "Python",
            "has_issues": True, "has_wiki": True, "has_pages": False, "license": "Apache-2.0",
            "created_at": "2023-09-12T10:20:31+08:00", "updated_at": gitee_time(when), "pushed_at": gitee_time(when)}


def _gitee_envelope(hook_name: str, repo: str, sender: str, when: datetime, **fields: Any) -> dict[str, Any]:
    payload = dict(fields)
    repository = gitee_repo(repo, when)
    payload.update(hook_name=hook_name, hook_id=_GITEE_HOOK_ID,
                   hook_url=f"https://gitee.com/{repo}/hooks/{_GITEE_HOOK_ID}/edit", repository=repository,
                   project=copy.deepcopy(repository), sender=gitee_user(sender), enterprise=None)
    return payload


def _gitee_label(name: str) -> dict[str, Any]:
    return {"id": _number("gitee-label", name, digits=9), "name": name, "color": LABEL_COLORS.get(name, "767676")}


def gitee_issue(t: DemoThread) -> dict[str, Any]:
    return {"id": t.id, "number": t.number, "title": t.title, "body": t.body, "state": t.state,
            "state_name": _GITEE_STATE_NAMES[t.state], "type_name": t.type_name, "user": gitee_user(t.author),
            "labels": [_gitee_label(n) for n in t.labels],
            "assignee": gitee_user(t.assignees[0]) if t.assignees else None, "collaborators": [],
            "milestone": None, "comments": t.comments, "html_url": t.html_url,
            "created_at": gitee_time(t.created), "updated_at": gitee_time(t.updated)}


def _gitee_ref(t: DemoThread, head: bool) -> dict[str, Any]:
    owner = (t.head_owner or _ORG) if head else _ORG
    repo = f"{owner}/{t.repo.split('/')[1]}"
    ref = t.head if head else "master"
    return {"label": f"{owner}:{ref}", "ref": ref, "sha": t.head_sha if head else t.base_sha,
            "user": gitee_user(owner), "repo": gitee_repo(repo, t.updated)}


def gitee_pr(t: DemoThread, updated_by: str | None = None) -> dict[str, Any]:
    return {"id": t.id, "number": t.number, "title": t.title, "body": t.body, "state": t.state,
            "merged": t.state == "merged", "merged_at": _gitee_time_or_none(t.merged),
            "closed_at": _gitee_time_or_none(t.closed), "user": gitee_user(t.author),
            "labels": [_gitee_label(n) for n in t.labels], "assignee": None,
            "assignees": [gitee_user(a) for a in t.assignees], "tester": None, "testers": [], "milestone": None,
            "need_review": t.state == "open", "need_test": False, "mergeable": t.state == "open",
            "merge_status": "can_be_merged", "merge_commit_sha": t.merge_sha or _sha("gitee-merge", t.number),
            "merge_reference_name": f"refs/pull/{t.number}/MERGE", "comments": t.comments, "commits": 1,
            "languages": ["Markdown"], "head": _gitee_ref(t, True), "base": _gitee_ref(t, False),
            "html_url": t.html_url, "diff_url": f"{t.html_url}.diff", "patch_url": f"{t.html_url}.patch",
            "created_at": gitee_time(t.created), "updated_at": gitee_time(t.updated),
            "updated_by": gitee_user(updated_by or t.author)}


def gitee_commit(repo: str, sha: str, parent: str, message: str, author: str, when: datetime,
                 modified: tuple[str, ...] = ()) -> dict[str, Any]:
    person = gitee_git_user(author) | {"remark": None, "user": None, "time": gitee_time(when)}
    return {"id": sha, "tree_id": _sha("tree", sha), "parent_ids": [parent], "distinct": True,
            "message": message, "timestamp": gitee_time(when), "url": f"https://gitee.com/{repo}/commit/{sha}",
            "author": person, "committer": dict(person), "added": [], "removed": [], "modified": list(modified)}


def gitee_note(t: DemoThread, note_id: int, who: str, when: datetime, body: str) -> dict[str, Any]:
    """A Note Hook body (a comment on an issue or a pull request)."""
    url = f"{t.html_url}#note_{note_id}"
    comment = {"id": note_id, "body": body, "user": gitee_user(who), "created_at": gitee_time(when),
               "updated_at": gitee_time(when), "html_url": url}
    return _gitee_envelope(
        "note_hooks", t.repo, who, when, action="comment", comment=comment, note=body, author=gitee_user(who),
        noteable_type="PullRequest" if t.is_pr else "Issue", noteable_id=t.id,
        per_iid=f"!{t.number}" if t.is_pr else f"#{t.number}", title=t.title, url=url,
        issue=None if t.is_pr else gitee_issue(t), pull_request=gitee_pr(t) if t.is_pr else None,
        short_commit_id=None, push_data=None)


# ---------------------------------------------------------------- the stream

class Stream:
    """Collects deliveries in the order they reach cobot. Each method below sends one delivery."""

    def __init__(self, start: datetime) -> None:
        start = start.replace(tzinfo=UTC) if start.tzinfo is None else start.astimezone(UTC)
        self.start = start
        self.origin = start.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=STORY_DAYS)
        self.deliveries: list[DemoDelivery] = []
        self.heads: dict[str, dict[str, Any]] = {}  # repo -> the commit at the tip of its default branch
        self._serial = 0
        self._last = self.origin

    # time, ids, order
    def at(self, day: int, clock: str) -> datetime:
        """`clock` (UTC, "HH:MM" or "HH:MM:SS") on day `day` (0 … 13) of the two weeks before `start`."""
        if not 0 <= day < STORY_DAYS:
            raise ValueError(f"story day {day} is outside the two weeks")
        hours, minutes, *seconds = (int(part) for part in clock.split(":"))
        return self.origin + timedelta(days=day, hours=hours, minutes=minutes, seconds=sum(seconds))

    def _next_id(self, base: int) -> int:
        self._serial += 1
        return base + self._serial * 7919

    def _emit(self, platform: Literal["github", "gitee"], event: str, payload: dict[str, Any],
              when: datetime) -> DemoDelivery:
        if when < self._last:  # the story is told in time order; only the helpers below reorder it
            raise ValueError(f"the story goes back in time at delivery {len(self.deliveries)} ({event})")
        self._last = when
        delivery_id = None
        if platform == "github":  # GitHub's GUID, made repeatable: same start, same ids
            name = f"lumen-demo/{self.start.isoformat()}/{len(self.deliveries)}"
            delivery_id = str(uuid.uuid5(_DELIVERY_NAMESPACE, name))
        item = DemoDelivery(platform=platform, event=event, payload=payload, delivery_id=delivery_id)
        self.deliveries.append(item)
        return item

    def deliver_last_two_swapped(self) -> None:
        """The network reorders: the later of the last two deliveries arrives first."""
        self.deliveries[-2], self.deliveries[-1] = self.deliveries[-1], self.deliveries[-2]

    def redeliver(self, item: DemoDelivery) -> None:
        """GitHub's "Redeliver" button: the same delivery id and the same body, again."""
        self.deliveries.append(DemoDelivery(item.platform, item.event, copy.deepcopy(item.payload),
                                            item.delivery_id))

    def seed(self, platform: Literal["github", "gitee"], repo: str, message: str, author: str, when: datetime
             ) -> None:
        """The commit a repo's default branch points at before the story starts."""
        sha = _sha(repo, message)
        self.heads[repo] = (gitee_commit(repo, sha, _sha("parent", sha), message, author, when)
                            if platform == "gitee" else gh_commit(repo, sha, message, author, when))

    # GitHub
    def gh_ping(self, repo: str, who: str, when: datetime) -> None:
        hook_id = _number("hook", repo, digits=9)
        hook = {"type": "Repository", "id": hook_id, "name": "web", "active": True,
                "events": ["issues", "issue_comment", "pull_request", "pull_request_review", "push", "star",
                           "fork", "release", "member"],
                "config": {"content_type": "json", "insecure_ssl": "0",
                           "url": "https://cobot.lumen-ai.example/webhooks/github"},
                "created_at": gh_time(when), "updated_at": gh_time(when),
                "url": f"https://api.github.com/repos/{repo}/hooks/{hook_id}",
                "test_url": f"https://api.github.com/repos/{repo}/hooks/{hook_id}/test",
                "ping_url": f"https://api.github.com/repos/{repo}/hooks/{hook_id}/pings",
                "deliveries_url": f"https://api.github.com/repos/{repo}/hooks/{hook_id}/deliveries",
                "last_response": {"code": None, "status": "unused", "message": None}}
        self._emit("github", "ping", _gh_envelope(repo, who, zen="Design for failure.", hook_id=hook_id,
                                                  hook=hook), when)

    def gh_star(self, repo: str, who: str, when: datetime) -> None:
        self._emit("github", "star", _gh_envelope(repo, who, action="created", starred_at=gh_time(when)), when)

    def gh_fork(self, repo: str, who: str, when: datetime) -> None:
        forkee = gh_repo(f"{who}/{repo.split('/')[1]}") | {
            "created_at": gh_time(when), "updated_at": gh_time(when), "pushed_at": gh_time(when), "public": True}
        self._emit("github", "fork", _gh_envelope(repo, who, forkee=forkee), when)

    def gh_member(self, repo: str, who: str, by: str, when: datetime, permission: str = "write") -> None:
        self._emit("github", "member", _gh_envelope(repo, by, action="added", member=gh_user(who),
                                                    changes={"permission": {"to": permission}}), when)

    def gh_release(self, repo: str, tag: str, name: str, by: str, when: datetime, body: str) -> None:
        release = {"id": _number("release", repo, tag, digits=9), "tag_name": tag, "target_commitish": "main",
                   "name": name, "body": body, "draft": False, "prerelease": False, "author": gh_user(by),
                   "created_at": gh_time(when - timedelta(minutes=3)), "published_at": gh_time(when),
                   "html_url": f"https://github.com/{repo}/releases/tag/{tag}",
                   "tarball_url": f"https://api.github.com/repos/{repo}/tarball/{tag}",
                   "zipball_url": f"https://api.github.com/repos/{repo}/zipball/{tag}", "assets": []}
        self._emit("github", "release", _gh_envelope(repo, by, action="published", release=release), when)

    def gh_push(self, repo: str, who: str, when: datetime, message: str, author: str, *,
                web_merge: bool = False, modified: tuple[str, ...] = ()) -> None:
        """One commit pushed to main (`web_merge`: the squash commit GitHub makes when a PR is merged)."""
        before = self.heads[repo]["id"]
        commit = gh_commit(repo, _sha(repo, message), message, author, when, web_merge=web_merge,
                           modified=modified)
        self.heads[repo] = commit
        after = commit["id"]
        self._emit("github", "push", _gh_envelope(
            repo, who, ref="refs/heads/main", before=before, after=after, created=False, deleted=False,
            forced=False, base_ref=None, compare=f"https://github.com/{repo}/compare/{before[:12]}...{after[:12]}",
            commits=[commit], head_commit=commit, pusher=_gh_pusher(who)), when)

    def gh_push_tag(self, repo: str, tag: str, who: str, when: datetime) -> None:
        """A new tag on main's tip: no commits, `head_commit` is the tagged commit."""
        head = self.heads[repo]
        self._emit("github", "push", _gh_envelope(
            repo, who, ref=f"refs/tags/{tag}", before=ZERO_SHA, after=head["id"], created=True, deleted=False,
            forced=False, base_ref="refs/heads/main", compare=f"https://github.com/{repo}/compare/{tag}",
            commits=[], head_commit=copy.deepcopy(head), pusher=_gh_pusher(who)), when)

    def gh_open_issue(self, repo: str, number: int, author: str, when: datetime, title: str, body: str
                      ) -> DemoThread:
        t = DemoThread("github", repo, number, False, title, body, author, when, when)
        self._emit("github", "issues", _gh_envelope(repo, author, action="opened", issue=gh_issue(t)), when)
        return t

    def gh_open_pr(self, repo: str, number: int, author: str, when: datetime, title: str, body: str, head: str,
                   *, fork: bool = True, draft: bool = False, labels: tuple[str, ...] = ()) -> DemoThread:
        t = DemoThread("github", repo, number, True, title, body, author, when, when, labels=list(labels),
                   draft=draft, head=head, head_owner=author if fork else "", head_sha=_sha(repo, head, 1),
                   base_sha=self.heads[repo]["id"])
        self._emit("github", "pull_request", _gh_envelope(repo, author, action="opened", number=number,
                                                          pull_request=gh_pr(t)), when)
        return t

    def gh_change(self, t: DemoThread, action: Literal["closed", "reopened", "labeled", "assigned", "synchronize"],
                  by: str, when: datetime, *, label: str | None = None, assignee: str | None = None) -> None:
        """An `issues` or `pull_request` delivery for a change (merging is `gh_merge`)."""
        t.updated = when
        extra: dict[str, Any] = {}
        if action == "closed":
            t.state, t.closed = "closed", when
        elif action == "reopened":
            t.state, t.closed, t.reopened = "open", None, True
        elif action == "labeled" and label:
            t.labels.append(label)
            extra["label"] = _gh_label(label)
        elif action == "assigned" and assignee:
            t.assignees.append(assignee)
            extra["assignee"] = gh_user(assignee)
        elif action == "synchronize" and t.is_pr:
            extra["before"] = t.head_sha
            t.head_sha = _sha(t.repo, t.head, when.isoformat())
            extra["after"] = t.head_sha
        else:
            raise ValueError(f"cannot tell {action!r} for {t.repo}#{t.number}")
        if t.is_pr:
            payload = _gh_envelope(t.repo, by, action=action, number=t.number, pull_request=gh_pr(t), **extra)
            self._emit("github", "pull_request", payload, when)
        else:
            self._emit("github", "issues", _gh_envelope(t.repo, by, action=action, issue=gh_issue(t), **extra),
                       when)

    def gh_merge(self, t: DemoThread, by: str, when: datetime) -> str:
        """Squash-merge on the web: `pull_request` closed with `merged: true`. Returns the commit message."""
        message = f"{t.title} (#{t.number})"
        t.state, t.closed, t.merged, t.merged_by, t.updated = "closed", when, when, by, when
        t.merge_sha = _sha(t.repo, message)
        self._emit("github", "pull_request", _gh_envelope(t.repo, by, action="closed", number=t.number,
                                                          pull_request=gh_pr(t)), when)
        return message

    def gh_comment_on(self, t: DemoThread, who: str, when: datetime, body: str) -> None:
        t.comments += 1
        t.updated = when
        comment = gh_comment_object(t, self._next_id(2_081_000_000), who, when, body)
        self._emit("github", "issue_comment", _gh_envelope(t.repo, who, action="created", issue=gh_issue(t),
                                                           comment=comment), when)

    def gh_review(self, t: DemoThread, who: str, when: datetime,
                  state: Literal["approved", "commented", "changes_requested"], body: str) -> None:
        t.updated = when
        review_id = self._next_id(1_960_000_000)
        review = {"id": review_id, "user": gh_user(who), "body": body, "state": state, "commit_id": t.head_sha,
                  "submitted_at": gh_time(when), "html_url": f"{t.html_url}#pullrequestreview-{review_id}",
                  "pull_request_url": f"https://api.github.com/repos/{t.repo}/pulls/{t.number}"}
        self._emit("github", "pull_request_review", _gh_envelope(t.repo, who, action="submitted", review=review,
                                                                 pull_request=gh_pr(t)), when)

    # Gitee
    def gitee_open_issue(self, repo: str, ident: str, author: str, when: datetime, title: str, body: str,
                         type_name: str = "任务") -> DemoThread:
        t = DemoThread("gitee", repo, ident, False, title, body, author, when, when, type_name=type_name)
        self._gitee_issue_hook(t, "open", author, when)
        return t

    def gitee_issue_change(self, t: DemoThread, action: Literal["assign", "state_change"], by: str, when: datetime,
                           *, state: Literal["open", "progressing", "closed"] | None = None,
                           assignee: str | None = None, labels: tuple[str, ...] = ()) -> None:
        """Gitee reports these edits as `assign` and `state_change` (to open, progressing or closed)."""
        t.updated = when
        t.labels.extend(label for label in labels if label not in t.labels)
        if assignee:
            t.assignees = [assignee]
        if state:
            t.state = state
            t.closed = when if state == "closed" else None
        self._gitee_issue_hook(t, action, by, when)

    def _gitee_issue_hook(self, t: DemoThread, action: str, by: str, when: datetime) -> None:
        issue = gitee_issue(t)
        payload = _gitee_envelope(
            "issue_hooks", t.repo, by, when, action=action, issue=issue, user=gitee_user(t.author),
            assignee=issue["assignee"], updated_by=gitee_user(by), target_user=None, iid=t.number,
            title=t.title, description=t.body, state=t.state, milestone=None, url=t.html_url, push_data=None)
        self._emit("gitee", "Issue Hook", payload, when)

    def gitee_open_pr(self, repo: str, number: int, author: str, when: datetime, title: str, body: str,
                      head: str) -> DemoThread:
        t = DemoThread("gitee", repo, number, True, title, body, author, when, when, head=head, head_owner=author,
                   head_sha=_sha(repo, head, 1), base_sha=self.heads[repo]["id"])
        self._gitee_pr_hook(t, "open", "open", author, when)
        return t

    def gitee_pr_change(self, t: DemoThread, by: str, when: datetime,
                        action_desc: Literal["source_branch_changed", "update_label"], *,
                        labels: tuple[str, ...] = ()) -> None:
        t.updated = when
        if action_desc == "source_branch_changed":
            t.head_sha = _sha(t.repo, t.head, when.isoformat())
        t.labels.extend(labels)
        self._gitee_pr_hook(t, "update", action_desc, by, when)

    def gitee_merge(self, t: DemoThread, by: str, when: datetime) -> str:
        """`merge`, state merged. Returns the merge commit's message, as Gitee writes it."""
        message = f"!{t.number} {t.title}\nMerge pull request !{t.number} from {t.author}/{t.head}"
        t.state, t.merged, t.closed, t.merged_by, t.updated = "merged", when, when, by, when
        t.merge_sha = _sha(t.repo, message)
        # As in Gitee's own deliveries, a merge (or close) keeps action_desc "open".
        self._gitee_pr_hook(t, "merge", "open", by, when)
        return message

    def _gitee_pr_hook(self, t: DemoThread, action: str, action_desc: str, by: str, when: datetime) -> None:
        pr = gitee_pr(t, updated_by=by)
        payload = _gitee_envelope(
            "merge_request_hooks", t.repo, by, when, action=action, action_desc=action_desc, pull_request=pr,
            author=gitee_user(t.author), updated_by=gitee_user(by), number=t.number, iid=t.number,
            title=t.title, body=t.body, state=t.state, url=t.html_url, languages=pr["languages"],
            merge_status=pr["merge_status"], merge_commit_sha=pr["merge_commit_sha"], source_branch=t.head,
            target_branch="master", target_user=None, push_data=None,
            source_repo={"project": pr["head"]["repo"], "repository": pr["head"]["repo"]},
            target_repo={"project": pr["base"]["repo"], "repository": pr["base"]["repo"]})
        self._emit("gitee", "Merge Request Hook", payload, when)

    def gitee_comment_on(self, t: DemoThread, who: str, when: datetime, body: str) -> None:
        t.comments += 1
        t.updated = when
        self._emit("gitee", "Note Hook", gitee_note(t, self._next_id(27_400_000), who, when, body), when)

    def gitee_push(self, repo: str, who: str, when: datetime, message: str, *, author: str | None = None,
                   modified: tuple[str, ...] = ()) -> None:
        """One commit pushed to master."""
        before = self.heads[repo]
        commit = gitee_commit(repo, _sha(repo, message), before["id"], message, author or who, when, modified)
        self.heads[repo] = commit
        self._gitee_push_hook(repo, who, when, "refs/heads/master", before["id"], [commit])

    def gitee_tag(self, repo: str, tag: str, who: str, when: datetime) -> None:
        """A new tag on master's tip (Gitee sends `commits: null` and the tagged commit as `head_commit`)."""
        self._gitee_push_hook(repo, who, when, f"refs/tags/{tag}", ZERO_SHA, None)

    def _gitee_push_hook(self, repo: str, who: str, when: datetime, ref: str, before: str,
                         commits: list[dict[str, Any]] | None) -> None:
        head = copy.deepcopy(self.heads[repo])
        after = head["id"]
        tag = commits is None
        payload = _gitee_envelope(
            "tag_push_hooks" if tag else "push_hooks", repo, who, when, ref=ref, before=before, after=after,
            created=tag, deleted=False, compare=f"https://gitee.com/{repo}/compare/{before}...{after}",
            commits=commits, commits_more_than_ten=None if tag else len(commits or []) > 10,
            total_commits_count=None if tag else len(commits or []), head_commit=head,
            pusher=gitee_git_user(who), user=gitee_git_user(who), user_id=user_id(who),
            user_name=NAMES.get(who, who), push_data=None)
        self._emit("gitee", "Tag Push Hook" if tag else "Push Hook", payload, when)


def _gh_pusher(login: str) -> dict[str, str]:
    return {"name": login, "email": f"{user_id(login)}+{login}@users.noreply.github.com"}


# ---------------------------------------------------------------- the story

LUMEN, DOCS, CN = "lumen-ai/lumen", "lumen-ai/lumen-docs", "lumen-ai/lumen-cn"
MAINTAINERS = ("mei-lin", "oscar-dev", "chenhao", "aiko-t")
NEWCOMERS: dict[str, dict[str, str]] = {  # person -> platform -> login
    "priya-k": {"github": "priya-k"},
    "kenji-w": {"github": "kenji-w"},
    "zhangwei": {"github": "zhangwei-dev", "gitee": "zhang_wei"},
    "tomas-r": {"github": "tomas-r"},
    "liuyang2024": {"gitee": "liuyang2024"},
    "wangxiaoyu": {"gitee": "wangxiaoyu"},
}


def _tell_story(s: Stream) -> None:
    at = s.at
    before = s.origin - timedelta(days=3)
    s.seed("github", LUMEN, "Release v0.3.2", "oscar-dev", before)
    s.seed("github", DOCS, "Add a page on sampling parameters", "aiko-t", before)
    s.seed("gitee", CN, "同步上游 v0.3.2 的中文文档", "chenhao", before)

    # Day 0: the webhook is set up; Priya files her first issue.
    s.gh_ping(LUMEN, "mei-lin", at(0, "01:02"))
    s.gh_star(LUMEN, "rin-ai", at(0, "02:14"))
    i141 = s.gh_open_issue(LUMEN, 141, "priya-k", at(0, "09:12"), "Tokenizer.encode crashes on an empty string",
                           "`Tokenizer.encode(\"\")` raises `IndexError: list index out of range` instead of "
                           "returning `[]`.\n\nRepro:\n```python\nfrom lumen import Tokenizer\n"
                           "Tokenizer.from_pretrained(\"lumen-tiny\").encode(\"\")\n```")
    s.gh_comment_on(i141, "oscar-dev", at(0, "10:05"), "Thanks for the report! Which Lumen version are you on?")
    s.gh_change(i141, "labeled", "oscar-dev", at(0, "10:06"), label="bug")
    s.gh_comment_on(i141, "priya-k", at(0, "10:41"), "lumen 0.3.2 from PyPI, Python 3.11 on Ubuntu 22.04.")

    # Day 1: Zhang Wei reports a Windows problem on Gitee, then forks the GitHub repo to fix it.
    zw = s.gitee_open_issue(CN, "I9QW3K", "zhang_wei", at(1, "02:30"), "Windows 下 lumen download 报错：路径无效",
                            "在 Windows 11 上运行 `lumen download lumen-tiny` 时报错：\n"
                            "`OSError: [WinError 123] 文件名、目录名或卷标语法不正确`\n"
                            "看起来缓存目录是用 `/` 拼接的。", type_name="缺陷")
    s.gitee_comment_on(zw, "chenhao", at(1, "03:15"),
                       "感谢反馈！请问 Python 和 lumen 的版本是多少？方便贴一下完整的 traceback 吗？")
    s.gitee_comment_on(zw, "zhang_wei", at(1, "03:41"),
                       "Python 3.12，lumen 0.3.2。问题在 `lumen/cache.py` 第 42 行，我可以在 GitHub 上提一个修复。")
    s.gh_star(LUMEN, "kenji-w", at(1, "04:20"))
    s.gh_fork(LUMEN, "zhangwei-dev", at(1, "05:02"))

    # Day 2: dependabot; Kenji opens a question and closes it 40 s later: the two deliveries arrive swapped.
    pr143 = s.gh_open_pr(LUMEN, 143, "dependabot[bot]", at(2, "06:00"), "Bump torch from 2.2.1 to 2.3.0",
                         "Bumps [torch](https://github.com/pytorch/pytorch) from 2.2.1 to 2.3.0.",
                         "dependabot/pip/torch-2.3.0", fork=False, labels=("dependencies",))
    s.gh_comment_on(pr143, "lumen-ci", at(2, "06:19"), "Benchmarks: tokens/s 1834 → 1841 (+0.4%), no regression.")
    i142 = s.gh_open_issue(LUMEN, 142, "kenji-w", at(2, "07:20:10"), "Does Lumen run on Apple Silicon?",
                           "Is there a way to use the GPU on an M2 MacBook?")
    s.gh_change(i142, "closed", "kenji-w", at(2, "07:20:50"))
    s.deliver_last_two_swapped()

    # Day 3: Priya's issue is closed by mistake, then reopened; Wang Xiaoyu asks a question on Gitee.
    s.gh_comment_on(i141, "oscar-dev", at(3, "08:30"), "I believe #139 fixed this on main, closing. Shout if not!")
    s.gh_change(i141, "closed", "oscar-dev", at(3, "08:31"))
    wx = s.gitee_open_issue(CN, "I9R2TZ", "wangxiaoyu", at(3, "09:05"), "加载 7B 模型时显存不足 (CUDA out of memory)",
                            "RTX 3060 12G，运行 `lumen run lumen-7b` 报 CUDA out of memory，请问最低显存要求是多少？")
    s.gh_comment_on(i141, "priya-k", at(3, "11:47"), "Still reproduces on main (a1c9e04): the empty-input check "
                    "comes after the index access. Happy to send a PR.")
    s.gh_comment_on(i141, "oscar-dev", at(3, "12:30"), "You're right, sorry about that! Reopening. A PR would be "
                    "very welcome; the fix belongs in `lumen/tokenizer.py`.")
    s.gh_change(i141, "reopened", "oscar-dev", at(3, "12:31"))

    # Day 4: triage on Gitee; Priya opens her first PR; the dependabot PR is merged.
    s.gitee_issue_change(wx, "assign", "chenhao", at(4, "01:40"), state="progressing", assignee="chenhao",
                         labels=("求助",))
    s.gitee_comment_on(wx, "chenhao", at(4, "01:52"), "12G 显存跑 7B 需要量化，试试 "
                       "`lumen run lumen-7b --load-in-8bit`。文档里确实没写清楚，我来补一下。")
    s.gh_fork(LUMEN, "priya-k", at(4, "05:10"))
    pr144 = s.gh_open_pr(LUMEN, 144, "priya-k", at(4, "06:02"), "Fix IndexError in Tokenizer.encode for empty input",
                         "Fixes #141.\n\nReturn `[]` early for empty input, with a regression test.",
                         "fix-empty-encode")
    opened_144 = s.deliveries[-1]
    s.gh_review(pr143, "mei-lin", at(4, "07:30"), "approved", "")
    squash = s.gh_merge(pr143, "mei-lin", at(4, "07:31"))
    s.gh_push(LUMEN, "mei-lin", at(4, "07:31:02"), squash, "dependabot[bot]", web_merge=True,
              modified=("requirements.txt",))
    s.gh_comment_on(pr144, "lumen-ci", at(4, "08:21"), "Benchmarks: no change. Tests: 412 passed.")

    # Day 5: Priya's PR is approved and merged, which closes her issue.
    s.gh_review(pr144, "oscar-dev", at(5, "09:14"), "approved", "LGTM, and thanks for the regression test!")
    squash = s.gh_merge(pr144, "oscar-dev", at(5, "09:15"))
    s.gh_change(i141, "closed", "oscar-dev", at(5, "09:15"))
    s.gh_push(LUMEN, "oscar-dev", at(5, "09:15:02"), squash, "priya-k", web_merge=True,
              modified=("lumen/tokenizer.py", "tests/test_tokenizer.py"))
    s.gh_comment_on(pr144, "priya-k", at(5, "10:02"), "Thank you for the quick review! 🎉")

    # Day 5–6: Liu Yang's first PR on Gitee, a Chinese quickstart, is reviewed and merged.
    pr12 = s.gitee_open_pr(CN, 12, "liuyang2024", at(5, "12:20"), "翻译快速上手文档 (quickstart) 为中文",
                           "把 docs/quickstart.md 翻译成中文，术语参照了术语表。", "quickstart-zh")
    s.gitee_comment_on(pr12, "chenhao", at(6, "01:35"), "翻译得很好！两处小建议：inference 统一译为“推理”，"
                       "代码块里的注释不用翻译。")
    s.gitee_pr_change(pr12, "liuyang2024", at(6, "02:10"), "source_branch_changed")
    s.gitee_pr_change(pr12, "chenhao", at(6, "02:25"), "update_label", labels=("文档",))
    s.gitee_comment_on(pr12, "mei-lin", at(6, "02:31"), "Thanks Liu Yang, this will help a lot of people! 感谢！\n"
                       "/award docs-hero @liuyang2024")
    merge_message = s.gitee_merge(pr12, "chenhao", at(6, "02:40"))
    s.gitee_push(CN, "chenhao", at(6, "02:40:05"), merge_message, modified=("docs/zh/quickstart.md",))

    # Day 6–7: Zhang Wei's first GitHub PR goes through one round of review, is merged, closes the Gitee issue.
    pr145 = s.gh_open_pr(LUMEN, 145, "zhangwei-dev", at(6, "03:30"), "Use pathlib for the cache directory on "
                         "Windows", "Builds cache paths with `pathlib.Path` instead of joining strings with `/`.\n\n"
                         "Reported on Gitee: https://gitee.com/lumen-ai/lumen-cn/issues/I9QW3K",
                         "fix/windows-cache-path")
    s.gh_comment_on(pr145, "lumen-ci", at(6, "03:52"), "Benchmarks: no change. Tests: 412 passed "
                    "(windows-latest: 410 passed, 2 skipped).")
    s.gh_review(pr145, "mei-lin", at(6, "06:10"), "changes_requested",
                "Thanks! Could you add a test with a space in the path? That has bitten us before.")
    s.gh_change(pr145, "synchronize", "zhangwei-dev", at(6, "11:48"))
    s.gh_comment_on(pr145, "zhangwei-dev", at(6, "11:50"), "Added `test_cache_dir_with_spaces`, thanks for the hint!")
    s.gh_change(pr145, "labeled", "mei-lin", at(7, "01:58"), label="platform: windows")
    s.gh_review(pr145, "mei-lin", at(7, "02:00"), "approved", "Perfect, thank you 张伟!")
    squash = s.gh_merge(pr145, "mei-lin", at(7, "02:01"))
    s.gh_push(LUMEN, "mei-lin", at(7, "02:01:03"), squash, "zhangwei-dev", web_merge=True,
              modified=("lumen/cache.py", "tests/test_cache.py"))
    s.gitee_comment_on(zw, "zhang_wei", at(7, "02:30"),
                       "修复已在 GitHub 合并：https://github.com/lumen-ai/lumen/pull/145 ，下个版本会带上。")
    s.gitee_issue_change(zw, "state_change", "chenhao", at(7, "02:44"), state="closed")

    # Day 7–8: docs. Aiko fixes links; Tomás's first PR duplicates the fix and is closed, kindly.
    s.gh_push(DOCS, "aiko-t", at(7, "03:10"), "Fix broken links in the getting-started guide", "aiko-t",
              modified=("docs/getting-started.mdx",))
    s.gh_fork(DOCS, "tomas-r", at(7, "18:40"))
    pr57 = s.gh_open_pr(DOCS, 57, "tomas-r", at(7, "19:05"), "Fix broken links in getting-started",
                        "Several links in getting-started still point to the old `/guide/` paths.", "fix-links")
    s.gh_comment_on(pr57, "aiko-t", at(8, "00:45"), "Thank you Tomás! I fixed these yesterday, so I'm closing "
                    "this one. If you'd like another docs task: the API reference has no page for `Sampler` "
                    "yet, that would be a great next PR.")
    s.gh_change(pr57, "closed", "aiko-t", at(8, "00:46"))
    s.gh_comment_on(pr57, "tomas-r", at(8, "07:12"), "No worries, I'll take a look at the Sampler "
                    "page!\n/assign @tomas-r")

    # Day 8–9: Kenji comes back with a feature request and takes it on.
    i146 = s.gh_open_issue(LUMEN, 146, "kenji-w", at(8, "23:30"), "Feature: MPS backend on Apple Silicon",
                           "PyTorch supports `mps`, but Lumen always picks `cpu` on macOS. Could "
                           "`device=\"auto\"` pick `mps` when it is available?")
    s.gh_change(i146, "labeled", "mei-lin", at(9, "01:10"), label="enhancement")
    s.gh_change(i146, "labeled", "mei-lin", at(9, "01:10:20"), label="help wanted")
    s.gh_comment_on(i146, "mei-lin", at(9, "01:12"), "Great idea. Would you like to work on it? Happy to review.")
    s.gh_comment_on(i146, "kenji-w", at(9, "02:03"), "Yes, I'd love to! I'll start with device selection.\n/claim")
    s.gh_change(i146, "assigned", "mei-lin", at(9, "02:10"), assignee="kenji-w")

    # Day 9–10: Wang Xiaoyu's question is answered and closed; stars; Chen Hao gets write access on GitHub.
    s.gitee_comment_on(wx, "wangxiaoyu", at(9, "12:20"), "用 --load-in-8bit 可以跑起来了，谢谢！")
    s.gitee_issue_change(wx, "state_change", "chenhao", at(9, "13:02"), state="closed")
    s.gh_star(LUMEN, "dataxu", at(10, "02:30"))
    s.gh_star(DOCS, "priya-k", at(10, "06:05"))
    s.gh_member(LUMEN, "chenhao", "mei-lin", at(10, "08:00"))
    s.redeliver(opened_144)  # Mei pressed "Redeliver" on an old delivery while checking the hook

    # Day 11: release v0.4.0 on GitHub, mirrored to Gitee.
    s.gh_push(LUMEN, "oscar-dev", at(11, "09:40"), "Release v0.4.0", "oscar-dev",
              modified=("pyproject.toml", "CHANGELOG.md"))
    s.gh_push_tag(LUMEN, "v0.4.0", "oscar-dev", at(11, "09:42"))
    s.gh_release(LUMEN, "v0.4.0", "Lumen 0.4.0", "oscar-dev", at(11, "09:45"),
                 "## What's new\n- torch 2.3 (#143)\n- Fix `encode(\"\")` (#144) by @priya-k, her first "
                 "contribution!\n- Windows cache paths (#145) by @zhangwei-dev, his first contribution!")
    s.gitee_push(CN, "chenhao", at(11, "12:05"), "同步上游 v0.4.0 的发布说明", modified=("CHANGELOG.zh.md",))
    s.gitee_tag(CN, "v0.4.0", "chenhao", at(11, "12:06"))
    s.gh_star(LUMEN, "hiro-s", at(11, "14:00"))
    s.gh_star(LUMEN, "ml-enthusiast", at(11, "16:30"))
    s.gh_fork(LUMEN, "nadia-o", at(11, "17:02"))

    # Day 12–13: second contributions (not firsts), and Kenji's first PR, as a draft.
    s.gitee_push(CN, "chenhao", at(12, "01:30"), "文档：补充 7B 模型的显存要求和 8bit 量化用法",
                 modified=("docs/zh/faq.md",))
    pr13 = s.gitee_open_pr(CN, 13, "liuyang2024", at(12, "03:00"), "翻译：API 参考（上）",
                           "翻译 docs/api/tokenizer.md 和 docs/api/model.md。", "api-zh-1")
    s.gitee_comment_on(pr13, "chenhao", at(12, "03:40"), "收到，周末看。\n/label 文档")
    pr147 = s.gh_open_pr(LUMEN, 147, "kenji-w", at(12, "05:15"), "WIP: pick the MPS device on Apple Silicon",
                         "Refs #146. `device=\"auto\"` now tries cuda, then mps, then cpu. Tests to come.",
                         "mps-device", draft=True)
    s.gh_comment_on(pr147, "oscar-dev", at(12, "09:02"), "Exciting! Ping us when it's ready for review.")
    pr148 = s.gh_open_pr(LUMEN, 148, "priya-k", at(13, "07:40"), "Add type hints to the tokenizer module",
                         "Small follow-up to #144: type hints, and mypy on `lumen/tokenizer.py` in CI.",
                         "typing-tokenizer")
    s.gh_change(pr148, "assigned", "oscar-dev", at(13, "08:05"), assignee="oscar-dev")


def demo_deliveries(start: datetime) -> list[DemoDelivery]:
    """The demo community's deliveries in the order they reach cobot, dated in the two weeks before `start`.

    The same `start` always gives the same deliveries (ids included). A naive `start` is taken as UTC.
    """
    stream = Stream(start)
    _tell_story(stream)
    return stream.deliveries
