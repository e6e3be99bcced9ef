"""Spread trading between a perpetual and spot: entry beyond costs, both legs together,
exit on convergence or after a time limit."""

from __future__ import annotations

from tests.unit.strategy.support import HOUR, T0, D, bars, orders, run_strategies, venue

from xmargin.testing.series import ohlcv

PERP, SPOT = "BTC/USDT:USDT", "BTC/USDT"
PERP_ACCOUNT, SPOT_ACCOUNT = "perp.main", "spot.margin"


def run_spread(spreads_bps, params):
    spot_rows = [(50000.0,) * 4] * len(spreads_bps)
    perp_rows = [(50000.0 * (1 + s / 1e4),) * 4 for s in spreads_bps]
    venues = [
        venue("perp", "binance_usdm_cross", {"main": {"USDT": "50000"}}, leverage={PERP: 5}),
        venue(
            "spot",
            "binance_cross_margin",
            {"margin": {"USDT": "50000"}},
            taker="0",
            maker="0",
            auto_borrow=True,
            interest_rates={"BTC": "0"},
        ),
    ]
    sources = [
        bars("perp", PERP, ohlcv(T0, "1h", perp_rows)),
        bars("spot", SPOT, ohlcv(T0, "1h", spot_rows)),
    ]
    strategy = {
        "id": "spread",
        "strategy": "spread_arb",
        "account": PERP_ACCOUNT,
        "params": {
            "account_b": SPOT_ACCOUNT,
            "symbol_a": PERP,
            "symbol_b": SPOT,
            "notional": "10000",
            "cost_bps": 10,
            "entry_bps": 5,
            "exit_bps": 2,
            **params,
        },
    }
    return run_strategies(venues, sources, [strategy], risk={"margin_buffer": 0})


def at(bar):
    """Minutes from T0 to the close of 1-hour bar ``bar``."""
    return (bar + 1) * HOUR // 60_000


def test_a_rich_perp_is_sold_against_bought_spot_and_closed_on_convergence():
    # baseline = mean of the previous 3 spreads; bar 4: 20 bp over a baseline of 0 > 15 bp
    _, result = run_spread([0, 0, 0, 0, 20, 0, 0], {"window": 3, "max_hold_bars": 10})

    assert orders(result) == [
        (at(4), PERP_ACCOUNT, PERP, "sell", D("0.199")),  # 10,000 / 50,100, to the 0.001 lot
        (at(4), SPOT_ACCOUNT, SPOT, "buy", D("0.199")),
        # bar 5: 0 bp against a baseline of 6.67 bp: the deviation crossed zero
        (at(5), PERP_ACCOUNT, PERP, "buy", D("0.199")),
        (at(5), SPOT_ACCOUNT, SPOT, "sell", D("0.199")),
    ]


def test_a_cheap_perp_is_bought_against_borrowed_spot_and_closed_at_the_time_limit():
    # no baseline: the -30 bp spread never converges, so the 3-bar limit closes it
    _, result = run_spread([0, -30, -30, -30, -30, -30, -30], {"window": 0, "max_hold_bars": 3})

    assert orders(result) == [
        (at(1), PERP_ACCOUNT, PERP, "buy", D("0.2")),  # 10,000 / 49,850 = 0.2006
        (at(1), SPOT_ACCOUNT, SPOT, "sell", D("0.2")),  # borrowed
        (at(4), PERP_ACCOUNT, PERP, "sell", D("0.2")),
        (at(4), SPOT_ACCOUNT, SPOT, "buy", D("0.2")),
        # bar 5: flat again and the spread is still beyond the threshold: in again
        (at(5), PERP_ACCOUNT, PERP, "buy", D("0.2")),
        (at(5), SPOT_ACCOUNT, SPOT, "sell", D("0.2")),
        # the run ends: flatten
        (at(6), PERP_ACCOUNT, PERP, "sell", D("0.2")),
        (at(6), SPOT_ACCOUNT, SPOT, "buy", D("0.2")),
    ]


def test_only_the_allowed_direction_is_traded_and_small_spreads_are_ignored():
    _, result = run_spread([0, -30, 14, 0], {"window": 0, "directions": "short_a"})
    assert orders(result) == []
