"""Merge many historical streams into one ordered feed: by time, then source rank, then sequence.

A bar becomes known at its close, so it is stamped ``open + timeframe``; a mark-price bar
likewise. At one timestamp marks come first, then trades, quotes and bars, then funding
(spec §0.4). Sources keep their numpy columns; events are built as they are read, from
Python values converted a window of ``WINDOW_ROWS`` rows at a time (``tolist`` of a slice:
the same exact values as converting the whole column, in memory bounded by the window;
times are scaled to nanoseconds per window too).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np

from xmargin.core.clock import NANOS_PER_MILLI
from xmargin.data.series import FundingSeries, OhlcvSeries, QuoteSeries, Series, TradeSeries
from xmargin.model.market_data import Bar, FundingRate, IndexPrice, MarkPrice, Quote, Trade

RANK = {"mark": 0, "index": 0, "ohlcv": 1, "trades": 1, "quotes": 1, "funding": 2}
WINDOW_ROWS = 4_096
CURVE_WINDOW = 1 << 18


@dataclass(frozen=True)
class FeedSource:
    """One stream: its kind, where it trades, and its data."""

    kind: str
    venue: str
    instrument: str
    series: Series
    timeframe: str | None = None

    def event_times_ns(self) -> np.ndarray:
        ts = self.series.ts_ms.astype(np.int64)
        if isinstance(self.series, OhlcvSeries):
            step = self.series.step_ms
            if step is None:
                raise ValueError(f"{self.instrument} {self.kind}: bars need a timeframe")
            ts = ts + step
        return ts * NANOS_PER_MILLI


Maker = Callable[[int], object]
Sink = Callable[[Any], None]


def event_feeder(source: FeedSource, sink: Sink) -> Callable[[int], None]:
    """Return a function that builds the event of a row and hands it to ``sink``.

    Bars, the hot path of a backtest, are built and handed over in one call.
    """
    series = source.series
    if source.kind == "ohlcv" and isinstance(series, OhlcvSeries):
        venue, symbol, timeframe = source.venue, source.instrument, series.timeframe or ""
        step, columns = _bar_columns(series, with_volume=True)
        load = column_window(columns)
        base = end = 0
        opens_ns: list[int] = []
        o = h = low = c = volume = opens_ns

        def feed_bar(row: int) -> None:
            nonlocal base, end, opens_ns, o, h, low, c, volume
            if row >= end or row < base:
                base, end, (opens_ns, o, h, low, c, volume) = load(row)
            i = row - base
            ts_open = opens_ns[i]
            sink(
                Bar(
                    venue,
                    symbol,
                    timeframe,
                    ts_open,
                    ts_open + step,
                    o[i],
                    h[i],
                    low[i],
                    c[i],
                    volume[i],
                )
            )

        return feed_bar
    make = event_maker(source)
    return lambda row: sink(make(row))


Window = tuple[int, int, tuple[list[Any], ...]]


class NanosColumn:
    """A millisecond time column read as nanoseconds a window at a time (no full-length copy
    for the run): ``column[a:b]`` is ``ts_ms[a:b] * 1_000_000`` as int64."""

    __slots__ = ("ts_ms",)

    def __init__(self, ts_ms: np.ndarray) -> None:
        self.ts_ms = ts_ms

    def __len__(self) -> int:
        return len(self.ts_ms)

    def __getitem__(self, window: slice) -> np.ndarray:
        return self.ts_ms[window].astype(np.int64) * NANOS_PER_MILLI


Column = np.ndarray | NanosColumn


def column_window(columns: tuple[Column, ...]) -> Callable[[int], Window]:
    """Return ``load(row)``: ``(start, stop, values)`` with each column's Python values for
    rows ``start:stop``, a window of ``WINDOW_ROWS`` rows from ``row``."""
    length = len(columns[0]) if columns else 0

    def load(row: int) -> Window:
        if not 0 <= row < length:
            raise IndexError(f"row {row} is outside the series (0..{length - 1})")
        stop = min(row + WINDOW_ROWS, length)
        return row, stop, tuple(column[row:stop].tolist() for column in columns)

    return load


def windowed(columns: tuple[Column, ...], build: Callable[..., object]) -> Maker:
    """Return a maker calling ``build(*values of the row)`` from a moving window of rows."""
    load = column_window(columns)
    state: list[Any] = [0, 0, ()]

    def make(row: int) -> object:
        base, end, values = state
        if row >= end or row < base:
            base, end, values = state[:] = load(row)
        i = row - base
        return build(*(column[i] for column in values))

    return make


def event_maker(source: FeedSource) -> Maker:
    """Return a function building the source's event for a row index."""
    venue, symbol, series = source.venue, source.instrument, source.series
    if isinstance(series, OhlcvSeries):
        if source.kind == "ohlcv":
            step, columns = _bar_columns(series, with_volume=True)
            timeframe = series.timeframe or ""

            def bar(ts_open: int, o: float, h: float, low: float, c: float, v: float) -> Bar:
                return Bar(venue, symbol, timeframe, ts_open, ts_open + step, o, h, low, c, v)

            return windowed(columns, bar)
        step, columns = _bar_columns(series, with_volume=False)
        price_type = MarkPrice if source.kind == "mark" else IndexPrice

        def mark(ts_open: int, o: float, h: float, low: float, c: float) -> MarkPrice:
            return price_type(venue, symbol, ts_open, ts_open + step, o, h, low, c)

        return windowed(columns, mark)
    times = NanosColumn(series.ts_ms)
    if isinstance(series, FundingSeries):

        def funding(ts: int, rate: float, interval: int) -> FundingRate:
            return FundingRate(venue, symbol, ts, rate, interval)

        return windowed((times, series.rate, series.interval_h), funding)
    if isinstance(series, TradeSeries):

        def trade(ts: int, price: float, qty: float, buyer_is_maker: bool) -> Trade:
            return Trade(venue, symbol, ts, price, qty, not buyer_is_maker)

        return windowed((times, series.price, series.qty, series.buyer_is_maker), trade)
    assert isinstance(series, QuoteSeries)

    def quote(ts: int, bid: float, bid_qty: float, ask: float, ask_qty: float) -> Quote:
        return Quote(venue, symbol, ts, bid, bid_qty, ask, ask_qty)

    return windowed((times, series.bid, series.bid_qty, series.ask, series.ask_qty), quote)


def _bar_columns(series: OhlcvSeries, *, with_volume: bool) -> tuple[int, tuple[Column, ...]]:
    """Return a bar series' step (ns) and its opening times (ns), open, high, low, close
    (and volume) columns."""
    step = (series.step_ms or 0) * NANOS_PER_MILLI
    columns = (NanosColumn(series.ts_ms), series.open, series.high, series.low, series.close)
    return step, columns + ((series.volume,) if with_volume else ())


class MergedFeed:
    """All sources in one order; iterate ``(ts_ns, source_index, row)``."""

    def __init__(self, sources: list[FeedSource], start_ns: int | None, end_ns: int | None):
        self.sources = sources
        self.start_ns = start_ns
        times, indices, rows = [], [], []
        source_type = np.int8 if len(sources) <= 127 else np.int32
        # Laid out in (rank, source, row) order, a stable sort by time alone gives the feed's
        # order (time, rank, source, row); timsort merges the already sorted runs cheaply.
        for i in sorted(range(len(sources)), key=lambda k: (RANK[sources[k].kind], k)):
            source = sources[i]
            ts = source.event_times_ns()
            keep = np.ones(len(ts), dtype=bool)
            if start_ns is not None:
                keep &= (
                    ts > start_ns if source.kind in ("ohlcv", "mark", "index") else ts >= start_ns
                )
            if end_ns is not None:
                keep &= ts <= end_ns
            row_type = np.int32 if len(ts) < 2**31 else np.int64
            if keep.all():
                times.append(ts)
                rows.append(np.arange(len(ts), dtype=row_type))
            else:
                selected = np.flatnonzero(keep)
                times.append(ts[selected])
                rows.append(selected.astype(row_type))
            del ts, keep
            indices.append(np.full(len(times[-1]), i, dtype=source_type))
        # One full-length array at a time is built and its parts freed: the feed's peak is
        # its kept arrays plus the sort order.
        all_ts = np.concatenate(times) if times else np.empty(0, dtype=np.int64)
        times.clear()
        order = np.argsort(all_ts, kind="stable")
        self.ts_ns = all_ts[order]
        del all_ts
        self.source_index = _gathered(indices, order, source_type)
        self.row = _gathered(rows, order, np.int32)

    def __len__(self) -> int:
        return len(self.ts_ns)

    def __iter__(self) -> Iterator[tuple[int, int, int]]:
        return chain.from_iterable(map(self._window, range(0, len(self.ts_ns), WINDOW_ROWS)))

    def _window(self, start: int) -> Iterator[tuple[int, int, int]]:
        stop = start + WINDOW_ROWS
        return zip(
            self.ts_ns[start:stop].tolist(),
            self.source_index[start:stop].tolist(),
            self.row[start:stop].tolist(),
            strict=True,
        )

    def curve_times_ns(self) -> np.ndarray:
        """The equity curve's grid: the opening instant, every bar close, and the last event.

        The opening point (the run's start, or 1 ms before the first event without one)
        values the starting balances before any trade; the last point values the account
        after the feed's final event.
        """
        bars = [i for i, s in enumerate(self.sources) if s.kind == "ohlcv"]
        parts, previous = [], None
        # A window at a time: only the distinct times are held, not a mask of the whole feed.
        for start in range(0, len(self.ts_ns), CURVE_WINDOW):
            times = self.ts_ns[start : start + CURVE_WINDOW]
            if bars:
                times = times[np.isin(self.source_index[start : start + CURVE_WINDOW], bars)]
            if not len(times):
                continue
            new = np.concatenate(
                ([previous is None or times[0] != previous], times[1:] != times[:-1])
            )
            parts.append(times[new])
            previous = times[-1]
        distinct = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
        first = self.start_ns if self.start_ns is not None else self.ts_ns[0] - 1_000_000
        last = self.ts_ns[-1]
        head = [] if len(distinct) and distinct[0] == first else [first]
        tail = [] if len(distinct) and distinct[-1] == last else [last]
        return np.concatenate(
            (np.array(head, dtype=np.int64), distinct, np.array(tail, dtype=np.int64))
        )


def _gathered(parts: list[np.ndarray], order: np.ndarray, empty_type: type) -> np.ndarray:
    """Concatenate ``parts`` (emptying the list, so each is freed once joined) in ``order``."""
    if not parts:
        return np.empty(0, dtype=empty_type)
    joined = np.concatenate(parts)
    parts.clear()
    gathered: np.ndarray = joined[order]
    return gathered
