"""The parent order that execution algorithms work: children, progress, slippage.

An algorithm is a small helper strategy: a strategy starts one with
``ctx.spawn(Twap("entry", TwapParams(...)))`` (or a run config names it as a strategy of
its own). It then has its own context: its child orders go through ``kernel.submit`` and so
through the risk engine like every order, their events come back to it, and its timers
are its own. The parent learns how it goes through ``listener`` (called with an
``AlgoReport`` after every child fill and when the algorithm finishes) or by reading
``report()``.

Arrival price: the instrument's last price when the algorithm begins. Slippage is the
average fill price against it in basis points, positive when worse for the parent
(paid more on a buy, received less on a sell).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from xmargin.model.events import OrderFilled
from xmargin.model.market_data import Bar
from xmargin.model.numbers import ZERO, round_to_increment
from xmargin.model.orders import Order, OrderSide, OrderStatus, OrderType, TimeInForce
from xmargin.strategy.base import Strategy

log = logging.getLogger(__name__)
NANOS_PER_SECOND = 1_000_000_000
BPS = Decimal(10000)


@dataclass(frozen=True)
class AlgoParams:
    """The parent order: what to trade, which way, how much, in which account."""

    instrument: str = "BTC/USDT:USDT"
    side: str = "buy"
    quantity: Decimal = Decimal(0)
    account: str = ""
    reduce_only: bool = False


@dataclass(frozen=True)
class AlgoReport:
    """Where a parent order stands."""

    algo_id: str
    algorithm: str
    instrument: str
    side: str
    quantity: Decimal
    filled: Decimal
    average_price: Decimal | None
    arrival_price: Decimal | None
    slippage_bps: Decimal | None
    children: int
    failed_children: int
    done: bool

    @property
    def progress(self) -> Decimal:
        """The filled share of the parent, 0 to 1."""
        return self.filled / self.quantity if self.quantity else Decimal(1)


Listener = Callable[[AlgoReport], None]


class ExecAlgorithm(Strategy, ABC):
    """Base of the algorithms: a parent order worked through child orders."""

    Params = AlgoParams

    def __init__(self, algo_id: str, params: AlgoParams, listener: Listener | None = None) -> None:
        super().__init__(algo_id, params)
        if params.side not in ("buy", "sell"):
            raise ValueError(f"{algo_id}: side must be buy or sell, got {params.side!r}")
        if params.quantity <= 0:
            raise ValueError(f"{algo_id}: quantity must be positive")
        self.side = OrderSide(params.side)
        self.listener = listener
        self.children: list[Order] = []
        self.filled = ZERO
        self._notional = ZERO
        self.arrival_price: Decimal | None = None
        self.started_ns: int | None = None
        self.done = False
        self.failed_children = 0
        self._to_cancel: list[Order] = []

    # -- life cycle -----------------------------------------------------------------------

    @property
    def account(self) -> str:
        return self.params.account or self.ctx.account

    def subscriptions(self) -> tuple[tuple[str, str], ...]:
        return (("bar", self.params.instrument),)

    def on_start(self) -> None:
        if self.ctx.last_price(self.params.instrument, self.account) > 0:
            self._begin()

    def on_bar(self, bar: Bar) -> None:
        if self.started_ns is None and bar.instrument == self.params.instrument:
            self._begin()

    def _begin(self) -> None:
        ctx = self.ctx
        self.started_ns = ctx.now_ns
        self.arrival_price = ctx.instrument(self.params.instrument, self.account).make_price(
            ctx.last_price(self.params.instrument, self.account)
        )
        self.begin()

    @abstractmethod
    def begin(self) -> None:
        """Start working the parent (subclasses send their first children here)."""

    def on_child_closed(self, order: Order) -> None:
        """A child finished (filled, canceled, rejected or denied)."""

    def on_child_fill(self, order: Order, event: OrderFilled) -> None:
        """A child (partly) filled; ``filled`` and the average are already updated."""

    # -- children -------------------------------------------------------------------------

    @property
    def remaining(self) -> Decimal:
        """What is neither filled nor working in an open child."""
        working = sum((o.leaves_quantity for o in self.children if not o.status.is_closed), ZERO)
        quantity: Decimal = self.params.quantity
        return quantity - self.filled - working

    def lot(self, quantity: Decimal) -> Decimal:
        spec = self.ctx.instrument(self.params.instrument, self.account)
        return round_to_increment(quantity, spec.size_increment, mode="down")

    def min_size(self) -> Decimal:
        spec = self.ctx.instrument(self.params.instrument, self.account)
        return max(spec.size_increment, spec.min_size)

    def child(
        self,
        quantity: Decimal,
        order_type: OrderType = OrderType.MARKET,
        *,
        side: OrderSide | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        reduce_only: bool | None = None,
    ) -> Order:
        """Send a child order (through the risk engine, like every order)."""
        order = self.ctx.order(
            self.params.instrument,
            side or self.side,
            quantity,
            order_type,
            price=price,
            trigger_price=trigger_price,
            time_in_force=time_in_force,
            reduce_only=self.params.reduce_only if reduce_only is None else reduce_only,
            account=self.account,
        )
        self.children.append(order)
        if order.status.is_closed:
            self._closed(order)
        return order

    def cancel_children(self) -> None:
        for order in self.children:
            if not order.status.is_closed:
                self.ctx.cancel(order)

    def cancel_later(self, order: Order) -> None:
        """Cancel ``order`` at the end of this step, once the venue has finished matching
        (a fill is reported while the venue is still working through its resting orders)."""
        if not self._to_cancel:
            self.ctx.set_timer("cancel", at_ns=self.ctx.now_ns)
        self._to_cancel.append(order)

    def on_timer(self, name: str, ts_ns: int) -> None:
        if name == "cancel":
            pending, self._to_cancel = self._to_cancel, []
            for order in pending:
                if not order.status.is_closed:
                    self.ctx.cancel(order)

    def on_order_event(self, event: object) -> None:
        order = self._child_of(event)
        if order is None:
            return
        if isinstance(event, OrderFilled):
            if order.side is self.side:
                self.filled += event.quantity
                self._notional += event.quantity * event.price
            self.on_child_fill(order, event)
            self.notify()
        if order.status.is_closed:
            self._closed(order)

    def _child_of(self, event: object) -> Order | None:
        client_order_id = getattr(event, "client_order_id", None)
        for order in reversed(self.children):
            if order.client_order_id == client_order_id:
                return order
        return None

    def _closed(self, order: Order) -> None:
        if order.status is not OrderStatus.FILLED and order.filled_quantity == 0:
            self.failed_children += 1
        if not self.done:
            self.on_child_closed(order)

    def finish(self) -> None:
        """Stop working: cancel what is open and tell the listener."""
        if self.done:
            return
        self.done = True
        self.cancel_children()
        report = self.report()
        log.info(
            "%s %s: %s of %s filled, slippage %s bps",
            self.name,
            self.id,
            report.filled,
            report.quantity,
            report.slippage_bps,
        )
        self.notify()

    # -- reporting ------------------------------------------------------------------------

    def notify(self) -> None:
        if self.listener is not None:
            self.listener(self.report())

    def results(self) -> Mapping[str, str]:
        """The report as text, for the run's summary."""
        report = self.report()
        return {
            "filled": str(report.filled),
            "quantity": str(report.quantity),
            "average_price": str(report.average_price),
            "arrival_price": str(report.arrival_price),
            "slippage_bps": "None" if report.slippage_bps is None else f"{report.slippage_bps:.2f}",
            "children": str(report.children),
            "failed_children": str(report.failed_children),
        }

    def report(self) -> AlgoReport:
        average = self._notional / self.filled if self.filled else None
        slippage = None
        if average is not None and self.arrival_price:
            slippage = (average - self.arrival_price) / self.arrival_price * BPS * self.side.sign
        return AlgoReport(
            self.id,
            self.name,
            self.params.instrument,
            self.side.value,
            self.params.quantity,
            self.filled,
            average,
            self.arrival_price,
            slippage,
            len(self.children),
            self.failed_children,
            self.done,
        )
