"""Stablecoin peg mean reversion: the ladder by distance, the exit at the peg, the hard stop."""

from __future__ import annotations

from decimal import Decimal

from tests.unit.strategy.support import (
    BINANCE_MARGIN_HOURLY,
    MINUTE,
    T0,
    D,
    bars,
    orders,
    run_strategies,
    venue,
)

from xmargin.strategy.examples.peg_reversion import PegReversion, PegReversionParams
from xmargin.testing.series import ohlcv

USDC = "USDC/USDT"
ACCOUNT = "spot.margin"
PARAMS = {
    "instrument": USDC,
    "unit": "1000",
    "max_units": 5,
    "entry_bps": 10,
    "step_bps": 10,
    "exit_bps": 2,
    "hard_stop_bps": 100,
    "rearm_bps": 20,
    "rearm_bars": 5,
}


def run_peg(closes, **params):
    venues = [
        venue(
            "spot",
            "binance_cross_margin",
            {"margin": {"USDT": "100000"}},
            taker="0",
            maker="0",
            default_interest_rate=BINANCE_MARGIN_HOURLY,
        )
    ]
    series = ohlcv(T0, "1m", [(c, c, c, c) for c in closes])
    strategy = {
        "id": "peg",
        "strategy": "peg_reversion",
        "account": ACCOUNT,
        "params": {**PARAMS, **params},
    }
    return run_strategies(venues, [bars("spot", USDC, series)], [strategy], risk={})


def bought(result):
    return [(minute - 1, side, qty) for minute, _, _, side, qty in orders(result)]


def test_decide_sizes_by_distance_holds_in_between_and_exits_at_the_peg():
    strategy = PegReversion("peg", PegReversionParams(**{**PARAMS, "unit": Decimal(1000)}))
    assert strategy.decide(1.0) == 0  # at the peg: nothing
    assert strategy.decide(0.9990) == 1000  # 10 bp: one unit
    assert strategy.decide(0.9975) == 2000  # 25 bp: 1 + (25 - 10) // 10
    assert strategy.decide(0.9910) == 5000  # 90 bp: 1 + 8 units, capped at 5
    assert strategy.decide(0.9995) is None  # 5 bp: between exit and entry, keep
    assert strategy.decide(1.0003) == 0  # above the peg (no shorting): out


def test_buys_the_ladder_down_sells_it_up_and_is_flat_at_the_peg():
    _, result = run_peg([1.0, 0.9990, 0.9975, 0.9985, 0.9995, 0.9999])

    assert bought(result) == [
        (1, "buy", D(1000)),  # 10 bp below
        (2, "buy", D(1000)),  # 25 bp: two units
        (3, "sell", D(1000)),  # back to 15 bp: one unit
        (5, "sell", D(1000)),  # 1 bp: at the peg
    ]


def test_a_true_depeg_sells_everything_and_stands_aside_until_calm():
    closes = [1.0, 0.995, 0.98, 0.97, 0.999, 0.999, 0.999, 0.999, 0.999, 0.998, 0.998]
    backtest, result = run_peg(closes)

    assert bought(result) == [
        (1, "buy", D(5000)),  # 50 bp: the full five units
        (2, "sell", D(5000)),  # 200 bp: a true de-peg, out
        # bars 4-8 within 20 bp of the peg: trading again from bar 8; bar 9 is 20 bp below
        (9, "buy", D(2000)),
        (10, "sell", D(2000)),  # the run ends: flatten
    ]
    assert [
        (ts - T0 * 1_000_000) // (MINUTE * 1_000_000)
        for ts in backtest.kernel.strategies["peg"].stops
    ] == [3]
