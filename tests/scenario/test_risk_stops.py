"""Stops on the mark: stop-loss, take-profit, trailing, OCO and brackets, native and emulated.

Bars are hourly and each at one price, with no mark feed (the bars are the mark), taker fee
5 bps, no slippage or latency: a native stop-market filled at the bar that gaps through its
trigger fills at that bar's open, and an emulated stop's market order fills at the same
bar's close, the same price. Every scenario runs in both modes and must give the same fills.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from tests.scenario.harness import BTC, HOUR, T0
from tests.scenario.test_risk_harness import (
    Actor,
    RiskRun,
    buy,
    flat_bars,
    risk_config,
    risk_run,
    sell,
)

from xmargin.model.orders import OrderSide, OrderType

D = Decimal
MODES = ("native", "emulated")


def stops_run(mode: str, closes: list[float], script: dict[int, Any]) -> RiskRun:
    document = risk_config({"stops": {"mode": mode}})
    return risk_run(document, [flat_bars(*closes)], Actor("trend", script))


def fills(run: RiskRun) -> list[tuple[float, str, Decimal, Decimal, Decimal, str]]:
    """(hour, side, quantity, price, fee, strategy) of every fill."""
    return [
        (
            (f["ts_ms"] - T0) / HOUR,
            f["side"],
            D(f["quantity"]),
            D(f["price"]),
            D(f["fee"]),
            f["strategy"],
        )
        for f in run.of("OrderFilled")
    ]


def triggered(run: RiskRun) -> list[tuple[float, str, Decimal, Decimal]]:
    return [
        ((e["ts_ms"] - T0) / HOUR, e["kind"], D(e["trigger_price"]), D(e["mark_price"]))
        for e in run.of("StopTriggered")
    ]


def protect(**levels: str) -> Any:
    return lambda ctx, _: ctx.protect(BTC, **{k: D(v) for k, v in levels.items()})


# bar i closes at hour i + 1; the entry fills at the close of bar 0 (hour 1)
LONG_ENTRY = (1.0, "buy", D(1), D(100), D("0.05"), "trend")


@pytest.mark.parametrize("mode", MODES)
def test_a_long_stop_loss_fires_when_the_mark_falls_to_it(mode):
    run = stops_run(mode, [100, 100, 99, 96, 95, 93, 93], {0: buy("1"), 1: protect(stop_loss="95")})
    # the mark reaches 95 at bar 4 (hour 5): the stop closes 1 at 95, fee 0.0475
    assert fills(run) == [LONG_ENTRY, (5.0, "sell", D(1), D(95), D("0.0475"), "trend")]
    assert triggered(run) == [(5.0, "stop_loss", D(95), D(95))]
    assert run.position() == 0


@pytest.mark.parametrize("mode", MODES)
def test_a_stop_loss_one_tick_below_the_lowest_mark_never_fires(mode):
    run = stops_run(mode, [100, 100, 96, 95, 98], {0: buy("1"), 1: protect(stop_loss="94.9")})
    assert fills(run) == [LONG_ENTRY]
    assert triggered(run) == []
    assert run.position() == 1


@pytest.mark.parametrize("mode", MODES)
def test_a_take_profit_and_a_stop_loss_are_one_oco_group(mode):
    run = stops_run(
        mode,
        [100, 100, 104, 108, 111, 90, 90],
        {0: buy("1"), 1: protect(stop_loss="95", take_profit="110")},
    )
    # the take-profit fires at 111 (gapped past 110, filled at the bar's open = 111) and
    # cancels the stop-loss: the fall to 90 afterwards does nothing
    assert fills(run) == [LONG_ENTRY, (5.0, "sell", D(1), D(111), D("0.0555"), "trend")]
    assert triggered(run) == [(5.0, "take_profit", D(110), D(111))]
    if mode == "native":
        canceled = run.of("OrderCanceled")
        assert len(canceled) == 1 and canceled[0]["ts_ms"] == T0 + 5 * HOUR


@pytest.mark.parametrize("mode", MODES)
def test_a_long_trailing_stop_follows_the_highest_mark(mode):
    run = stops_run(
        mode,
        [100, 100, 110, 120, 115, 109, 108],
        {0: buy("1"), 1: protect(trailing="0.1")},
    )
    # armed at 100 (trigger 90), the peak rises to 120 (trigger 108.0): 115 and 109 keep
    # it, 108 fires it
    assert fills(run) == [LONG_ENTRY, (7.0, "sell", D(1), D(108), D("0.054"), "trend")]
    assert triggered(run) == [(7.0, "trailing", D(108), D(108))]


@pytest.mark.parametrize("mode", MODES)
def test_a_short_trailing_stop_follows_the_lowest_mark(mode):
    run = stops_run(
        mode,
        [100, 100, 90, 80, 85, 87, 88],
        {0: sell("1"), 1: protect(trailing="0.1")},
    )
    # the low is 80: trigger 88.0 (rounded up to the tick)
    assert fills(run)[1:] == [(7.0, "buy", D(1), D(88), D("0.044"), "trend")]
    assert triggered(run) == [(7.0, "trailing", D(88), D(88))]


@pytest.mark.parametrize("mode", MODES)
def test_a_bracket_enters_then_protects_with_an_oco_pair(mode):
    def enter(ctx, actor):
        return ctx.bracket(BTC, OrderSide.BUY, D(2), stop_loss=D("95"), take_profit=D("110"))

    run = stops_run(mode, [100, 100, 100, 97, 94, 94], {0: enter})
    assert fills(run) == [
        (1.0, "buy", D(2), D(100), D("0.1"), "trend"),
        (5.0, "sell", D(2), D(94), D("0.094"), "trend"),
    ]
    assert triggered(run) == [(5.0, "stop_loss", D(95), D(94))]


@pytest.mark.parametrize("mode", MODES)
def test_protection_follows_the_position_size(mode):
    run = stops_run(
        mode,
        [100, 100, 100, 100, 94, 94],
        {0: buy("1"), 1: protect(stop_loss="95"), 2: buy("2")},
    )
    # the position grew to 3 before the stop fired: it closes all 3
    assert fills(run)[-1] == (5.0, "sell", D(3), D(94), D("0.141"), "trend")
    assert run.position() == 0


@pytest.mark.parametrize("mode", MODES)
def test_a_position_closed_by_the_strategy_ends_its_protection(mode):
    run = stops_run(
        mode,
        [100, 100, 100, 100, 90, 90],
        {0: buy("1"), 1: protect(stop_loss="95"), 2: sell("1"), 3: buy("1")},
    )
    # flat at hour 3 ends the group; the new long from hour 4 is unprotected
    assert triggered(run) == []
    assert run.position() == 1


@pytest.mark.parametrize("mode", MODES)
def test_a_level_already_crossed_fires_at_once(mode):
    run = stops_run(mode, [100, 100, 94, 94], {0: buy("1"), 2: protect(stop_loss="95")})
    assert fills(run)[-1] == (3.0, "sell", D(1), D(94), D("0.047"), "trend")
    assert triggered(run) == [(3.0, "stop_loss", D(95), D(94))]


def test_native_mode_places_reduce_only_mark_triggered_venue_orders():
    run = stops_run("native", [100, 100, 100], {0: buy("1"), 1: protect(stop_loss="95")})
    submitted = run.of("OrderSubmitted")
    assert [(s["order_type"], s["strategy"]) for s in submitted] == [
        ("market", "trend"),
        ("stop_market", "trend"),
    ]
    stop = next(
        o for o in run.backtest.venues["binance"].orders.values() if o.order_type.has_trigger
    )
    assert stop.reduce_only and stop.trigger_source.value == "mark"
    assert stop.trigger_price == 95 and stop.status.value == "accepted"


def test_emulated_mode_sends_a_reduce_only_market_order_when_it_fires():
    run = stops_run("emulated", [100, 100, 94], {0: buy("1"), 1: protect(stop_loss="95")})
    orders = list(run.backtest.venues["binance"].orders.values())
    assert [(o.order_type, o.reduce_only) for o in orders] == [
        (OrderType.MARKET, False),
        (OrderType.MARKET, True),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_oco_links_any_two_orders_the_first_fill_cancels_the_other(mode):
    def straddle(ctx, actor):
        above = ctx.buy(BTC, D(1), order_type=OrderType.LIMIT, price=D(90))
        below = ctx.sell(BTC, D(1), order_type=OrderType.LIMIT, price=D(120))
        return ctx.oco(above, below)

    run = stops_run(mode, [100, 100, 95, 89, 89, 125, 125], {0: straddle})
    # the buy limit at 90 fills at the bar that trades through it; the sell at 120 is
    # canceled in that step's risk pass and never fills
    assert [(f["side"], D(f["price"])) for f in run.of("OrderFilled")] == [("buy", D(89))]
    assert len(run.of("OrderCanceled")) == 1
    assert run.position() == 1


def test_stops_are_dropped_on_halt_and_never_fire_after_it():
    run = stops_run(
        "emulated",
        [100, 100, 100, 90, 90],
        {0: buy("1"), 1: [protect(stop_loss="95"), lambda ctx, a: ctx._kernel.risk.halt("t")]},
    )
    # the kill switch flattens at hour 2; the stop is gone before the fall
    assert triggered(run) == []
    assert [f[5] for f in fills(run)] == ["trend", "risk"]


def test_protect_without_a_position_is_an_error():
    run = stops_run("emulated", [100, 100], {0: lambda ctx, a: _raises(ctx)})
    assert run.engine.stops is not None and not run.engine.stops.active


def _raises(ctx: Any) -> None:
    with pytest.raises(ValueError, match="no position"):
        ctx.protect(BTC, stop_loss=D(90))
    with pytest.raises(ValueError, match="wrong side"):
        ctx.bracket(BTC, OrderSide.BUY, D(1), stop_loss=D(110), take_profit=D(105))
