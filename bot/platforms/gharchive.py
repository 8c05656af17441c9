"""GH Archive: GitHub's public Events API records, one JSON object a line in hourly files, translated into Events.

A record is not a webhook delivery: it says where and who at its top level (`repo.name`, `actor`), never in its
payload (which has no `repository` nor `sender`), its `type` is the Events API's (`IssuesEvent`, `WatchEvent`), and
some payloads differ from their webhook's: a push has `head` and `size`, not `after`, `head_commit` and `created`;
a tag is created or deleted by a `CreateEvent` / `DeleteEvent` with `ref_type` "tag"; a star is a `WatchEvent`
"started"; a review is "created". The issue, pull request, comment and review objects are the REST API's, as in
webhooks. Whatever cobot does not track translates to nothing (`what` names it, for counting).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.events import Actor, Comment, CommentPlace, Event, Push, RepoRef, Review, Thread
from bot.platforms.base import actor_or_ghost, parse_time
from bot.platforms.github import _thread as thread_of

RecordBuilder = Callable[[dict[str, Any], RepoRef, Actor, datetime], list[Event]]
NO_COMMIT = "0" * 40


def what(record: dict[str, Any]) -> tuple[str, str | None]:
    """The record's type and what it did: the payload's action; the kind of ref a ref was created or deleted;
    "tag" for a push of a tag."""
    kind = str(record.get("type") or "")
    payload = record.get("payload") or {}
    if kind in ("CreateEvent", "DeleteEvent"):
        return kind, str(payload.get("ref_type") or "") or None
    if kind == "PushEvent":
        return kind, "tag" if str(payload.get("ref") or "").startswith("refs/tags/") else None
    action = payload.get("action")
    return kind, str(action) if action is not None else None


def translate(record: dict[str, Any], told: tuple[str, str | None] | None = None) -> list[Event]:
    """The Events of one record; none for what cobot does not track. Raises on a record that cannot be read.
    `told`: its `what`, if the caller has it."""
    kind, action = told or what(record)
    builder = TRANSLATIONS.get((kind, action))
    if builder is None:
        return []
    name = str((record.get("repo") or {}).get("name") or "")
    if "/" not in name:
        raise ValueError(f"record {record.get('id')}: no repo name")
    when = parse_time(record.get("created_at"))
    if when is None:
        raise ValueError(f"record {record.get('id')}: no created_at")
    repo = RepoRef(full_name=name, url=f"https://github.com/{name}")
    return builder(record.get("payload") or {}, repo, actor_or_ghost(record.get("actor")), when)


def _thread(item: dict[str, Any], is_pr: bool, at: datetime) -> Thread:
    """The REST issue/PR object as a Thread; an object without its times (a trimmed payload) is taken as of `at`."""
    if not item.get("created_at"):
        item = {**item, "created_at": at.isoformat()}
    return thread_of(item, is_pr)


def _thread_event(kind: str, key: str, is_pr: bool) -> RecordBuilder:
    def build(payload: dict[str, Any], repo: RepoRef, actor: Actor, at: datetime) -> list[Event]:
        thread = _thread(payload[key], is_pr, at)
        when = thread.updated_at  # as the webhook translation dates it, so that the two meet in the activity log
        if kind.endswith(".opened"):
            when = thread.created_at
        elif kind.endswith(".merged") and thread.merged_at:
            when = thread.merged_at
        elif kind.endswith(".closed") and thread.closed_at:
            when = thread.closed_at
        detail = {}
        if payload.get("label"):
            detail["label"] = str(payload["label"].get("name"))
        if payload.get("assignee"):
            detail["assignee"] = str(payload["assignee"].get("login"))
        return [Event(kind=kind, platform="github", repo=repo, actor=actor, occurred_at=when, thread=thread,
                      detail=detail)]
    return build


def _pr_closed(payload: dict[str, Any], repo: RepoRef, actor: Actor, at: datetime) -> list[Event]:
    pull = payload["pull_request"]
    merged = bool(pull.get("merged")) or pull.get("merged_at") is not None
    return _thread_event("pr.merged" if merged else "pr.closed", "pull_request", True)(payload, repo, actor, at)


def _comment(payload: dict[str, Any], repo: RepoRef, actor: Actor, at: datetime, thread: Thread,
             place: CommentPlace) -> Event:
    raw = payload["comment"]
    created = parse_time(raw.get("created_at")) or at
    author = actor_or_ghost(raw.get("user")) if raw.get("user") else actor
    comment = Comment(id=str(raw.get("id")), body=str(raw.get("body") or ""), author=author, created_at=created,
                      url=raw.get("html_url"), place=place)
    return Event(kind="comment.created", platform="github", repo=repo, actor=actor, occurred_at=created,
                 thread=thread, comment=comment)


def _issue_comment(payload: dict[str, Any], repo: RepoRef, actor: Actor, at: datetime) -> list[Event]:
    issue = payload["issue"]
    return [_comment(payload, repo, actor, at, _thread(issue, "pull_request" in issue, at), "thread")]


def _review_comment(payload: dict[str, Any], repo: RepoRef, actor: Actor, at: datetime) -> list[Event]:
    return [_comment(payload, repo, actor, at, _thread(payload["pull_request"], True, at), "diff")]


def _review(payload: dict[str, Any], repo: RepoRef, actor: Actor, at: datetime) -> list[Event]:
    raw = payload["review"]
    thread = _thread(payload["pull_request"], True, at)
    submitted = parse_time(raw.get("submitted_at")) or at
    review = Review(id=str(raw.get("id")), state=str(raw.get("state") or "").lower(), body=str(raw.get("body") or ""),
                    author=actor, submitted_at=submitted)
    events = [Event(kind="review.submitted", platform="github", repo=repo, actor=actor, occurred_at=submitted,
                    thread=thread, review=review)]
    if review.body.strip():  # its body is a comment, as in the webhook translation
        comment = Comment(id=f"review-{review.id}", body=review.body, author=actor, created_at=submitted,
                          url=raw.get("html_url"), place="review")
        events.append(Event(kind="comment.created", platform="github", repo=repo, actor=actor,
                            occurred_at=submitted, thread=thread, comment=comment))
    return events


def _push(payload: dict[str, Any], repo: RepoRef, actor: Actor, at: datetime) -> list[Event]:
    before = str(payload.get("before") or "")
    size = payload.get("size")
    push = Push(ref=str(payload.get("ref") or ""), before=before, after=str(payload.get("head") or ""),
                commit_count=int(size) if isinstance(size, int) else len(payload.get("commits") or []),
                created=before == NO_COMMIT)
    return [Event(kind="push", platform="github", repo=repo, actor=actor, occurred_at=at, push=push)]


def _tag(deleted: bool) -> RecordBuilder:
    def build(payload: dict[str, Any], repo: RepoRef, actor: Actor, at: datetime) -> list[Event]:
        push = Push(ref=f"refs/tags/{payload.get('ref') or ''}", before="", after="", commit_count=0,
                    created=not deleted, deleted=deleted)
        return [Event(kind="tag.deleted" if deleted else "tag.created", platform="github", repo=repo, actor=actor,
                      occurred_at=at, push=push)]
    return build


def _simple(kind: str, time_path: tuple[str, str] | None = None, detail: tuple[str, str, str] | None = None
            ) -> RecordBuilder:
    def build(payload: dict[str, Any], repo: RepoRef, actor: Actor, at: datetime) -> list[Event]:
        when = at
        if time_path:
            section, field = time_path
            when = parse_time((payload.get(section) or {}).get(field)) or at
        details = {}
        if detail:
            name, section, field = detail
            details[name] = str((payload.get(section) or {}).get(field, ""))
        return [Event(kind=kind, platform="github", repo=repo, actor=actor, occurred_at=when, detail=details)]
    return build


TRANSLATIONS: dict[tuple[str, str | None], RecordBuilder] = {
    **{("IssuesEvent", action): _thread_event(f"issue.{action}", "issue", False)
       for action in ("opened", "edited", "closed", "reopened", "labeled", "unlabeled", "assigned", "unassigned")},
    ("PullRequestEvent", "opened"): _thread_event("pr.opened", "pull_request", True),
    ("PullRequestEvent", "reopened"): _thread_event("pr.reopened", "pull_request", True),
    ("PullRequestEvent", "edited"): _thread_event("pr.edited", "pull_request", True),
    ("PullRequestEvent", "synchronize"): _thread_event("pr.updated", "pull_request", True),
    ("PullRequestEvent", "ready_for_review"): _thread_event("pr.updated", "pull_request", True),
    ("PullRequestEvent", "closed"): _pr_closed,
    **{("PullRequestEvent", action): _thread_event(f"pr.{action}", "pull_request", True)
       for action in ("labeled", "unlabeled", "assigned", "unassigned")},
    ("IssueCommentEvent", "created"): _issue_comment,
    ("PullRequestReviewCommentEvent", "created"): _review_comment,
    ("PullRequestReviewEvent", "created"): _review,  # the Events API's action
    ("PullRequestReviewEvent", "submitted"): _review,  # the webhook's
    ("PushEvent", None): _push,
    ("CreateEvent", "tag"): _tag(deleted=False),
    ("DeleteEvent", "tag"): _tag(deleted=True),
    ("WatchEvent", "started"): _simple("star.created"),
    ("ForkEvent", None): _simple("fork.created", ("forkee", "created_at"), ("fork", "forkee", "full_name")),
    ("ReleaseEvent", "published"): _simple("release.published", ("release", "published_at"),
                                           ("tag", "release", "tag_name")),
    ("MemberEvent", "added"): _simple("member.added", None, ("member", "member", "login")),
}
