"""The kill switch: a halt cancels every open order, flattens (market or TWAP), confirms the
book flat, and holds until an explicit resume."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from tests.scenario.harness import BTC, MINUTE, T0
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

from xmargin.core.errors import IllegalTransitionError
from xmargin.model.orders import OrderType

D = Decimal


def halt(reason: str = "by hand") -> Any:
    return lambda ctx, _: ctx._kernel.risk.halt(reason)


def resume(reason: str = "checked") -> Any:
    return lambda ctx, _: ctx._kernel.risk.resume(reason)


def resting(price: str) -> Any:
    return lambda ctx, _: ctx.buy(BTC, D("0.1"), order_type=OrderType.LIMIT, price=D(price))


def kill_run(kill_switch: dict[str, Any], script: dict[int, Any], bars: int = 10) -> RiskRun:
    document = risk_config({"kill_switch": kill_switch}, taker="0")
    return risk_run(document, [flat_bars(*[50000] * bars, timeframe="1m")], Actor("t", script))


def minute(record: dict[str, Any]) -> float:
    return (record["ts_ms"] - T0) / MINUTE


def test_a_halt_cancels_every_open_order_and_flattens_at_market():
    run = kill_run({}, {0: [buy("1"), resting("40000")], 2: halt()})
    assert [(minute(e), e["reason"]) for e in run.of("OrderCanceled")] == [
        (3.0, "canceled by request")
    ]
    risk_fills = [f for f in run.of("OrderFilled") if f["strategy"] == "risk"]
    assert [(minute(f), f["side"], D(f["quantity"])) for f in risk_fills] == [(3.0, "sell", 1)]
    assert [minute(e) for e in run.of("BookFlattened")] == [4.0]
    assert run.position() == 0


def test_a_halt_can_flatten_by_twap():
    twap = {"method": "twap", "twap_slices": 4, "twap_interval_s": 60}
    run = kill_run(twap, {0: buy("1"), 1: halt()})
    risk_fills = [f for f in run.of("OrderFilled") if f["strategy"] == "risk"]
    assert [(minute(f), D(f["quantity"])) for f in risk_fills] == [
        (2.0, D("0.25")),
        (3.0, D("0.25")),
        (4.0, D("0.25")),
        (5.0, D("0.25")),
    ]
    assert [minute(e) for e in run.of("BookFlattened")] == [6.0]


def test_twap_slices_are_whole_lots_and_the_last_takes_the_remainder():
    twap = {"method": "twap", "twap_slices": 3, "twap_interval_s": 60}
    run = kill_run(twap, {0: buy("1"), 1: halt()})
    risk_fills = [D(f["quantity"]) for f in run.of("OrderFilled") if f["strategy"] == "risk"]
    assert risk_fills == [D("0.333"), D("0.333"), D("0.334")]


def test_without_flattening_a_halt_only_cancels():
    run = kill_run({"flatten": False}, {0: [buy("1"), resting("40000")], 2: halt()})
    assert len(run.of("OrderCanceled")) == 1
    assert [f["strategy"] for f in run.of("OrderFilled")] == ["t"]
    assert run.position() == 1


def test_nothing_passes_while_halted_and_only_an_explicit_resume_reopens_trading():
    run = kill_run(
        {}, {0: buy("1"), 1: halt(), 3: buy("0.5"), 5: [resume(), buy("0.5")], 6: sell("0.1")}
    )
    assert [(e["previous"], e["current"]) for e in run.of("TradingStateChanged")] == [
        ("active", "halted"),
        ("halted", "active"),
    ]
    assert [rule for rule, _ in denials(run)] == ["halted"]
    assert [(f["strategy"], f["side"], D(f["quantity"])) for f in run.of("OrderFilled")] == [
        ("t", "buy", 1),
        ("risk", "sell", 1),
        ("t", "buy", D("0.5")),
        ("t", "sell", D("0.1")),
    ]


def test_resume_while_active_is_an_error():
    run = kill_run({}, {0: lambda ctx, _: _resume_active(ctx)})
    assert run.engine.state.value == "active"


def _resume_active(ctx: Any) -> None:
    with pytest.raises(IllegalTransitionError, match="trading is already active"):
        ctx._kernel.risk.resume("nothing to resume")


def test_a_halt_found_inside_venue_processing_cancels_at_the_next_risk_pass():
    # the venue rejects two of four orders (reduce-only with no position): the reject-rate
    # breaker trips while the venue is still processing the batch; the halt is immediate
    # (nothing new passes) and the cancels and flattening follow at the next step
    document = risk_config(
        {"breakers": {"reject_rate": {"limit": "0.5", "window": 4}}, "margin_buffer": 0},
        taker="0",
    )
    reject = sell("0.1", reduce_only=True)
    actor = Actor("t", {0: [reject, reject, buy("0.1"), buy("0.1")], 1: buy("0.1")})
    run = risk_run(document, [flat_bars(*[50000] * 4, timeframe="1m")], actor)
    [trip] = run.of("BreakerTripped")
    assert (minute(trip), trip["breaker"]) == (1.0, "reject_rate")
    assert [rule for rule, _ in denials(run)] == ["halted"]
    assert run.position() == 0
    assert [minute(e) for e in run.of("BookFlattened")] == [3.0]
