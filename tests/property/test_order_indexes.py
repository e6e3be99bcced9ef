"""The simulated exchange's order indexes agree with a recomputation from scratch.

``WorkingOrders`` keeps running totals of what an account's working orders reserve, and
``RestingOrders`` keeps a market's resting orders under the prices that wake them. After any
sequence of arrivals, fills, triggers, modifications and cancels, the totals must equal the
sums over the working orders computed again from nothing, and a matching pass must visit
exactly the resting orders a price range reaches, in arrival order. A second property checks
the same of a whole simulated exchange (and of the risk engine's count of the working orders
it checked) after every event of random backtests.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.property.test_matching import BTC, scenarios, sources_of

from xmargin.margin.snapshot import OrderTotals
from xmargin.model.orders import Order, OrderSide, OrderStatus, OrderType, TriggerSource
from xmargin.risk.engine import RiskEngine
from xmargin.risk.settings import RiskSettings
from xmargin.testing.scenario import build_scenario
from xmargin.venues.sim.exchange import SimulatedExchange
from xmargin.venues.sim.resting import RestingOrders
from xmargin.venues.sim.working_orders import WorkingOrders

ETH = "ETH/USDT:USDT"
LOT = Decimal("0.001")
TICK = Decimal("0.1")
ZERO = Decimal(0)


def expected_reserve(
    orders: list[Order], excluding: str | None = None
) -> tuple[dict[tuple[str, int, Decimal], Decimal], dict[str, OrderTotals]]:
    """The rule of spec C.5 applied to every working order again: limit orders, and stop- or
    take-profit-limits once triggered, reserve what is left of them at their limit price."""
    levels: dict[tuple[str, int, Decimal], Decimal] = defaultdict(Decimal)
    sums: dict[str, list[Decimal]] = {}
    for o in orders:
        if o.price is None or o.client_order_id == excluding:
            continue
        if o.order_type.has_trigger and o.status is not OrderStatus.TRIGGERED:
            continue
        left = o.quantity - o.filled_quantity
        if left == 0:
            continue
        sign = 1 if o.side is OrderSide.BUY else -1
        levels[(o.instrument, sign, o.price)] += left * sign
        row = sums.setdefault(o.instrument, [ZERO, ZERO, ZERO, ZERO])
        row[0 if sign > 0 else 1] += left
        row[2 if sign > 0 else 3] += left * o.price
    totals = {}
    for instrument, row in sums.items():
        buys = [
            p for (i, sign, p) in levels if i == instrument and sign > 0 and levels[(i, sign, p)]
        ]
        sells = [
            p for (i, sign, p) in levels if i == instrument and sign < 0 and levels[(i, sign, p)]
        ]
        highest, lowest = max(buys, default=None), min(sells, default=None)
        totals[instrument] = OrderTotals(*row, highest_buy=highest, lowest_sell=lowest)
    return {k: v for k, v in levels.items() if v}, totals


def reserve_read(working: WorkingOrders, excluding: str | None = None) -> tuple[Any, Any]:
    orders, totals = working.reserve(excluding)
    levels = {(o.instrument, 1 if o.quantity > 0 else -1, o.price): o.quantity for o in orders}
    assert len(levels) == len(orders)  # one snapshot per instrument, side and price
    return levels, dict(totals)


def reachable(order: Order, low: float, high: float) -> bool:
    """Whether a range reaches ``order``, by the rules of ``matching``, written out again."""
    kind = order.order_type
    if kind.has_trigger and order.status is OrderStatus.ACCEPTED:
        trigger = float(order.trigger_price or 0)
        stop = kind in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT)
        rises = (order.side is OrderSide.BUY) == stop
        return high >= trigger if rises else low <= trigger
    if kind.has_limit_price:
        limit = float(order.price or 0)
        return limit >= low if order.side is OrderSide.BUY else limit <= high
    return True


KINDS = [
    OrderType.LIMIT,
    OrderType.LIMIT,
    OrderType.MARKET,
    OrderType.STOP_MARKET,
    OrderType.STOP_LIMIT,
    OrderType.TAKE_PROFIT_LIMIT,
]
operations = st.lists(
    st.tuples(
        st.sampled_from(["submit", "submit", "fill", "cancel", "modify", "trigger", "rest"]),
        st.integers(0, 10**6),
        st.integers(1, 50),  # lots
        st.integers(900, 1100),  # ticks of a price
        st.sampled_from(KINDS),
        st.booleans(),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(operations, st.integers(880, 1120), st.integers(0, 60))
def test_running_totals_and_price_indexes_equal_a_recomputation_after_any_sequence(
    steps, low_ticks, width
):
    working = WorkingOrders()
    resting = RestingOrders()
    live: list[Order] = []
    arrival: list[Order] = []  # resting orders in the order they (last) came to rest
    for n, (action, pick, lots, ticks, kind, flag) in enumerate(steps):
        quantity, price = lots * LOT, ticks * TICK
        if action == "submit" or not live:
            order = Order(
                f"O-{n}",
                BTC if flag else ETH,
                OrderSide.BUY if pick % 2 else OrderSide.SELL,
                quantity,
                kind,
                price=price if kind.has_limit_price else None,
                trigger_price=price + TICK * (pick % 7 - 3) if kind.has_trigger else None,
                trigger_source=TriggerSource.MARK if pick % 3 == 0 else TriggerSource.LAST,
            )
            order.transition(OrderStatus.SUBMITTED)
            order.transition(OrderStatus.ACCEPTED)
            working.add(order)
            resting.append(order)
            live.append(order)
            arrival.append(order)
            continue
        order = live[pick % len(live)]
        if action == "fill":
            order.fill(min(quantity, order.leaves_quantity), price)
        elif action == "cancel":
            order.transition(OrderStatus.CANCELED)
        elif action == "modify":
            if flag and quantity > order.filled_quantity:
                order.quantity = quantity
            elif order.price is not None:
                order.price = price
            elif order.trigger_price is not None:
                order.trigger_price = price
        elif action == "trigger" and order.status is OrderStatus.ACCEPTED:
            if order.order_type.has_trigger:
                order.transition(OrderStatus.TRIGGERED)
        elif action == "rest":  # taken off the book and put back behind the others
            resting.remove(order)
            resting.append(order)
            arrival.remove(order)
            arrival.append(order)
        if order.status.is_closed:
            working.remove(order)
            resting.remove(order)
            live.remove(order)
            arrival.remove(order)
        else:
            working.refresh(order)
            resting.reindex(order)
        excluded = live[pick % len(live)].client_order_id if live else None
        assert reserve_read(working) == expected_reserve(live)
        assert reserve_read(working, excluded) == expected_reserve(live, excluded)
    assert len(working) == len(live) and len(resting) == len(arrival)
    low = low_ticks / 10
    high = low + width / 10
    visited = list(resting.matching_pass(low, high))
    assert visited == [o for o in arrival if reachable(o, low, high)]
    triggers = list(resting.matching_pass(low, high, triggers_only=True))
    assert triggers == [
        o
        for o in arrival
        if o.order_type.has_trigger and o.status is OrderStatus.ACCEPTED and reachable(o, low, high)
    ]
    waiting_on_mark = [
        o
        for o in arrival
        if o.order_type.has_trigger
        and o.status is OrderStatus.ACCEPTED
        and o.trigger_source is TriggerSource.MARK
    ]
    assert resting.mark_triggers == len(waiting_on_mark)


def test_an_order_repriced_into_reach_during_a_pass_is_visited_in_its_place():
    resting = RestingOrders()
    orders = []
    for n, price in enumerate(["90", "50", "95"]):
        order = Order(f"O-{n}", BTC, OrderSide.BUY, LOT, OrderType.LIMIT, price=Decimal(price))
        order.transition(OrderStatus.SUBMITTED)
        order.transition(OrderStatus.ACCEPTED)
        resting.append(order)
        orders.append(order)
    visited = []
    for order in resting.matching_pass(80.0, 100.0):
        visited.append(order.client_order_id)
        if order is orders[0]:  # a listener reprices the second order into the range
            orders[1].price = Decimal("85")
            resting.reindex(orders[1])
            resting.remove(orders[2])  # and takes the third off: it is still visited
    assert visited == ["O-0", "O-1", "O-2"]
    assert list(resting) == orders[:2]


def check_exchange(exchange: SimulatedExchange) -> None:
    """The exchange's indexes against its orders, recomputed from scratch."""
    for account_id, account in exchange.accounts.items():
        every = list(exchange.orders.values())
        assert exchange.open_orders(account_id) == [
            o for o in every if o.account == account_id and not o.status.is_closed
        ]
        working = list(account.working)
        assert all(o.status.is_open for o in working)
        assert reserve_read(account.working) == expected_reserve(working)
        snapshot = exchange.snapshot(account)
        assert dict(snapshot.orders_per_instrument()) == expected_reserve(working)[1]
    for market in exchange.markets.values():
        assert all(o.instrument == market.spec.symbol for o in market.resting)
        reached = list(market.resting.matching_pass(float("-inf"), float("inf")))
        assert reached == list(market.resting)


@settings(max_examples=60, deadline=None)
@given(scenarios())
def test_the_exchange_indexes_match_its_orders_after_every_event_of_random_runs(example):
    risk = RiskEngine(RiskSettings())
    steps = example["steps"]
    backtest, _ = build_scenario(example["document"], sources_of(example), steps, risk=risk)
    exchange = backtest.venues["binance"]
    checked = []

    def check(event: object) -> None:
        check_exchange(exchange)
        # the risk engine counts its checked working orders per account and market
        counted = Counter((o.account, o.instrument) for o in risk._working.values())
        assert risk._working_per_market == dict(counted)
        checked.append(event)

    backtest.kernel.bus.subscribe(object, check)
    backtest.run()
    assert checked
