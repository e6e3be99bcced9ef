"""Liquidation under hourly marks and 15-minute trade bars, on hand-made paths (decision 0003).

Between hourly marks the venue's mark is the trade price carried by the basis (mark − last)
measured when the latest mark completed; each 15-minute bar is checked at its carried adverse
extreme. A completed hourly mark bar acts only on exposure held since its open.
Bar ``i`` opens at ``T0 + 15 i min`` and is known at its close.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.scenario.harness import (
    BTC,
    HOUR,
    MINUTE,
    T0,
    D,
    Submit,
    bars_of,
    config,
    marks,
    marks_of,
    ohlcv,
    run,
    venue,
    view,
)

QUARTER = 15 * MINUTE
FLAT = (10000, 10000, 10000, 10000)
FIELDS = ("ts_ms", "instrument", "size", "price", "fee", "stage", "trigger_ts_ms")
ACCOUNT = "binance.main"


def test_a_short_is_liquidated_at_the_first_bar_whose_high_carried_by_the_basis_crosses():
    # 1,049 USDT; short 1 BTC at 10,000 pays 5 fee: WB = 1,044. Tier 1 (MMR 0.004): at a mark
    # p, MB = 1,044 − (p − 10,000) and MM = 0.004 p; MB = MM at p = 11,044 / 1.004 = 11,000.
    # The hour-0 mark closes at 9,990 against a 10,000 trade: basis −10. Bar 5's high 11,005
    # carries to 10,995 (safe); bar 6's 11,012 to 11,002, past 11,000. The hour-1 mark bar
    # itself never reaches 11,000, so only the 15-minute path finds the liquidation.
    bars = [FLAT] * 5 + [(10000, 11005, 10000, 10500), (10500, 11012, 10400, 10600), FLAT]
    mark_rows = [(10000, 10000, 9990, 9990), (9990, 10990, 9980, 10500)]
    sources = [bars_of(ohlcv(T0, "15m", bars)), marks_of(marks(T0, "1h", mark_rows))]
    document = config(venue(balances={"USDT": "1049"}, leverage={BTC: 20}))
    result = run(document, sources, [(0, Submit("entry", "sell", "1"))])

    # at 11,000: MB 44 = MM; the 0.005 × 11,000 = 55 clearance fee leaves −11, covered
    assert view(result.of("Liquidated"), *FIELDS) == [
        (T0 + 7 * QUARTER, BTC, D(-1), D(11000), D(55), "full", T0 + 6 * QUARTER)
    ]
    assert view(result.of("InsuranceFundCovered"), "amount") == [(D(11),)]
    assert result.position(ACCOUNT, BTC) == 0


# 1,041 USDT; long 1 BTC at 10,000 pays 5: WB = 1,036, LP = (1,036 − 10,000) / (0.004 − 1)
# = 9,000. The trades stay at 10,000; only the hour-1 mark bar wicks to 8,800.
WICK_SOURCES = [
    bars_of(ohlcv(T0, "15m", [FLAT] * 12)),
    marks_of(marks(T0, "1h", [FLAT, (10000, 10000, 8800, 10000), FLAT])),
]
WICK_CONFIG = config(venue(balances={"USDT": "1041"}, leverage={BTC: 20}))


def test_a_mark_wick_liquidates_a_position_held_for_the_whole_hour_at_the_hours_close():
    # bought at the close of bar 3, T0 + 1 h: the open of the hour-1 mark bar
    result = run(WICK_CONFIG, WICK_SOURCES, [(3, Submit("entry", "buy", "1"))])

    assert view(result.of("OrderFilled"), "ts_ms", "price") == [(T0 + HOUR, D(10000))]
    assert view(result.of("Liquidated"), *FIELDS) == [
        (T0 + 2 * HOUR, BTC, D(1), D(9000), D(45), "full", T0 + HOUR)
    ]


def test_a_mark_wick_does_not_liquidate_a_position_opened_inside_its_hour():
    # bought at the close of bar 4, T0 + 1 h 15 min: inside the hour whose mark wicked, at a
    # time unknown, possibly before the position existed; the 15-minute path never came near
    result = run(WICK_CONFIG, WICK_SOURCES, [(4, Submit("entry", "buy", "1"))])

    assert view(result.of("OrderFilled"), "ts_ms", "price") == [(T0 + HOUR + QUARTER, D(10000))]
    assert result.of("Liquidated") == []
    assert result.position(ACCOUNT, BTC) == 1


def test_a_mark_interval_with_no_bar_closing_at_its_instant_is_checked_at_that_instant():
    # hourly bars offset by half an hour (closing at :30), so no bar closes with a mark; the
    # long bought at T0 + 30 min is held through the hour-1 mark bar, which wicks to 8,800
    sources = [
        bars_of(ohlcv(T0 - 30 * MINUTE, "1h", [FLAT] * 4)),
        marks_of(marks(T0, "1h", [FLAT, (10000, 10000, 8800, 10000), FLAT])),
    ]
    result = run(WICK_CONFIG, sources, [(0, Submit("entry", "buy", "1"))])

    assert view(result.of("OrderFilled"), "ts_ms") == [(T0 + 30 * MINUTE,)]
    assert view(result.of("Liquidated"), *FIELDS) == [
        (T0 + 2 * HOUR, BTC, D(1), D(9000), D(45), "full", T0 + HOUR)
    ]


def hourly_marks_of(bars: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Hourly mark bars that are exactly the 15-minute trades aggregated: a zero basis."""
    hours = [bars[i : i + 4] for i in range(0, len(bars), 4)]
    return [(h[0][0], max(b[1] for b in h), min(b[2] for b in h), h[-1][3]) for h in hours if h]


@st.composite
def paths(draw: st.DrawFn) -> list[tuple[int, int, int, int]]:
    """Bar 0 flat at 10,000, then 23 bars of a random walk with random wicks."""
    bars = [FLAT]
    for _ in range(23):
        open_price = bars[-1][3]
        close = draw(st.integers(8600, 10600))
        high = max(open_price, close) + draw(st.integers(0, 300))
        low = min(open_price, close) - draw(st.integers(0, 300))
        bars.append((open_price, high, low, close))
    return bars


@settings(max_examples=40, deadline=None)
@given(bars=paths())
def test_with_a_zero_basis_the_liquidation_is_at_the_first_15_minute_bar_reaching_lp(bars):
    # the long of 1 BTC at 10,000 with LP = 9,000 exactly: it goes in the first bar whose low
    # reaches 9,000, at 9,000 or at that bar's open if it opened at or below it, stamped at the
    # bar's close; never later at an hourly mark close, never before
    sources = [
        bars_of(ohlcv(T0, "15m", bars)),
        marks_of(marks(T0, "1h", hourly_marks_of(bars))),
    ]
    result = run(WICK_CONFIG, sources, [(0, Submit("entry", "buy", "1"))])

    crossing = next((i for i, bar in enumerate(bars) if bar[2] <= 9000), None)
    liquidations = view(result.of("Liquidated"), "ts_ms", "price", "trigger_ts_ms")
    if crossing is None:
        assert liquidations == []
        return
    price = D(min(9000, bars[crossing][0]))
    opened = T0 + crossing * QUARTER
    assert liquidations == [(opened + QUARTER, price, opened)]


@st.composite
def wicked_runs(draw: st.DrawFn) -> tuple[list, list, int]:
    """15-minute bars of a random walk, hourly marks wicking anywhere, an entry bar."""
    bars = [FLAT]
    for _ in range(11):
        open_price = bars[-1][3]
        close = draw(st.integers(9300, 10700))
        low = min(open_price, close) - draw(st.integers(0, 400))
        bars.append((open_price, max(open_price, close), low, close))
    mark_rows = []
    for hour_bars in (bars[i : i + 4] for i in range(0, 12, 4)):
        low = min(b[2] for b in hour_bars) - draw(st.integers(0, 1500))
        mark_rows.append((hour_bars[0][0], max(b[1] for b in hour_bars), low, hour_bars[-1][3]))
    return bars, mark_rows, draw(st.integers(0, 10))


@settings(max_examples=40, deadline=None)
@given(case=wicked_runs())
def test_no_liquidation_is_triggered_by_prices_from_before_the_position_existed(case):
    bars, mark_rows, entry_bar = case
    sources = [bars_of(ohlcv(T0, "15m", bars)), marks_of(marks(T0, "1h", mark_rows))]
    result = run(WICK_CONFIG, sources, [(entry_bar, Submit("entry", "buy", "1"))])

    [filled] = view(result.of("OrderFilled"), "ts_ms")
    for ts_ms, trigger_ts_ms in view(result.of("Liquidated"), "ts_ms", "trigger_ts_ms"):
        assert filled[0] <= trigger_ts_ms < ts_ms
