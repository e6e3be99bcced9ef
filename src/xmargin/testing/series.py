"""Hand-made market data series with exact values, for scenario and property tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from xmargin.data.series import FundingSeries, OhlcvSeries, QuoteSeries, TradeSeries, timeframe_ms

Row = tuple[float, float, float, float] | tuple[float, float, float, float, float]


def ohlcv(start_ms: int, timeframe: str, rows: Sequence[Row]) -> OhlcvSeries:
    """Bars every ``timeframe`` from ``start_ms``: rows of (open, high, low, close[, volume]).

    A row without a volume trades 1,000,000 (enough never to cap a fill).
    """
    step = timeframe_ms(timeframe)
    full = [(*row, 1_000_000.0) if len(row) == 4 else row for row in rows]
    columns = list(zip(*full, strict=True)) if full else [(), (), (), (), ()]
    return OhlcvSeries(
        np.arange(len(full), dtype=np.int64) * step + start_ms,
        np.array(columns[0], dtype=np.float64),
        np.array(columns[1], dtype=np.float64),
        np.array(columns[2], dtype=np.float64),
        np.array(columns[3], dtype=np.float64),
        np.array(columns[4], dtype=np.float64),
        timeframe,
        source="hand-made",
    )


def marks(start_ms: int, timeframe: str, rows: Sequence[Row]) -> OhlcvSeries:
    """Mark-price bars: like :func:`ohlcv` with zero volume."""
    return ohlcv(start_ms, timeframe, [(*row[:4], 0.0) for row in rows])


def flat_marks(start_ms: int, timeframe: str, closes: Sequence[float]) -> OhlcvSeries:
    """Mark bars whose range is one price each (open = high = low = close)."""
    return marks(start_ms, timeframe, [(c, c, c, c) for c in closes])


def funding(rows: Sequence[tuple[int, float]], interval_h: int = 8) -> FundingSeries:
    """Funding settlements: rows of (ts_ms, rate)."""
    return FundingSeries(
        np.array([ts for ts, _ in rows], dtype=np.int64),
        np.array([rate for _, rate in rows], dtype=np.float64),
        np.full(len(rows), interval_h, dtype=np.int64),
        source="hand-made",
    )


def trades(rows: Sequence[tuple[int, float, float]]) -> TradeSeries:
    """Public trades: rows of (ts_ms, price, quantity); the aggressor is the buyer."""
    return TradeSeries(
        np.array([r[0] for r in rows], dtype=np.int64),
        np.array([r[1] for r in rows], dtype=np.float64),
        np.array([r[2] for r in rows], dtype=np.float64),
        np.zeros(len(rows), dtype=np.bool_),
        source="hand-made",
    )


def quotes(rows: Sequence[tuple[int, float, float, float, float]]) -> QuoteSeries:
    """Best bid/offer updates: rows of (ts_ms, bid, bid_qty, ask, ask_qty)."""
    columns = list(zip(*rows, strict=True)) if rows else [(), (), (), (), ()]
    return QuoteSeries(
        np.array(columns[0], dtype=np.int64),
        np.array(columns[1], dtype=np.float64),
        np.array(columns[2], dtype=np.float64),
        np.array(columns[3], dtype=np.float64),
        np.array(columns[4], dtype=np.float64),
        source="hand-made",
    )
