"""What the simulated exchange knows of each instrument's market right now."""

from __future__ import annotations

from decimal import Decimal

from xmargin.model.instruments import Instrument
from xmargin.model.orders import OrderSide
from xmargin.venues.sim.resting import RestingOrders


class MarketState:
    """Last trade, current bar, mark price and resting orders of one instrument.

    Prices are floats as the data gives them; ``mark_exact`` converts the mark once per
    change through the instrument's audited float gate. ``touch`` holds, while the latest
    data is a quote, the price and the size left that a taker meets on each side.

    With a mark feed coarser than the trades, ``mark`` is a point-in-time estimate between
    mark observations: the latest trade price carried by the basis (observed mark − last
    trade) measured when the latest mark completed (decision 0003).
    """

    __slots__ = (
        "_mark_exact",
        "bar_capacity",
        "bar_open",
        "bar_ts_open",
        "bar_volume",
        "basis",
        "has_mark_feed",
        "last",
        "mark",
        "mark_observed",
        "mark_observed_ns",
        "path_basis",
        "resting",
        "spec",
        "touch",
    )

    def __init__(self, spec: Instrument, has_mark_feed: bool = False) -> None:
        self.spec = spec
        self.has_mark_feed = has_mark_feed
        self.last = 0.0
        self.mark = 0.0
        self.bar_open = 0.0
        self.bar_volume = 0.0
        self.bar_ts_open = 0
        self.bar_capacity: float | None = None
        self.resting = RestingOrders()
        self.touch: dict[OrderSide, tuple[float, float]] | None = None
        self._mark_exact: Decimal | None = None
        self.mark_observed = 0.0
        self.mark_observed_ns = -1
        self.basis: float | None = None
        self.path_basis = 0.0

    @property
    def has_price(self) -> bool:
        return self.last > 0 or self.mark > 0

    def set_mark(self, price: float) -> None:
        if price != self.mark:
            self.mark = price
            self._mark_exact = None

    def observe_mark(self, close: float, ts: int) -> None:
        """A mark interval completed at ``ts`` with ``close``: it is the mark now, and the
        basis to the last trade is measured (or, before any trade, at the next one)."""
        self.mark_observed = close
        self.mark_observed_ns = ts
        self.path_basis = self.basis if self.basis is not None else self.path_basis
        self.basis = close - self.last if self.last > 0 else None
        self.set_mark(close)

    def carried_basis(self, price: float, ts: int) -> tuple[float, float]:
        """The bases a trade price closing a step at ``ts`` is carried by: for the step's
        path, and for the mark after it.

        The path takes the basis of the latest mark completed before the step closed; a
        trade at the same instant as the latest mark re-measures the basis for what follows
        (both are known at ``ts``). Before any mark the basis is 0, so the estimate is the
        trade price.
        """
        if ts == self.mark_observed_ns:
            self.basis = self.mark_observed - price
            return self.path_basis, self.basis
        if self.basis is None:
            if self.mark_observed_ns < 0:
                return 0.0, 0.0
            self.basis = self.mark_observed - price
        return self.basis, self.basis

    def mark_exact(self) -> Decimal:
        """The mark as an exact price (the last trade when no mark has been seen)."""
        if self._mark_exact is None:
            self._mark_exact = self.spec.make_mark(self.mark if self.mark > 0 else self.last)
        return self._mark_exact

    def last_exact(self) -> Decimal:
        return self.spec.make_price(self.last if self.last > 0 else self.mark)


def carried(price: float, basis: float) -> float:
    """A trade price carried by the mark basis; the price itself where the basis would
    take the mark to zero or below, which no venue publishes."""
    estimate = price + basis
    return estimate if estimate > 0 else price
