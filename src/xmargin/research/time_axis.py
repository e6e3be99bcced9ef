"""Readable ticks for time and value axes: whole hours, days, months; 1-2-5 value steps."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
_FIXED_STEPS_MS = (
    HOUR_MS,
    3 * HOUR_MS,
    6 * HOUR_MS,
    12 * HOUR_MS,
    DAY_MS,
    2 * DAY_MS,
    7 * DAY_MS,
    14 * DAY_MS,
)
_MONTH_STEPS = (1, 2, 3, 6, 12)


def utc(ts_ms: int) -> datetime:
    return datetime.fromtimestamp(ts_ms / 1000, UTC)


def time_ticks(start_ms: int, end_ms: int, max_ticks: int = 10) -> list[tuple[int, str]]:
    """Return ``(ts_ms, label)`` ticks on round UTC times between ``start_ms`` and ``end_ms``."""
    span = max(end_ms - start_ms, 1)
    for step in _FIXED_STEPS_MS:
        if span / step <= max_ticks:
            first = -(-start_ms // step) * step
            if step >= DAY_MS:
                first = -(-start_ms // DAY_MS) * DAY_MS
            ticks = list(range(first, end_ms + 1, step))
            return [(t, _label(t, step)) for t in ticks]
    for months in _MONTH_STEPS:
        if span / (months * 30 * DAY_MS) <= max_ticks:
            return [
                (t, _label(t, months * 30 * DAY_MS)) for t in _month_ticks(start_ms, end_ms, months)
            ]
    years = math.ceil(span / (365 * DAY_MS) / max_ticks)
    return [(t, f"{utc(t):%Y}") for t in _month_ticks(start_ms, end_ms, 12 * years)]


def _month_ticks(start_ms: int, end_ms: int, months: int) -> list[int]:
    moment = utc(start_ms)
    year, month = moment.year, moment.month
    if moment != datetime(year, month, 1, tzinfo=UTC):
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    while (month - 1) % months:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    ticks: list[int] = []
    while True:
        ts = int(datetime(year, month, 1, tzinfo=UTC).timestamp() * 1000)
        if ts > end_ms:
            return ticks
        ticks.append(ts)
        month += months
        while month > 12:
            year, month = year + 1, month - 12


def _label(ts_ms: int, step_ms: int) -> str:
    moment = utc(ts_ms)
    if step_ms >= 28 * DAY_MS:
        return f"{moment:%b %Y}"
    if step_ms >= DAY_MS:
        return f"{moment.day} {moment:%b}"
    if moment.hour == 0:
        return f"{moment.day} {moment:%b}"
    return f"{moment:%H:%M}"


def value_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Return about ``count`` round values (1, 2, 2.5 or 5 × 10^k apart) covering low..high."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return [0.0]
    if high <= low:
        pad = abs(high) * 0.05 or 1.0
        low, high = low - pad, high + pad
    raw = (high - low) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 12))
    return ticks


def date_range_text(start_ms: int, end_ms: int) -> str:
    """``2025-01-01 00:00 → 2025-12-31 23:55 UTC (365 days)``."""
    days = (end_ms - start_ms) / DAY_MS
    length = f"{days:,.0f} days" if days >= 2 else str(timedelta(milliseconds=end_ms - start_ms))
    return f"{utc(start_ms):%Y-%m-%d %H:%M} → {utc(end_ms):%Y-%m-%d %H:%M} UTC ({length})"
