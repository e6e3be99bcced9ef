"""Incremental technical indicators on floats: one ``update`` per new value, no look-ahead.

Each indicator takes the newest value in ``update`` and returns its value at that point, or
``None`` while it is still warming up; it never sees a later value than the one just given.
Conventions (checked against hand computations in ``tests/unit/strategy``):

* ``Ema`` and ``WilderMa`` are seeded with the simple mean of their first ``period`` values
  (TA-Lib's convention), then ``ema += alpha × (x − ema)`` with ``alpha = 2 / (period + 1)``
  (EMA) or ``1 / period`` (Wilder). An EMA of ``2n − 1`` is therefore Wilder's average of ``n``.
* ``Rsi`` is Wilder's: average gain and loss of the last ``period`` changes (Wilder-smoothed);
  it needs ``period + 1`` values. No losses give 100, and a flat window 50.
* ``RollingStd`` is the population standard deviation (``ddof = 0``) of the window.
* ``Qqe`` is the Quantitative Qualitative Estimation: an EMA-smoothed RSI with a trailing
  band ``factor ×`` the double Wilder-smoothed absolute change of that line.
"""

from __future__ import annotations

import math
from collections import deque


class Sma:
    """Simple moving average of the last ``period`` values."""

    __slots__ = ("_sum", "_window", "period", "value")

    def __init__(self, period: int) -> None:
        if period < 1:
            raise ValueError(f"period must be at least 1, got {period}")
        self.period = period
        self._window: deque[float] = deque()
        self._sum = 0.0
        self.value: float | None = None

    def update(self, x: float) -> float | None:
        window = self._window
        window.append(x)
        self._sum += x
        if len(window) > self.period:
            self._sum -= window.popleft()
        if len(window) == self.period:
            self.value = self._sum / self.period
        return self.value


class _Smoothed:
    """An exponential average seeded with the simple mean of its first ``period`` values."""

    __slots__ = ("_count", "_seed", "alpha", "period", "value")

    def __init__(self, period: int, alpha: float) -> None:
        if period < 1:
            raise ValueError(f"period must be at least 1, got {period}")
        self.period = period
        self.alpha = alpha
        self._count = 0
        self._seed = 0.0
        self.value: float | None = None

    def update(self, x: float) -> float | None:
        if self.value is not None:
            self.value += self.alpha * (x - self.value)
            return self.value
        self._count += 1
        self._seed += x
        if self._count == self.period:
            self.value = self._seed / self.period
        return self.value


class Ema(_Smoothed):
    """Exponential moving average, ``alpha = 2 / (period + 1)``."""

    __slots__ = ()

    def __init__(self, period: int) -> None:
        super().__init__(period, 2.0 / (period + 1))


class WilderMa(_Smoothed):
    """Wilder's smoothing (RMA), ``alpha = 1 / period``."""

    __slots__ = ()

    def __init__(self, period: int) -> None:
        super().__init__(period, 1.0 / period)


class Rsi:
    """Wilder's relative strength index (0–100) over ``period`` changes."""

    __slots__ = ("_gain", "_last", "_loss", "period", "value")

    def __init__(self, period: int = 14) -> None:
        self.period = period
        self._gain = WilderMa(period)
        self._loss = WilderMa(period)
        self._last: float | None = None
        self.value: float | None = None

    def update(self, x: float) -> float | None:
        last, self._last = self._last, x
        if last is None:
            return None
        change = x - last
        gain = self._gain.update(max(change, 0.0))
        loss = self._loss.update(max(-change, 0.0))
        if gain is None or loss is None:
            return None
        if loss == 0.0:
            self.value = 50.0 if gain == 0.0 else 100.0
        else:
            self.value = 100.0 - 100.0 / (1.0 + gain / loss)
        return self.value


class RollingStd:
    """Population standard deviation of the last ``period`` values."""

    __slots__ = ("_window", "period", "value")

    def __init__(self, period: int) -> None:
        if period < 2:
            raise ValueError(f"period must be at least 2, got {period}")
        self.period = period
        self._window: deque[float] = deque(maxlen=period)
        self.value: float | None = None

    def update(self, x: float) -> float | None:
        window = self._window
        window.append(x)
        if len(window) == self.period:
            mean = sum(window) / self.period
            self.value = math.sqrt(sum((v - mean) ** 2 for v in window) / self.period)
        return self.value


class Momentum:
    """Rate of change over ``period`` values: ``x_t / x_{t−period} − 1``."""

    __slots__ = ("_window", "period", "value")

    def __init__(self, period: int) -> None:
        if period < 1:
            raise ValueError(f"period must be at least 1, got {period}")
        self.period = period
        self._window: deque[float] = deque(maxlen=period + 1)
        self.value: float | None = None

    def update(self, x: float) -> float | None:
        window = self._window
        window.append(x)
        if len(window) == self.period + 1 and window[0] != 0.0:
            self.value = x / window[0] - 1.0
        return self.value


class Qqe:
    """QQE: RSI smoothed by an EMA, with trailing bands from Wilder-smoothed volatility.

    ``line`` = EMA(``smoothing``) of RSI(``rsi_period``); ``dar`` = ``factor`` × the double
    Wilder average (period ``rsi_period``, i.e. EMA of ``2·rsi_period − 1``) of
    ``|line − previous line|``. The long band trails ``line − dar`` upwards while the line
    stays above it, the short band trails ``line + dar`` downwards while the line stays
    below it. ``trend`` turns +1 when the line crosses above the previous short band, −1
    when it crosses below the previous long band, and keeps its value otherwise; it starts
    at 0 (no signal) until the first cross.
    """

    __slots__ = (
        "_dar1",
        "_dar2",
        "_line_ma",
        "_prev_line",
        "_rsi",
        "factor",
        "line",
        "long_band",
        "short_band",
        "trend",
    )

    def __init__(self, rsi_period: int = 14, smoothing: int = 5, factor: float = 4.236) -> None:
        self._rsi = Rsi(rsi_period)
        self._line_ma = Ema(smoothing)
        self._dar1 = WilderMa(rsi_period)
        self._dar2 = WilderMa(rsi_period)
        self.factor = factor
        self._prev_line: float | None = None
        self.line: float | None = None
        self.long_band: float | None = None
        self.short_band: float | None = None
        self.trend = 0

    def update(self, close: float) -> int | None:
        """Add a close; return the trend (−1, 0, +1) once the bands exist, else None."""
        rsi = self._rsi.update(close)
        if rsi is None:
            return None
        line = self._line_ma.update(rsi)
        if line is None:
            return None
        previous = self._prev_line
        self._prev_line = line
        if previous is None:
            return None
        smoothed = self._dar1.update(abs(line - previous))
        dar_base = None if smoothed is None else self._dar2.update(smoothed)
        if dar_base is None:
            return None
        dar = dar_base * self.factor
        self.line = line
        self._step(previous, line, dar)
        return self.trend

    def _step(self, previous: float, line: float, dar: float) -> None:
        new_long, new_short = line - dar, line + dar
        long_band, short_band = self.long_band, self.short_band
        if long_band is None or short_band is None:
            self.long_band, self.short_band = new_long, new_short
            return
        if previous > long_band and line > long_band:
            self.long_band = max(long_band, new_long)
        else:
            self.long_band = new_long
        if previous < short_band and line < short_band:
            self.short_band = min(short_band, new_short)
        else:
            self.short_band = new_short
        if line > short_band >= previous:
            self.trend = 1
        elif line < long_band <= previous:
            self.trend = -1
