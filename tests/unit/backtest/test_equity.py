"""Equity and gross notional on a grid: last state and last price at or before each time."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xmargin.backtest import equity as equity_module
from xmargin.backtest.equity import (
    Checkpoint,
    PriceTrack,
    equity_on_grid,
    gross_notional_on_grid,
)
from xmargin.core.errors import DataError

PERP = "BTC/USDT:USDT"


def track(*points: tuple[int, float]) -> PriceTrack:
    return PriceTrack(np.array([t for t, _ in points]), np.array([p for _, p in points]))


def test_price_track_takes_the_last_tick_at_or_before_t_and_is_nan_before_the_first() -> None:
    prices = track((10, 1.0), (20, 2.0), (20, 2.5), (30, 3.0))
    values = prices.at(np.array([5, 10, 19, 20, 25, 30, 99]))
    assert np.isnan(values[0])
    assert values[1:].tolist() == [1.0, 1.0, 2.5, 2.5, 3.0, 3.0]


def test_price_track_rejects_decreasing_times_and_non_finite_prices() -> None:
    with pytest.raises(DataError, match="decrease"):
        track((2, 1.0), (1, 1.0))
    with pytest.raises(DataError, match="finite"):
        track((1, 1.0), (2, math.nan))


def test_long_perp_is_marked_between_checkpoints() -> None:
    checkpoints = [
        Checkpoint(0, {"USDT": 1000.0}, {}, {}),
        Checkpoint(10, {"USDT": 999.8}, {PERP: (2.0, 200.0)}, {}),
    ]
    marks = {PERP: track((0, 100.0), (15, 110.0), (30, 90.0))}
    grid = np.array([0, 5, 10, 15, 20, 30])
    equity = equity_on_grid(grid, checkpoints, marks, {}, "USDT")
    gross = gross_notional_on_grid(grid, checkpoints, marks, {}, "USDT")
    assert equity == pytest.approx([1000.0, 1000.0, 999.8, 1019.8, 1019.8, 979.8], abs=1e-9)
    assert gross.tolist() == [0.0, 0.0, 200.0, 220.0, 220.0, 180.0]


def test_spot_holding_bought_on_a_loan_subtracts_the_liability_with_its_interest() -> None:
    checkpoints = [
        Checkpoint(0, {"USDT": 500.0}, {}, {}),
        Checkpoint(10, {"USDT": 0.0, "ETH": 10.0}, {}, {"USDT": 1000.0}),
        Checkpoint(20, {"USDT": 0.0, "ETH": 10.0}, {}, {"USDT": 1000.5}),
    ]
    prices = {"ETH": track((5, 150.0), (15, 160.0))}
    grid = np.array([0, 10, 15, 20])
    equity = equity_on_grid(grid, checkpoints, {}, prices, "USDT")
    gross = gross_notional_on_grid(grid, checkpoints, {}, prices, "USDT")
    assert equity.tolist() == [500.0, 500.0, 600.0, 599.5]
    assert gross.tolist() == [0.0, 1000.0, 1000.0, 1000.5]


def test_short_spot_values_a_borrowed_asset_at_its_price() -> None:
    checkpoints = [Checkpoint(0, {"USDT": 1300.0}, {}, {"BTC": 0.01})]
    prices = {"BTC": track((0, 30_000.0), (5, 20_000.0))}
    grid = np.array([0, 5])
    assert equity_on_grid(grid, checkpoints, {}, prices, "USDT").tolist() == [1000.0, 1100.0]
    assert gross_notional_on_grid(grid, checkpoints, {}, prices, "USDT").tolist() == [300.0, 200.0]


def test_before_the_first_checkpoint_its_state_is_valued_at_the_prices_of_the_time() -> None:
    checkpoints = [Checkpoint(10, {"USDT": 100.0, "ETH": 1.0}, {}, {})]
    prices = {"ETH": track((0, 50.0), (10, 60.0))}
    equity = equity_on_grid(np.array([0, 10]), checkpoints, {}, prices, "USDT")
    assert equity.tolist() == [150.0, 160.0]


def test_non_zero_amount_before_the_first_price_is_nan_and_zero_amount_is_zero() -> None:
    checkpoints = [
        Checkpoint(0, {"USDT": 100.0, "ETH": 0.0}, {PERP: (0.0, 0.0)}, {}),
        Checkpoint(20, {"USDT": 100.0, "ETH": 1.0}, {}, {}),
    ]
    prices = {"ETH": track((30, 10.0))}
    marks = {PERP: track((40, 1.0))}
    equity = equity_on_grid(np.array([0, 20, 30]), checkpoints, marks, prices, "USDT")
    assert equity[0] == 100.0
    assert np.isnan(equity[1])
    assert equity[2] == 110.0


def test_missing_price_track_for_a_held_asset_is_a_data_error() -> None:
    checkpoints = [Checkpoint(0, {"USDT": 1.0, "SOL": 2.0}, {}, {})]
    with pytest.raises(DataError, match="SOL"):
        equity_on_grid(np.array([0]), checkpoints, {}, {}, "USDT")


def test_checkpoints_must_exist_and_be_in_time_order() -> None:
    with pytest.raises(DataError, match="no checkpoints"):
        equity_on_grid(np.array([0]), [], {}, {}, "USDT")
    late, early = Checkpoint(5, {}, {}, {}), Checkpoint(1, {}, {}, {})
    with pytest.raises(DataError, match="time order"):
        equity_on_grid(np.array([0]), [late, early], {}, {}, "USDT")


ASSETS = ("USDT", "BTC", "ETH")
INSTRUMENTS = ("BTC/USDT:USDT", "ETH/USDT:USDT")
amounts = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False).map(lambda x: round(x, 4))
prices_ = st.floats(min_value=0.01, max_value=1e5, allow_nan=False)
times = st.integers(min_value=0, max_value=1000)


def _price_tracks(names: tuple[str, ...]) -> st.SearchStrategy[dict[str, PriceTrack]]:
    one = st.lists(st.tuples(times, prices_), min_size=1, max_size=8).map(
        lambda pts: track(*sorted(pts, key=lambda p: p[0]))
    )
    return st.fixed_dictionaries(dict.fromkeys(names, one))


state = st.tuples(
    st.dictionaries(st.sampled_from(ASSETS), amounts, max_size=3),
    st.dictionaries(st.sampled_from(INSTRUMENTS), st.tuples(amounts, amounts), max_size=2),
    st.dictionaries(st.sampled_from(ASSETS), amounts.map(abs), max_size=3),
)


def _price_at(prices: PriceTrack, t: int) -> float:
    before = [
        p for ts, p in zip(prices.ts_ms.tolist(), prices.price.tolist(), strict=True) if ts <= t
    ]
    return before[-1] if before else math.nan


def _term(amount: float, price: float) -> float:
    return 0.0 if amount == 0 else amount * price


def _own_valuation(
    cp: Checkpoint, marks: dict[str, PriceTrack], assets: dict[str, PriceTrack]
) -> float:
    def asset_price(asset: str) -> float:
        return 1.0 if asset == "USDT" else _price_at(assets[asset], cp.ts_ms)

    total = sum(_term(v, asset_price(a)) for a, v in cp.cash.items())
    total -= sum(_term(v, asset_price(a)) for a, v in cp.liabilities.items())
    for instrument, (size, cost) in cp.positions.items():
        total += _term(size, _price_at(marks[instrument], cp.ts_ms)) - cost
    return total


@settings(max_examples=200, deadline=None)
@given(
    ts=st.lists(times, min_size=1, max_size=12, unique=True).map(sorted),
    states=st.lists(state, min_size=12, max_size=12),
    marks=_price_tracks(INSTRUMENTS),
    assets=_price_tracks(ASSETS[1:]),
)
def test_equity_at_each_checkpoint_time_is_that_checkpoints_own_valuation(
    ts: list[int],
    states: list[tuple[dict[str, float], dict[str, tuple[float, float]], dict[str, float]]],
    marks: dict[str, PriceTrack],
    assets: dict[str, PriceTrack],
) -> None:
    checkpoints = [Checkpoint(t, *s) for t, s in zip(ts, states, strict=False)]
    equity = equity_on_grid(np.array(ts), checkpoints, marks, assets, "USDT")
    for cp, value in zip(checkpoints, equity.tolist(), strict=True):
        expected = _own_valuation(cp, marks, assets)
        if math.isnan(expected):
            assert math.isnan(value)
        else:
            assert value == pytest.approx(expected, rel=1e-9, abs=1e-6)


def test_a_grid_valued_in_parts_gives_each_point_its_own_value(monkeypatch) -> None:
    monkeypatch.setattr(equity_module, "GRID_PART", 2)
    checkpoints = [
        Checkpoint(0, {"USDT": 500.0}, {}, {}),
        Checkpoint(10, {"USDT": 0.0, "ETH": 10.0}, {PERP: (-1.0, -100.0)}, {"USDT": 1000.0}),
    ]
    prices = {"ETH": track((5, 150.0), (15, 160.0))}
    marks = {PERP: track((0, 100.0), (20, 120.0))}
    grid = np.array([0, 5, 10, 15, 20])
    equity = equity_on_grid(grid, checkpoints, marks, prices, "USDT")
    gross = gross_notional_on_grid(grid, checkpoints, marks, prices, "USDT")
    # from t=10: 10 ETH − 1000 USDT owed + a short of 1 at cost −100 (−1 × mark + 100)
    assert equity.tolist() == [500.0, 500.0, 500.0, 600.0, 580.0]
    assert gross.tolist() == [0.0, 0.0, 1100.0, 1100.0, 1120.0]
