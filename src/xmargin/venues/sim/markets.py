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
    """

    __slots__ = (
        "_mark_exact",
        "bar_capacity",
        "bar_open",
        "bar_ts_open",
        "bar_volume",
        "has_mark_feed",
        "last",
        "mark",
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

    @property
    def has_price(self) -> bool:
        return self.last > 0 or self.mark > 0

    def set_mark(self, price: float) -> None:
        if price != self.mark:
            self.mark = price
            self._mark_exact = None

    def mark_exact(self) -> Decimal:
        """The mark as an exact price (the last trade when no mark has been seen)."""
        if self._mark_exact is None:
            self._mark_exact = self.spec.make_mark(self.mark if self.mark > 0 else self.last)
        return self._mark_exact

    def last_exact(self) -> Decimal:
        return self.spec.make_price(self.last if self.last > 0 else self.mark)
