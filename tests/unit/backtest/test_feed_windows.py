"""The feed converts columns a window of rows at a time, with the exact values of the arrays."""

from __future__ import annotations

import numpy as np
import pytest

from xmargin.backtest import feed
from xmargin.backtest.feed import FeedSource, MergedFeed, event_feeder, event_maker
from xmargin.data.series import FundingSeries
from xmargin.data.synthetic import synthetic_funding, synthetic_ohlcv
from xmargin.model.market_data import Bar, FundingRate

NS = 1_000_000


@pytest.fixture
def small_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feed, "WINDOW_ROWS", 7)


def test_bars_across_windows_carry_the_array_values(small_windows: None) -> None:
    series = synthetic_ohlcv(30, timeframe="1m", seed=3)
    source = FeedSource("ohlcv", "v", "BTC/USDT:USDT", series, "1m")
    seen: list[Bar] = []
    feeder = event_feeder(source, seen.append)
    for row in range(30):
        feeder(row)
    assert len(seen) == 30
    for row, bar in enumerate(seen):
        assert bar.ts_open == int(series.ts_ms[row]) * NS
        assert bar.ts_event == (int(series.ts_ms[row]) + 60_000) * NS
        assert (bar.open, bar.high, bar.low, bar.close, bar.volume) == (
            float(series.open[row]),
            float(series.high[row]),
            float(series.low[row]),
            float(series.close[row]),
            float(series.volume[row]),
        )
        assert type(bar.close) is float and type(bar.ts_open) is int


def test_a_maker_reads_rows_in_any_order(small_windows: None) -> None:
    series = synthetic_ohlcv(20, timeframe="1m", seed=4)
    make = event_maker(FeedSource("ohlcv", "v", "BTC/USDT:USDT", series, "1m"))
    for row in (19, 0, 8, 7, 13, 2):
        bar = make(row)
        assert isinstance(bar, Bar)
        assert bar.close == float(series.close[row])
    with pytest.raises(IndexError, match="row 20 is outside the series"):
        make(20)


def test_funding_rows_keep_their_rates(small_windows: None) -> None:
    day = 86_400_000
    series = synthetic_funding(0, 5 * day)
    make = event_maker(FeedSource("funding", "v", "BTC/USDT:USDT", series))
    events = [make(row) for row in range(len(series))]
    assert len(events) == 16  # every 8 hours over 5 days, both ends included
    assert all(isinstance(e, FundingRate) and e.rate == 0.0001 for e in events)
    assert [e.ts_event for e in events[:3]] == [0, 8 * 3_600_000 * NS, 16 * 3_600_000 * NS]


def test_merged_feed_iterates_every_row_in_order_across_windows(small_windows: None) -> None:
    a = synthetic_ohlcv(12, timeframe="1m", seed=5)
    b = synthetic_ohlcv(9, timeframe="1m", seed=6)
    merged = MergedFeed(
        [FeedSource("ohlcv", "v", "A", a, "1m"), FeedSource("ohlcv", "v", "B", b, "1m")],
        None,
        None,
    )
    items = list(merged)
    assert len(items) == 21
    # Both series start at the same minute: at each shared close A (source 0) comes first.
    expected = []
    for row in range(12):
        expected.append((int(a.ts_ms[row] + 60_000) * NS, 0, row))
        if row < 9:
            expected.append((int(b.ts_ms[row] + 60_000) * NS, 1, row))
    assert items == expected
    assert all(type(value) is int for item in items for value in item)
    assert np.array_equal(merged.ts_ns, np.array([t for t, _, _ in expected]))


def test_at_one_instant_marks_come_before_bars_then_funding_whatever_the_source_order():
    bars = synthetic_ohlcv(3, timeframe="1h", seed=8)
    marks = synthetic_ohlcv(3, timeframe="1h", seed=9)
    start = int(bars.ts_ms[0])
    funding = synthetic_funding(start + 3_600_000, start + 3 * 3_600_000, interval_hours=1)
    merged = MergedFeed(
        [
            FeedSource("funding", "v", "A", funding),
            FeedSource("ohlcv", "v", "A", bars, "1h"),
            FeedSource("mark", "v", "A", marks, "1h"),
        ],
        None,
        None,
    )
    hour = 3_600_000 * NS
    first_close = (start + 3_600_000) * NS
    assert list(merged) == [
        (first_close, 2, 0), (first_close, 1, 0), (first_close, 0, 0),
        (first_close + hour, 2, 1), (first_close + hour, 1, 1), (first_close + hour, 0, 1),
        (first_close + 2 * hour, 2, 2), (first_close + 2 * hour, 1, 2),
        (first_close + 2 * hour, 0, 2),
    ]  # fmt: skip


def test_a_time_range_keeps_the_original_row_numbers(small_windows: None) -> None:
    a = synthetic_ohlcv(12, timeframe="1m", seed=5)
    b = synthetic_ohlcv(9, timeframe="1m", seed=6)
    t0 = int(a.ts_ms[0])
    # bars closing after minute 3 (exclusive: a bar is known at its close) up to minute 10
    start_ns, end_ns = (t0 + 3 * 60_000) * NS, (t0 + 10 * 60_000) * NS
    merged = MergedFeed(
        [FeedSource("ohlcv", "v", "A", a, "1m"), FeedSource("ohlcv", "v", "B", b, "1m")],
        start_ns,
        end_ns,
    )
    expected = []
    for row in range(3, 10):  # closes at minutes 4 … 10
        expected.append(((t0 + (row + 1) * 60_000) * NS, 0, row))
        if row < 9:
            expected.append(((t0 + (row + 1) * 60_000) * NS, 1, row))
    assert list(merged) == expected


def test_bar_times_are_scaled_to_nanoseconds_a_window_at_a_time() -> None:
    ts_ms = np.array([0, 1, 1_700_000_000_000, 253_402_300_799], dtype=np.int64)
    column = feed.NanosColumn(ts_ms)
    assert len(column) == 4
    assert column[1:4].tolist() == [1_000_000, 1_700_000_000_000_000_000, 253_402_300_799_000_000]
    assert column[1:4].dtype == np.int64


def test_the_curve_grid_is_each_distinct_bar_close_whatever_the_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a = synthetic_ohlcv(12, timeframe="1m", seed=5)
    b = synthetic_ohlcv(9, timeframe="1m", seed=6)
    t0 = int(a.ts_ms[0])
    # one settlement, before the first close
    funding = FundingSeries(np.array([t0 + 30_000]), np.array([0.0001]), np.array([8]), source="t")
    sources = [
        FeedSource("ohlcv", "v", "A", a, "1m"),
        FeedSource("ohlcv", "v", "B", b, "1m"),
        FeedSource("funding", "v", "A", funding),
    ]
    closes = [(t0 + minute * 60_000) * NS for minute in range(1, 13)]
    for window in (1, 2, 3, 5, 1 << 18):
        monkeypatch.setattr(feed, "CURVE_WINDOW", window)
        grid = MergedFeed(sources, None, None).curve_times_ns()
        # the opening point 1 ms before the first event (the funding), then every close
        assert grid.tolist() == [(t0 + 30_000) * NS - 1_000_000, *closes]
