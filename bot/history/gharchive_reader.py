"""The reader of a GH Archive file, in a process of its own: it streams the file (gzip, a line at a time), keeps the
records of the scope, reads and translates them (`bot.platforms.gharchive`), and writes batches of Events to its
standard output while the importer stores the previous batch (`bot.history.gharchive`).

    echo '{"path": …, "after": 0, "orgs": [], "repos": [], "batch_size": 1000, "ledger": null}' \
        | python -m bot.history.gharchive_reader

(what it is to do comes on its standard input, not its command line, where others could read a database's
password)

Each batch is a frame: 8 bytes of length, then a `marshal`led tuple ("batch", line, bytes read of the file,
records read, kept, skipped by type, problems, items, done, ledger), items being (key, type, action, [event, …])
with each Event as plain values (`Wire`); or ("error", message).

When it is given a ledger (`{"url": the inbox, "platform": "github", "prefix": "gharchive-", "now": ISO time}`), it
writes each batch's items in it (`bot.history.ledger`) before it sends the batch, with the ledger's ids and whether
all were new: a tenth of the import's work, done on the reader's core rather than the importer's. Without one, it
imports nothing of cobot but the event model and the translation, so that it starts in a tenth of a second (with
one, the database layer too: half a second).
"""

from __future__ import annotations

import gc
import hashlib
import json
import marshal
import struct
import sys
import threading
import typing
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from types import UnionType
from typing import IO, TYPE_CHECKING, Any

import orjson
from isal import igzip

from bot.events import Event
from bot.platforms.gharchive import translate, what

if TYPE_CHECKING:
    from bot.history.ledger import DeliveryLedger

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
    time sent again is written and read once (a batch holds the same instants many times)."""

    def __init__(self, cls: type) -> None:
        self.cls = cls
        self._times: dict[str, datetime] = {}
        names = [item.name for item in fields(cls)]
        hints = typing.get_type_hints(cls)
        self._isos: dict[datetime, str] = {}
        scope: dict[str, Any] = {"cls": cls, "isoformat": self._iso, "time": self._time}
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

    def _iso(self, value: datetime) -> str:
        found = self._isos.get(value)
        if found is None:
            if len(self._isos) > 100_000:
                self._isos.clear()
            found = self._isos[value] = value.isoformat()
        return found

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


def loads(line: bytes) -> Any:
    """`json.loads(line)`, by orjson (a few times quicker) where it can: it refuses some of what `json` reads (a
    lone surrogate escaped, `"\\ud83d"`; a number beyond a double's range; UTF-16), which `json` is then asked. (It
    reads an integer beyond 64 bits as a float: no field cobot reads of a record is one.)"""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line)


def read(path: Path, after: int, scope: Scope, batch_size: int, out: IO[bytes],
         ledger: Callable[[], DeliveryLedger | None] | None = None) -> None:
    """Send the batches of a file after its line `after` (their items written first in the ledger `ledger()`
    gives, once it gives one: the batches before are sent without, for the importer to write theirs)."""
    needles = scope.needles
    read_ = kept = 0
    skipped: Counter[str] = Counter()
    problems: list[str] = []
    packed: list[tuple[str, str, str | None, list[tuple[Any, ...]]]] = []
    number = after
    with path.open("rb") as raw, igzip.GzipFile(fileobj=raw) as lines:  # (ISA-L: zlib's inflate, quicker)
        def send(done: bool) -> None:
            nonlocal read_, kept, skipped, problems, packed
            written, writer = None, ledger() if ledger is not None else None
            if writer is not None:
                entries = writer.write([(key, event, action) for key, event, action, _ in packed])
                written = (entries.ids, entries.all_new)
            write(out, ("batch", number, raw.tell(), read_, kept, dict(skipped), problems, packed, done, written))
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
                events = translate(record, (kind, action))
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


def main(given_text: str) -> int:
    out = sys.stdout.buffer
    try:
        given = json.loads(given_text)
        if given.get("ledger"):  # (the database layer makes a few cycles a transaction)
            gc.set_threshold(10_000, 10, 10)
        else:
            gc.disable()  # nothing it makes is cyclic, and it lives for one file
        ledger = _LedgerMade(given["ledger"]).get if given.get("ledger") else None
        read(Path(given["path"]), int(given["after"]), Scope.of(given["orgs"], given["repos"]),
             int(given["batch_size"]), out, ledger)
    except (BrokenPipeError, KeyboardInterrupt):  # the importer stopped reading, or was stopped
        return 1
    except Exception as error:  # told to the importer, which raises it
        write(out, ("error", f"{type(error).__name__}: {error}"))
        return 1
    return 0


class _LedgerMade:
    """The ledger, made in a thread while the first batches are read and sent without (the database layer takes
    half a second to import, which the importer would otherwise spend waiting for the first batch)."""

    def __init__(self, given: dict[str, str]) -> None:
        self._given = given
        self._ledger: DeliveryLedger | None = None
        self._error: BaseException | None = None
        self._made = threading.Event()
        threading.Thread(target=self._make, name="ledger", daemon=True).start()

    def get(self) -> DeliveryLedger | None:
        """The ledger, once it is made (None until then)."""
        if not self._made.is_set():
            return None
        if self._error is not None:
            raise self._error
        return self._ledger

    def _make(self) -> None:
        try:
            from bot.history.ledger import DeliveryLedger
            from bot.store.db import Database

            now = datetime.fromisoformat(self._given["now"])
            inbox = Database(self._given["url"], checkpoints=False)  # (the importer copies the write-ahead log)
            self._ledger = DeliveryLedger(inbox, platform=self._given["platform"], prefix=self._given["prefix"],
                                          clock=lambda: now)
        except BaseException as error:  # raised where the ledger is asked for
            self._error = error
        finally:
            self._made.set()


if __name__ == "__main__":
    sys.exit(main(sys.stdin.read()))
