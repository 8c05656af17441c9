"""Gitee webhooks: check `X-Gitee-Token` (password or signature), strip secrets, translate into Events."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.events import Actor, Comment, Event, Push, RepoRef, Thread
from bot.platforms.base import (
    Builder,
    InvalidPayload,
    Received,
    Unauthorized,
    actor_or_ghost,
    digest_key,
    keep_headers,
    parse_time,
    translate_by_table,
)
from bot.platforms.payload import event_name, read_json_object, short_text, storable
from bot.platforms.scrub import REMOVED, SecretScrubber

KEPT_HEADERS = ("X-Gitee-Event", "X-Gitee-Ping", "User-Agent", "Content-Type")
SECRET_BODY_FIELDS = ("password", "sign", "timestamp")
_SECRET_FIELD_TEXT = re.compile(rb'"(password|sign|timestamp)"\s*:\s*("(?:[^"\\]|\\.)*"?|\d+)')  # to the end, unclosed
_TIMESTAMP = re.compile(r"[0-9]{1,16}")  # milliseconds
GITEE_LOGIN_KEYS = ("login", "username", "user_name", "name")
CLOSED_STATES = {"closed", "rejected"}
DIFF_COMMENT_KEYS = ("path", "position", "line", "diff_position", "commit_id")  # a note on a line of a PR's diff


def signature(secret: str, timestamp: str) -> str:
    """base64(HMAC-SHA256(key=secret, msg=timestamp + "\\n" + secret)), as Gitee computes it."""
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def strip_secrets(payload: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in payload.items() if key not in SECRET_BODY_FIELDS}


def redact_unparsed(body: bytes) -> bytes:
    """For a body we cannot parse: blank the secret fields wherever they can still be seen."""
    return _SECRET_FIELD_TEXT.sub(rb'"\1": "[removed]"', body)


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode())


class GiteeWebhooks:
    """Gitee signs no body: its password, or its signature of a timestamp, is all there is to check, and both are
    checked from the headers alone. A signature is remembered with the delivery it came with (`Received.nonce`), so
    that a captured one cannot carry another body inside its window."""

    name = "gitee"

    def __init__(self, secret: str, tolerance_seconds: int = 3600, future_skew_seconds: int = 300) -> None:
        self._secret = secret
        self._tolerance = tolerance_seconds
        self._skew = future_skew_seconds
        self._scrub = SecretScrubber(secret)

    def check_headers(self, headers: Mapping[str, str], now: datetime) -> None:
        if not self._secret:
            raise Unauthorized("no Gitee webhook secret is configured (COBOT_GITEE_WEBHOOK_SECRET)")
        token = headers.get("X-Gitee-Token", "")
        if not token:
            raise Unauthorized("missing X-Gitee-Token")
        if _same(token, self._secret):
            return  # password mode
        timestamp = headers.get("X-Gitee-Timestamp", "")
        if not _TIMESTAMP.fullmatch(timestamp):
            raise Unauthorized("X-Gitee-Token is not the password, and X-Gitee-Timestamp is missing")
        if not _same(token, signature(self._secret, timestamp)):
            raise Unauthorized("X-Gitee-Token matches neither the password nor the signature")
        age = now.timestamp() - int(timestamp) / 1000
        if age > self._tolerance:
            raise Unauthorized("X-Gitee-Timestamp is older than the allowed time")
        if -age > self._skew:
            raise Unauthorized("X-Gitee-Timestamp is further ahead of now than the allowed clock skew")

    def authenticate(self, headers: Mapping[str, str], body: bytes) -> None:
        """Nothing more to check: Gitee signs no body (see `check_headers` and `Received.nonce`)."""

    def accept(self, headers: Mapping[str, str], body: bytes) -> Received:
        given_event = self._scrub.text(headers.get("X-Gitee-Event") or headers.get("X-Git-Oschina-Event") or "")
        event = event_name(given_event)
        is_ping = headers.get("X-Gitee-Ping", "").lower() == "true"
        kept = self._scrub.headers(keep_headers(headers, KEPT_HEADERS))
        nonce = self._nonce(headers)
        try:
            parsed = read_json_object(body)
        except ValueError as error:
            safe = self._scrub.bytes(self._without_token(redact_unparsed(body), headers))
            received = Received(key=digest_key("gitee-", storable(given_event), safe.decode("utf-8", "replace")),
                                event=event or "unknown", action=None, is_ping=is_ping, headers=kept, body=safe,
                                nonce=nonce)
            raise InvalidPayload(f"invalid JSON: {error}", received) from None
        clean = strip_secrets(parsed.payload)
        canonical = json.dumps(clean, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
        canonical = self._scrub.dumped(canonical)
        # Gitee sends no delivery id: the payload without its per-request fields identifies the delivery.
        key = digest_key("gitee-", storable(given_event), canonical.decode())
        action = clean.get("action") or None
        received = Received(key=key, event=event or "unknown",
                            action=short_text(self._scrub.text(str(action)) if action is not None else None),
                            is_ping=is_ping, headers=kept, body=canonical, nonce=nonce)
        if not given_event:
            raise InvalidPayload("missing X-Gitee-Event", received)
        if event is None:
            raise InvalidPayload("X-Gitee-Event is not an event name", received)
        return received

    def _nonce(self, headers: Mapping[str, str]) -> str | None:
        """A digest of the signature (signing mode), which covers a timestamp but no body; None in password mode."""
        token = headers.get("X-Gitee-Token", "")
        if not token or _same(token, self._secret):
            return None
        return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()

    @staticmethod
    def _without_token(body: bytes, headers: Mapping[str, str]) -> bytes:
        """The token the request came with, wherever an unparsed body still shows it (`/` may be written `\\/`)."""
        token = headers.get("X-Gitee-Token", "").encode("utf-8", "surrogatepass")
        if not token:
            return body
        return body.replace(token, REMOVED).replace(token.replace(b"/", b"\\/"), REMOVED)

    def translate(self, event: str, payload: dict[str, Any], received_at: datetime) -> list[Event]:
        action = payload.get("action") or None
        return translate_by_table(TRANSLATIONS, event, action, payload, received_at)


def _actor(user: Any) -> Actor:
    return actor_or_ghost(user, GITEE_LOGIN_KEYS)


def _repo(payload: dict[str, Any]) -> RepoRef:
    repo = payload.get("repository") or payload.get("project") or {}
    name = repo.get("full_name") or repo.get("path_with_namespace") or "unknown/unknown"
    return RepoRef(full_name=str(name), url=repo.get("html_url"))


def _names(items: Any, key: str) -> tuple[str, ...]:
    return tuple(str(item.get(key)) for item in items or [] if isinstance(item, dict) and item.get(key))


def _issue(raw: dict[str, Any]) -> Thread:
    created = parse_time(raw.get("created_at"))
    updated = parse_time(raw.get("updated_at")) or created
    assert created is not None and updated is not None
    assignee = raw.get("assignee")
    return Thread(
        number=str(raw.get("number")),
        is_pr=False,
        title=str(raw.get("title") or ""),
        state="closed" if raw.get("state") in CLOSED_STATES else "open",
        author=_actor(raw.get("user")),
        created_at=created,
        updated_at=updated,
        url=raw.get("html_url"),
        labels=_names(raw.get("labels"), "name"),
        assignees=(_actor(assignee).login,) if isinstance(assignee, dict) else (),
        closed_at=parse_time(raw.get("finished_at")) if raw.get("state") in CLOSED_STATES else None,
        body=str(raw.get("body") or ""),
    )


def _pull(raw: dict[str, Any]) -> Thread:
    created = parse_time(raw.get("created_at"))
    updated = parse_time(raw.get("updated_at")) or created
    assert created is not None and updated is not None
    state_name = raw.get("state")
    merged = bool(raw.get("merged")) or state_name == "merged"
    return Thread(
        number=str(raw.get("number")),
        is_pr=True,
        title=str(raw.get("title") or ""),
        state="merged" if merged else ("closed" if state_name == "closed" else "open"),
        author=_actor(raw.get("user")),
        created_at=created,
        updated_at=updated,
        url=raw.get("html_url"),
        labels=_names(raw.get("labels"), "name"),
        assignees=tuple(_actor(a).login for a in raw.get("assignees") or [] if isinstance(a, dict)),
        closed_at=parse_time(raw.get("closed_at")),
        merged_at=parse_time(raw.get("merged_at")),
        body=str(raw.get("body") or ""),
    )


def _sender(payload: dict[str, Any]) -> Actor:
    return _actor(payload.get("sender") or payload.get("user") or payload.get("author"))


def _thread_event(kind: str, thread: Thread, payload: dict[str, Any], when: datetime) -> list[Event]:
    return [Event(kind=kind, platform="gitee", repo=_repo(payload), actor=_sender(payload), occurred_at=when,
                  thread=thread)]


def _issue_hook(kind: str | None) -> Builder:
    def build(payload: dict[str, Any], received_at: datetime) -> list[Event]:
        thread = _issue(payload["issue"])
        event_kind = kind
        if event_kind is None:  # state_change: the new state says what happened
            raw_state = payload["issue"].get("state")
            event_kind = ("issue.closed" if thread.state == "closed"
                          else "issue.reopened" if raw_state == "open" else "issue.edited")
        when = thread.created_at if event_kind == "issue.opened" else thread.updated_at
        return _thread_event(event_kind, thread, payload, when)
    return build


def _merge_request(kind: str) -> Builder:
    def build(payload: dict[str, Any], received_at: datetime) -> list[Event]:
        thread = _pull(payload["pull_request"])
        event_kind = kind
        if kind == "pr.updated" and payload.get("action_desc") == "update_label":
            event_kind = "pr.labeled"
        when = thread.updated_at
        if event_kind == "pr.opened":
            when = thread.created_at
        elif event_kind == "pr.merged" and thread.merged_at:
            when = thread.merged_at
        elif event_kind == "pr.closed" and thread.closed_at:
            when = thread.closed_at
        return _thread_event(event_kind, thread, payload, when)
    return build


def _note(payload: dict[str, Any], received_at: datetime) -> list[Event]:
    noteable = payload.get("noteable_type")
    if noteable == "Issue" and payload.get("issue"):
        thread = _issue(payload["issue"])
    elif noteable == "PullRequest" and payload.get("pull_request"):
        thread = _pull(payload["pull_request"])
    else:
        return []  # commit comments are not tracked
    raw = payload["comment"]
    created = parse_time(raw.get("created_at")) or received_at
    on_diff = thread.is_pr and any(raw.get(key) for key in DIFF_COMMENT_KEYS)
    comment = Comment(id=str(raw.get("id")), body=str(raw.get("body") or ""), author=_actor(raw.get("user")),
                      created_at=created, url=raw.get("html_url"), place="diff" if on_diff else "thread")
    return [Event(kind="comment.created", platform="gitee", repo=_repo(payload), actor=comment.author,
                  occurred_at=created, thread=thread, comment=comment)]


def _push(tag: bool) -> Builder:
    def build(payload: dict[str, Any], received_at: datetime) -> list[Event]:
        head = payload.get("head_commit") or {}
        push = Push(ref=str(payload.get("ref", "")), before=str(payload.get("before", "")),
                    after=str(payload.get("after", "")), commit_count=int(payload.get("total_commits_count") or 0),
                    created=bool(payload.get("created")), deleted=bool(payload.get("deleted")))
        kind = ("tag.deleted" if push.deleted else "tag.created") if tag else "push"
        actor = _actor(payload.get("sender") or payload.get("user") or payload.get("pusher"))
        return [Event(kind=kind, platform="gitee", repo=_repo(payload), actor=actor,
                      occurred_at=parse_time(head.get("timestamp")) or received_at, push=push)]
    return build


TRANSLATIONS: dict[tuple[str, str | None], Builder] = {
    ("Issue Hook", "open"): _issue_hook("issue.opened"),
    ("Issue Hook", "update"): _issue_hook("issue.edited"),
    ("Issue Hook", "assign"): _issue_hook("issue.assigned"),
    ("Issue Hook", "state_change"): _issue_hook(None),
    ("Issue Hook", "close"): _issue_hook("issue.closed"),
    ("Issue Hook", "reopen"): _issue_hook("issue.reopened"),
    ("Merge Request Hook", "open"): _merge_request("pr.opened"),
    ("Merge Request Hook", "update"): _merge_request("pr.updated"),
    ("Merge Request Hook", "close"): _merge_request("pr.closed"),
    ("Merge Request Hook", "merge"): _merge_request("pr.merged"),
    ("Merge Request Hook", "reopen"): _merge_request("pr.reopened"),
    ("Note Hook", "comment"): _note,
    ("Push Hook", None): _push(tag=False),
    ("Tag Push Hook", None): _push(tag=True),
}
