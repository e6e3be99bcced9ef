"""Position sizing: fractional Kelly with a fallback, volatility targeting, and the caps."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.scenario.harness import BTC
from tests.scenario.test_risk_harness import Actor, buy, flat_bars, risk_config, risk_run, sell

from xmargin.model.orders import OrderSide
from xmargin.risk.books import TradeStats
from xmargin.risk.settings import SizingSettings
from xmargin.risk.sizing import SizeRequest, kelly_fraction, position_size

D = Decimal
DEFAULTS = SizingSettings()  # quarter Kelly after 30 trades, else 0.5 % risked; caps 1 %, 1×


def stats(wins: int, win: float, losses: int, loss: float) -> TradeStats:
    record = TradeStats()
    for _ in range(wins):
        record.record(win)
    for _ in range(losses):
        record.record(-loss)
    return record


def request(**changes: object) -> SizeRequest:
    values: dict[str, object] = {
        "equity": D(10000),
        "price": D(100),
        "venue_cap": D(1000),
        "lot": D("0.1"),
        "stop": D(95),
    }
    values.update(changes)
    return SizeRequest(**values)  # type: ignore[arg-type]


def test_kelly_is_win_rate_minus_loss_rate_over_the_payoff_ratio():
    assert kelly_fraction(stats(18, 100, 12, 50)) == D("0.4")  # 0.6 − 0.4 / 2
    assert kelly_fraction(stats(10, 50, 20, 50)) == D(1) / 3 - D(2) / 3
    assert kelly_fraction(stats(5, 10, 0, 0)) is None


def test_fallback_risk_until_the_strategy_has_enough_trades():
    sizing = position_size(DEFAULTS, request(), stats(18, 100, 11, 50))  # 29 trades
    # 0.5 % of 10,000 = 50 risked over a 5 stop distance: 10
    assert (sizing.quantity, sizing.method, sizing.binding) == (D(10), "fallback", "fallback")
    assert sizing.limits == {
        "fallback": D(10),
        "max_risk_per_trade": D(20),
        "max_equity_fraction": D(100),
        "free_margin": D(1000),
    }


def test_quarter_kelly_capped_by_the_risk_per_trade():
    sizing = position_size(DEFAULTS, request(), stats(18, 100, 12, 50))
    # quarter of 0.4 = 10 % risked → 200, but 1 % at the stop allows 20
    assert (sizing.quantity, sizing.method, sizing.binding) == (
        D(20),
        "kelly",
        "max_risk_per_trade",
    )
    assert sizing.risk_fraction == D("0.1") and sizing.limits["kelly"] == D(200)


def test_kelly_capped_by_the_equity_fraction():
    generous = SizingSettings(max_risk_per_trade=D(1))
    sizing = position_size(generous, request(), stats(18, 100, 12, 50))
    assert (sizing.quantity, sizing.binding) == (D(100), "max_equity_fraction")


def test_kelly_capped_by_the_venues_free_margin_rounded_down_to_the_lot():
    generous = SizingSettings(max_risk_per_trade=D(1), max_equity_fraction=D(5))
    sizing = position_size(generous, request(venue_cap=D("7.57")), stats(18, 100, 12, 50))
    assert (sizing.quantity, sizing.binding) == (D("7.5"), "free_margin")


def test_no_edge_means_no_trade():
    sizing = position_size(DEFAULTS, request(), stats(10, 50, 20, 50))
    assert (sizing.quantity, sizing.binding) == (0, "no_edge")


def test_volatility_targeting():
    # 20 % target on 10,000 with an 80 % volatile instrument: 2,500 of notional = 25
    sizing = position_size(
        DEFAULTS, request(stop=None, volatility=D("0.8")), TradeStats(), "volatility"
    )
    assert (sizing.quantity, sizing.binding) == (D(25), "volatility")
    capped = position_size(DEFAULTS, request(volatility=D("0.1")), TradeStats(), "volatility")
    # 20,000 wanted; the stop at 95 caps the loss at 1 %: 20
    assert (capped.quantity, capped.binding) == (D(20), "max_risk_per_trade")


def test_below_the_minimum_size_is_zero():
    sizing = position_size(DEFAULTS, request(min_size=D(11)), TradeStats())
    assert sizing.quantity == 0


@pytest.mark.parametrize(
    ("changes", "method", "message"),
    [
        ({"stop": None}, "kelly", "needs a stop"),
        ({"stop": D(100)}, "kelly", "at the price"),
        ({}, "volatility", "needs the instrument's volatility"),
        ({}, "martingale", "unknown sizing method"),
    ],
)
def test_bad_requests_are_errors(changes, method, message):
    with pytest.raises(ValueError, match=message):
        position_size(DEFAULTS, request(**changes), TradeStats(), method)


def test_ctx_size_uses_the_strategys_own_trades_and_the_venue_model():
    sizes = []

    def size(ctx, actor):
        sizes.append(ctx.sizing(BTC, OrderSide.BUY, stop=D(90)))

    # two round trips: +10 and −5 per BTC; fewer than 30 trades, so the fallback applies
    script = {0: buy("1"), 1: sell("1"), 2: buy("1"), 3: sell("1"), 4: size}
    document = risk_config(
        {"sizing": {"max_equity_fraction": "50"}}, taker="0", balances={"USDT": "1000"}
    )
    run = risk_run(document, [flat_bars(100, 110, 110, 105, 100, 100)], Actor("t", script))
    stats_now = run.engine.books.book("t").stats
    assert (stats_now.trades, stats_now.wins, stats_now.win_total, stats_now.loss_total) == (
        2,
        1,
        10.0,
        5.0,
    )
    [sizing] = sizes
    # equity 1,005, fallback 0.5 % = 5.025 over a stop 10 away: 0.5025 → 0.502
    assert (sizing.quantity, sizing.method, sizing.binding) == (D("0.502"), "fallback", "fallback")
    assert sizing.limits["free_margin"] > 100
