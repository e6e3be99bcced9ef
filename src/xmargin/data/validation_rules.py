"""The validation rules of each series type as vectorised violation masks.

Each :class:`Rule` marks the rows that break it, says how a repair treats them, and words
the error for one row. Rules are listed in column order so that, on one row, the leftmost
field is reported first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from xmargin.core.errors import DataError
from xmargin.data.series import (
    BoolArray,
    FloatArray,
    FundingSeries,
    IntArray,
    OhlcvSeries,
    QuoteSeries,
    Series,
    TradeSeries,
)


@dataclass(frozen=True)
class Rule:
    """Rows that break one rule of one field.

    ``action`` is what repair does: ``drop`` the row, ``time`` (sort, de-duplicate, drop off
    grid), ``widen_high``/``widen_low``, or ``zero`` the value.
    """

    field: str
    mask: BoolArray
    reason: str
    action: str
    describe: Callable[[int], str]


def first_violation(
    rules: list[Rule], lines: IntArray, source: str, names: Mapping[str, str]
) -> DataError | None:
    """Return the error for the earliest violating row (leftmost field first), or None.

    ``names`` maps a series field to the file's column name for the message.
    """
    best: tuple[int, Rule] | None = None
    any_bad: BoolArray | None = None
    for rule in rules:
        if not rule.mask.any():
            continue
        index = int(rule.mask.argmax())
        if best is None or index < best[0]:
            best = (index, rule)
        any_bad = rule.mask if any_bad is None else any_bad | rule.mask
    if best is None or any_bad is None:
        return None
    index, rule = best
    total = int(any_bad.sum())
    more = f" (first of {total} bad rows)" if total > 1 else ""
    return DataError(
        f"{rule.describe(index)}{more}",
        source=source,
        row=int(lines[index]),
        field=names.get(rule.field, rule.field),
    )


def rules_for(series: Series, lines: IntArray) -> list[Rule]:
    """Return the rules of ``series``'s type, fields named as series attributes."""
    if isinstance(series, OhlcvSeries):
        return _ohlcv_rules(series, lines)
    if isinstance(series, FundingSeries):
        return [*_time_rules(series.ts_ms, lines, strict=True), *_funding_rules(series)]
    if isinstance(series, TradeSeries):
        return [
            *_time_rules(series.ts_ms, lines, strict=False),
            *_price_rules("price", series.price),
            *_size_rules("qty", series.qty, positive=True),
        ]
    return _quote_rules(series, lines)


def _num(value: object) -> str:
    return repr(float(value))  # type: ignore[arg-type]


LAST_TS_MS = 253_402_300_799_999
"""9999-12-31T23:59:59.999Z: later timestamps cannot be shown as dates (nor exist)."""


def _time_rules(ts: IntArray, lines: IntArray, *, strict: bool) -> list[Rule]:
    step = np.diff(ts)
    back = np.concatenate(([False], step < 0))
    rules = [
        Rule(
            "ts_ms",
            (ts < 0) | (ts > LAST_TS_MS),
            "outside 1970-01-01 … 9999-12-31",
            "drop",
            lambda i: (
                f"{ts[i]} is outside 1970-01-01 … 9999-12-31 UTC "
                f"(0 to {LAST_TS_MS} ms); is it in milliseconds?"
            ),
        ),
        Rule(
            "ts_ms",
            back,
            "earlier than the previous row",
            "time",
            lambda i: f"{ts[i]} is earlier than {ts[i - 1]} in row {lines[i - 1]}",
        ),
    ]
    if strict:
        same = np.concatenate(([False], step == 0))
        rules.append(
            Rule(
                "ts_ms",
                same,
                "duplicate timestamp",
                "time",
                lambda i: f"{ts[i]} repeats the timestamp of row {lines[i - 1]}",
            )
        )
    return rules


def _price_rules(field: str, values: FloatArray) -> list[Rule]:
    finite = np.isfinite(values)
    return [
        Rule(
            field,
            ~finite,
            f"{field} is not a finite number",
            "drop",
            lambda i: f"{_num(values[i])} is not a finite number",
        ),
        Rule(
            field,
            finite & (values <= 0),
            f"{field} is not positive",
            "drop",
            lambda i: f"{_num(values[i])} is not positive",
        ),
    ]


def _size_rules(field: str, values: FloatArray, *, positive: bool) -> list[Rule]:
    if positive:
        return [
            Rule(
                field,
                ~(values > 0) | ~np.isfinite(values),
                f"{field} is not a positive finite number",
                "drop",
                lambda i: f"{_num(values[i])} is not a positive finite number",
            )
        ]
    bad = ~np.isfinite(values) | (values < 0)
    return [
        Rule(
            field,
            bad,
            f"{field} is negative or not finite",
            "zero",
            lambda i: (
                f"{_num(values[i])} is " + ("negative" if values[i] < 0 else "not a finite number")
            ),
        )
    ]


def _ohlcv_rules(series: OhlcvSeries, lines: IntArray) -> list[Rule]:
    ts, step = series.ts_ms, series.step_ms
    rules = _time_rules(ts, lines, strict=True)
    if step is not None:
        rules.append(
            Rule(
                "ts_ms",
                ts % step != 0,
                f"off the {series.timeframe} grid",
                "time",
                lambda i: (
                    f"{ts[i]} is not on the {series.timeframe} grid (off by {ts[i] % step} ms)"
                ),
            )
        )
    o, h, lo, c = series.open, series.high, series.low, series.close
    with np.errstate(invalid="ignore"):
        top, bottom = np.fmax(o, c), np.fmin(o, c)
        high_low = h < top
        low_high = lo > bottom
    rules += _price_rules("open", o)
    rules += _price_rules("high", h)
    rules.append(
        Rule(
            "high",
            high_low,
            "high below max(open, close)",
            "widen_high",
            lambda i: f"{_num(h[i])} is below max(open, close) {_num(top[i])}",
        )
    )
    rules += _price_rules("low", lo)
    rules.append(
        Rule(
            "low",
            low_high,
            "low above min(open, close)",
            "widen_low",
            lambda i: f"{_num(lo[i])} is above min(open, close) {_num(bottom[i])}",
        )
    )
    rules += _price_rules("close", c)
    return rules + _size_rules("volume", series.volume, positive=False)


def _funding_rules(series: FundingSeries) -> list[Rule]:
    rate, interval = series.rate, series.interval_h
    return [
        Rule(
            "rate",
            ~np.isfinite(rate),
            "rate is not a finite number",
            "drop",
            lambda i: f"{_num(rate[i])} is not a finite number",
        ),
        Rule(
            "interval_h",
            interval <= 0,
            "interval is not positive",
            "drop",
            lambda i: f"{interval[i]} is not a positive number of hours",
        ),
    ]


def _quote_rules(series: QuoteSeries, lines: IntArray) -> list[Rule]:
    bid, ask = series.bid, series.ask
    with np.errstate(invalid="ignore"):
        crossed = bid > ask
    return [
        *_time_rules(series.ts_ms, lines, strict=False),
        *_price_rules("bid", bid),
        Rule(
            "bid",
            crossed,
            "bid above ask (crossed quote)",
            "drop",
            lambda i: f"{_num(bid[i])} is above the ask {_num(ask[i])}",
        ),
        *_size_rules("bid_qty", series.bid_qty, positive=False),
        *_price_rules("ask", ask),
        *_size_rules("ask_qty", series.ask_qty, positive=False),
    ]
