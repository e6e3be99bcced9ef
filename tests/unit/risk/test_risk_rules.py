"""Every pre-trade rule denies just past its limit and allows at it, with the numbers.

A real kernel with the risk engine: Binance USDⓈ-M cross margin, 10,000 USDT, hourly BTC
bars at one price each, orders sent by an actor at bar 0 (or later) and filled at the close.
Taker fees are 0 unless said otherwise, so equity stays 10,000 and the limits are round.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.scenario.harness import BTC
from tests.scenario.test_risk_harness import (
    Actor,
    RiskRun,
    buy,
    denials,
    flat_bars,
    risk_config,
    risk_run,
    sell,
)

from xmargin.model.orders import OrderType
from xmargin.risk.state import TradingState

D = Decimal
OFF = {"max_leverage": 0, "margin_buffer": 0}


def rules_run(
    risk: dict[str, Any], script: dict[int, Any], *closes: float, **venue: Any
) -> RiskRun:
    venue.setdefault("taker", "0")
    document = risk_config({**OFF, **risk}, **venue)
    return risk_run(document, [flat_bars(*(closes or (50000,) * 4))], Actor("t", script))


def filled(run: RiskRun) -> list[Decimal]:
    return [D(f["quantity"]) for f in run.of("OrderFilled")]


def test_max_order_quantity():
    run = rules_run({"max_order_quantity": "1"}, {0: [buy("1"), buy("1.001")]})
    assert filled(run) == [1]
    assert denials(run) == [("max_order_quantity", "quantity 1.001 exceeds the limit 1")]


def test_max_order_quantity_per_instrument_overrides_the_default():
    limits = {"*": "5", BTC: "0.5"}
    run = rules_run({"max_order_quantity": limits}, {0: [buy("0.5"), buy("0.501")]})
    assert filled(run) == [D("0.5")]
    assert denials(run) == [("max_order_quantity", "quantity 0.501 exceeds the limit 0.5")]


def test_max_order_notional_at_the_mark_for_market_orders():
    run = rules_run({"max_order_notional": "50000"}, {0: [buy("1"), buy("1.001")]})
    assert filled(run) == [1]
    assert denials(run) == [
        ("max_order_notional", "notional 50,050.00 exceeds the limit 50,000.00")
    ]


def test_max_position_notional_counts_the_position_after_the_order():
    run = rules_run(
        {"max_position_notional": "60000"},
        {0: buy("1"), 1: [buy("0.2"), buy("0.001")], 2: sell("0.5")},
    )
    assert filled(run) == [1, D("0.2"), D("0.5")]
    assert denials(run) == [
        (
            "max_position_notional",
            "position notional after the order 60,050.00 exceeds 60,000.00",
        )
    ]


def test_instrument_leverage_cap():
    run = rules_run({"max_instrument_leverage": "3"}, {0: [buy("0.6"), buy("0.001")]})
    # 0.6 × 50,000 = 30,000 = 3 × 10,000: allowed; one more lot is 3.005×
    assert filled(run) == [D("0.6")]
    assert denials(run) == [
        ("max_instrument_leverage", "BTC/USDT:USDT leverage after the order 3.005× exceeds 3×")
    ]


def test_portfolio_leverage_cap_is_on_by_default_at_10x():
    run = rules_run({"max_leverage": 10}, {0: [buy("2"), buy("0.001")]})
    assert filled(run) == [2]
    assert denials(run) == [
        ("max_leverage", "account leverage after the order 10.005× exceeds 10×")
    ]


def test_leverage_caps_let_reducing_orders_through():
    run = rules_run({"max_leverage": 10}, {0: buy("2"), 1: sell("0.5")}, 50000, 50000, 40000)
    assert filled(run) == [2, D("0.5")]


def test_margin_buffer_needs_post_trade_equity_above_buffer_times_initial_margin():
    # leverage 5: initial margin = notional / 5; 0.8 BTC → 8,000 × 1.25 = 10,000 = equity
    run = rules_run({"margin_buffer": "1.25"}, {0: [buy("0.8"), buy("0.001")]}, leverage={BTC: 5})
    assert filled(run) == [D("0.8")]
    assert denials(run) == [
        (
            "margin_buffer",
            "equity after the order 10,000.00 is below 1.25 × the initial requirement "
            "8,010.00 = 10,012.50",
        )
    ]


def test_margin_buffer_includes_the_taker_fee_in_the_what_if():
    run = rules_run({"margin_buffer": "1.25"}, {0: buy("0.8")}, leverage={BTC: 5}, taker="0.0005")
    # the fee of 20 USDT leaves 9,980 < 10,000 required
    assert denials(run) == [
        (
            "margin_buffer",
            "equity after the order 9,980.00 is below 1.25 × the initial requirement "
            "8,000.00 = 10,000.00",
        )
    ]


def _liquidation_run(distance: str) -> RiskRun:
    # spec C-3 numbers: 1,041 USDT, long 1 BTC at 10,000 pays 5 → wallet 1,036, tier 1
    # (MMR 0.004): liquidation at (10,000 − 1,036) / 0.996 = 9,000, 10 % below the mark
    return rules_run(
        {"min_liquidation_distance": distance},
        {0: buy("1")},
        10000,
        10000,
        balances={"USDT": "1041"},
        taker="0.0005",
    )


def test_liquidation_distance_allows_exactly_the_minimum():
    run = _liquidation_run("0.1")
    assert filled(run) == [1]


def test_liquidation_distance_denies_just_below_the_minimum():
    run = _liquidation_run("0.1001")
    assert denials(run) == [
        (
            "min_liquidation_distance",
            "liquidation price after the order 9,000.00 is 10 % from the mark 10,000.00, "
            "less than 10.01 %",
        )
    ]


def test_price_band_around_the_mark_for_limit_prices():
    limit = OrderType.LIMIT
    run = rules_run(
        {"price_band": "0.01"},
        {
            0: [
                buy("0.1", order_type=limit, price=D("49500")),
                buy("0.1", order_type=limit, price=D("49499.9")),
                sell("0.1", order_type=limit, price=D("50500.1")),
            ]
        },
    )
    assert [rule for rule, _ in denials(run)] == ["price_band", "price_band"]
    assert denials(run)[0][1] == (
        "price 49499.9 is 1.0002 % from the mark 50,000.00, outside the ±1 % band"
    )


def test_order_rate_limit_over_a_rolling_minute():
    document_bars = [flat_bars(50000, 50000, 50000, timeframe="1m")]
    actor = Actor("t", {0: [buy("0.1"), buy("0.1"), buy("0.1")], 1: buy("0.1")})
    run = risk_run(
        risk_config({**OFF, "max_orders_per_minute": 2}, taker="0"), document_bars, actor
    )
    # two at 00:01, the third denied; at 00:02 the first two are a minute old: allowed
    assert denials(run) == [
        ("max_orders_per_minute", "2 orders in the last minute; the limit is 2")
    ]
    assert filled(run) == [D("0.1")] * 3


def _escalate(state: TradingState) -> Any:
    return lambda ctx, _: ctx._kernel.risk.escalate(state, "test", ctx.now_ns)


def test_reducing_allows_only_orders_that_shrink_a_position():
    run = rules_run(
        {},
        {
            0: buy("2"),
            1: [_escalate(TradingState.REDUCING), sell("1"), sell("1.5"), buy("0.1")],
        },
    )
    assert filled(run) == [2, 1]
    assert denials(run) == [
        ("reducing", "trading is reducing: the order would take the position from 1 to -0.5"),
        ("reducing", "trading is reducing: the order would take the position from 1 to 1.1"),
    ]


def test_halted_allows_nothing_but_cancels():
    def rest(ctx: Any, actor: Actor) -> Any:
        return ctx.buy(BTC, D("0.1"), order_type=OrderType.LIMIT, price=D("40000"))

    run = rules_run(
        {"kill_switch": {"flatten": False}},
        {0: rest, 1: [_escalate(TradingState.HALTED), sell("0.1")]},
    )
    assert denials(run) == [
        ("halted", "trading is halted: only cancels are allowed until trading is resumed")
    ]
    # the resting order was canceled by the kill switch
    assert [e["reason"] for e in run.of("OrderCanceled")] == ["canceled by request"]
