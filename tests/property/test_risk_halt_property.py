"""Nothing reaches a venue while trading is HALTED but cancels, repayments and the kill
switch's flattening.

Random runs: a random price walk (hourly BTC bars), and at each bar random strategy actions
of every command kind (market and limit orders, reduce-only orders the venue may reject,
protective stops, cancels, modifies, borrows, repayments, transfers and leverage changes,
manual halts and resumes) under breakers that trip on their own (daily loss, drawdown,
losing streaks, the venue's reject rate). A spy on the venue records every request that
reaches it with the trading state at that moment.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from tests.scenario.harness import BTC, T0, bars_of, ohlcv
from tests.scenario.test_risk_harness import Actor, build_risk_run, risk_config

from xmargin.model.orders import OrderSide, OrderType
from xmargin.risk.engine import RISK_STRATEGY
from xmargin.risk.state import TradingState

D = Decimal

quantities = st.sampled_from(["0.01", "0.05", "0.1", "0.3"])
action = st.one_of(
    st.tuples(st.sampled_from(["buy", "buy", "sell", "reduce"]), quantities),
    st.tuples(st.just("limit"), quantities, st.sampled_from([-0.03, -0.01, 0.01, 0.03])),
    st.tuples(st.sampled_from(["protect", "trail", "cancel_all", "halt", "resume"])),
    st.tuples(st.sampled_from(["borrow", "repay", "transfer"]), quantities),
    st.tuples(st.just("leverage"), st.sampled_from(["2", "5", "20"])),
    st.tuples(st.just("modify"), quantities, st.sampled_from([-0.02, 0.0, 0.02])),
)
REQUESTS = ("submit", "cancel", "modify", "borrow", "repay", "transfer", "set_leverage")
ALLOWED_WHILE_HALTED = {"cancel", "repay"}
scripts = st.lists(st.lists(action, min_size=1, max_size=3), min_size=8, max_size=30)
walks = st.lists(st.floats(-0.06, 0.06, allow_nan=False), min_size=8, max_size=30)


def bars(moves: list[float]) -> Any:
    rows, price = [], 10000.0
    for move in moves:
        close = round(price * (1 + move), 1)
        rows.append((price, max(price, close) + 5, min(price, close) - 5, close))
        price = close
    return bars_of(ohlcv(T0, "1h", rows))


def act(ctx: Any, step: tuple[Any, ...]) -> None:
    risk = ctx._kernel.risk
    kind = step[0]
    held = ctx.position(BTC)
    if kind in ("buy", "sell"):
        ctx.order(BTC, OrderSide(kind), D(step[1]))
    elif kind == "reduce":
        ctx.order(BTC, OrderSide.SELL if held >= 0 else OrderSide.BUY, D(step[1]), reduce_only=True)
    elif kind == "limit":
        price = D(str(round(ctx.last_price(BTC) * (1 + step[2]), 1)))
        side = OrderSide.BUY if step[2] < 0 else OrderSide.SELL
        ctx.order(BTC, side, D(step[1]), OrderType.LIMIT, price=price)
    elif kind in ("protect", "trail") and held != 0 and risk.state is not TradingState.HALTED:
        mark = D(str(ctx.mark_price(BTC)))
        if kind == "protect":
            sign = 1 if held > 0 else -1
            ctx.protect(BTC, stop_loss=(mark * (1 - D("0.02") * sign)).quantize(D("0.1")))
        else:
            ctx.protect(BTC, trailing=D("0.02"))
    elif kind == "cancel_all":
        for order in ctx.open_orders(BTC):
            ctx.cancel(order)
    elif kind in ("borrow", "repay", "transfer"):
        amount = D(step[1]) * 1000
        if kind == "borrow":
            ctx.borrow("USDT", amount)
        elif kind == "repay":
            ctx.repay("USDT", amount)
        else:
            ctx.transfer("USDT", amount, "binance.other")
    elif kind == "leverage":
        ctx.set_leverage(BTC, D(step[1]))
    elif kind == "modify":
        for order in ctx.open_orders(BTC):
            price = order.price
            if price is not None and step[2]:
                price = D(str(round(float(price) * (1 + step[2]), 1)))
            ctx.modify(order, quantity=order.quantity + D(step[1]), price=price)
    elif kind == "halt":
        risk.halt("random")
    elif kind == "resume" and risk.state is not TradingState.ACTIVE:
        risk.resume("random")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    moves=walks,
    script=scripts,
    method=st.sampled_from(["market", "twap"]),
    stops=st.sampled_from(["native", "emulated"]),
    latency=st.sampled_from([{}, {"order_ms": 300, "jitter_ms": 600}]),
)
def test_nothing_reaches_a_venue_while_halted_but_cancels_repayments_and_the_flattening(
    moves, script, method, stops, latency
):
    risk = {
        "breakers": {
            "daily_loss": {"limit": "0.03"},
            "max_drawdown": {"limit": "0.05"},
            "consecutive_losses": {"limit": 2},
            "reject_rate": {"limit": "0.5", "window": 4},
        },
        "kill_switch": {"method": method, "twap_slices": 2, "twap_interval_s": 3600},
        "stops": {"mode": stops},
    }
    steps = {
        i: [lambda ctx, _, s=s: act(ctx, s) for s in actions] for i, actions in enumerate(script)
    }
    backtest, engine = build_risk_run(
        risk_config(risk, latency=latency), [bars(moves)], [(Actor("r", steps), "binance.main")]
    )
    arrived: list[tuple[str, TradingState, bool, Any]] = []
    venue = backtest.venues["binance"]
    for name in REQUESTS:
        spy_on(venue, name, arrived, engine)
    backtest.run()
    orders = [(state, flat, order) for kind, state, flat, order in arrived if kind == "submit"]
    flattened = sum(order.strategy_id == RISK_STRATEGY for _, _, order in orders)
    halts = [e for e in backtest.recorder.events if e.get("current") == "halted"]
    event("halted" if halts else "never halted")
    event("flattened" if flattened else "nothing to flatten")
    kinds = {kind for kind, state, _, _ in arrived if state is TradingState.HALTED}
    event("while halted: " + (", ".join(sorted(kinds)) or "nothing"))
    for kind, state, flattening, request in arrived:
        if state is not TradingState.HALTED or kind in ALLOWED_WHILE_HALTED:
            continue
        assert kind == "submit", (kind, request)
        assert flattening, request
        assert request.strategy_id == RISK_STRATEGY
        assert request.reduce_only and request.order_type is OrderType.MARKET
    halted_log = [e for e in backtest.recorder.events if e["type"] == "TradingStateChanged"]
    for before, after in itertools.pairwise(halted_log):
        # only an explicit resume ever leaves HALTED
        if before["current"] == "halted":
            assert after["reason"].startswith("resumed:")


def spy_on(venue: Any, name: str, arrived: list[Any], engine: Any) -> None:
    """Record each call of the venue's ``name`` with the trading state, then make it."""
    method = getattr(venue, name)

    def spy(*args: Any) -> Any:
        arrived.append((name, engine.state, engine._flattening, args[0]))
        return method(*args)

    setattr(venue, name, spy)
