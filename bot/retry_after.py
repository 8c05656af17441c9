"""The Retry-After header (RFC 9110 §10.2.3), as the forges and the chat services send it with a 429 or a 503:
delay-seconds (`120`) or an HTTP date (`Wed, 21 Oct 2026 07:28:00 GMT`)."""

from __future__ import annotations

import math
from email.utils import parsedate_to_datetime


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """The seconds a Retry-After value asks to wait from `now` (epoch seconds), at least 0; None when the value is
    absent, unreadable or not finite."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(text).timestamp() - now
        except (TypeError, ValueError, IndexError):
            return None
    return max(seconds, 0.0) if math.isfinite(seconds) else None
