"""Build higher-timeframe bars (15m, 1h, 4h, …) from smaller ones, without look-ahead.

A bucket is ``[k·T, (k+1)·T)`` in UTC epoch time. Its bar is emitted only once it is
complete: when the smaller bar closing exactly at the bucket's end arrives, or, if that
bar is missing from the data, when the first bar of a later bucket arrives (the bucket is
then over, and its bar holds nothing from after its end). The emitted bar is stamped like
every bar: ``ts_open`` the bucket start, ``ts_event`` its end.
"""

from __future__ import annotations

from collections.abc import Iterable

from xmargin.model.market_data import Bar

_UNITS_MS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000}
NANOS_PER_MILLI = 1_000_000


def timeframe_ns(timeframe: str) -> int:
    """Return the length of a timeframe such as ``"15m"``, ``"1h"`` or ``"1d"`` in ns."""
    unit = timeframe[-1:]
    count = timeframe[:-1]
    if unit not in _UNITS_MS or not count.isdigit() or int(count) <= 0:
        raise ValueError(f"not a timeframe: {timeframe!r} (use e.g. 5m, 15m, 1h, 4h, 1d)")
    return int(count) * _UNITS_MS[unit] * NANOS_PER_MILLI


class BarResampler:
    """Aggregate bars of one instrument into ``timeframe`` bars; see the module docstring."""

    __slots__ = ("_bar", "_end", "period_ns", "timeframe")

    def __init__(self, timeframe: str) -> None:
        self.timeframe = timeframe
        self.period_ns = timeframe_ns(timeframe)
        self._bar: Bar | None = None
        self._end = 0

    def update(self, bar: Bar) -> list[Bar]:
        """Add a (smaller, complete) bar; return the bars completed by it (0, 1 or 2)."""
        done: list[Bar] = []
        current = self._bar
        if current is not None and bar.ts_open >= self._end:
            done.append(current)
            current = None
        if bar.ts_event - bar.ts_open > self.period_ns:
            raise ValueError(f"cannot build {self.timeframe} bars from {bar.timeframe} bars")
        if current is None:
            start = bar.ts_open - bar.ts_open % self.period_ns
            self._end = start + self.period_ns
            current = Bar(
                bar.venue,
                bar.instrument,
                self.timeframe,
                start,
                self._end,
                bar.open,
                bar.high,
                bar.low,
                bar.close,
                bar.volume,
            )
        else:
            current.high = max(current.high, bar.high)
            current.low = min(current.low, bar.low)
            current.close = bar.close
            current.volume += bar.volume
        if bar.ts_event >= self._end:
            done.append(current)
            current = None
        self._bar = current
        return done


class MultiResampler:
    """Several resamplers fed by one stream; ``update`` returns every bar completed, smallest
    timeframe first."""

    __slots__ = ("resamplers",)

    def __init__(self, timeframes: Iterable[str]) -> None:
        ordered = sorted(set(timeframes), key=timeframe_ns)
        self.resamplers = [BarResampler(tf) for tf in ordered]

    def update(self, bar: Bar) -> list[Bar]:
        done: list[Bar] = []
        for resampler in self.resamplers:
            done.extend(resampler.update(bar))
        return done
