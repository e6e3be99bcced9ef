"""Summarise a backtest: returns, risk ratios, drawdown, trade statistics, exposure, turnover.

Conventions:

- Leading grid points where equity is NaN (before the first price) are dropped; every other
  equity value must be finite. All curve metrics use the remaining points.
- Daily returns: the curve is resampled to the last value of each UTC day (day =
  ``ts_ms // 86_400_000``) and returns are taken between consecutive days present in the
  grid; the first day's own intraday move is not an observation.
- Sharpe = mean / population standard deviation (ddof = 0) × √365, risk-free rate 0.
  Sortino = mean / √mean(min(r, 0)²) over all days × √365. Both are None with fewer than two
  daily returns or a zero denominator (a standard deviation within 1e-9 of the mean
  absolute return counts as zero).
- CAGR = (final / start)^(365.25 days / duration) − 1, None for runs shorter than one day.
- Max drawdown is measured on the full-resolution curve as a positive fraction of the peak;
  it starts at the last time the peak was reached and ends at the trough.
- A trip with pnl > 0 is a win, pnl < 0 a loss; a zero-pnl trip counts only in ``trades``.
  ``average_loss`` is negative. Money taken from trips stays ``Decimal``.
- Exposure is the fraction of points with gross notional > 0; average leverage is the mean
  of gross notional / equity over exposed points with positive equity.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from xmargin.backtest.round_trips import RoundTrip
from xmargin.core.errors import DataError

DAY_MS = 86_400_000
YEAR_MS = 365.25 * DAY_MS
PERIODS_PER_YEAR = 365
_ZERO_SPREAD = 1e-9
_NO_PNL = Decimal(0)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Metrics:
    """The figures of one backtest run (see the module docstring for conventions)."""

    start_equity: float
    final_equity: float
    total_return: float | None
    cagr: float | None
    sharpe: float | None
    sortino: float | None
    max_drawdown: float
    max_drawdown_start_ms: int | None
    max_drawdown_end_ms: int | None
    calmar: float | None
    trades: int
    win_rate: float | None
    profit_factor: float | None
    average_win: Decimal | None
    average_loss: Decimal | None
    exposure: float
    average_leverage: float | None
    turnover: float | None
    pnl_split: Mapping[str, Decimal]


@dataclass(frozen=True, slots=True)
class _Drawdown:
    depth: float
    start_ms: int | None
    end_ms: int | None


def compute_metrics(
    grid_ms: npt.ArrayLike,
    equity: npt.ArrayLike,
    gross_notional: npt.ArrayLike,
    trips: Sequence[RoundTrip],
    traded_notional: float,
    pnl_split: Mapping[str, Decimal],
) -> Metrics:
    """Compute the metrics of an equity curve, its gross notional and its round trips.

    Raises ``DataError`` for mismatched or empty arrays, a decreasing grid, or a NaN after
    the curve has started.
    """
    grid, values, gross = _valid_curve(grid_ms, equity, gross_notional)
    start, final = float(values[0]), float(values[-1])
    ratio = final / start if start > 0 else None
    cagr = _cagr(ratio, int(grid[-1] - grid[0]))
    daily = _daily_returns(grid, values)
    drawdown = _max_drawdown(grid, values)
    wins = [t.pnl for t in trips if t.pnl > 0]
    losses = [t.pnl for t in trips if t.pnl < 0]
    gross_profit, gross_loss = sum(wins, _NO_PNL), sum(losses, _NO_PNL)
    exposed = gross > 0
    levered = exposed & (values > 0)
    mean_equity = float(np.mean(values))
    return Metrics(
        start_equity=start,
        final_equity=final,
        total_return=None if ratio is None else ratio - 1.0,
        cagr=cagr,
        sharpe=_sharpe(daily),
        sortino=_sortino(daily),
        max_drawdown=drawdown.depth,
        max_drawdown_start_ms=drawdown.start_ms,
        max_drawdown_end_ms=drawdown.end_ms,
        calmar=None if cagr is None or drawdown.depth == 0 else cagr / drawdown.depth,
        trades=len(trips),
        win_rate=len(wins) / len(trips) if trips else None,
        profit_factor=float(gross_profit / -gross_loss) if losses else None,
        average_win=gross_profit / len(wins) if wins else None,
        average_loss=gross_loss / len(losses) if losses else None,
        exposure=float(np.mean(exposed)),
        average_leverage=(
            float(np.mean(gross[levered] / values[levered])) if levered.any() else None
        ),
        turnover=traded_notional / mean_equity if mean_equity > 0 else None,
        pnl_split=MappingProxyType(dict(pnl_split)),
    )


def metrics_dict(metrics: Metrics) -> dict[str, Any]:
    """Return the metrics for JSON: Decimals as strings, floats to 10 significant digits."""
    return {field.name: _jsonable(getattr(metrics, field.name)) for field in fields(metrics)}


def _jsonable(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        return float(f"{value:.10g}")
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    return value


def _valid_curve(
    grid_ms: npt.ArrayLike, equity: npt.ArrayLike, gross_notional: npt.ArrayLike
) -> tuple[IntArray, FloatArray, FloatArray]:
    """Return grid, equity and gross notional from the first finite equity value on."""
    grid = np.asarray(grid_ms, dtype=np.int64)
    values = np.asarray(equity, dtype=np.float64)
    gross = np.asarray(gross_notional, dtype=np.float64)
    if grid.ndim != 1 or grid.shape != values.shape or grid.shape != gross.shape:
        raise DataError("grid, equity and gross notional must be 1-D of one length")
    if bool(np.any(np.diff(grid) < 0)):
        raise DataError("grid times must not decrease", source="grid")
    finite = np.isfinite(values)
    if not finite.any():
        raise DataError("the equity curve has no finite value", source="equity")
    first = int(np.argmax(finite))
    if not finite[first:].all():
        row = first + int(np.argmin(finite[first:]))
        raise DataError("equity is not finite after the curve started", source="equity", row=row)
    return grid[first:], values[first:], gross[first:]


def _cagr(ratio: float | None, duration_ms: int) -> float | None:
    if ratio is None or ratio < 0 or duration_ms < DAY_MS:
        return None
    return float(ratio ** (YEAR_MS / duration_ms) - 1.0)


def _daily_returns(grid: IntArray, values: FloatArray) -> FloatArray:
    """Return the returns between the last values of consecutive UTC days in the grid."""
    day = grid // DAY_MS
    last_of_day = np.flatnonzero(np.append(day[1:] != day[:-1], True))
    closes = values[last_of_day]
    with np.errstate(divide="ignore", invalid="ignore"):
        returns: FloatArray = closes[1:] / closes[:-1] - 1.0
    return returns


def _sharpe(daily: FloatArray) -> float | None:
    if daily.size < 2 or not np.isfinite(daily).all():
        return None
    spread = float(np.std(daily))
    if spread <= _ZERO_SPREAD * float(np.mean(np.abs(daily))):
        return None
    return float(np.mean(daily)) / spread * math.sqrt(PERIODS_PER_YEAR)


def _sortino(daily: FloatArray) -> float | None:
    if daily.size < 2 or not np.isfinite(daily).all():
        return None
    downside = math.sqrt(float(np.mean(np.minimum(daily, 0.0) ** 2)))
    if downside == 0:
        return None
    return float(np.mean(daily)) / downside * math.sqrt(PERIODS_PER_YEAR)


def _max_drawdown(grid: IntArray, values: FloatArray) -> _Drawdown:
    """Return the largest fall from a running peak, as a fraction of that positive peak."""
    peaks = np.maximum.accumulate(values)
    with np.errstate(divide="ignore", invalid="ignore"):
        depth = np.where(peaks > 0, (peaks - values) / peaks, 0.0)
    trough = int(np.argmax(depth))
    if depth[trough] <= 0:
        return _Drawdown(0.0, None, None)
    peak = int(np.flatnonzero(values[: trough + 1] == peaks[trough])[-1])
    return _Drawdown(float(depth[trough]), int(grid[peak]), int(grid[trough]))
