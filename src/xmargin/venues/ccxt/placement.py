"""Placing one order under the submit-timeout rule, and finding an order by its client id.

A submit that fails after it may have reached the venue is *unknown*: the order is looked up
by its client order id and sent again only if the venue says it has none, with the same
client id, so one client id never has two live orders. A resend the venue refuses as a
duplicate (``-4116``) means the first one arrived after all: it is looked up again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import ccxt

from xmargin.model.orders import Order
from xmargin.venues.ccxt.orders import create_order_args, lookup_params
from xmargin.venues.ccxt.requests import OutcomeUnknownError, RequestRunner, VenueRefusedError
from xmargin.venues.ccxt.tracking import OrderTracker

log = logging.getLogger(__name__)
DUPLICATE_CLIENT_ID = -4116


class OrderPlacer:
    """Sends orders for one venue account and reports their outcome through the tracker."""

    def __init__(
        self,
        exchange_id: str,
        runner: RequestRunner,
        tracker: OrderTracker,
        after: Callable[[str], Awaitable[None]],
    ) -> None:
        self.exchange_id = exchange_id
        self.runner = runner
        self.tracker = tracker
        self.after = after  # catch up on the symbol's fills once an order is known

    async def place(self, order: Order) -> None:
        args = create_order_args(self.exchange_id, order)
        call = (args.symbol, args.type, args.side, args.amount, args.price, args.params)
        resent = False
        for _attempt in range(self.runner.backoff.max_attempts):
            try:
                result = await self.runner.call("create_order", *call, places_order=True)
            except OutcomeUnknownError as unknown:
                log.warning("order %s: %s; looking it up", order.client_order_id, unknown)
            except VenueRefusedError as refused:
                if not (resent and refused.failure.code == DUPLICATE_CLIENT_ID):
                    self.tracker.reject(order.client_order_id, refused.failure.reason)
                    return
            else:
                self.tracker.on_order(result)
                await self.after(order.instrument)
                return
            found = await self.lookup(order.client_order_id, args.symbol, args.conditional)
            if found is not None:
                self.tracker.on_order(found)
                await self.after(order.instrument)
                return
            resent = True
        self.tracker.reject(order.client_order_id, "outcome unknown after every retry; not resent")

    async def lookup(self, client_id: str, symbol: str, conditional: bool) -> dict[str, Any] | None:
        """The venue's order with this client id, or None when the venue says it has none."""
        params = lookup_params(self.exchange_id, client_id, conditional=conditional)
        try:
            found: dict[str, Any] = await self.runner.call("fetch_order", None, symbol, params)
        except VenueRefusedError as refused:
            if isinstance(refused.original, ccxt.OrderNotFound):
                return None
            raise
        return found
