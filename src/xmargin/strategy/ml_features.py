"""Technical features for the machine-learning strategy, computed bar by bar.

Every feature of bar ``t`` is a function of bars ``0 … t`` only (each indicator is fed the
newest bar and never sees a later one); ``tests/unit/strategy/test_ml_features.py``
proves it by recomputing on truncated and on perturbed futures. Labels are the opposite:
the label of bar ``t`` needs the close ``horizon`` bars later and is only formed then.
"""

from __future__ import annotations

from xmargin.model.market_data import Bar
from xmargin.strategy.indicators import Momentum, RollingStd, Rsi, Sma

FEATURE_NAMES = (
    "return_1",
    "return_4",
    "return_24",
    "gap_sma_12",
    "gap_sma_48",
    "rsi_14",
    "volatility_24",
    "volume_ratio_24",
    "range",
)


class FeatureBuilder:
    """Turn each new bar into the feature vector of ``FEATURE_NAMES`` (None while warming)."""

    __slots__ = (
        "_last_close",
        "_momentum_4",
        "_momentum_24",
        "_rsi",
        "_sma_12",
        "_sma_48",
        "_volatility",
        "_volume",
    )

    def __init__(self) -> None:
        self._last_close: float | None = None
        self._momentum_4 = Momentum(4)
        self._momentum_24 = Momentum(24)
        self._sma_12 = Sma(12)
        self._sma_48 = Sma(48)
        self._rsi = Rsi(14)
        self._volatility = RollingStd(24)
        self._volume = Sma(24)

    def update(self, bar: Bar) -> tuple[float, ...] | None:
        close = bar.close
        last, self._last_close = self._last_close, close
        one = close / last - 1.0 if last else None
        four = self._momentum_4.update(close)
        day = self._momentum_24.update(close)
        fast = self._sma_12.update(close)
        slow = self._sma_48.update(close)
        rsi = self._rsi.update(close)
        volatility = self._volatility.update(one) if one is not None else None
        volume = self._volume.update(bar.volume)
        values = (one, four, day, fast, slow, rsi, volatility, volume)
        if any(v is None for v in values) or close <= 0:
            return None
        assert one is not None and four is not None and day is not None and rsi is not None
        assert fast is not None and slow is not None and volatility is not None
        assert volume is not None
        return (
            one,
            four,
            day,
            close / fast - 1.0,
            close / slow - 1.0,
            rsi / 100.0,
            volatility,
            bar.volume / volume - 1.0 if volume > 0 else 0.0,
            (bar.high - bar.low) / close,
        )
