"""Performance snapshots: the run's equity curve condensed to one row per hour (and per account).

The ``*`` row of an hour holds the run's totals at the last grid point of that hour: total
balance (equity), position notional, leverage (notional / equity), the PnL since the end of
the previous UTC day, and the deepest drawdown from the running peak within the hour
(measured on the full curve, so no intra-hour trough is lost). Per-account rows hold that
account's margin ratio as its venue defines it, and once a day (and at the end) its exact
balance, free collateral, notional and leverage. Curves are analytics floats; they are stored
rounded to 1e-8 (ratios to 1e-10) and never feed back into the ledger.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Protocol

from xmargin.storage.columns import decimal_from_float

NS_PER_MS = 1_000_000
DAY_MS = 86_400_000
HOUR_MS = 3_600_000
ALL_ACCOUNTS = "*"
LEVERAGE_PLACES = Decimal("1e-10")


def performance_rows(
    run_id: str,
    grid_ms: Sequence[int],
    equity: Sequence[float],
    gross_notional: Sequence[float],
    margin_curves: Mapping[str, Iterable[tuple[int, float | None]]],
    bucket_ms: int = HOUR_MS,
    account_samples: Mapping[str, Iterable[AccountFigures]] | None = None,
) -> list[dict[str, Any]]:
    """Return the rows of ``performance_snapshots`` for one run.

    One row per hour for all accounts together (from the equity curve), and per account one
    row per margin-ratio sample; where an account has exact figures at that instant (daily
    and at the end) its row also holds balance, free collateral, notional and leverage.
    """
    rows = _total_rows(run_id, grid_ms, equity, gross_notional, bucket_ms)
    samples = account_samples or {}
    for account in sorted(set(margin_curves) | set(samples)):
        by_ts: dict[int, dict[str, Any]] = {}
        for ts_ms, ratio in margin_curves.get(account, ()):
            by_ts.setdefault(ts_ms, _account_row(run_id, account, ts_ms, ratio))
        for figures in samples.get(account, ()):
            row = by_ts.setdefault(
                figures.ts_ms, _account_row(run_id, account, figures.ts_ms, None)
            )
            row["total_balance"] = figures.equity
            row["available_balance"] = figures.available
            row["position_notional"] = figures.notional
            row["leverage"] = (
                (figures.notional / figures.equity).quantize(LEVERAGE_PLACES)
                if figures.equity > 0
                else None
            )
            if figures.margin_ratio is not None and figures.margin_ratio.is_finite():
                row["margin_ratio"] = figures.margin_ratio.quantize(LEVERAGE_PLACES)
        rows.extend(by_ts[ts] for ts in sorted(by_ts))
    return rows


class AccountFigures(Protocol):
    """An account's exact figures at one instant (``AccountSample`` of a backtest)."""

    @property
    def ts_ms(self) -> int: ...
    @property
    def equity(self) -> Decimal: ...
    @property
    def available(self) -> Decimal: ...
    @property
    def notional(self) -> Decimal: ...
    @property
    def margin_ratio(self) -> Decimal | None: ...


def _account_row(run_id: str, account: str, ts_ms: int, ratio: float | None) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "account": account,
        "ts_ns": ts_ms * NS_PER_MS,
        "total_balance": None,
        "available_balance": None,
        "position_notional": None,
        "leverage": None,
        "margin_ratio": decimal_from_float(ratio, 10),
        "daily_pnl": None,
        "drawdown": None,
    }


def _total_rows(
    run_id: str,
    grid_ms: Sequence[int],
    equity: Sequence[float],
    gross: Sequence[float],
    bucket_ms: int,
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    peak = float("-inf")
    worst_in_bucket = 0.0
    previous_close: float | None = None
    day_close: float | None = None
    day = None
    count = len(grid_ms)
    for index in range(count):
        value = equity[index]
        if math.isnan(value):  # before the first price
            continue
        ts = int(grid_ms[index])
        if day is None or ts // DAY_MS != day:
            previous_close = day_close if day_close is not None else value
            day = ts // DAY_MS
        day_close = value
        peak = max(peak, value)
        depth = (peak - value) / peak if peak > 0 else 0.0
        worst_in_bucket = max(worst_in_bucket, depth)
        last_of_bucket = (
            index + 1 == count or int(grid_ms[index + 1]) // bucket_ms != ts // bucket_ms
        )
        if not last_of_bucket:
            continue
        notional = gross[index]
        rows.append(
            {
                "run_id": run_id,
                "account": ALL_ACCOUNTS,
                "ts_ns": ts * NS_PER_MS,
                "total_balance": decimal_from_float(value),
                "available_balance": None,
                "position_notional": decimal_from_float(notional),
                "leverage": decimal_from_float(notional / value, 10) if value > 0 else None,
                "margin_ratio": None,
                "daily_pnl": decimal_from_float(value - (previous_close or value)),
                "drawdown": decimal_from_float(worst_in_bucket, 10),
            }
        )
        worst_in_bucket = 0.0
    return rows
