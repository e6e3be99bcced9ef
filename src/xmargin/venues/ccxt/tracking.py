"""The adapter's memory of its orders and fills, and the one place events are emitted.

Status events are emitted once per order and kind (a REST answer and a stream push of the
same acceptance yield one ``OrderAccepted``); fills once per venue trade id.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from xmargin.core.clock import Clock
from xmargin.core.errors import ConfigError
from xmargin.model.events import OrderFilled, OrderModified, OrderRejected
from xmargin.model.orders import Order
from xmargin.venues.ccxt.reports import fill_from_trade, order_event


@dataclass(frozen=True, slots=True)
class RequestFailed:
    """A cancel, modify or leverage request the venue refused (no order state changes)."""

    ts_event: int
    account: str
    operation: str
    subject: str
    reason: str


@dataclass(slots=True)
class Tracked:
    order: Order
    conditional: bool
    wire_id: str
    venue_order_id: str = ""
    emitted: set[str] = field(default_factory=set)
    quantity: Decimal = Decimal(0)
    price: Decimal | None = None
    """The working quantity and price: the order's, then each modification's."""

    @property
    def symbol(self) -> str:
        return self.order.instrument

    @property
    def done(self) -> bool:
        return bool(self.emitted & {"OrderCanceled", "OrderExpired", "OrderRejected", "filled"})


class OrderTracker:
    """Orders sent by this adapter, by client id, wire id and venue id; trade ids seen.

    ``track`` and ``get`` run on the caller's thread, everything else on the adapter's loop;
    the order maps change only under the lock.
    """

    def __init__(self, account: str, events: queue.Queue[object], clock: Clock) -> None:
        self.account = account
        self._events = events
        self._clock = clock
        self._orders: dict[str, Tracked] = {}
        self._by_wire: dict[str, str] = {}
        self._by_venue: dict[str, str] = {}
        self._trades: set[str] = set()
        self._lock = threading.Lock()

    def track(self, order: Order, conditional: bool, wire_id: str) -> None:
        with self._lock:
            if order.client_order_id in self._orders:
                raise ConfigError(f"client order id {order.client_order_id} was already used")
            self._orders[order.client_order_id] = Tracked(
                order, conditional, wire_id, quantity=order.quantity, price=order.price
            )
            self._by_wire[wire_id] = order.client_order_id

    def get(self, client_id: str) -> Tracked:
        try:
            return self._orders[client_id]
        except KeyError:
            raise ConfigError(f"no order {client_id} was sent through this adapter") from None

    def venue_id(self, client_id: str) -> str:
        return self.get(client_id).venue_order_id

    def working(self, symbol: str) -> list[tuple[str, bool]]:
        with self._lock:
            tracked = list(self._orders.items())
        return [(cid, t.conditional) for cid, t in tracked if t.symbol == symbol and not t.done]

    def _emit(self, tracked: Tracked | None, kind: str, event: object) -> None:
        if tracked is not None:
            if kind in tracked.emitted:
                return
            tracked.emitted.add(kind)
        self._events.put(event)

    def on_order(self, raw: Mapping[str, Any]) -> None:
        """Record a ccxt order dict and emit its status event, if new."""
        with self._lock:
            client_id = self._by_wire.get(str(raw.get("clientOrderId") or ""), "")
            tracked = self._orders.get(client_id)
        venue_id = str(raw.get("id") or "")
        if tracked is not None and venue_id:
            tracked.venue_order_id = tracked.venue_order_id or venue_id
            self._by_venue[venue_id] = client_id
            actual = (raw.get("info") or {}).get("actualOrderId")
            if actual not in (None, "", "0", 0):  # a triggered Binance algo order's child
                self._by_venue[str(actual)] = client_id
        if tracked is not None and raw.get("status") == "closed":
            tracked.emitted.add("filled")
        event = order_event(raw, self.account, self._clock.now_ns())
        if event is None or tracked is None:
            return
        event = replace(event, client_order_id=client_id)
        self._emit(tracked, type(event).__name__, event)

    def on_trade(self, trade: Mapping[str, Any]) -> OrderFilled | None:
        """Emit the fill of a ccxt trade unless its trade id was seen; return it if new."""
        fill = self.fill(trade)
        if fill.trade_id in self._trades:
            return None
        self._trades.add(fill.trade_id)
        self._events.put(fill)
        return fill

    def mark_history(self, trade_ids: Iterable[str]) -> None:
        """Fills the venue held before the adapter started: known, never emitted."""
        self._trades.update(trade_ids)

    def fill(self, trade: Mapping[str, Any]) -> OrderFilled:
        client_id = self._by_venue.get(str(trade.get("order") or ""), "")
        return fill_from_trade(trade, self.account, client_id, self._clock.now_ns())

    def on_modified(self, event: OrderModified, raw: Mapping[str, Any]) -> None:
        tracked = self.get(event.client_order_id)
        tracked.quantity, tracked.price = event.quantity, event.price
        self._events.put(event)
        self.on_order(raw)

    def reject(self, client_id: str, reason: str) -> None:
        event = OrderRejected(self._clock.now_ns(), self.account, client_id, reason)
        self._emit(self._orders.get(client_id), "OrderRejected", event)

    def fail(self, operation: str, subject: str, reason: str) -> None:
        self._events.put(
            RequestFailed(self._clock.now_ns(), self.account, operation, subject, reason)
        )

    def emit(self, event: object) -> None:
        self._events.put(event)
