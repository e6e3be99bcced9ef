"""Perp–perp funding arbitrage on hand-made data: an 8-hourly venue against an hourly one.

Venue ``bin`` (Binance USDⓈ-M, USDT) settles every 8 h, venue ``hl`` (Hyperliquid, USDC)
every hour; BTC at 50,000 on both (1-hour bars, the marks). Tiny half-lives make each
expectation 240 × the last hourly rate; fees 5 + 4.5 bp a side make 19 bp round trip.
"""

from __future__ import annotations

from tests.unit.strategy.support import (
    HOUR,
    T0,
    D,
    bars,
    events,
    funding,
    orders,
    run_strategies,
    strategy_of,
)
from tests.unit.strategy.support import venue as venue_table

from xmargin.testing.series import funding as funding_series
from xmargin.testing.series import ohlcv

A, B = "BTC/USDT:USDT", "BTC/USDC:USDC"
ACCOUNT_A, ACCOUNT_B = "bin.arb", "hl.arb"
PARAMS = {
    "account_b": ACCOUNT_B,
    "perp_a": A,
    "perp_b": B,
    "notional": "10000",
    "horizon_hours": 240,
    "basis_allowance_bps": 0,
    "fee_a": 0.0005,
    "fee_b": 0.00045,
    "long_half_life_hours": 0.001,
    "short_half_life_hours": 0.001,
    "min_settlements": 3,
}
RISK = {"breakers": {"daily_loss": False, "max_drawdown": False}}


def run_pair(rate_a, rate_b, prices=None, hl_usdc="50000", params=None, hours=60, risk=None):
    prices = prices or [50000.0] * hours
    rows = [(p, p, p, p) for p in prices]
    venues = [
        venue_table("bin", "binance_usdm_cross", {"arb": {"USDT": "50000"}}, leverage={A: 5}),
        venue_table(
            "hl",
            "hyperliquid_cross",
            {"arb": {"USDC": hl_usdc}},
            taker="0.00045",
            maker="0.00015",
            leverage={B: 5},
        ),
    ]
    a_rates = [(T0 + 8 * HOUR * k, rate_a(8 * k)) for k in range(1, hours // 8 + 1)]
    b_rates = [(T0 + HOUR * h, rate_b(h)) for h in range(1, hours + 1)]
    sources = [
        bars("bin", A, ohlcv(T0, "1h", rows)),
        bars("hl", B, ohlcv(T0, "1h", rows)),
        funding("bin", A, funding_series(a_rates)),
        funding("hl", B, funding_series(b_rates, interval_h=1)),
        # the run reports in USDT: the USDC account is converted at a USDC/USDT at par
        bars("bin", "USDC/USDT", ohlcv(T0, "1h", [(1.0, 1.0, 1.0, 1.0)] * hours)),
    ]
    strategy = {
        "id": "arb",
        "strategy": "funding_perp_perp",
        "account": ACCOUNT_A,
        "params": {**PARAMS, **(params or {})},
    }
    return run_strategies(venues, sources, [strategy], risk={**RISK, **(risk or {})})


def test_shorts_the_hourly_venue_while_it_pays_more_and_leaves_when_it_pays_less():
    # a: 0.0001 per 8 h = 0.0000125 per hour; b: 0.00005 per hour until 40 h, then 0.00001
    backtest, result = run_pair(lambda h: 0.0001, lambda h: 0.00005 if h <= 40 else 0.00001)

    assert orders(result) == [
        # 24 h: a has its third settlement; 240 × (0.00005 − 0.0000125) = 90 bp > 19 bp
        (24 * 60, ACCOUNT_A, A, "buy", D("0.2")),
        (24 * 60, ACCOUNT_B, B, "sell", D("0.2")),
        # 41 h: 240 × (0.00001 − 0.0000125) < 0: the carry still to come is negative
        (41 * 60, ACCOUNT_A, A, "sell", D("0.2")),
        (41 * 60, ACCOUNT_B, B, "buy", D("0.2")),
    ]
    received = {}
    for e in events(result, "FundingSettled"):
        received[e["account"]] = received.get(e["account"], D(0)) - D(e["amount"])
    # b (short 0.2 × 50,000 = 10,000): 0.5 an hour from 25 h to 40 h, 0.1 at 41 h
    # a (long 10,000): pays 1 at 32 h and at 40 h
    assert received == {ACCOUNT_B: D("8.1"), ACCOUNT_A: D(-2)}
    assert D(strategy_of(backtest, "arb").results()["funding"]) == D("6.1")


def test_shorts_the_eight_hourly_venue_when_it_is_the_one_paying_more():
    _, result = run_pair(lambda h: 0.0008, lambda h: 0.00001, hours=30)

    assert orders(result)[:2] == [
        (24 * 60, ACCOUNT_A, A, "sell", D("0.2")),
        (24 * 60, ACCOUNT_B, B, "buy", D("0.2")),
    ]


def test_a_spread_smaller_than_the_fees_is_not_traded():
    # 240 × (0.0000125 + 0.0000007) = 31.7 bp over the funding of a, but 19 bp fees and a
    # 15 bp basis allowance
    _, result = run_pair(
        lambda h: 0.0001, lambda h: 0.0000132, params={"basis_allowance_bps": 15}, hours=30
    )
    assert orders(result) == []


def test_a_leg_drifting_towards_liquidation_shrinks_the_pair():
    # b holds only 3,000 USDC; BTC rises 12 % at 30 h, against b's short
    prices = [50000.0] * 29 + [56000.0] * 11
    backtest, result = run_pair(
        lambda h: 0.0001,
        lambda h: 0.00005,
        prices=prices,
        hl_usdc="3000",
        params={"leverage": "5", "min_liquidation_distance": 0.2},
        hours=40,
    )
    strategy = strategy_of(backtest, "arb")

    assert orders(result)[:6] == [
        (24 * 60, ACCOUNT_A, A, "buy", D("0.2")),
        (24 * 60, ACCOUNT_B, B, "sell", D("0.2")),
        # 30 h: b is less than 20 % from its liquidation price: shrink by a quarter
        (30 * 60, ACCOUNT_A, A, "sell", D("0.05")),
        (30 * 60, ACCOUNT_B, B, "buy", D("0.05")),
        # 31 h, the next hourly check: still within 20 %: again, to 0.112
        (31 * 60, ACCOUNT_A, A, "sell", D("0.038")),
        (31 * 60, ACCOUNT_B, B, "buy", D("0.038")),
    ]
    assert strategy.deleverages == 2
    assert events(result, "Liquidated") == []


def test_the_risk_engine_denies_a_leg_too_close_to_liquidation_and_the_pair_unwinds():
    # b holds 1,000 USDC: a short of 0.099 BTC (all its margin allows) would sit within
    # 20 % of its liquidation price, which the risk engine's rule forbids
    backtest, result = run_pair(
        lambda h: 0.0001,
        lambda h: 0.00005,
        hl_usdc="1000",
        params={"leverage": "20"},
        hours=30,
        risk={"margin_buffer": 0, "min_liquidation_distance": "0.2"},
    )
    denied = events(result, "OrderDenied")
    assert [((e["ts_ms"] - T0) // HOUR, e["account"], e["rule"]) for e in denied] == [
        (24, ACCOUNT_B, "min_liquidation_distance"),
        (25, ACCOUNT_B, "min_liquidation_distance"),
        (26, ACCOUNT_B, "min_liquidation_distance"),
    ]
    assert orders(result) == [
        (24 * 60, ACCOUNT_A, A, "buy", D("0.099")),
        (27 * 60, ACCOUNT_A, A, "sell", D("0.099")),  # given up on b: unwind a
    ]
    assert strategy_of(backtest, "arb").pair.unwinds == 1
