"""The reader of a GH Archive file, in a process of its own: it streams the file (gzip, a line at a time), keeps the
records of the scope, reads and translates them (`bot.platforms.gharchive`), and writes batches of Events to its
standard output while the importer stores the previous batch (`bot.history.gharchive`).

    python -m bot.history.gharchive_reader '{"path": …, "after": 0, "orgs": [], "repos": [], "batch_size": 1000}'

Each batch is a frame: 8 bytes of length, then a `marshal`led tuple ("batch", line, bytes read of the file,
records read, kept, skipped by type, problems, items, done), items being (key, type, action, [event, …]) with each
Event as plain values (`Wire`); or ("error", message). It imports nothing of cobot but the event model and the
translation, so that it starts in a tenth of a second.
"""

from __future__ import annotations

import gc
import gzip
import hashlib
import json
import marshal
import struct
import sys
import typing
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from types import UnionType
from typing import IO, Any

from bot.events import Event
from bot.platforms.gharchive import translate, what

PREFIX = "gharchive-"  # an item's key: gharchive-<record id>
MAX_PROBLEMS = 20  # unreadable records reported by line number
FRAME = struct.Struct("<Q")


@dataclass(frozen=True)
class Scope:
    """Which records to keep: those of these orgs' (or users') repos and of these repos; all when none is given."""

    orgs: frozenset[str] = frozenset()
    repos: frozenset[str] = frozenset()

    @classmethod
    def of(cls, orgs: Iterable[str] = (), repos: Iterable[str] = ()) -> Scope:
        names = frozenset(repo.strip().lower() for repo in repos)
        for name in names:
            owner, _, rest = name.partition("/")
            if not owner or not rest or "/" in rest:
                raise ValueError(f"{name!r} is not OWNER/REPO")
        return cls(frozenset(org.strip().lower() for org in orgs), names)

    def __bool__(self) -> bool:
        return bool(self.orgs or self.repos)

    def keeps(self, repo: str) -> bool:
        lowered = repo.lower()
        return not self or lowered in self.repos or lowered.partition("/")[0] in self.orgs

    @property
    def needles(self) -> tuple[bytes, ...]:
        """What a line must hold to be a record of the scope: its repo's name is a JSON string, `"owner/repo"`."""
        return (*(f'"{org}/'.encode() for org in sorted(self.orgs)),
                *(f'"{repo}"'.encode() for repo in sorted(self.repos)))

    def describe(self) -> dict[str, list[str]]:
        return {"orgs": sorted(self.orgs), "repos": sorted(self.repos)}

    def source(self, sha256: str) -> str:
        """The ImportState source of a file imported in this scope."""
        if not self:
            return f"gharchive:{sha256}"
        digest = hashlib.sha256(json.dumps(self.describe(), sort_keys=True).encode()).hexdigest()[:16]
        return f"gharchive:{sha256}:{digest}"


class Wire:
    """A dataclass of the event model as a tuple of plain values, for `marshal`: several times quicker both ways
    than pickling frozen dataclasses with slots, which is what makes a reader process worth having. Both ways are
    a function written for the class (a tuple of its fields, nested dataclasses and datetimes converted), and a
    time sent again is read once (a batch holds the same instants many times)."""

    def __init__(self, cls: type) -> None:
        self.cls = cls
        self._times: dict[str, datetime] = {}
        names = [item.name for item in fields(cls)]
        hints = typing.get_type_hints(cls)
        scope: dict[str, Any] = {"cls": cls, "isoformat": datetime.isoformat, "time": self._time}
        encoded, decoded = [], []
        for index, name in enumerate(names):
            kind, optional = hints[name], False
            if isinstance(kind, UnionType) or typing.get_origin(kind) is typing.Union:
                inner = [arg for arg in typing.get_args(kind) if arg is not type(None)]
                optional = len(inner) < len(typing.get_args(kind))
                kind = inner[0] if len(inner) == 1 else kind
            if kind is datetime:
                encode, decode = "isoformat", "time"
            elif isinstance(kind, type) and is_dataclass(kind):
                nested = wire(kind)
                scope[f"encode{index}"], scope[f"decode{index}"] = nested.encode, nested.decode
                encode, decode = f"encode{index}", f"decode{index}"
            else:
                encoded.append(f"value.{name}")
                decoded.append(f"values[{index}]")
                continue
            if optional:
                encoded.append(f"None if (v{index} := value.{name}) is None else {encode}(v{index})")
                decoded.append(f"None if (v{index} := values[{index}]) is None else {decode}(v{index})")
            else:
                encoded.append(f"{encode}(value.{name})")
                decoded.append(f"{decode}(values[{index}])")
        if hasattr(cls, "__post_init__") or not hasattr(cls, "__slots__"):
            build = f"    return cls({', '.join(decoded)})\n"
        else:  # what its __init__ does, each field's slot set straight (a frozen class's goes round by setattr)
            scope["new"] = object.__new__
            scope.update({f"set{index}": getattr(cls, name).__set__ for index, name in enumerate(names)})
            build = "    made = new(cls)\n" + "".join(f"    set{index}(made, {value})\n"
                                                    for index, value in enumerate(decoded)) + "    return made\n"
        exec(f"def encode(value):\n    return ({', '.join(encoded)},)\n"  # (our own field names)
             f"def decode(values):\n{build}", scope)
        self.encode: Callable[[Any], tuple[Any, ...]] = scope["encode"]
        self.decode: Callable[[tuple[Any, ...]], Any] = scope["decode"]

    def _time(self, text: str) -> datetime:
        found = self._times.get(text)
        if found is None:
            if len(self._times) > 100_000:
                self._times.clear()
            found = self._times[text] = datetime.fromisoformat(text)
        return found


@cache
def wire(cls: type) -> Wire:
    return Wire(cls)


EVENT = wire(Event)


_DECODER = json.JSONDecoder()


def loads(line: bytes) -> Any:
    """`json.loads(line)`. A line that begins with `{` and no NUL (UTF-8, as `json` finds by those bytes) is decoded
    here and handed to the decoder straight."""
    if line[:1] == b"{" and line[1:2] != b"\x00":
        return _DECODER.decode(line.decode("utf-8", "surrogatepass"))
    return json.loads(line)


def read(path: Path, after: int, scope: Scope, batch_size: int, out: IO[bytes]) -> None:
    """Send the batches of a file after its line `after`."""
    needles = scope.needles
    read_ = kept = 0
    skipped: Counter[str] = Counter()
    problems: list[str] = []
    packed: list[tuple[str, str, str | None, list[tuple[Any, ...]]]] = []
    number = after
    with path.open("rb") as raw, gzip.GzipFile(fileobj=raw) as lines:
        def send(done: bool) -> None:
            nonlocal read_, kept, skipped, problems, packed
            write(out, ("batch", number, raw.tell(), read_, kept, dict(skipped), problems, packed, done))
            read_, kept, skipped, problems, packed = 0, 0, Counter(), [], []

        for number, line in enumerate(lines, start=1):
            if number <= after or not line or line.isspace():
                continue
            read_ += 1
            if needles and b"\\/" not in line:  # a quick look first (unless a "/" is escaped in it)
                lowered = line.lower()
                if not any(needle in lowered for needle in needles):
                    continue
            try:
                record = loads(line)
                name = str(record["repo"]["name"])
            except (ValueError, KeyError, TypeError) as error:
                skipped["(unreadable)"] += 1
                if len(problems) < MAX_PROBLEMS:
                    problems.append(f"line {number}: {type(error).__name__}: {error}"[:300])
                continue
            if not scope.keeps(name):
                continue
            kept += 1
            kind, action = what(record)
            try:
                events = translate(record)
            except (ValueError, KeyError, TypeError, AttributeError) as error:
                skipped["(unreadable)"] += 1
                if len(problems) < MAX_PROBLEMS:
                    problems.append(f"line {number}: {kind}: {type(error).__name__}: {error}"[:300])
                continue
            if not events or record.get("id") is None:
                skipped[f"{kind}/{action}" if action else kind or "(no type)"] += 1
                continue
            packed.append((f"{PREFIX}{record['id']}", kind, action, [EVENT.encode(event) for event in events]))
            if len(packed) >= batch_size:
                send(done=False)
        send(done=True)


def write(out: IO[bytes], message: tuple[Any, ...]) -> None:
    payload = marshal.dumps(message)
    out.write(FRAME.pack(len(payload)))
    out.write(payload)
    out.flush()


def frames(source: IO[bytes]) -> Iterable[tuple[Any, ...]]:
    """The messages a reader wrote, until its output ends."""
    while header := source.read(FRAME.size):
        if len(header) < FRAME.size:
            raise EOFError("the reader's output ends in the middle of a frame")
        (size,) = FRAME.unpack(header)
        payload = source.read(size)
        if len(payload) < size:
            raise EOFError("the reader's output ends in the middle of a frame")
        yield marshal.loads(payload)


def main(argv: list[str]) -> int:
    gc.disable()  # nothing it makes is cyclic, and it lives for one file
    out = sys.stdout.buffer
    try:
        given = json.loads(argv[0])
        read(Path(given["path"]), int(given["after"]), Scope.of(given["orgs"], given["repos"]),
             int(given["batch_size"]), out)
    except (BrokenPipeError, KeyboardInterrupt):  # the importer stopped reading, or was stopped
        return 1
    except Exception as error:  # told to the importer, which raises it
        write(out, ("error", f"{type(error).__name__}: {error}"))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
