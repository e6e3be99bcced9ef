"""The orders resting on one market, in arrival order, indexed by the price that wakes them.

Matching a bar, trade, quote or mark interval against the book must give exactly what visiting
every resting order in arrival order gives, but touch only the orders the new prices can
reach. Each order is kept under the price its matching rule reads:

- a stop or take-profit not yet triggered: its trigger, with the orders that trigger on a
  rise apart from those that trigger on a fall;
- any other order with a limit price (a limit, a triggered stop- or take-profit-limit): that
  limit, buys apart from sells;
- the rest (market orders, triggered stop- and take-profit-markets) are always visited.

``matching_pass`` yields the orders a price range ``[low, high]`` can reach, in arrival
order, from those resting when it starts. An order re-indexed during the pass (a listener
modified it) that rested at the start and comes later in arrival order is visited too, as
the full visit would have done; an order taken off the book during the pass is still visited
if it was due. ``last_open_at_visit`` names the last order the full visit would have found
open (a quote leaves the capacity of that order's side).
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterator

from xmargin.model.orders import Order, OrderSide, OrderStatus, OrderType, TriggerSource

INFINITE_SEQUENCE = 1 << 62
Key = tuple[float, int]  # price as the matching rules read it (a float), arrival sequence

TRIGGER_RISE = "trigger_rise"
TRIGGER_FALL = "trigger_fall"
LIMIT_BUY = "limit_buy"
LIMIT_SELL = "limit_sell"
ALWAYS = "always"


def placement_of(order: Order) -> tuple[str, float]:
    """Return which index ``order`` belongs to and its price there."""
    kind = order.order_type
    if kind.has_trigger and order.status is OrderStatus.ACCEPTED:
        is_stop = kind in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT)
        rises = (order.side is OrderSide.BUY) == is_stop
        return (TRIGGER_RISE if rises else TRIGGER_FALL), float(order.trigger_price or 0)
    if kind.has_limit_price:
        buying = order.side is OrderSide.BUY
        return (LIMIT_BUY if buying else LIMIT_SELL), float(order.price or 0)
    return ALWAYS, 0.0


class RestingOrders:
    """Insertion-ordered resting orders with price indexes; list-like where the code needs it."""

    __slots__ = (
        "_by_sequence",
        "_indexes",
        "_mark_triggers",
        "_orders",
        "_passes",
        "_placed",
        "_sequence",
        "_stale",
    )

    def __init__(self) -> None:
        self._orders: dict[int, Order] = {}  # id(order) -> order, in arrival order
        self._placed: dict[int, tuple[str, float, int]] = {}  # id -> index, price, sequence
        self._indexes: dict[str, list[Key]] = {
            name: [] for name in (TRIGGER_RISE, TRIGGER_FALL, LIMIT_BUY, LIMIT_SELL, ALWAYS)
        }
        self._by_sequence: dict[int, Order] = {}
        self._sequence = 0
        self._mark_triggers = 0
        self._passes: list[Pass] = []
        self._stale: list[int] = []

    # -- list-like -------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._orders)

    def __bool__(self) -> bool:
        return bool(self._orders)

    def __iter__(self) -> Iterator[Order]:
        return iter(tuple(self._orders.values()))

    def __contains__(self, order: object) -> bool:
        return id(order) in self._orders

    def append(self, order: Order) -> None:
        """Rest ``order`` behind every order already resting."""
        key = id(order)
        if key in self._orders:
            self.remove(order)
        self._sequence += 1
        self._orders[key] = order
        self._place(order, self._sequence)

    def remove(self, order: Order) -> None:
        key = id(order)
        if self._orders.pop(key, None) is None:
            raise ValueError(f"{order!r} is not resting")
        sequence = self._placed[key][2]
        for visit in self._passes:
            visit.removed.setdefault(sequence, visit.position)
        self._unplace(key)

    def reindex(self, order: Order) -> None:
        """Re-read the price ``order`` rests under after a trigger or a modification."""
        placed = self._placed.get(id(order))
        if placed is None or placement_of(order) == placed[:2]:
            return
        sequence = placed[2]
        self._unplace(id(order), keep_sequence=True)
        self._place(order, sequence)
        for visit in self._passes:
            if visit.position < sequence <= visit.end:
                heapq.heappush(visit.heap, sequence)

    @property
    def mark_triggers(self) -> int:
        """How many resting stops and take-profits wait for the mark to trigger them."""
        return self._mark_triggers

    # -- matching --------------------------------------------------------------------------

    def matching_pass(
        self, low: float, high: float, *, triggers_only: bool = False
    ) -> Iterator[Order]:
        """Yield, in arrival order, the orders resting now that ``[low, high]`` can reach
        (``triggers_only``: only stops and take-profits not yet triggered)."""
        visit = self.begin_pass(low, high, triggers_only=triggers_only)
        try:
            for _, order in self.visits(visit):
                yield order
        finally:
            self.end_pass(visit)

    def begin_pass(self, low: float, high: float, *, triggers_only: bool = False) -> Pass:
        """Start a pass over the orders resting now that ``[low, high]`` can reach; from
        here on, repricing and removals are recorded in it until ``end_pass``."""
        indexes = self._indexes
        rise = indexes[TRIGGER_RISE]  # triggers at or below the high
        fall = indexes[TRIGGER_FALL]  # triggers at or above the low
        keys = rise[: bisect.bisect_right(rise, (high, INFINITE_SEQUENCE))]
        keys += fall[bisect.bisect_left(fall, (low, -1)) :]
        if not triggers_only:
            buys = indexes[LIMIT_BUY]  # buy limits at or above the low
            sells = indexes[LIMIT_SELL]  # sell limits at or below the high
            keys += indexes[ALWAYS]
            keys += buys[bisect.bisect_left(buys, (low, -1)) :]
            keys += sells[: bisect.bisect_right(sells, (high, INFINITE_SEQUENCE))]
        visit = Pass([sequence for _, sequence in keys], self._sequence)
        heapq.heapify(visit.heap)
        self._passes.append(visit)
        return visit

    def visits(self, visit: Pass) -> Iterator[tuple[int, Order]]:
        """Yield the pass's (arrival sequence, order) in arrival order, each once."""
        seen: set[int] = set()
        while visit.heap:
            sequence = heapq.heappop(visit.heap)
            if sequence in seen:
                continue
            seen.add(sequence)
            visit.position = sequence
            yield sequence, self._by_sequence[sequence]

    def end_pass(self, visit: Pass) -> None:
        self._passes.remove(visit)
        if not self._passes:
            for sequence in self._stale:
                self._by_sequence.pop(sequence, None)
            self._stale.clear()

    def last_open_at_visit(self, visit: Pass, opened: dict[int, bool]) -> Order | None:
        """Of the orders resting when ``visit`` began, the last that a visit of every order
        in arrival order would have found open; ``opened`` says it for those visited."""
        for sequence in reversed(self._by_sequence):
            if sequence > visit.end:
                continue
            order = self._by_sequence[sequence]
            if sequence in opened:
                if opened[sequence]:
                    return order
                continue
            removed_at = visit.removed.get(sequence)
            if removed_at is not None and removed_at > sequence:
                return order  # taken off while a later order was matched: passed open
            if order.status.is_open:
                return order
        return None

    # -- indexes ---------------------------------------------------------------------------

    def _place(self, order: Order, sequence: int) -> None:
        name, price = placement_of(order)
        self._placed[id(order)] = (name, price, sequence)
        self._by_sequence[sequence] = order
        bisect.insort(self._indexes[name], (price, sequence))
        if name in (TRIGGER_RISE, TRIGGER_FALL) and order.trigger_source is TriggerSource.MARK:
            self._mark_triggers += 1

    def _unplace(self, key: int, *, keep_sequence: bool = False) -> None:
        name, price, sequence = self._placed.pop(key)
        index = self._indexes[name]
        del index[bisect.bisect_left(index, (price, sequence))]
        if (
            name in (TRIGGER_RISE, TRIGGER_FALL)
            and self._by_sequence[sequence].trigger_source is TriggerSource.MARK
        ):
            self._mark_triggers -= 1
        if keep_sequence:
            return
        if self._passes:  # a pass under way still visits the orders resting when it began
            self._stale.append(sequence)
        else:
            del self._by_sequence[sequence]


class Pass:
    """One matching pass: the arrival sequences still to visit, where it is, where it ends,
    and the position at which each order it began with was taken off the book."""

    __slots__ = ("end", "heap", "position", "removed")

    def __init__(self, heap: list[int], end: int) -> None:
        self.heap = heap
        self.end = end
        self.position = 0
        self.removed: dict[int, int] = {}
