"""The equity curve values positions at the mark the venue used: a mark bar that closed
before ``run.start`` (outside the run) is not in the curve's price tracks."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.unit.strategy.support import HOUR, T0, bars, marks, run_strategies, venue

from xmargin.testing.series import ohlcv

PERP = "BTC/USDT:USDT"


def test_before_the_first_mark_of_the_run_the_curve_uses_the_bar_closes_as_the_venue_does():
    venues = [venue("bin", "binance_usdm_cross", {"main": {"USDT": "10000"}})]
    data = [
        bars("bin", PERP, ohlcv(T0, "1h", [(p, p, p, p) for p in (50000.0, 50050.0, 50200.0)])),
        # 2-hour marks closing at T0 (before the run: 40,000), T0 + 2 h and T0 + 4 h
        marks("bin", PERP, ohlcv(T0 - 2 * HOUR, "2h", [(p, p, p, p) for p in (4e4, 50100.0, 5e4)])),
    ]
    hold = {
        "id": "hold",
        "strategy": "buy_and_hold",
        "account": "bin.main",
        "params": {"instrument": PERP, "quantity": "0.1"},
    }
    risk = {"breakers": {"daily_loss": False, "max_drawdown": False}}
    _, result = run_strategies(
        venues, data, [hold], risk=risk, run={"start": "2024-01-01T00:00:00"}
    )
    curve = dict(zip(result.grid_ms.tolist(), result.equity.tolist(), strict=True))
    fee = 0.1 * 50000 * 0.0005
    # bought at the first close, 50,000; no mark of the run yet: the venue marks at 50,000
    assert curve[T0 + HOUR] == pytest.approx(10000 - fee, rel=1e-15)
    # the first mark of the run (50,100) arrives at T0 + 2 h, before that step's bar
    assert curve[T0 + 2 * HOUR] == pytest.approx(10000 - fee + 0.1 * 100, rel=1e-15)
    assert Decimal(result.summary()["start_equity"]) == 10000


def test_a_mark_stream_with_nothing_in_the_run_leaves_the_bar_closes():
    venues = [venue("bin", "binance_usdm_cross", {"main": {"USDT": "10000"}})]
    data = [
        bars("bin", PERP, ohlcv(T0, "1h", [(p, p, p, p) for p in (50000.0, 50050.0, 50200.0)])),
        marks("bin", PERP, ohlcv(T0 - 2 * HOUR, "1h", [(4e4,) * 4, (4e4,) * 4])),
    ]
    hold = {
        "id": "hold",
        "strategy": "buy_and_hold",
        "account": "bin.main",
        "params": {"instrument": PERP, "quantity": "0.1"},
    }
    risk = {"breakers": {"daily_loss": False, "max_drawdown": False}}
    _, result = run_strategies(
        venues, data, [hold], risk=risk, run={"start": "2024-01-01T00:00:00"}
    )
    fee = 0.1 * 50000 * 0.0005
    assert result.equity[-1] == pytest.approx(10000 - fee + 0.1 * 200, rel=1e-15)
