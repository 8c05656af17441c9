"""GitHub webhooks: verify `X-Hub-Signature-256`, read the delivery, translate it into Events."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from bot.events import Actor, Comment, CommentPlace, Event, Push, RepoRef, Review, Thread
from bot.platforms.base import (
    Builder,
    InvalidPayload,
    Received,
    Unauthorized,
    actor_or_ghost,
    keep_headers,
    parse_time,
    translate_by_table,
)
from bot.platforms.payload import delivery_key, event_name, read_json_object, short_text

KEPT_HEADERS = (
    "X-GitHub-Event", "X-GitHub-Delivery", "X-GitHub-Hook-ID", "X-GitHub-Hook-Installation-Target-Type",
    "X-GitHub-Hook-Installation-Target-ID", "User-Agent", "Content-Type",
)
FORM = "application/x-www-form-urlencoded"  # a hook's other content type: `payload=<the JSON>`
_SIGNATURE = re.compile(r"sha256=[0-9a-f]{64}")


def sign(secret: str, body: bytes) -> str:
    """The `X-Hub-Signature-256` value GitHub sends for this body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class GitHubWebhooks:
    name = "github"

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def check_headers(self, headers: Mapping[str, str], now: datetime) -> None:
        if not self._secret:
            raise Unauthorized("no GitHub webhook secret is configured (COBOT_GITHUB_WEBHOOK_SECRET)")
        given = headers.get("X-Hub-Signature-256", "")
        if not given:
            raise Unauthorized("missing X-Hub-Signature-256")
        if not _SIGNATURE.fullmatch(given.lower()):
            raise Unauthorized("X-Hub-Signature-256 is not sha256= and 64 hex digits")

    def authenticate(self, headers: Mapping[str, str], body: bytes) -> None:
        given = headers.get("X-Hub-Signature-256", "").lower()
        if not _SIGNATURE.fullmatch(given) or not hmac.compare_digest(given, sign(self._secret, body)):
            raise Unauthorized("X-Hub-Signature-256 does not match the body")

    def accept(self, headers: Mapping[str, str], body: bytes) -> Received:
        given_event = headers.get("X-GitHub-Event", "")
        event = event_name(given_event)
        given_key = headers.get("X-GitHub-Delivery", "")
        key = delivery_key(given_key, "github-") if given_key else "github-" + hashlib.sha256(body).hexdigest()[:40]
        kept = keep_headers(headers, KEPT_HEADERS)
        received = Received(key=key, event=event or "unknown", action=None, is_ping=event == "ping", headers=kept,
                            body=body)
        if not given_event:
            raise InvalidPayload("missing X-GitHub-Event", received)
        if event is None:
            raise InvalidPayload("X-GitHub-Event is not an event name", received)
        try:
            text = _json_text(headers, body)
            parsed = read_json_object(text)
        except ValueError as error:
            raise InvalidPayload(f"invalid JSON: {error}", received) from None
        if parsed.repaired:  # stored as it reads, so that what processes it reads the same
            text = json.dumps(parsed.payload, ensure_ascii=False).encode()
        return Received(key=key, event=event, action=short_text(parsed.payload.get("action")),
                        is_ping=event == "ping", headers=kept, body=text)

    def translate(self, event: str, payload: dict[str, Any], received_at: datetime) -> list[Event]:
        action = payload.get("action")
        if event == "push" and str(payload.get("ref", "")).startswith("refs/tags/"):
            event = "push:tag"
        return translate_by_table(TRANSLATIONS, event, action, payload, received_at)


def _json_text(headers: Mapping[str, str], body: bytes) -> bytes:
    """The JSON a delivery carries: the body, or its `payload` field when the hook sends a form. The signature is
    over the body as sent; what is stored is the JSON, which is what processing reads."""
    if headers.get("Content-Type", "").split(";", 1)[0].strip().lower() != FORM:
        return body
    try:
        fields = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=100)
    except (UnicodeDecodeError, ValueError) as error:
        raise ValueError(f"an unreadable form ({error})") from None
    payload = next((value for name, value in fields if name == "payload"), None)
    if payload is None:
        raise ValueError("a form without a payload field")
    return payload.encode()


def _repo(payload: dict[str, Any]) -> RepoRef:
    repo = payload.get("repository") or {}
    return RepoRef(full_name=str(repo.get("full_name", "unknown/unknown")), url=repo.get("html_url"))


def _sender(payload: dict[str, Any]) -> Actor:
    return actor_or_ghost(payload.get("sender"))


def _thread(item: dict[str, Any], is_pr: bool) -> Thread:
    merged = bool(item.get("merged")) or (is_pr and item.get("merged_at") is not None)
    state = "merged" if merged else ("closed" if item.get("state") == "closed" else "open")
    created = parse_time(item.get("created_at"))
    updated = parse_time(item.get("updated_at")) or created
    assert created is not None and updated is not None
    return Thread(
        number=str(item.get("number")),
        is_pr=is_pr,
        title=str(item.get("title") or ""),
        state=state,
        author=actor_or_ghost(item.get("user")),
        created_at=created,
        updated_at=updated,
        url=item.get("html_url"),
        labels=tuple(str(label.get("name")) for label in item.get("labels") or [] if isinstance(label, dict)),
        assignees=tuple(str(a.get("login")) for a in item.get("assignees") or [] if isinstance(a, dict)),
        closed_at=parse_time(item.get("closed_at")),
        merged_at=parse_time(item.get("merged_at")),
        body=str(item.get("body") or ""),
    )


def _thread_event(kind: str, key: str, is_pr: bool) -> Builder:
    def build(payload: dict[str, Any], received_at: datetime) -> list[Event]:
        thread = _thread(payload[key], is_pr)
        when = thread.updated_at
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
        return [Event(kind=kind, platform="github", repo=_repo(payload), actor=_sender(payload),
                      occurred_at=when, thread=thread, detail=detail)]
    return build


def _pr_closed(payload: dict[str, Any], received_at: datetime) -> list[Event]:
    merged = bool(payload["pull_request"].get("merged"))
    return _thread_event("pr.merged" if merged else "pr.closed", "pull_request", True)(payload, received_at)


def _issue_comment(payload: dict[str, Any], received_at: datetime) -> list[Event]:
    issue = payload["issue"]
    thread = _thread(issue, is_pr="pull_request" in issue)
    return [_comment_event(payload, thread, received_at)]


def _review_comment(payload: dict[str, Any], received_at: datetime) -> list[Event]:
    return [_comment_event(payload, _thread(payload["pull_request"], True), received_at, place="diff")]


def _comment_event(payload: dict[str, Any], thread: Thread, received_at: datetime,
                   place: CommentPlace = "thread") -> Event:
    raw = payload["comment"]
    created = parse_time(raw.get("created_at")) or received_at
    comment = Comment(id=str(raw.get("id")), body=str(raw.get("body") or ""), author=actor_or_ghost(raw.get("user")),
                      created_at=created, url=raw.get("html_url"), place=place)
    return Event(kind="comment.created", platform="github", repo=_repo(payload), actor=comment.author,
                 occurred_at=created, thread=thread, comment=comment)


def _review(payload: dict[str, Any], received_at: datetime) -> list[Event]:
    raw = payload["review"]
    thread = _thread(payload["pull_request"], True)
    submitted = parse_time(raw.get("submitted_at")) or received_at
    author = actor_or_ghost(raw.get("user"))
    review = Review(id=str(raw.get("id")), state=str(raw.get("state") or "").lower(), body=str(raw.get("body") or ""),
                    author=author, submitted_at=submitted)
    events = [Event(kind="review.submitted", platform="github", repo=_repo(payload), actor=author,
                    occurred_at=submitted, thread=thread, review=review)]
    if review.body.strip():
        comment = Comment(id=f"review-{review.id}", body=review.body, author=author, created_at=submitted,
                          url=raw.get("html_url"), place="review")
        events.append(Event(kind="comment.created", platform="github", repo=_repo(payload), actor=author,
                            occurred_at=submitted, thread=thread, comment=comment))
    return events


def _push(kind: str | None = None) -> Builder:
    def build(payload: dict[str, Any], received_at: datetime) -> list[Event]:
        head = payload.get("head_commit") or {}
        push = Push(ref=str(payload.get("ref", "")), before=str(payload.get("before", "")),
                    after=str(payload.get("after", "")), commit_count=len(payload.get("commits") or []),
                    created=bool(payload.get("created")), deleted=bool(payload.get("deleted")))
        event_kind = kind or ("tag.deleted" if push.deleted else "tag.created")
        return [Event(kind=event_kind, platform="github", repo=_repo(payload), actor=_sender(payload),
                      occurred_at=parse_time(head.get("timestamp")) or received_at, push=push)]
    return build


def _simple(kind: str, time_path: tuple[str, ...] = (), detail_path: tuple[str, str, str] | None = None) -> Builder:
    def build(payload: dict[str, Any], received_at: datetime) -> list[Event]:
        value: Any = payload
        for part in time_path:
            value = value.get(part) if isinstance(value, dict) else None
        detail = {}
        if detail_path:
            name, section, field = detail_path
            detail[name] = str((payload.get(section) or {}).get(field, ""))
        return [Event(kind=kind, platform="github", repo=_repo(payload), actor=_sender(payload),
                      occurred_at=(parse_time(value) if time_path else None) or received_at, detail=detail)]
    return build


TRANSLATIONS: dict[tuple[str, str | None], Builder] = {
    **{("issues", action): _thread_event(f"issue.{action}", "issue", False)
       for action in ("opened", "edited", "closed", "reopened", "labeled", "unlabeled", "assigned", "unassigned")},
    ("pull_request", "opened"): _thread_event("pr.opened", "pull_request", True),
    ("pull_request", "reopened"): _thread_event("pr.reopened", "pull_request", True),
    ("pull_request", "edited"): _thread_event("pr.edited", "pull_request", True),
    ("pull_request", "synchronize"): _thread_event("pr.updated", "pull_request", True),
    ("pull_request", "ready_for_review"): _thread_event("pr.updated", "pull_request", True),
    ("pull_request", "closed"): _pr_closed,
    **{("pull_request", action): _thread_event(f"pr.{action}", "pull_request", True)
       for action in ("labeled", "unlabeled", "assigned", "unassigned")},
    ("issue_comment", "created"): _issue_comment,
    ("pull_request_review_comment", "created"): _review_comment,
    ("pull_request_review", "submitted"): _review,
    ("push", None): _push("push"),
    ("push:tag", None): _push(),
    ("star", "created"): _simple("star.created", ("starred_at",)),
    ("star", "deleted"): _simple("star.deleted"),
    ("fork", None): _simple("fork.created", ("forkee", "created_at"), ("fork", "forkee", "full_name")),
    ("release", "published"): _simple("release.published", ("release", "published_at"),
                                      ("tag", "release", "tag_name")),
    ("member", "added"): _simple("member.added", (), ("member", "member", "login")),
}
