"""Cancel and modify requests on their way to the simulated matching engine.

They travel with the venue's order latency (the same model as a submit, drawn from a seeded
stream of their own, so submits draw the same delays whether or not a run cancels) and never
overtake the order they name: a request for an order still in flight reaches the venue no
earlier than the order, and acts on it right after its arrival. A request that finds the
order already filled or ended is rejected as a venue would reject it, with an event.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from xmargin.model.events import OrderCancelRejected, OrderModified, OrderModifyRejected
from xmargin.model.orders import Order, OrderStatus

if TYPE_CHECKING:
    from xmargin.venues.sim.exchange import SimulatedExchange


@dataclass(frozen=True, slots=True)
class CancelRequest:
    account: str
    client_order_id: str


@dataclass(frozen=True, slots=True)
class ModifyRequest:
    account: str
    client_order_id: str
    quantity: Decimal | None
    price: Decimal | None
    trigger_price: Decimal | None


VenueRequest = CancelRequest | ModifyRequest


def reach_venue(exchange: SimulatedExchange, request: VenueRequest, ts: int) -> None:
    """The request reached the matching engine at ``ts``: act on its order or reject it."""
    order = exchange.orders.get(request.client_order_id)
    problem = _problem(order, request.account, request.client_order_id)
    if isinstance(request, CancelRequest):
        if problem is not None or order is None:
            exchange.emit(
                OrderCancelRejected(
                    ts, request.account, request.client_order_id, f"cancel refused: {problem}"
                )
            )
            return
        exchange._close(order, OrderStatus.CANCELED, "canceled by request", ts)
        return
    if problem is not None or order is None:
        exchange.emit(
            OrderModifyRejected(
                ts,
                request.account,
                request.client_order_id,
                f"modify refused: {problem}",
            )
        )
        return
    _modify(exchange, order, request, ts)


def _problem(order: Order | None, account: str, client_order_id: str) -> str | None:
    """Why a request cannot act on the order, or None."""
    if order is None or order.account != account:
        return f"unknown order {client_order_id} on account {account}"
    if order.status.is_closed:
        return f"order {client_order_id} is already {order.status.value}"
    return None


def _modify(exchange: SimulatedExchange, order: Order, request: ModifyRequest, ts: int) -> None:
    """Change a working order's quantity, price or trigger in place."""
    if request.quantity is not None:
        if request.quantity <= order.filled_quantity:
            exchange._close(order, OrderStatus.CANCELED, "modified below its filled quantity", ts)
            return
        order.quantity = request.quantity
    if request.price is not None:
        order.price = request.price
    if request.trigger_price is not None:
        order.trigger_price = request.trigger_price
    exchange.accounts[order.account].working.refresh(order)
    exchange.markets[order.instrument].resting.reindex(order)
    exchange.emit(
        OrderModified(
            ts,
            order.account,
            order.client_order_id,
            order.quantity,
            order.price,
            order.trigger_price,
        )
    )
    if request.price is not None:
        exchange._replace_if_marketable(order)
