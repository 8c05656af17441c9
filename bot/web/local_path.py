"""Where `next` may lead (where a form goes after logging in or out, the login page's "Back" link): judged in one
place, `local_path`, a path on this site or nothing.

    local_path(next)              `next` when it is a path on this site, else None
"""

from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import unquote

MAX_NEXT = 2048  # characters of a `next` path
DECODINGS = 3  # `next` is judged as it is and decoded up to this many times (a proxy or a browser may decode it)


def _hidden(char: str) -> bool:
    """A character a browser drops or reads as a break inside an address, or that cannot be seen: controls (tab,
    CR, LF, ...), format characters (zero-width, direction marks), separators, surrogates, unassigned ones."""
    return unicodedata.category(char)[0] in "CZ"


def local_path(given: Any) -> str | None:
    """`given` when it is a path on this site, else None: it starts with one "/" and holds no character a browser
    or a proxy could turn into another site's address, as it is or percent-decoded (`//` or `/\\` at its start, a
    backslash, a control, format or space character: browsers drop tab, CR and LF inside an address, so `/\\t/x`
    becomes `//x`, another site)."""
    if not isinstance(given, str) or not 1 <= len(given) <= MAX_NEXT or any(_hidden(char) for char in given):
        return None
    form = given
    for _ in range(DECODINGS + 1):
        if not form.startswith("/") or form.startswith(("//", "/\\")) or "\\" in form:
            return None
        decoded = unquote(form)
        if decoded == form:
            return given
        if any(_hidden(char) for char in decoded if char != " "):
            return None
        form = decoded
    return None  # encoded more deeply than any path of ours

