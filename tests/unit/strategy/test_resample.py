"""The resampler emits a higher-timeframe bar only after its last 5-minute bar closed."""

from __future__ import annotations

import pytest

from xmargin.model.market_data import Bar
from xmargin.strategy.resample import BarResampler, MultiResampler, timeframe_ns

NS = 1_000_000
MIN5 = 5 * 60_000 * NS
T0 = 1_704_067_200_000 * NS  # 2024-01-01 00:00 UTC


def five(i, o, h, low, c, v=1.0):
    start = T0 + i * MIN5
    return Bar("v", "X", "5m", start, start + MIN5, o, h, low, c, v)


def test_timeframes_parse_to_nanoseconds():
    assert timeframe_ns("15m") == 15 * 60 * 10**9
    assert timeframe_ns("4h") == 4 * 3600 * 10**9
    with pytest.raises(ValueError, match="not a timeframe: '15x'"):
        timeframe_ns("15x")


def test_a_15m_bar_is_emitted_with_its_third_5m_bar_and_not_before():
    resampler = BarResampler("15m")
    assert resampler.update(five(0, 10, 12, 9, 11, 1)) == []
    assert resampler.update(five(1, 11, 15, 10, 14, 2)) == []
    (bar,) = resampler.update(five(2, 14, 14, 8, 9, 3))
    assert (bar.ts_open, bar.ts_event, bar.timeframe) == (T0, T0 + 3 * MIN5, "15m")
    assert (bar.open, bar.high, bar.low, bar.close, bar.volume) == (10, 15, 8, 9, 6)


def test_the_emitted_bar_is_never_known_before_its_last_5m_bar_closes():
    resampler = MultiResampler(["15m", "1h", "4h"])
    seen = []
    for i in range(48):  # 4 hours of 5m bars
        bar = five(i, 100 + i, 101 + i, 99 + i, 100.5 + i)
        for done in resampler.update(bar):
            assert done.ts_event <= bar.ts_event  # known now, not later
            assert done.ts_event == bar.ts_event  # and exactly when its last bar closed
            seen.append((done.timeframe, (done.ts_event - T0) // MIN5))
    assert [s for s in seen if s[0] == "15m"] == [("15m", 3 * k) for k in range(1, 17)]
    assert [s for s in seen if s[0] == "1h"] == [("1h", 12 * k) for k in range(1, 5)]
    assert [s for s in seen if s[0] == "4h"] == [("4h", 48)]


def test_a_bucket_whose_last_bar_is_missing_is_emitted_by_the_next_buckets_first_bar():
    resampler = BarResampler("15m")
    resampler.update(five(0, 10, 11, 9, 10))
    resampler.update(five(1, 10, 12, 9, 11))
    # the 00:10 bar is missing; the 00:15 bar closes the first bucket, holding only its own data
    done = resampler.update(five(3, 20, 21, 19, 20))
    assert len(done) == 1
    assert (done[0].ts_event, done[0].close, done[0].high) == (T0 + 3 * MIN5, 11, 12)


def test_smaller_timeframes_come_first_and_larger_inputs_are_refused():
    resampler = MultiResampler(["1h", "15m"])
    out = []
    for i in range(12):
        out += resampler.update(five(i, 1, 1, 1, 1))
    assert [b.timeframe for b in out][-2:] == ["15m", "1h"]
    hourly = Bar("v", "X", "1h", T0, T0 + 12 * MIN5, 1, 1, 1, 1, 1)
    with pytest.raises(ValueError, match="cannot build 15m bars from 1h bars"):
        BarResampler("15m").update(hourly)
