"""Timestamps as sources send them, to timezone-aware UTC datetimes."""

from __future__ import annotations

import math
from datetime import UTC, datetime

#: Epoch numbers above this are milliseconds (1e11 s is the year 5138).
_MS_THRESHOLD = 1e11


def parse_time(value: object) -> datetime:
    """ISO 8601 with ``Z`` or an offset, a SensorThings interval ``start/end`` (its end:
    when the measurement was complete) or Unix epoch seconds or milliseconds.

    A time without an offset is refused, as ingestion refuses it: a local time taken for
    UTC would silently shift data by hours. Raises :class:`ValueError` with a reason."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not a time")
    if isinstance(value, int | float):
        number = float(value)
        if not math.isfinite(number) or number < 0:
            raise ValueError(f"not a usable epoch time: {value!r}")
        if number > _MS_THRESHOLD:
            number /= 1000.0
        try:
            return datetime.fromtimestamp(number, UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"epoch time out of range: {value!r}") from None
    if not isinstance(value, str):
        raise ValueError(f"not a time: {type(value).__name__}")
    text = value.strip()
    if "/" in text:  # an ISO 8601 interval, as SensorThings allows for phenomenonTime
        text = text.rsplit("/", 1)[1]
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not an ISO 8601 time: {value[:40]!r}") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"time without a UTC offset: {value[:40]!r} (add 'Z' or '+01:00')")
    return parsed.astimezone(UTC)


def iso(value: datetime) -> str:
    """``2026-01-02T03:04:05.123Z``: how SensorThings servers expect times in ``$filter``."""
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
