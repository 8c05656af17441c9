"""Posting JSON to an HTTP endpoint and reading its answer: what every chat notifier shares.

`post()` sends bytes without following redirects and turns connection problems into `RetryLater` and a URL
refused by the outbound session into `PermanentFailure`; `status_failure()` reads the HTTP status (429 and
Retry-After, 5xx, other 4xx); `coded_failure()` reads a platform's own error codes. Messages name the
destination by its host only: a webhook URL's path or query carries its key.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp
from yarl import URL

from bot.notifiers.base import PermanentFailure, RetryLater, Secrets
from bot.retry_after import retry_after_seconds

USER_AGENT = "cobot"
EXCERPT_CHARS = 120
_KEY_CHARS = 16  # path segments and query values this long may be keys (UUIDs, tokens), shorter ones are words


# -- naming and hiding ------------------------------------------------------------------------------------------

def host_of(url: str | URL) -> str:
    """The host of `url`: all a message may say about a destination."""
    return urlsplit(str(url)).hostname or "?"


def url_secrets(url: str) -> list[str]:
    """`url` and the parts of it that may be its key (long path segments, query values): values to mask."""
    parts = urlsplit(url)
    segments = [segment for segment in parts.path.split("/") if len(segment) >= _KEY_CHARS]
    values = [value for _, value in parse_qsl(parts.query) if len(value) >= _KEY_CHARS]
    return [url, *segments, *values]


def excerpt(text: str, secrets: Secrets, limit: int = EXCERPT_CHARS) -> str:
    """A short, single-line, masked piece of a platform's answer, for a message."""
    flat = " ".join(secrets.mask(text).split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


_TRAILING_HINT = re.compile(r",?\s*(?:hint|more info|more)\s*:.*$", re.IGNORECASE | re.DOTALL)


def reason(message: str, secrets: Secrets) -> str:
    """A platform's error message without the request id or help link it appends (", hint: [...]",
    ", more: [...]"), short and masked."""
    return excerpt(_TRAILING_HINT.sub("", message), secrets)


def dump(payload: Any) -> bytes:
    """`payload` as compact UTF-8 JSON (what is sent, and what size limits count)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


# -- sending ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    text: str

    def json(self) -> dict[str, Any]:
        """The answer's JSON object ({} when the body is not one)."""
        try:
            data = json.loads(self.text)
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}


def is_refused(error: BaseException) -> bool:
    """Whether `error` is (or wraps) the outbound session's refusal of an address (`bot.notifiers.urls`)."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if type(current).__name__ == "RefusedURL":
            return True
        pending += [getattr(current, "os_error", None), current.__cause__, current.__context__]
    return False


def transport_failure(error: BaseException, where: str) -> Exception:
    """What a failed request means: a refused URL or an invalid one cannot work; anything else is retried.
    Only the class of `error` is named: its message may hold the URL."""
    if is_refused(error):
        return PermanentFailure(f"{where}: the address is refused (a private or disallowed host; see "
                                "[notify] allow_hosts)")
    if isinstance(error, aiohttp.InvalidURL):
        return PermanentFailure(f"{where}: invalid URL")
    if isinstance(error, aiohttp.ClientError | asyncio.TimeoutError | OSError):
        return RetryLater(f"{where} unreachable: {type(error).__name__}", 0)
    return RetryLater(f"{where}: request failed: {type(error).__name__}", 0)


async def post(http: aiohttp.ClientSession, url: str | URL, body: bytes, headers: Mapping[str, str],
               where: str) -> Answer:
    """POST `body` to `url` (no redirects followed) and read the answer; a transport problem is raised as
    `RetryLater` or `PermanentFailure` naming `where` (never the URL)."""
    try:
        async with http.post(url, data=body, headers=dict(headers), allow_redirects=False) as response:
            text = await response.text(errors="replace")
            return Answer(response.status, response.headers, text)
    except Exception as error:  # every transport error is mapped: its message may hold the URL
        raise transport_failure(error, where) from None


def retry_after(headers: Mapping[str, str], clock: Callable[[], float] = time.time) -> float | None:
    """The seconds a Retry-After header asks to wait (delta-seconds or an HTTP date), None without one."""
    value = headers.get("Retry-After")
    return retry_after_seconds(value, clock()) if value else None


TRANSIENT_STATUSES = {408, 425, 429}


def status_failure(answer: Answer, where: str, clock: Callable[[], float] = time.time,
                   rate_limit_delay: float = 0.0, detail: str = "") -> Exception | None:
    """None for a 2xx answer; else what its status means: 429 (after Retry-After, or `rate_limit_delay`), 408,
    425 and 5xx are retried (0: the dispatcher's backoff); a redirect or another 4xx is final."""
    status = answer.status
    if 200 <= status < 300:
        return None
    suffix = f": {detail}" if detail else ""
    wait = retry_after(answer.headers, clock)
    if status == 429:
        return RetryLater(f"{where} rate limited (HTTP 429){suffix}", wait if wait is not None else rate_limit_delay)
    if status in TRANSIENT_STATUSES or status >= 500:
        return RetryLater(f"{where} answered HTTP {status}{suffix}", wait or 0.0)
    if 300 <= status < 400:
        return PermanentFailure(f"{where} answered HTTP {status}, a redirect (not followed): check the URL")
    return PermanentFailure(f"{where} refused the message: HTTP {status}{suffix}")


def coded_failure(answer: Answer, where: str, code: object, message: str, *, rate_limited: Mapping[int, float],
                  transient: Collection[int] = (), hints: Mapping[int, str] | None = None,
                  rate_limit_delay: float = 0.0, clock: Callable[[], float] = time.time) -> Exception | None:
    """What the answer of a platform that reports a JSON result `code` (0: accepted) means: None when accepted;
    HTTP 429 and the platform's rate-limit codes wait (Retry-After, else the code's delay); 5xx, an answer without
    a code, or a `transient` code are retried; any other code is final (with its `hints` entry when known)."""
    wait = retry_after(answer.headers, clock)
    label = f"code {code}" + (f" {message}" if message else "")
    if answer.status == 429:
        return RetryLater(f"{where} rate limited (HTTP 429)", wait if wait is not None else rate_limit_delay)
    if isinstance(code, int) and code in rate_limited:
        return RetryLater(f"{where} rate limited: {label}", wait if wait is not None else rate_limited[code])
    if answer.status >= 500 or not isinstance(code, int) or isinstance(code, bool):
        failure = status_failure(answer, where, clock, rate_limit_delay, detail=message)
        return failure or PermanentFailure(f"{where} answered HTTP {answer.status} without a result code")
    if code == 0:
        return status_failure(answer, where, clock, rate_limit_delay, detail=message)
    if code in transient:
        return RetryLater(f"{where} failed: {label}", wait or 0.0)
    hint = (hints or {}).get(code)
    return PermanentFailure(f"{where} refused the message: {label}" + (f" ({hint})" if hint else ""))


# -- the generic webhook ----------------------------------------------------------------------------------------


async def post_robot_message(http: aiohttp.ClientSession, url: str | URL, payload: Any, where: str, secrets: Secrets,
                             *, rate_limited: Mapping[int, float], transient: Collection[int] = (),
                             hints: Mapping[int, str] | None = None, rate_limit_delay: float = 60.0,
                             clock: Callable[[], float] = time.time) -> str:
    """POST a message to a group robot that answers `{"errcode": 0, "errmsg": "ok"}` (DingTalk, WeCom); raises
    what its errcode means, returns its errmsg."""
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
    answer = await post(http, url, dump(payload), headers, where)
    data = answer.json()
    message = reason(str(data.get("errmsg") or ""), secrets)
    failure = coded_failure(answer, where, data.get("errcode"), message, rate_limited=rate_limited,
                            transient=transient, hints=hints, rate_limit_delay=rate_limit_delay, clock=clock)
    if failure is not None:
        raise failure
    return message
