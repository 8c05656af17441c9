"""GitHub webhook payloads for tests, shaped as GitHub documents them (only the fields cobot reads)."""

from __future__ import annotations

from typing import Any


def user(login: str, kind: str = "User") -> dict[str, Any]:
    return {"login": login, "id": abs(hash(login)) % 10**8, "type": kind}


def repository(full_name: str = "acme/rocket") -> dict[str, Any]:
    return {"full_name": full_name, "html_url": f"https://github.com/{full_name}"}


def thread(number: int, author: str, *, created: str, updated: str | None = None, state: str = "open",
           labels: tuple[str, ...] = (), assignees: tuple[str, ...] = (), closed: str | None = None,
           merged: str | None = None, repo: str = "acme/rocket", pr: bool = False, kind: str = "User"
           ) -> dict[str, Any]:
    item: dict[str, Any] = {
        "number": number, "title": f"Item {number}", "body": "", "state": state, "user": user(author, kind),
        "labels": [{"name": name} for name in labels], "assignees": [user(a) for a in assignees],
        "created_at": created, "updated_at": updated or created, "closed_at": closed,
        "html_url": f"https://github.com/{repo}/{'pull' if pr else 'issues'}/{number}",
    }
    if pr:
        item.update(merged=merged is not None, merged_at=merged, draft=False)
    return item


def issue_event(action: str, number: int, author: str, *, sender: str | None = None, repo: str = "acme/rocket",
                **fields: Any) -> dict[str, Any]:
    kind = "Bot" if author.endswith("[bot]") else "User"
    return {"action": action, "repository": repository(repo), "sender": user(sender or author),
            "issue": thread(number, author, repo=repo, kind=kind, **fields)}


def pr_event(action: str, number: int, author: str, *, sender: str | None = None, repo: str = "acme/rocket",
             **fields: Any) -> dict[str, Any]:
    kind = "Bot" if author.endswith("[bot]") else "User"
    sender = sender or author
    return {"action": action, "repository": repository(repo),
            "sender": user(sender, "Bot" if sender.endswith("[bot]") else "User"),
            "pull_request": thread(number, author, repo=repo, pr=True, kind=kind, **fields)}


def comment_event(number: int, author: str, commenter: str, *, at: str, body: str = "Thanks!",
                  on_pr: bool = False, created: str = "2026-11-01T10:00:00Z", repo: str = "acme/rocket",
                  comment_id: int | None = None, commenter_kind: str = "User", **fields: Any) -> dict[str, Any]:
    """An issue_comment delivery; `fields` (labels, assignees, state, closed) describe the issue as it is."""
    issue = thread(number, author, created=created, updated=at, repo=repo, **fields)
    if on_pr:  # GitHub shows a PR to the issues API with its own address and a pull_request key
        issue["pull_request"] = {"url": f"https://api.github.com/repos/{repo}/pulls/{number}"}
        issue["html_url"] = f"https://github.com/{repo}/pull/{number}"
    return {"action": "created", "repository": repository(repo), "sender": user(commenter, commenter_kind),
            "issue": issue,
            "comment": {"id": comment_id or abs(hash((number, at, body))) % 10**9, "body": body,
                        "user": user(commenter, commenter_kind),
                        "created_at": at, "html_url": f"https://github.com/{repo}/issues/{number}#c"}}


def review_event(number: int, author: str, reviewer: str, *, at: str, state: str = "approved", body: str = "",
                 created: str = "2026-11-01T10:00:00Z") -> dict[str, Any]:
    return {"action": "submitted", "repository": repository(), "sender": user(reviewer),
            "pull_request": thread(number, author, created=created, updated=at, pr=True),
            "review": {"id": 77, "state": state, "body": body, "user": user(reviewer), "submitted_at": at,
                       "html_url": f"https://github.com/acme/rocket/pull/{number}#r"}}


def review_comment_event(number: int, author: str, commenter: str, *, at: str, body: str = "Nit: a typo here.",
                         created: str = "2026-11-01T10:00:00Z") -> dict[str, Any]:
    """A pull_request_review_comment: a comment on a line of the PR's diff."""
    return {"action": "created", "repository": repository(), "sender": user(commenter),
            "pull_request": thread(number, author, created=created, updated=at, pr=True),
            "comment": {"id": abs(hash((number, at, body))) % 10**9, "body": body, "user": user(commenter),
                        "path": "lumen/tokenizer.py", "position": 4, "line": 42, "created_at": at,
                        "html_url": f"https://github.com/acme/rocket/pull/{number}#discussion_r1"}}
