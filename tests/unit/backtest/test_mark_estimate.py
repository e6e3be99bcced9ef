"""The equity curve's mark track under a coarser mark feed is the simulated venue's estimate:
each mark close when it completes, between marks the bar close carried by the last basis."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from xmargin.backtest.equity import PriceTrack
from xmargin.backtest.mark_estimate import mark_estimate_track
from xmargin.model.instruments import parse_symbol
from xmargin.venues.sim.markets import MarketState, carried


def track(*points: tuple[int, float]) -> PriceTrack:
    return PriceTrack(np.array([t for t, _ in points]), np.array([p for _, p in points]))


def points(prices: PriceTrack) -> list[tuple[int, float]]:
    return list(zip(prices.ts_ms.tolist(), prices.price.tolist(), strict=True))


def test_bar_closes_are_carried_by_the_basis_of_the_latest_mark() -> None:
    bars = track((5, 100.0), (10, 98.0), (15, 90.0), (20, 95.0))
    marks = track((2, 101.0), (10, 97.0), (12, 92.0), (20, 96.0))

    # t=2: a mark before any trade: its basis is measured at the first bar, 101 − 100 = +1
    # t=10: the bar closing with the mark re-measures the basis, 97 − 98 = −1, so it is 97
    # t=12: a mark between bars: basis against the last close, 92 − 98 = −6; t=15: 90 − 6
    # t=20: 96 − 95 = +1, so 95 + 1 = 96
    assert points(mark_estimate_track(bars, marks)) == [
        (2, 101.0),
        (5, 101.0),
        (10, 97.0),
        (12, 92.0),
        (15, 84.0),
        (20, 96.0),
    ]


def test_before_the_first_mark_the_estimate_is_the_bar_close() -> None:
    bars = track((5, 100.0), (10, 98.0), (15, 90.0))
    marks = track(
        (10, 97.5),
    )
    assert points(mark_estimate_track(bars, marks)) == [(5, 100.0), (10, 97.5), (15, 89.5)]


def test_a_basis_that_would_carry_the_mark_to_zero_or_below_falls_back_to_the_close() -> None:
    bars = track((10, 300.0), (15, 150.0), (20, 250.0))
    marks = track(
        (10, 100.0),
    )
    assert points(mark_estimate_track(bars, marks)) == [(10, 100.0), (15, 150.0), (20, 50.0)]


def test_without_one_of_the_feeds_the_track_is_the_other() -> None:
    empty = track()
    bars = track((5, 100.0))
    assert points(mark_estimate_track(bars, empty)) == [(5, 100.0)]
    assert points(mark_estimate_track(empty, bars)) == [(5, 100.0)]


prices = st.floats(min_value=0.5, max_value=2000.0, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(
    bars=st.dictionaries(st.integers(1, 60), prices, min_size=1, max_size=25),
    marks=st.dictionaries(st.integers(1, 60), prices, min_size=1, max_size=8),
)
def test_the_track_is_what_the_simulated_venue_holds_after_each_bar(
    bars: dict[int, float], marks: dict[int, float]
) -> None:
    # replay the feed's order (at one time the mark first, then the bar) through the venue's
    # market state, as the exchange's on_mark / on_bar do, and compare after every event
    market = MarketState(parse_symbol("BTC/USDT:USDT"), has_mark_feed=True)
    events = sorted([(t, 0, p) for t, p in marks.items()] + [(t, 1, p) for t, p in bars.items()])
    venue: dict[int, float] = {}
    for ts, rank, price in events:
        if rank == 0:
            market.observe_mark(price, ts)
            venue[ts] = price
        else:
            market.last = price
            venue[ts] = carried(price, market.carried_basis(price, ts)[1])
    bar_track = track(*sorted(bars.items()))
    mark_track = track(*sorted(marks.items()))
    estimate = mark_estimate_track(bar_track, mark_track)
    times = np.array(sorted(venue))
    assert estimate.at(times).tolist() == [venue[t] for t in times.tolist()]


def test_a_step_closing_with_a_mark_keeps_the_earlier_basis_for_its_path() -> None:
    # (basis of the step's path, basis of the mark after it) for trade closes in time
    market = MarketState(parse_symbol("BTC/USDT:USDT"), has_mark_feed=True)
    market.last = 100.0
    assert market.carried_basis(100.0, 5) == (0.0, 0.0)  # no mark yet: the trade price
    market.observe_mark(99.0, 10)  # against the last trade 100: basis −1
    assert market.mark == 99.0
    market.last = 98.0
    # the bar closing with the mark belongs to its interval: its path keeps basis 0, and the
    # same-instant close re-measures the basis to 99 − 98 = +1 for what follows
    assert market.carried_basis(98.0, 10) == (0.0, 1.0)
    market.last = 97.0
    assert market.carried_basis(97.0, 15) == (1.0, 1.0)
    market.observe_mark(96.5, 20)  # no bar at 20: against the last trade 97, −0.5
    assert market.carried_basis(95.0, 25) == (-0.5, -0.5)
