"""The venue's mark where its mark feed is coarser than its trades (decision 0003).

Each finer step (bar, trade, quote) carries its prices by the basis to the point-in-time mark
estimate and is checked at its adverse extreme: mark stops, liquidation. A completed mark
interval re-measures the basis at once; its own checks wait for the end of that instant's
price phase, so a finer step closing with it is judged on its path first, and they act only
on what existed for the whole interval.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from xmargin.model.market_data import MarkPrice
from xmargin.venues.sim.markets import MarketState, carried

if TYPE_CHECKING:
    from xmargin.venues.sim.exchange import SimulatedExchange


class MarkPath:
    """Moves the mark on the finest price path and checks each step and mark interval."""

    def __init__(self, exchange: SimulatedExchange) -> None:
        self.exchange = exchange
        self.completed: list[MarkPrice] = []

    def observe(self, market: MarketState, mark: MarkPrice) -> None:
        """A mark interval completed: move the mark, re-measure the basis, and queue the
        interval's checks for the end of this instant's price phase: after the finer step of
        the instrument closing with it, else in phase 2 (``settle``), which is made due now."""
        self._catch_up(mark.ts_event)
        market.observe_mark(mark.close, mark.ts_event)
        if has_mark_stops(market) or self.exchange.guard.watches(mark.instrument):
            self.completed.append(mark)
            # phase 2 is due at this instant, and its first act is to run the interval
            settlements = self.exchange.settlements
            settlements.next_due = min(settlements.next_due, mark.ts_event)

    def check_completed(self, instrument: str | None = None) -> None:
        """Run the queued mark intervals' checks (only ``instrument``'s, if given)."""
        completed = self.completed
        due = [m for m in completed if instrument is None or m.instrument == instrument]
        self.completed = [m for m in completed if m not in due]
        for mark in due:
            self._check_interval(mark)

    def _catch_up(self, ts: int) -> None:
        """Run intervals still queued from an instant before ``ts`` before newer data (a
        safeguard: phase 2 at their own instant normally ran them)."""
        if self.completed and self.completed[0].ts_event < ts:
            self.check_completed()

    def _check_interval(self, mark: MarkPrice) -> None:
        """Trigger the mark stops a completed interval reached before a liquidation, check
        liquidation at its adverse extreme, then the other stops. Only what was there for the
        whole interval (stops placed, exposure held since its open) answers to it, as its
        path inside is unknown."""
        exchange = self.exchange
        market = exchange.markets[mark.instrument]
        since = mark.ts_open
        if has_mark_stops(market):
            exchange.fills.trigger_on_mark(
                market, mark.low, mark.high, before_liquidation=True, placed_by=since
            )
        exchange.guard.on_price_move(
            mark.instrument, mark.open, mark.low, mark.high, mark.close, since, held_since=since
        )
        if has_mark_stops(market):
            exchange.fills.trigger_on_mark(market, mark.low, mark.high, placed_by=since)

    def step(
        self, market: MarketState, path: tuple[float, float, float, float], ts_open: int, ts: int
    ) -> None:
        """A finer step of trades (open, low, high, close) from ``ts_open`` to ``ts``: carry it
        to the mark estimate, then trigger the mark stops reached before a liquidation, check
        liquidation at the step's adverse extreme, then trigger the other stops."""
        completed = self.completed
        if completed and completed[0].ts_event < ts:
            self.check_completed()
        path_basis, basis = market.carried_basis(path[3], ts)
        open_price, low, high, close = path
        market.set_mark(carried(close, basis))
        if path_basis:
            open_price, low, high, close = [carried(price, path_basis) for price in path]
        fills = self.exchange.fills
        stops = has_mark_stops(market)
        if stops:
            fills.trigger_on_mark(market, low, high, before_liquidation=True)
        self.exchange.guard.on_price_move(market.spec.symbol, open_price, low, high, close, ts_open)
        if stops:
            fills.trigger_on_mark(market, low, high)
        if self.completed:
            self.check_completed(market.spec.symbol)


def has_mark_stops(market: MarketState) -> bool:
    """Whether a stop triggered by the mark is waiting on ``market``."""
    return market.resting.mark_triggers > 0
