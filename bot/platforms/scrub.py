"""Removing a secret from what is stored, however the text around it is written: raw, or with any of its characters
in one of JSON's escapes (`\\u0077`, `\\u0057`, `\\/`, `\\"`, ...), in a body that parses or one that does not."""

from __future__ import annotations

import json
import re

REMOVED = b"[removed]"
_SHORT_ESCAPES = {'"': b'\\"', "\\": b"\\\\", "/": b"\\/", "\b": b"\\b", "\f": b"\\f", "\n": b"\\n", "\r": b"\\r",
                  "\t": b"\\t"}


def _hex_escape(code: int) -> bytes:
    """`\\uXXXX` for one UTF-16 unit, its hex digits in either case."""
    return b"\\\\u" + b"".join(f"[{digit.lower()}{digit.upper()}]".encode() if digit.isalpha() else digit.encode()
                               for digit in f"{code:04x}")


def _spellings(character: str) -> bytes:
    """A pattern for every way JSON text can hold one character."""
    options = [re.escape(character.encode())]
    code = ord(character)
    if code > 0xFFFF:  # written as a surrogate pair
        code -= 0x10000
        options.append(_hex_escape(0xD800 + (code >> 10)) + _hex_escape(0xDC00 + (code & 0x3FF)))
    else:
        options.append(_hex_escape(code))
    if character in _SHORT_ESCAPES:
        options.append(re.escape(_SHORT_ESCAPES[character]))
    return b"(?:" + b"|".join(options) + b")"


class SecretScrubber:
    """Replaces every spelling of one secret with `[removed]`. An empty secret scrubs nothing."""

    def __init__(self, secret: str) -> None:
        self._pattern = re.compile(b"".join(_spellings(character) for character in secret)) if secret else None
        self._dumped = json.dumps(secret, ensure_ascii=False)[1:-1].encode() if secret else b""

    def bytes(self, data: bytes) -> bytes:
        """Any text, JSON or not (a regular expression: about 150 MB/s)."""
        return self._pattern.sub(REMOVED, data) if self._pattern is not None else data

    def dumped(self, data: bytes) -> bytes:
        """JSON that `json.dumps(..., ensure_ascii=False)` wrote, which spells the secret one way only (a plain
        search: the usual case costs a few microseconds)."""
        if not self._dumped or self._dumped not in data:
            return data
        return data.replace(self._dumped, REMOVED)

    def text(self, value: str) -> str:
        if self._pattern is None:
            return value
        return self._pattern.sub(REMOVED, value.encode("utf-8", "surrogatepass")).decode("utf-8", "surrogatepass")

    def headers(self, headers: dict[str, str]) -> dict[str, str]:
        return {name: self.text(value) for name, value in headers.items()}
