"""Native and emulated stops give the same fills and the same triggers on the same data.

Random walks of one-price bars (the bars are the mark) and random entries, exits and
protections (stop-loss, take-profit, trailing, brackets); every run in both modes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from tests.scenario.harness import BTC
from tests.scenario.test_risk_harness import Actor, flat_bars, risk_config, risk_run

from xmargin.model.orders import OrderSide

D = Decimal

action = st.one_of(
    st.tuples(st.sampled_from(["buy", "sell"]), st.sampled_from(["0.1", "0.2"])),
    st.tuples(st.just("protect"), st.sampled_from([0.01, 0.03]), st.sampled_from([0.02, 0.05])),
    st.tuples(st.just("trail"), st.sampled_from(["0.01", "0.02", "0.04"])),
    st.tuples(st.just("bracket"), st.sampled_from(["buy", "sell"]), st.sampled_from([0.02, 0.04])),
    st.tuples(st.just("flat")),
)
steps = st.lists(st.one_of(st.none(), action), min_size=10, max_size=30).map(
    lambda script: {i: step for i, step in enumerate(script) if step is not None}
)
walks = st.lists(st.integers(-30, 30), min_size=10, max_size=30)


def act(ctx: Any, step: tuple[Any, ...]) -> None:
    held = ctx.position(BTC)
    mark = D(str(ctx.mark_price(BTC)))
    kind = step[0]
    if kind in ("buy", "sell"):
        ctx.order(BTC, OrderSide(kind), D(step[1]))
    elif kind == "flat" and held:
        ctx.target_position(BTC, D(0))
    elif kind == "protect" and held:
        sign = 1 if held > 0 else -1
        ctx.protect(
            BTC,
            stop_loss=(mark * (1 - sign * D(str(step[1])))).quantize(D("0.1")),
            take_profit=(mark * (1 + sign * D(str(step[2])))).quantize(D("0.1")),
        )
    elif kind == "trail" and held:
        ctx.protect(BTC, trailing=D(step[1]))
    elif kind == "bracket":
        sign = 1 if step[1] == "buy" else -1
        distance = D(str(step[2]))
        ctx.bracket(
            BTC,
            OrderSide(step[1]),
            D("0.1"),
            stop_loss=(mark * (1 - sign * distance)).quantize(D("0.1")),
            take_profit=(mark * (1 + sign * distance)).quantize(D("0.1")),
        )


def run(mode: str, closes: list[float], script: dict[int, Any]) -> tuple[list[Any], list[Any]]:
    actions = {i: (lambda ctx, _, s=s: act(ctx, s)) for i, s in script.items()}
    document = risk_config({"stops": {"mode": mode}, "margin_buffer": 0})
    result = risk_run(document, [flat_bars(*closes)], Actor("s", actions))
    fills = [
        (f["ts_ms"], f["side"], f["quantity"], f["price"], f["fee"], f["strategy"])
        for f in result.of("OrderFilled")
    ]
    triggers = [
        (e["ts_ms"], e["kind"], e["trigger_price"], e["mark_price"])
        for e in result.of("StopTriggered")
    ]
    return fills, triggers


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(walk=walks, script=steps)
def test_native_and_emulated_stops_fill_the_same(walk, script):
    closes, price = [], 1000.0
    for move in walk:
        price = round(price + move, 1)
        closes.append(price)
    native = run("native", closes, script)
    event(f"{min(len(native[1]), 3)} stops fired")
    assert native == run("emulated", closes, script)
