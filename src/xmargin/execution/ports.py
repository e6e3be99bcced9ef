"""The ports every venue adapter implements: the simulated exchange, ccxt, the gateway.

Calls return at once; outcomes come back later as events (fills, rejections, loans...).
Capabilities are declared up front so an unsupported operation fails at start-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from xmargin.model.balances import Loan
from xmargin.model.orders import Order, OrderType, TimeInForce, TriggerSource
from xmargin.model.positions import Position


@dataclass(frozen=True, slots=True)
class VenueCapabilities:
    """What a venue supports; checked when a run starts, not when an order is sent."""

    order_types: frozenset[OrderType]
    time_in_force: frozenset[TimeInForce]
    trigger_sources: frozenset[TriggerSource]
    reduce_only: bool = True
    post_only: bool = True
    modify: bool = True
    borrow: bool = False
    transfer: bool = True
    sub_accounts: bool = True

    def unsupported(self, order: Order) -> str | None:
        """Return why ``order`` cannot be sent here, or None."""
        if order.order_type not in self.order_types:
            return f"order type {order.order_type.value} is not supported"
        if order.time_in_force not in self.time_in_force:
            return f"time in force {order.time_in_force.value} is not supported"
        if order.order_type.has_trigger and order.trigger_source not in self.trigger_sources:
            return f"triggers on {order.trigger_source.value} price are not supported"
        if order.reduce_only and not self.reduce_only:
            return "reduce-only orders are not supported"
        if order.post_only and not self.post_only:
            return "post-only orders are not supported"
        return None


class VenuePort(Protocol):
    """Trading and reconciliation on one venue, for any number of its accounts."""

    @property
    def venue_id(self) -> str: ...
    @property
    def capabilities(self) -> VenueCapabilities: ...

    def submit(self, order: Order) -> None: ...
    def cancel(self, account: str, client_order_id: str) -> None: ...
    def modify(
        self,
        account: str,
        client_order_id: str,
        quantity: Decimal | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> None: ...
    def set_leverage(self, account: str, instrument: str, leverage: Decimal) -> None: ...
    def borrow(self, account: str, asset: str, amount: Decimal) -> str: ...
    def repay(self, account: str, asset: str, amount: Decimal) -> None: ...
    def transfer(self, source: str, target: str, asset: str, amount: Decimal) -> None: ...

    def open_orders(self, account: str) -> list[Order]: ...
    def positions(self, account: str) -> Mapping[str, Position]: ...
    def balances(self, account: str) -> Mapping[str, Decimal]: ...
    def loans(self, account: str) -> Mapping[str, Loan]: ...
