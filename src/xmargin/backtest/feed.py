"""Merge many historical streams into one ordered feed: by time, then source rank, then sequence.

A bar becomes known at its close, so it is stamped ``open + timeframe``; a mark-price bar
likewise. At one timestamp marks come first, then trades, quotes and bars, then funding
(spec §0.4). Sources keep their columns as Python lists; events are built as they are read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from xmargin.core.clock import NANOS_PER_MILLI
from xmargin.data.series import FundingSeries, OhlcvSeries, QuoteSeries, Series, TradeSeries
from xmargin.model.market_data import Bar, FundingRate, IndexPrice, MarkPrice, Quote, Trade

RANK = {"mark": 0, "index": 0, "ohlcv": 1, "trades": 1, "quotes": 1, "funding": 2}


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
        step, opens_ns, o, h, low, c = _bar_columns(series)
        volume = series.volume.tolist()

        def feed_bar(row: int) -> None:
            ts_open = opens_ns[row]
            sink(
                Bar(
                    venue,
                    symbol,
                    timeframe,
                    ts_open,
                    ts_open + step,
                    o[row],
                    h[row],
                    low[row],
                    c[row],
                    volume[row],
                )
            )

        return feed_bar
    make = event_maker(source)
    return lambda row: sink(make(row))


def event_maker(source: FeedSource) -> Maker:
    """Return a function building the source's event for a row index."""
    venue, symbol, series = source.venue, source.instrument, source.series
    if isinstance(series, OhlcvSeries):
        step, opens_ns, o, h, low, c = _bar_columns(series)
        if source.kind == "ohlcv":
            volume = series.volume.tolist()
            timeframe = series.timeframe or ""

            def bar(row: int) -> Bar:
                ts_open = opens_ns[row]
                return Bar(
                    venue,
                    symbol,
                    timeframe,
                    ts_open,
                    ts_open + step,
                    o[row],
                    h[row],
                    low[row],
                    c[row],
                    volume[row],
                )

            return bar
        price_type = MarkPrice if source.kind == "mark" else IndexPrice

        def mark(row: int) -> MarkPrice:
            ts_open = opens_ns[row]
            return price_type(
                venue, symbol, ts_open, ts_open + step, o[row], h[row], low[row], c[row]
            )

        return mark
    if isinstance(series, FundingSeries):
        times = (series.ts_ms.astype(np.int64) * NANOS_PER_MILLI).tolist()
        rates, intervals = series.rate.tolist(), series.interval_h.tolist()
        return lambda row: FundingRate(venue, symbol, times[row], rates[row], intervals[row])
    times = (series.ts_ms.astype(np.int64) * NANOS_PER_MILLI).tolist()
    if isinstance(series, TradeSeries):
        prices, qty = series.price.tolist(), series.qty.tolist()
        maker_flags = series.buyer_is_maker.tolist()
        return lambda row: Trade(
            venue, symbol, times[row], prices[row], qty[row], not maker_flags[row]
        )
    assert isinstance(series, QuoteSeries)
    bid, bid_qty = series.bid.tolist(), series.bid_qty.tolist()
    ask, ask_qty = series.ask.tolist(), series.ask_qty.tolist()
    return lambda row: Quote(
        venue, symbol, times[row], bid[row], bid_qty[row], ask[row], ask_qty[row]
    )


def _bar_columns(
    series: OhlcvSeries,
) -> tuple[int, list[int], list[float], list[float], list[float], list[float]]:
    """Return a bar series' step (ns), opening times (ns) and open, high, low, close lists."""
    opens_ns = (series.ts_ms.astype(np.int64) * NANOS_PER_MILLI).tolist()
    step = (series.step_ms or 0) * NANOS_PER_MILLI
    o, h, low, c = (col.tolist() for col in (series.open, series.high, series.low, series.close))
    return step, opens_ns, o, h, low, c


class MergedFeed:
    """All sources in one order; iterate ``(ts_ns, source_index, row)``."""

    def __init__(self, sources: list[FeedSource], start_ns: int | None, end_ns: int | None):
        self.sources = sources
        self.start_ns = start_ns
        times, ranks, indices, rows = [], [], [], []
        for i, source in enumerate(sources):
            ts = source.event_times_ns()
            keep = np.ones(len(ts), dtype=bool)
            if start_ns is not None:
                keep &= (
                    ts > start_ns if source.kind in ("ohlcv", "mark", "index") else ts >= start_ns
                )
            if end_ns is not None:
                keep &= ts <= end_ns
            selected = np.nonzero(keep)[0]
            times.append(ts[selected])
            ranks.append(np.full(len(selected), RANK[source.kind], dtype=np.int64))
            indices.append(np.full(len(selected), i, dtype=np.int64))
            rows.append(selected.astype(np.int64))
        all_ts = np.concatenate(times) if times else np.empty(0, dtype=np.int64)
        all_rank = np.concatenate(ranks) if ranks else np.empty(0, dtype=np.int64)
        all_source = np.concatenate(indices) if indices else np.empty(0, dtype=np.int64)
        all_rows = np.concatenate(rows) if rows else np.empty(0, dtype=np.int64)
        order = np.lexsort((all_rows, all_source, all_rank, all_ts))
        self.ts_ns = all_ts[order]
        self.source_index = all_source[order]
        self.row = all_rows[order]

    def __len__(self) -> int:
        return len(self.ts_ns)

    def __iter__(self) -> Iterator[tuple[int, int, int]]:
        return zip(self.ts_ns.tolist(), self.source_index.tolist(), self.row.tolist(), strict=True)

    def curve_times_ns(self) -> np.ndarray:
        """The equity curve's grid: the opening instant, every bar close, and the last event.

        The opening point (the run's start, or 1 ms before the first event without one)
        values the starting balances before any trade; the last point values the account
        after the feed's final event.
        """
        bars = [i for i, s in enumerate(self.sources) if s.kind == "ohlcv"]
        mask = np.isin(self.source_index, bars) if bars else np.ones(len(self.ts_ns), dtype=bool)
        times = self.ts_ns[mask]
        distinct = times[np.concatenate(([True], times[1:] != times[:-1]))] if len(times) else times
        first = self.start_ns if self.start_ns is not None else self.ts_ns[0] - 1_000_000
        last = self.ts_ns[-1]
        head = [] if len(distinct) and distinct[0] == first else [first]
        tail = [] if len(distinct) and distinct[-1] == last else [last]
        return np.concatenate(
            (np.array(head, dtype=np.int64), distinct, np.array(tail, dtype=np.int64))
        )
