"""A documented synthetic market: seeded geometric Brownian motion bars, marks and funding.

Used when real data is neither present nor downloadable (the demo says so), and by the
speed benchmark. Prices follow ``p(t+1) = p(t) × exp(σ·z − σ²/2)`` per bar with
``z ~ N(0, 1)`` from ``numpy.random.default_rng(seed)``; each bar's open is the previous
close, its high/low widen the open–close range by ``|N(0, σ/2)|`` relative moves, and its
volume is lognormal. Marks are the bar closes aggregated to the mark timeframe; funding is
a constant rate on an 8-hour grid.
"""

from __future__ import annotations

import numpy as np

from xmargin.data.series import FundingSeries, OhlcvSeries, timeframe_ms


def synthetic_ohlcv(
    bars: int,
    *,
    timeframe: str = "1m",
    start_ms: int = 1_735_689_600_000,
    start_price: float = 60_000.0,
    annual_volatility: float = 0.6,
    seed: int = 7,
) -> OhlcvSeries:
    """Return ``bars`` bars from ``start_ms`` (2025-01-01 by default)."""
    step = timeframe_ms(timeframe)
    rng = np.random.default_rng(seed)
    sigma = annual_volatility * np.sqrt(step / (365 * 86_400_000))
    shocks = rng.standard_normal(bars) * sigma - sigma * sigma / 2
    close = start_price * np.exp(np.cumsum(shocks))
    close = np.round(close, 1)
    open_ = np.concatenate(([start_price], close[:-1]))
    wick_up = np.abs(rng.normal(0.0, sigma / 2, bars))
    wick_down = np.abs(rng.normal(0.0, sigma / 2, bars))
    high = np.round(np.maximum(open_, close) * (1 + wick_up), 1)
    low = np.round(np.minimum(open_, close) * (1 - wick_down), 1)
    volume = np.round(rng.lognormal(3.0, 1.0, bars), 3)
    ts = start_ms + step * np.arange(bars, dtype=np.int64)
    return OhlcvSeries(ts, open_, high, low, close, volume, timeframe, source="synthetic")


def aggregate_bars(bars: OhlcvSeries, timeframe: str = "1h") -> OhlcvSeries:
    """Aggregate bars into bars of a longer ``timeframe`` (also the synthetic mark price)."""
    step = timeframe_ms(timeframe)
    bucket = bars.ts_ms // step
    starts = np.flatnonzero(np.diff(bucket, prepend=bucket[0] - 1))
    ends = np.append(starts[1:], len(bucket))
    close = bars.close
    return OhlcvSeries(
        bucket[starts] * step,
        bars.open[starts],
        np.maximum.reduceat(bars.high, starts),
        np.minimum.reduceat(bars.low, starts),
        close[ends - 1],
        np.add.reduceat(bars.volume, starts),
        timeframe,
        source="synthetic",
    )


def synthetic_funding(
    start_ms: int, end_ms: int, *, rate: float = 0.0001, interval_hours: int = 8
) -> FundingSeries:
    """A constant funding rate settled every ``interval_hours`` in ``[start_ms, end_ms]``."""
    step = interval_hours * 3_600_000
    first = -(-start_ms // step) * step
    ts = np.arange(first, end_ms + 1, step, dtype=np.int64)
    return FundingSeries(
        ts,
        np.full(len(ts), rate),
        np.full(len(ts), interval_hours, dtype=np.int64),
        source="synthetic",
    )
