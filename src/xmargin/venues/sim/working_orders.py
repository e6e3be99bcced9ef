"""An account's working orders, with running totals of the margin their limit prices reserve.

A working limit order (and a triggered stop- or take-profit-limit) reserves initial margin at
its limit price for what is left of it (spec C.5). The index keeps, per instrument, price
level and side, the signed quantity resting there, and per instrument and side the exact
quantity and notional, updated on every arrival, fill, trigger, modification and close, so
a margin check reads them in O(instruments) instead of summing every order.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping
from dataclasses import replace
from decimal import Decimal
from types import MappingProxyType

from xmargin.margin.snapshot import OrderSnapshot, OrderTotals
from xmargin.model.orders import Order, OrderStatus

Level = tuple[str, int, Decimal]  # instrument, side sign, limit price


def reserve_of(order: Order) -> tuple[str, Decimal, Decimal] | None:
    """Return (instrument, signed quantity left, limit price) that ``order`` reserves, or None."""
    price = order.price
    if price is None or (
        order.order_type.has_trigger and order.status is not OrderStatus.TRIGGERED
    ):
        return None
    left = order.leaves_quantity
    if not left:
        return None
    return order.instrument, left * order.side.sign, price


class WorkingOrders:
    """The working orders of one account by client order id, and what they reserve."""

    __slots__ = (
        "_frozen_totals",
        "_levels",
        "_orders",
        "_prices",
        "_reserved",
        "_snapshots",
        "totals",
    )

    def __init__(self) -> None:
        self._orders: dict[str, Order] = {}
        self._reserved: dict[str, tuple[str, Decimal, Decimal]] = {}
        self._levels: dict[Level, OrderSnapshot] = {}
        self._prices: dict[tuple[str, int], list[Decimal]] = {}  # level prices, ascending
        self._snapshots: tuple[OrderSnapshot, ...] | None = ()
        self.totals: dict[str, OrderTotals] = {}
        self._frozen_totals: Mapping[str, OrderTotals] = MappingProxyType({})

    def __bool__(self) -> bool:
        return bool(self._orders)

    def __len__(self) -> int:
        return len(self._orders)

    def __contains__(self, client_order_id: object) -> bool:
        return client_order_id in self._orders

    def __iter__(self) -> Iterator[Order]:
        return iter(self._orders.values())

    def add(self, order: Order) -> None:
        """Start working ``order`` (it has arrived at the venue and been accepted)."""
        self._orders[order.client_order_id] = order
        self.refresh(order)

    def remove(self, order: Order) -> None:
        """Stop working ``order`` (filled, canceled or expired); nothing if it was not working."""
        if self._orders.pop(order.client_order_id, None) is not None:
            self._unreserve(order.client_order_id)

    def refresh(self, order: Order) -> None:
        """Re-read what ``order`` reserves after a fill, trigger or modification."""
        cid = order.client_order_id
        if cid not in self._orders:
            return
        reserve = reserve_of(order)
        if reserve == self._reserved.get(cid):
            return
        self._unreserve(cid)
        if reserve is not None:
            self._reserved[cid] = reserve
            self._move(*reserve)

    def reserve(
        self, excluding: str | None = None
    ) -> tuple[tuple[OrderSnapshot, ...], Mapping[str, OrderTotals]]:
        """What the working orders reserve: one ``OrderSnapshot`` per instrument, side and
        limit price, and the totals per instrument; ``excluding``'s share taken out."""
        if self._snapshots is None:  # rebuilt only after the working orders changed
            self._snapshots = tuple(self._levels.values())
            self._frozen_totals = MappingProxyType(dict(self.totals))
        reserve = self._reserved.get(excluding) if excluding is not None else None
        if reserve is None:
            return self._snapshots, self._frozen_totals
        instrument, quantity, price = reserve
        sign = 1 if quantity > 0 else -1
        level = self._levels[(instrument, sign, price)]
        left = level.quantity - quantity
        orders = tuple(
            (OrderSnapshot(instrument, left, price) if o is level else o)
            for o in self._snapshots
            if o is not level or left
        )
        totals = dict(self._frozen_totals)
        less = totals[instrument].plus(sign, -quantity * sign, -quantity * sign * price)
        if not left:  # its level goes: the next price on that side becomes the extreme
            others = [p for p in self._extremes(instrument, sign) if p != price]
            extreme = others[0] if others else None
            if sign > 0:
                less = replace(less, highest_buy=extreme)
            else:
                less = replace(less, lowest_sell=extreme)
        if less.is_empty:
            del totals[instrument]
        else:
            totals[instrument] = less
        return orders, totals

    def _extremes(self, instrument: str, sign: int) -> list[Decimal]:
        """The two best level prices of a side: the highest buys or the lowest sells."""
        prices = self._prices.get((instrument, sign), [])
        return prices[:-3:-1] if sign > 0 else prices[:2]

    def _unreserve(self, cid: str) -> None:
        reserve = self._reserved.pop(cid, None)
        if reserve is not None:
            instrument, quantity, price = reserve
            self._move(instrument, -quantity, price, side=1 if quantity > 0 else -1)

    def _move(
        self, instrument: str, quantity: Decimal, price: Decimal, side: int | None = None
    ) -> None:
        """Add signed ``quantity`` at ``price`` (a negative one of ``side`` takes it away)."""
        sign = side if side is not None else (1 if quantity > 0 else -1)
        level = (instrument, sign, price)
        held = self._levels.get(level)
        left = quantity if held is None else held.quantity + quantity
        prices = self._prices.setdefault((instrument, sign), [])
        if left:
            self._levels[level] = OrderSnapshot(instrument, left, price)
            if held is None:
                bisect.insort(prices, price)
        else:
            del self._levels[level]
            del prices[bisect.bisect_left(prices, price)]
        totals = self.totals.get(instrument, EMPTY).plus(
            sign, quantity * sign, quantity * sign * price
        )
        if sign > 0:
            totals = replace(totals, highest_buy=prices[-1] if prices else None)
        else:
            totals = replace(totals, lowest_sell=prices[0] if prices else None)
        if totals.is_empty:
            del self.totals[instrument]
        else:
            self.totals[instrument] = totals
        self._snapshots = None


EMPTY = OrderTotals()
