"""Public market data as of the data clock, from hand-made bars (venue_fixture.BARS)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.gateway.venue_fixture import FIVE_MIN, T0, service

from xmargin.gateway.errors import BinanceError

END = T0 + 6 * FIVE_MIN  # every bar closed


def test_only_closed_bars_are_served() -> None:
    gateway, _ = service(start_ms=T0 + 2 * FIVE_MIN + 60_000)
    rows = gateway.replay.klines({"symbol": "BTCUSDT", "interval": "5m"}, gateway.now_ms())
    assert [r[0] for r in rows] == [T0, T0 + FIVE_MIN]
    assert rows[1][1:7] == ["100.5", "102", "100", "101.5", "20", T0 + 2 * FIVE_MIN - 1]


def test_klines_aggregate_to_longer_intervals() -> None:
    gateway, _ = service()
    rows = gateway.replay.klines({"symbol": "BTCUSDT", "interval": "15m"}, END)
    # bars 0-2 and 3-5 by hand: open of the first, extremes, close of the last, volume sum
    assert [r[:6] for r in rows] == [
        [T0, "100", "102", "98", "99", "60"],
        [T0 + 3 * FIVE_MIN, "99", "103", "97", "101.2", "150"],
    ]
    start = gateway.replay.klines(
        {"symbol": "BTCUSDT", "interval": "5m", "startTime": str(T0 + FIVE_MIN), "limit": "2"}, END
    )
    assert [r[0] for r in start] == [T0 + FIVE_MIN, T0 + 2 * FIVE_MIN]
    last_two = gateway.replay.klines({"symbol": "BTCUSDT", "interval": "5m", "limit": "2"}, END)
    assert [r[4] for r in last_two] == ["102", "101.2"]


def test_bad_symbols_and_intervals_are_binances_errors() -> None:
    gateway, _ = service()
    with pytest.raises(BinanceError, match="Invalid symbol"):
        gateway.replay.klines({"symbol": "ETHUSDT", "interval": "5m"}, END)
    with pytest.raises(BinanceError, match="parameter 'interval' is not valid"):
        gateway.replay.klines({"symbol": "BTCUSDT", "interval": "7m"}, END)
    with pytest.raises(BinanceError, match="parameter 'interval' is not valid"):
        gateway.replay.klines({"symbol": "BTCUSDT", "interval": "1m"}, END)


def test_funding_history_and_the_next_funding_time() -> None:
    gateway, _ = service(start_ms=T0 + 15 * 60_000)
    now = gateway.now_ms()
    rows = gateway.replay.funding_history({"symbol": "BTCUSDT"}, now)
    assert [(r["fundingTime"], r["fundingRate"]) for r in rows] == [(T0 + 600_000, "0.0001")]
    index = gateway.replay.premium_index(gateway.symbol("BTCUSDT"), now)
    assert (index["lastFundingRate"], index["nextFundingTime"]) == ("0.0001", T0 + 25 * 60_000)
    assert index["markPrice"] == "99"  # the close of the 00:10 bar, the last closed (no mark feed)


def test_the_synthesised_book_moves_one_update_per_step() -> None:
    gateway, wall = service(speed=60)
    first = gateway.replay.depth({"symbol": "BTCUSDT"}, gateway.now_ms())
    assert first["bids"] == [["100.5", "10"]]
    assert first["asks"] == [["100.6", "10"]]  # one tick above the last price
    wall.ns += 5 * 1_000_000_000  # five wall seconds at 60x: the next bar closes
    gateway.runtime.catch_up()
    second = gateway.replay.depth({"symbol": "BTCUSDT"}, gateway.now_ms())
    assert second["lastUpdateId"] == first["lastUpdateId"] + 1
    assert second["bids"] == [["101.5", "20"]]


bar = st.tuples(
    st.integers(1, 10_000),
    st.integers(0, 500),
    st.integers(0, 500),
    st.integers(0, 1000),
    st.integers(0, 10_000),
).map(
    lambda t: (
        t[0] / 10,
        (t[0] + t[1]) / 10,
        max(0.1, (t[0] - t[2]) / 10),
        max(0.1, (t[0] - t[2]) / 10) + t[3] * ((t[0] + t[1]) - max(1, t[0] - t[2])) / 10_000,
        t[4] / 10,
    )
)


@settings(max_examples=20, deadline=None)
@given(st.lists(bar, min_size=3, max_size=12))
def test_longer_klines_are_the_bars_they_cover(rows: list[tuple[float, ...]]) -> None:
    gateway, _ = service(rows=rows)  # type: ignore[arg-type]
    end = T0 + len(rows) * FIVE_MIN
    klines = gateway.replay.klines({"symbol": "BTCUSDT", "interval": "15m"}, end)
    assert len(klines) == -(-len(rows) // 3)
    for k, kline in enumerate(klines):
        group = rows[3 * k : 3 * k + 3]
        assert kline[0] == T0 + k * 3 * FIVE_MIN
        assert Decimal(kline[1]) == Decimal(repr(group[0][0]))
        assert Decimal(kline[2]) == Decimal(repr(max(b[1] for b in group)))
        assert Decimal(kline[3]) == Decimal(repr(min(b[2] for b in group)))
        assert Decimal(kline[4]) == Decimal(repr(group[-1][3]))


def test_weekly_klines_open_on_mondays() -> None:
    gateway, _ = service()
    (week,) = gateway.replay.klines({"symbol": "BTCUSDT", "interval": "1w"}, END)
    # T0 is Friday 2025-10-10; its week opened on Monday 2025-10-06 00:00 UTC
    assert week[0] == 1_759_708_800_000
    assert week[1:6] == ["100", "103", "97", "101.2", "210"]


def test_start_time_selects_klines_opening_at_or_after_it() -> None:
    gateway, _ = service()
    params = {"symbol": "BTCUSDT", "interval": "15m", "startTime": str(T0 + 60_000)}
    assert [k[0] for k in gateway.replay.klines(params, END)] == [T0 + 3 * FIVE_MIN]
