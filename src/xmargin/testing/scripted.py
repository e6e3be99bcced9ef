"""A strategy that follows a script: at given bars or times, submit, cancel, modify, borrow…

Scenario tests state a run as a list of steps and then assert on the exact events::

    steps = [(0, Submit("entry", "buy", "1")), (2, Cancel("entry"))]

``at`` is the index of a bar of the strategy's clock instrument (the first bar is 0 and is
delivered at its close), ``AtMs(ts_ms)`` to act on a timer at that exact time, or
``AfterFill(tag)`` to act as soon as the order sent as ``tag`` first fills (inside the
venue's matching, as an OCO does).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from xmargin.core.clock import NANOS_PER_MILLI
from xmargin.model.events import OrderFilled
from xmargin.model.market_data import Bar
from xmargin.model.orders import Order, OrderSide, OrderType, TimeInForce, TriggerSource
from xmargin.strategy.base import NoParams, Strategy


@dataclass(frozen=True)
class AtMs:
    """Act at this exact time (ms) on a timer, rather than at a bar."""

    ts_ms: int


@dataclass(frozen=True)
class AfterFill:
    """Act when the order sent under ``tag`` first fills."""

    tag: str


@dataclass(frozen=True)
class Submit:
    """Submit an order remembered under ``tag`` (later steps cancel or modify it by tag)."""

    tag: str
    side: str
    quantity: str
    order_type: OrderType = OrderType.MARKET
    price: str | None = None
    trigger_price: str | None = None
    trigger_source: TriggerSource | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    post_only: bool = False
    symbol: str | None = None
    account: str | None = None


@dataclass(frozen=True)
class Cancel:
    tag: str


@dataclass(frozen=True)
class Modify:
    tag: str
    quantity: str | None = None
    price: str | None = None
    trigger_price: str | None = None


@dataclass(frozen=True)
class Borrow:
    asset: str
    amount: str
    account: str | None = None


@dataclass(frozen=True)
class Repay:
    asset: str
    amount: str
    account: str | None = None


@dataclass(frozen=True)
class Transfer:
    asset: str
    amount: str
    to_account: str
    account: str | None = None


@dataclass(frozen=True)
class SetLeverage:
    symbol: str
    leverage: str


Action = Submit | Cancel | Modify | Borrow | Repay | Transfer | SetLeverage
Step = tuple[int | AtMs | AfterFill, Action]


def _exact(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


class ScriptedStrategy(Strategy):
    """Run each step's action when its bar (or time) comes; keep the orders by tag."""

    name = "scripted"
    description = "follows a script of orders, loans and transfers (tests)"

    def __init__(self, strategy_id: str, steps: Iterable[Step], symbol: str | None = None) -> None:
        super().__init__(strategy_id, NoParams())
        self.symbol = symbol
        self.at_bar: dict[int, list[Action]] = {}
        self.at_time: dict[int, list[Action]] = {}
        self.after_fill: dict[str, list[Action]] = {}
        for at, action in steps:
            if isinstance(at, AtMs):
                self.at_time.setdefault(at.ts_ms, []).append(action)
            elif isinstance(at, AfterFill):
                self.after_fill.setdefault(at.tag, []).append(action)
            else:
                self.at_bar.setdefault(at, []).append(action)
        self.orders: dict[str, Order] = {}
        self.loan_ids: list[str | None] = []  # None: the risk engine denied the borrow
        self.bars_seen = 0
        self.order_events: list[object] = []

    def on_start(self) -> None:
        for ts_ms in sorted(self.at_time):
            self.ctx.set_timer(f"step@{ts_ms}", at_ns=ts_ms * NANOS_PER_MILLI)

    def on_bar(self, bar: Bar) -> None:
        if self.symbol is None:
            self.symbol = bar.instrument
        if bar.instrument != self.symbol:
            return
        index = self.bars_seen
        self.bars_seen += 1
        self._run(self.at_bar.get(index, ()))

    def on_timer(self, name: str, ts_ns: int) -> None:
        self._run(self.at_time.get(ts_ns // NANOS_PER_MILLI, ()))

    def on_order_event(self, event: object) -> None:
        self.order_events.append(event)
        if isinstance(event, OrderFilled):
            for tag, order in self.orders.items():
                if order.client_order_id == event.client_order_id:
                    self._run(self.after_fill.pop(tag, ()))

    def _run(self, actions: Sequence[Action]) -> None:
        for action in actions:
            self._act(action)

    def _act(self, action: Action) -> None:
        ctx = self.ctx
        if isinstance(action, Submit):
            symbol = action.symbol or self.symbol
            assert symbol is not None, "a Submit before any bar needs a symbol"
            self.orders[action.tag] = ctx.order(
                symbol,
                OrderSide(action.side),
                Decimal(action.quantity),
                action.order_type,
                price=_exact(action.price),
                trigger_price=_exact(action.trigger_price),
                trigger_source=action.trigger_source,
                time_in_force=action.time_in_force,
                reduce_only=action.reduce_only,
                post_only=action.post_only,
                account=action.account,
            )
        elif isinstance(action, Cancel):
            ctx.cancel(self.orders[action.tag])
        elif isinstance(action, Modify):
            ctx.modify(
                self.orders[action.tag],
                quantity=_exact(action.quantity),
                price=_exact(action.price),
                trigger_price=_exact(action.trigger_price),
            )
        elif isinstance(action, Borrow):
            self.loan_ids.append(ctx.borrow(action.asset, Decimal(action.amount), action.account))
        elif isinstance(action, Repay):
            ctx.repay(action.asset, Decimal(action.amount), action.account)
        elif isinstance(action, Transfer):
            ctx.transfer(action.asset, Decimal(action.amount), action.to_account, action.account)
        else:
            ctx.set_leverage(action.symbol, Decimal(action.leverage))
