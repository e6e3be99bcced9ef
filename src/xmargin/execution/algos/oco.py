"""OCO and bracket orders: exits that cancel each other, and an entry that arms them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from xmargin.execution.algos.base import AlgoParams, ExecAlgorithm, Listener
from xmargin.model.events import OrderFilled
from xmargin.model.numbers import ZERO
from xmargin.model.orders import Order, OrderType, TimeInForce


@dataclass(frozen=True)
class OcoParams(AlgoParams):
    take_profit: Decimal = Decimal(0)
    stop: Decimal = Decimal(0)
    reduce_only: bool = True


class Oco(ExecAlgorithm):
    """One-cancels-the-other: a limit at ``take_profit`` and a stop-market at ``stop``, both
    for the whole quantity on ``side`` (reduce-only by default). The first fill of either
    cancels the other at the end of that step; the filled one keeps working its remainder.
    Done when one has filled completely (or both closed)."""

    name = "oco"
    description = "OCO: a take-profit limit and a stop-market; the first fill cancels the other"
    Params = OcoParams

    def __init__(self, algo_id: str, params: OcoParams, listener: Listener | None = None) -> None:
        super().__init__(algo_id, params, listener)
        if params.take_profit <= 0 or params.stop <= 0:
            raise ValueError(f"{algo_id}: take_profit and stop must be positive")
        self.take_profit_order: Order | None = None
        self.stop_order: Order | None = None

    def begin(self) -> None:
        p: OcoParams = self.params
        self.take_profit_order = self.child(p.quantity, OrderType.LIMIT, price=p.take_profit)
        self.stop_order = self.child(p.quantity, OrderType.STOP_MARKET, trigger_price=p.stop)

    def on_child_fill(self, order: Order, event: OrderFilled) -> None:
        for other in (self.take_profit_order, self.stop_order):
            if other is not None and other is not order and not other.status.is_closed:
                self.cancel_later(other)

    def on_child_closed(self, order: Order) -> None:
        if self.filled >= self.params.quantity or all(o.status.is_closed for o in self.children):
            self.finish()


@dataclass(frozen=True)
class BracketParams(AlgoParams):
    entry_price: Decimal = Decimal(0)
    take_profit: Decimal = Decimal(0)
    stop_loss: Decimal = Decimal(0)


class Bracket(ExecAlgorithm):
    """An entry (a limit at ``entry_price``, or market when it is 0) and, for whatever of it
    has filled, a take-profit limit and a stop-loss stop-market on the other side,
    reduce-only. Partial entry fills resize the exits to the filled quantity. The first exit
    fill cancels the other exit and what is left of the entry. Done when the position is
    closed by an exit, or the entry closed without a fill."""

    name = "bracket"
    description = "bracket: an entry that arms a take-profit and a stop-loss (OCO) as it fills"
    Params = BracketParams

    def __init__(
        self, algo_id: str, params: BracketParams, listener: Listener | None = None
    ) -> None:
        super().__init__(algo_id, params, listener)
        if params.take_profit <= 0 or params.stop_loss <= 0 or params.entry_price < 0:
            raise ValueError(f"{algo_id}: take_profit and stop_loss must be positive")
        self.entry: Order | None = None
        self.take_profit_order: Order | None = None
        self.stop_order: Order | None = None
        self.exited = ZERO

    def begin(self) -> None:
        p: BracketParams = self.params
        if p.entry_price > 0:
            self.entry = self.child(p.quantity, OrderType.LIMIT, price=p.entry_price)
        else:
            self.entry = self.child(p.quantity, OrderType.MARKET, time_in_force=TimeInForce.IOC)

    def on_child_fill(self, order: Order, event: OrderFilled) -> None:
        if order is self.entry:
            if self.exited == 0:
                self._arm()
            return
        self.exited += event.quantity
        for other in (self.take_profit_order, self.stop_order, self.entry):
            if other is not None and other is not order and not other.status.is_closed:
                self.cancel_later(other)

    def _arm(self) -> None:
        """Place the exits for the filled entry, or resize them to it."""
        p: BracketParams = self.params
        size = self.filled
        exit_side = self.side.opposite
        if self.take_profit_order is None or self.stop_order is None:
            self.take_profit_order = self.child(
                size, OrderType.LIMIT, side=exit_side, price=p.take_profit, reduce_only=True
            )
            self.stop_order = self.child(
                size,
                OrderType.STOP_MARKET,
                side=exit_side,
                trigger_price=p.stop_loss,
                reduce_only=True,
            )
            return
        for exit_order in (self.take_profit_order, self.stop_order):
            if not exit_order.status.is_closed:
                self.ctx.modify(exit_order, quantity=size)

    def on_child_closed(self, order: Order) -> None:
        entry_failed = order is self.entry and self.filled == 0
        if entry_failed or (self.filled > 0 and self.exited >= self.filled):
            self.finish()
