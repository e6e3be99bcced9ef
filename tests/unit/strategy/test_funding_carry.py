"""Spot–perp carry on hand-made data: exact orders at entry, hedging, unwinding and exit.

BTC at 50,000 on both venues (1-hour bars, the perp's marks are its bars); 8-hourly funding
from T0 + 8 h. The estimator's half-lives are tiny, so the expected funding over the
240-hour horizon is just 30 × the last 8-hour rate: it beats the 30 bp round-trip fees
(spot 0.1 %, perp 0.05 %, both legs in and out) once the rate is above 0.0001, and the
position is held while the rate stays at or above 0.
"""

from __future__ import annotations

from tests.unit.strategy.support import (
    BINANCE_MARGIN_HOURLY,
    HOUR,
    T0,
    D,
    bars,
    events,
    funding,
    orders,
    run_strategies,
    strategy_of,
    venue,
)

from xmargin.testing.series import funding as funding_series
from xmargin.testing.series import ohlcv

PERP, SPOT = "BTC/USDT:USDT", "BTC/USDT"
SPOT_ACCOUNT, PERP_ACCOUNT = "spot.margin", "perp.main"
RATES = [0.0003, 0.0003, 0.0003, 0.0002, 0.0001, -0.0001, -0.0001]
PARAMS = {
    "spot_account": SPOT_ACCOUNT,
    "notional": "10000",
    "horizon_hours": 240,
    "basis_allowance_bps": 0,
    "long_half_life_hours": 0.001,
    "short_half_life_hours": 0.001,
    "min_settlements": 3,
}
NO_BUFFER = {"margin_buffer": 0}


def hours(n, volume=1_000_000.0):
    return ohlcv(T0, "1h", [(50000, 50000, 50000, 50000, volume)] * n)


def run_carry(
    perp_volume=1_000_000.0, rates=RATES, params=None, spot_settings=None, spot_fee="0.001"
):
    venues = [
        venue(
            "spot",
            "binance_cross_margin",
            {"margin": {"USDT": "100000"}},
            taker=spot_fee,
            maker=spot_fee,
            default_interest_rate=BINANCE_MARGIN_HOURLY,
            **(spot_settings or {}),
        ),
        venue(
            "perp",
            "binance_usdm_cross",
            {"main": {"USDT": "50000"}},
            leverage={PERP: 5},
            slippage={"kind": "volume", "participation": "0.1"},
        ),
    ]
    settlements = [(T0 + 8 * HOUR * (i + 1), r) for i, r in enumerate(rates)]
    sources = [
        bars("spot", SPOT, hours(60)),
        bars("perp", PERP, hours(60, perp_volume)),
        funding("perp", PERP, funding_series(settlements)),
    ]
    strategy = {
        "id": "carry",
        "strategy": "funding_carry",
        "account": PERP_ACCOUNT,
        "params": {**PARAMS, **(params or {})},
    }
    return run_strategies(venues, sources, [strategy], risk=NO_BUFFER)


def test_enters_when_expected_funding_beats_costs_and_leaves_when_it_turns_negative():
    backtest, result = run_carry()

    assert orders(result) == [
        # third settlement (T0 + 24 h): 30 × 0.0003 = 90 bp > 30 bp; 10,000 / 50,000 = 0.2
        (24 * 60, SPOT_ACCOUNT, SPOT, "buy", D("0.2")),
        (24 * 60, PERP_ACCOUNT, PERP, "sell", D("0.2")),
        # T0 + 48 h: the rate is -0.0001, the carry still to come is negative. Binance
        # spot buys pay their 0.1 % fee in BTC: the spot leg holds 0.1998, within the
        # pair's tolerance (the common lot, 0.001), and sells what it holds.
        (48 * 60, SPOT_ACCOUNT, SPOT, "sell", D("0.1998")),
        (48 * 60, PERP_ACCOUNT, PERP, "buy", D("0.2")),
    ]
    paid = [(e["ts_ms"], D(e["amount"])) for e in events(result, "FundingSettled")]
    # the short 0.2 at 50,000 receives 0.2 × 50,000 × rate at 32 h and 40 h, pays at 48 h
    assert paid == [(T0 + 32 * HOUR, D(-2)), (T0 + 40 * HOUR, D(-1)), (T0 + 48 * HOUR, D(1))]
    split = strategy_of(backtest, "carry").results()
    # fees: spot 0.0002 BTC (10 USDT) and 0.1998 × 50,000 × 0.001 = 9.99; perp 5 and 5
    assert D(split["fees"]) == D("-29.99")
    assert D(split["funding"]) == 2
    assert D(split["basis"]) == 0
    assert D(split["total"]) == D("-27.99")


def test_a_partly_filled_leg_is_hedged_on_the_next_bar():
    # the perp trades 1 BTC an hour: 10 % participation fills 0.1 of each order
    _, result = run_carry(perp_volume=1.0)

    assert orders(result)[:3] == [
        (24 * 60, SPOT_ACCOUNT, SPOT, "buy", D("0.2")),
        (24 * 60, PERP_ACCOUNT, PERP, "sell", D("0.2")),
        (25 * 60, PERP_ACCOUNT, PERP, "sell", D("0.1")),  # the missing half
    ]
    fills = [(e["account"], D(e["quantity"])) for e in events(result, "OrderFilled")][:3]
    assert fills == [
        (SPOT_ACCOUNT, D("0.2")),
        (PERP_ACCOUNT, D("0.1")),
        (PERP_ACCOUNT, D("0.1")),
    ]


def test_a_leg_that_keeps_failing_is_given_up_and_the_other_leg_unwound():
    # the perp does not trade at all: every perp order is cancelled unfilled
    backtest, result = run_carry(perp_volume=0.0)

    assert orders(result) == [
        (24 * 60, SPOT_ACCOUNT, SPOT, "buy", D("0.2")),
        (24 * 60, PERP_ACCOUNT, PERP, "sell", D("0.2")),
        (25 * 60, PERP_ACCOUNT, PERP, "sell", D("0.2")),
        (26 * 60, PERP_ACCOUNT, PERP, "sell", D("0.2")),
        # third failure in a row: the pair matches the perp's 0 and sells the spot leg
        (27 * 60, SPOT_ACCOUNT, SPOT, "sell", D("0.1998")),
    ]
    # and no new pair for the 24-hour cooldown (the settlements at 32, 40 and 48 h pass)
    assert strategy_of(backtest, "carry").pair.unwinds == 1


def test_reverse_carry_shorts_borrowed_spot_and_buys_the_perp_when_funding_is_negative():
    rates = [-0.0003, -0.0003, -0.0003, 0.0001]
    _, result = run_carry(
        rates=rates,
        params={"allow_reverse": True},
        spot_settings={"auto_borrow": True, "interest_rates": {"BTC": "0"}},
        spot_fee="0",
    )

    assert orders(result) == [
        (24 * 60, SPOT_ACCOUNT, SPOT, "sell", D("0.2")),
        (24 * 60, PERP_ACCOUNT, PERP, "buy", D("0.2")),
        (32 * 60, SPOT_ACCOUNT, SPOT, "buy", D("0.2")),
        (32 * 60, PERP_ACCOUNT, PERP, "sell", D("0.2")),
    ]
    repaid = events(result, "LoanRepaid")
    assert [(e["asset"], D(e["principal_paid"])) for e in repaid] == [("BTC", D("0.2"))]


def test_without_reverse_negative_funding_is_left_alone():
    _, result = run_carry(rates=[-0.0003] * 5)
    assert orders(result) == []
