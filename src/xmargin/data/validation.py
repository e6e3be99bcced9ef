"""Validate market-data series, repair them on request, and report gaps on their grid.

Rules (a violation raises :class:`DataError` naming the source, the row and the field):

* bars and funding: timestamps strictly increase; bars sit on their timeframe grid;
* trades and quotes: timestamps never decrease (ticks may share a millisecond);
* prices (open/high/low/close, trade price, bid, ask) are finite and positive;
* ``high >= max(open, close)`` and ``low <= min(open, close)``;
* volume and quote sizes are finite and non-negative, trade sizes positive;
* funding rates are finite, funding intervals positive; quotes are not crossed (bid <= ask).

Rows are numbered as CSV lines: the header is row 1, so the first data row is row 2. A
loader that filters rows passes their original line numbers.

Repair (``repair=True``), in this order, each step listed in the :class:`RepairReport`:

1. drop rows with a non-finite or non-positive price, a non-finite funding rate, a
   non-positive funding interval or trade size, a crossed quote;
2. sort by time (stable); for bars and funding drop exact duplicate timestamps keeping the
   last row in file order; drop bars off the timeframe grid;
3. widen ``high``/``low`` to include ``open`` and ``close``;
4. set a negative or non-finite volume or quote size to 0.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import numpy as np

from xmargin.core.errors import ConfigError, InvariantError
from xmargin.data.series import (
    MS_PER_HOUR,
    BoolArray,
    FundingSeries,
    IntArray,
    OhlcvSeries,
    Series,
)
from xmargin.data.validation_rules import Rule, first_violation, rules_for

S = TypeVar("S", bound=Series)


@dataclass(frozen=True)
class Repair:
    """One repair step: what was done to which field, and the rows (CSV line numbers) hit."""

    action: str
    field: str
    rows: tuple[int, ...]

    def __str__(self) -> str:
        shown = ", ".join(str(row) for row in self.rows[:10])
        more = f", … ({len(self.rows)} rows)" if len(self.rows) > 10 else ""
        return f"{self.field}: {self.action}: rows {shown}{more}"


@dataclass(frozen=True)
class RepairReport:
    """The repairs applied to one series (empty when it was valid as read)."""

    source: str
    rows_in: int
    rows_out: int
    repairs: tuple[Repair, ...] = ()

    @property
    def repaired_rows(self) -> int:
        """Return how many distinct rows were touched."""
        return len({row for repair in self.repairs for row in repair.rows})

    def __str__(self) -> str:
        if not self.repairs:
            return f"{self.source}: no repairs needed"
        lines = [f"{self.source}: {self.rows_in} rows in, {self.rows_out} out"]
        lines.extend(f"  {repair}" for repair in self.repairs)
        return "\n".join(lines)


@dataclass(frozen=True)
class Gap:
    """Missing bars or settlements: the first missing time, the next present time, the count."""

    start_ms: int
    end_ms: int
    missing_bars: int


def validate(
    series: S,
    *,
    repair: bool = False,
    line_numbers: IntArray | None = None,
    column_names: Mapping[str, str] | None = None,
) -> tuple[S, RepairReport]:
    """Check every rule; raise on the first violating row, or repair and report.

    ``line_numbers`` are the rows' CSV line numbers (default: index + 2); ``column_names``
    maps a series field to the file's column name for messages (``rate`` → ``funding_rate``).
    """
    lines = _lines(series, line_numbers)
    names = dict(column_names or {})
    rows_in = len(series)
    repairs: tuple[Repair, ...] = ()
    if repair:
        repaired, lines, repairs = _repair(series, lines, names)
        series = cast(S, repaired)
    violation = first_violation(rules_for(series, lines), lines, series.source, names)
    if violation is not None:
        if repair:
            raise InvariantError(f"repair left an invalid series: {violation}")
        raise violation
    return series, RepairReport(series.source, rows_in, len(series), repairs)


def _lines(series: Series, line_numbers: IntArray | None) -> IntArray:
    if line_numbers is None:
        return np.arange(2, len(series) + 2, dtype=np.int64)
    lines = np.asarray(line_numbers, dtype=np.int64)
    if lines.shape != (len(series),):
        raise InvariantError(f"{len(lines)} line numbers for {len(series)} rows")
    return lines


def _repair(
    series: Series, lines: IntArray, names: dict[str, str]
) -> tuple[Series, IntArray, tuple[Repair, ...]]:
    repairs: list[Repair] = []

    def record(action: str, field: str, mask: BoolArray, at: IntArray) -> None:
        if mask.any():
            rows = tuple(int(row) for row in np.sort(at[mask]))
            repairs.append(Repair(action, names.get(field, field), rows))

    drop = np.zeros(len(series), dtype=bool)
    for rule in rules_for(series, lines):
        if rule.action == "drop":
            record(f"dropped rows: {rule.reason}", rule.field, rule.mask & ~drop, lines)
            drop |= rule.mask
    series, lines = series.take(~drop), lines[~drop]
    series, lines = _repair_time(series, lines, record)
    for rule in rules_for(series, lines):
        if rule.action in _FIXES:
            record(_FIX_TEXT[rule.action], rule.field, rule.mask, lines)
            series = _FIXES[rule.action](series, rule)
    return series, lines, tuple(repairs)


def _repair_time(
    series: Series, lines: IntArray, record: Callable[[str, str, BoolArray, IntArray], None]
) -> tuple[Series, IntArray]:
    ts = series.ts_ms
    if len(ts) > 1 and bool((np.diff(ts) < 0).any()):
        earlier = np.concatenate(([False], ts[1:] < np.maximum.accumulate(ts)[:-1]))
        record("sorted by time; these rows were out of order", "ts_ms", earlier, lines)
        order = np.argsort(ts, kind="stable")
        series, lines = series.take(order), lines[order]
        ts = series.ts_ms
    if isinstance(series, OhlcvSeries | FundingSeries) and len(ts) > 1:
        duplicate = np.concatenate((ts[:-1] == ts[1:], [False]))
        record("dropped duplicate timestamps, kept the last row", "ts_ms", duplicate, lines)
        series, lines = series.take(~duplicate), lines[~duplicate]
    if isinstance(series, OhlcvSeries) and series.step_ms is not None:
        off_grid = series.ts_ms % series.step_ms != 0
        record(f"dropped rows off the {series.timeframe} grid", "ts_ms", off_grid, lines)
        series, lines = series.take(~off_grid), lines[~off_grid]
    return series, lines


def _widen_high(series: Any, rule: Rule) -> Any:
    high = np.maximum(series.high, np.maximum(series.open, series.close))
    return series.with_columns(high=high)


def _widen_low(series: Any, rule: Rule) -> Any:
    low = np.minimum(series.low, np.minimum(series.open, series.close))
    return series.with_columns(low=low)


def _zero(series: Any, rule: Rule) -> Any:
    values = np.where(rule.mask, 0.0, getattr(series, rule.field))
    return series.with_columns(**{rule.field: values})


_FIXES: dict[str, Callable[[Any, Rule], Any]] = {
    "widen_high": _widen_high,
    "widen_low": _widen_low,
    "zero": _zero,
}
_FIX_TEXT = {
    "widen_high": "raised to max(open, close)",
    "widen_low": "lowered to min(open, close)",
    "zero": "set to 0 (was negative or not finite)",
}


def gap_report(series: Series) -> list[Gap]:
    """List the gaps of a bar series on its timeframe grid or of funding on its interval grid.

    ``start_ms`` is the first missing bar (settlement) and ``end_ms`` the next present one.
    Funding settlements may be late by some milliseconds, so a step counts as a gap when it
    exceeds 1.5 intervals (the interval of the later row, which covers interval changes).
    """
    ts = series.ts_ms.astype(np.int64)
    if len(ts) < 2:
        return []
    diff = np.diff(ts)
    if isinstance(series, OhlcvSeries):
        if series.step_ms is None:
            raise ConfigError(f"{series.source}: gap report needs a timeframe")
        step = np.full(len(diff), series.step_ms, dtype=np.int64)
        missing = diff // step - 1
    elif isinstance(series, FundingSeries):
        step = series.interval_h[1:].astype(np.int64) * MS_PER_HOUR
        missing = np.where(diff * 2 > step * 3, np.rint(diff / step).astype(np.int64) - 1, 0)
    else:
        raise ConfigError(f"{series.source}: trades and quotes have no grid to find gaps on")
    at = np.flatnonzero(missing > 0)
    return [Gap(int(ts[i] + step[i]), int(ts[i + 1]), int(missing[i])) for i in at]
