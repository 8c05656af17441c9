"""The `cobot demo` stream, read from this folder's data files: two weeks of a small fictional AI community.

How to add a delivery to the demo: add one line to `stream.jsonl`, in the place where it reaches cobot (the file
is in delivery order), by copying a line of the same kind and editing it. A line is a delivery's `platform`
("github" or "gitee"), its `event` (the X-GitHub-Event or X-Gitee-Event header) and its `payload` (the body, as the
forge sends it; a Gitee body without `password`, `sign` or `timestamp`, which the demo adds when signing); a GitHub
line also has a `delivery` number, unique to the line except for a redelivery, which repeats the number of the line
it repeats (the X-GitHub-Delivery GUID is made from it). Times are written as if the demo ran on 2000-01-15: the
story's days are 2000-01-01 to 2000-01-14, in GitHub's form ("2000-01-05T07:31:00Z") or Gitee's
("2000-01-05T15:31:00+08:00"), and the loader moves every time of those two weeks (only those) to the two weeks
before today. `{"$ref": NAME}` stands for the object NAME of `objects.json` (an account, a repository, a label),
and keys beside `$ref` are added to or replace the object's; `{"$sha1": [PART, ...]}` is the SHA-1 of the parts
joined by "/" (a commit id made from a time). The community's configuration is `config.toml`. Everything here was
written for cobot (people, repos, text); only the shapes follow the platforms: GitHub's documented webhook payloads,
and Gitee's as seen in real deliveries (see ../shared/fixtures/gitee/SOURCES.md). tests/test_demo_data.py checks
the stream's shapes and story.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from typing import Any, Literal, cast

_DATA = files("bot.demo")
DEMO_CONFIG = _DATA.joinpath("config.toml").read_text(encoding="utf-8")
STORY_DAYS = 14
WRITTEN_FIRST_DAY = datetime(2000, 1, 1, tzinfo=UTC)  # day 0 of the story as the data files write it
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)")
_DELIVERY_NAMESPACE = uuid.UUID("5b6f2a9e-3c1d-4e8a-9f70-1d2c3b4a5e6f")

# The story's cast, as tests/test_demo_data.py checks the stream against it.
MAINTAINERS = ("mei-lin", "oscar-dev", "chenhao", "aiko-t")
NEWCOMERS: dict[str, dict[str, str]] = {  # person -> platform -> login
    "priya-k": {"github": "priya-k"},
    "kenji-w": {"github": "kenji-w"},
    "zhangwei": {"github": "zhangwei-dev", "gitee": "zhang_wei"},
    "tomas-r": {"github": "tomas-r"},
    "liuyang2024": {"gitee": "liuyang2024"},
    "wangxiaoyu": {"gitee": "wangxiaoyu"},
}


@dataclass(frozen=True)
class DemoDelivery:
    platform: Literal["github", "gitee"]
    event: str  # the X-GitHub-Event or X-Gitee-Event header value
    payload: dict[str, Any]
    delivery_id: str | None  # X-GitHub-Delivery; Gitee sends none


class _Reader:
    """Builds payloads from the files' JSON: names resolved, commit ids made, story times moved by `shift`."""

    def __init__(self, objects: dict[str, Any], shift: timedelta) -> None:
        self.objects = objects
        self.shift = shift

    def build(self, value: Any) -> Any:
        if isinstance(value, dict):
            if "$ref" in value:
                named = self.build(self.objects[value["$ref"]])
                return named | {key: self.build(item) for key, item in value.items() if key != "$ref"}
            if "$sha1" in value:
                return hashlib.sha1("/".join(self.build(value["$sha1"])).encode()).hexdigest()
            return {key: self.build(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.build(item) for item in value]
        if isinstance(value, str) and _TIME.fullmatch(value):
            return self.move(value)
        return value

    def move(self, text: str) -> str:
        """A time of the story's two weeks, moved by `shift` and written as it was; any other time as it is."""
        written = datetime.fromisoformat(text)
        if not WRITTEN_FIRST_DAY <= written < WRITTEN_FIRST_DAY + timedelta(days=STORY_DAYS):
            return text
        moved = written + self.shift
        if text.endswith("Z"):
            return moved.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return moved.isoformat(timespec="seconds")


def demo_deliveries(start: datetime) -> list[DemoDelivery]:
    """The demo community's deliveries in the order they reach cobot, dated in the two weeks before `start`.

    The same `start` always gives the same deliveries (ids included). A naive `start` is taken as UTC.
    """
    start = start.replace(tzinfo=UTC) if start.tzinfo is None else start.astimezone(UTC)
    first_day = start.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=STORY_DAYS)
    reader = _Reader(json.loads(_DATA.joinpath("objects.json").read_text(encoding="utf-8")),
                     first_day - WRITTEN_FIRST_DAY)
    deliveries = []
    for line in _DATA.joinpath("stream.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        delivery_id = None
        if "delivery" in record:  # GitHub's GUID, made repeatable: same start, same ids
            delivery_id = str(uuid.uuid5(_DELIVERY_NAMESPACE, f"lumen-demo/{start.isoformat()}/{record['delivery']}"))
        deliveries.append(DemoDelivery(cast(Literal["github", "gitee"], record["platform"]), record["event"],
                                       reader.build(record["payload"]), delivery_id))
    return deliveries
