"""Positions: signed size, cost basis, realised PnL and funding, with the fill rule of spec §0.3.

A position keeps its exact cost basis (``Σ quantity × price`` of what is open) rather than a
rounded average entry, so the PnL it realises over its life equals its cash flow exactly.
The average entry of the spec is ``cost / size``. Partial closes release a share of the cost
rounded to ``COST_RESOLUTION``; the full close releases what is left, so nothing is lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from xmargin.model.numbers import ZERO

# The released share of a cost basis is rounded here (1e-12 of the quote currency), so every
# later sum stays exact within Decimal's 28 digits; see docs/decisions/0001-cost-basis.md.
COST_RESOLUTION = Decimal("1e-12")


@dataclass(frozen=True, slots=True)
class FillOutcome:
    """What one fill does to a position: its new size and cost basis, and the PnL it realises."""

    size: Decimal
    cost: Decimal
    realized_pnl: Decimal

    @property
    def entry_price(self) -> Decimal:
        return self.cost / self.size if self.size else ZERO


def apply_fill(size: Decimal, cost: Decimal, quantity: Decimal, price: Decimal) -> FillOutcome:
    """Apply a signed fill of ``quantity`` at ``price`` to a position of ``size`` and ``cost``.

    Increases add to the cost; reductions release the closed share of the cost and realise
    ``closed × price − released``; a flip opens the remainder at ``price``. Fees excluded.
    """
    if size == 0 or (quantity > 0) == (size > 0):
        return FillOutcome(size + quantity, cost + quantity * price, ZERO)
    new_size = size + quantity
    if abs(quantity) >= abs(size):
        realized = size * price - cost
        return FillOutcome(new_size, new_size * price, realized)
    closed = -quantity
    released = (cost * closed / size).quantize(COST_RESOLUTION)
    return FillOutcome(new_size, cost - released, closed * price - released)


def entry_cost(size: Decimal, entry_price: Decimal) -> Decimal:
    """Return the cost basis of ``size`` opened at an average ``entry_price``."""
    return size * entry_price


class Position:
    """A mutable position on one instrument in one account."""

    __slots__ = ("cost", "funding_paid", "instrument", "realized_pnl", "size")

    def __init__(self, instrument: str, size: Decimal = ZERO, cost: Decimal = ZERO) -> None:
        self.instrument = instrument
        self.size = size
        self.cost = cost
        self.realized_pnl = ZERO
        self.funding_paid = ZERO

    @property
    def is_flat(self) -> bool:
        return self.size == 0

    @property
    def entry_price(self) -> Decimal:
        """The average entry, ``cost / size`` (zero when flat)."""
        return self.cost / self.size if self.size else ZERO

    def fill(self, quantity: Decimal, price: Decimal) -> Decimal:
        """Apply a signed fill and return the PnL it realised."""
        outcome = apply_fill(self.size, self.cost, quantity, price)
        self.size = outcome.size
        self.cost = outcome.cost
        self.realized_pnl += outcome.realized_pnl
        return outcome.realized_pnl

    def unrealized_pnl(self, mark: Decimal) -> Decimal:
        return self.size * mark - self.cost

    def __repr__(self) -> str:
        return f"Position({self.instrument!r}, size={self.size}, cost={self.cost})"
