"""Series types: read-only columns, half-open time slices, timeframe parsing."""

from __future__ import annotations

import numpy as np
import pytest

from xmargin.core.errors import ConfigError, DataError
from xmargin.data.series import (
    FundingSeries,
    OhlcvSeries,
    QuoteSeries,
    TradeSeries,
    check_kind,
    is_timeframe,
    timeframe_ms,
)

T0 = 1_735_603_200_000  # 2024-12-31 00:00 UTC
FIVE_MIN = 300_000


def bars(n: int = 4) -> OhlcvSeries:
    ts = T0 + FIVE_MIN * np.arange(n)
    price = 100.0 + np.arange(n)
    return OhlcvSeries(ts, price, price + 1, price - 1, price, np.ones(n), "5m", "test")


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("1m", 60_000),
        ("5m", 300_000),
        ("15m", 900_000),
        ("1h", 3_600_000),
        ("4h", 14_400_000),
        ("8h", 28_800_000),
        ("1d", 86_400_000),
        ("1w", 604_800_000),
    ],
)
def test_timeframe_ms_converts_ccxt_timeframes_to_milliseconds(text, ms):
    assert timeframe_ms(text) == ms
    assert is_timeframe(text)


@pytest.mark.parametrize("text", ["5", "m5", "0m", "5 m", "1M", "1y", ""])
def test_timeframe_ms_rejects_malformed_timeframes_with_a_config_error(text):
    with pytest.raises(ConfigError, match="unknown timeframe"):
        timeframe_ms(text)
    assert not is_timeframe(text)


def test_series_columns_are_read_only_copies_with_fixed_dtypes():
    ts = [T0, T0 + FIVE_MIN]
    series = OhlcvSeries(ts, [1, 2], [1, 2], [1, 2], [1, 2], [0, 0], "5m")
    assert series.ts_ms.dtype == np.int64
    assert series.open.dtype == np.float64
    with pytest.raises(ValueError, match="read-only"):
        series.close[0] = 5.0


def test_series_with_columns_of_different_lengths_is_a_data_error():
    with pytest.raises(DataError, match=r"src: columns have different lengths \[1, 2\]"):
        FundingSeries([T0, T0 + 1], [0.0001], [8, 8], source="src")


def test_len_and_first_and_last_timestamp():
    series = bars(4)
    assert len(series) == 4
    assert (series.first_ms, series.last_ms) == (T0, T0 + 3 * FIVE_MIN)
    empty = series.slice(T0 + 10 * FIVE_MIN)
    assert len(empty) == 0
    assert (empty.first_ms, empty.last_ms) == (None, None)


def test_slice_is_half_open_start_inclusive_end_exclusive():
    part = bars(4).slice(T0 + FIVE_MIN, T0 + 3 * FIVE_MIN)
    assert part.ts_ms.tolist() == [T0 + FIVE_MIN, T0 + 2 * FIVE_MIN]
    assert part.open.tolist() == [101.0, 102.0]
    assert part.timeframe == "5m" and part.source == "test"


def test_slice_bounds_are_optional_and_may_fall_between_rows():
    series = bars(4)
    assert len(series.slice()) == 4
    assert series.slice(T0 + 1).ts_ms[0] == T0 + FIVE_MIN
    assert series.slice(end_ms=T0 + 1).ts_ms.tolist() == [T0]
    assert len(series.slice(T0 + 3 * FIVE_MIN, T0)) == 0


def test_trade_and_quote_series_keep_their_columns():
    trades = TradeSeries([T0, T0], [10.0, 11.0], [0.5, 0.25], [True, False], source="t")
    assert trades.buyer_is_maker.dtype == np.bool_
    assert list(trades.columns()) == ["ts_ms", "price", "qty", "buyer_is_maker"]
    quotes = QuoteSeries([T0], [10.0], [1.0], [10.5], [2.0])
    assert quotes.take(np.array([0])).ask.tolist() == [10.5]


def test_check_kind_maps_kinds_to_series_types_and_rejects_unknown_kinds():
    assert check_kind("mark") is OhlcvSeries
    assert check_kind("funding") is FundingSeries
    with pytest.raises(ConfigError, match="unknown data kind 'candles'"):
        check_kind("candles")
