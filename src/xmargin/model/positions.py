"""Positions: signed size, average entry, realised PnL and funding, with the fill rule of spec §0.3."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from xmargin.model.numbers import ZERO


@dataclass(frozen=True, slots=True)
class FillOutcome:
    """What one fill does to a position: its new size and entry, and the PnL it realises."""

    size: Decimal
    entry_price: Decimal
    realized_pnl: Decimal


def apply_fill(size: Decimal, entry: Decimal, quantity: Decimal, price: Decimal) -> FillOutcome:
    """Apply a signed fill of ``quantity`` at ``price`` to a position (linear contracts).

    Increases average the entry; reductions realise ``closed × (price − entry)``; a flip
    opens the remainder at ``price``. Fees are not included.
    """
    if size == 0 or (quantity > 0) == (size > 0):
        new_size = size + quantity
        new_entry = (size * entry + quantity * price) / new_size if new_size else ZERO
        return FillOutcome(new_size, new_entry, ZERO)
    closed = min(abs(quantity), abs(size)) * (1 if size > 0 else -1)
    realized = closed * (price - entry)
    new_size = size + quantity
    if new_size == 0:
        return FillOutcome(new_size, ZERO, realized)
    flipped = (new_size > 0) != (size > 0)
    return FillOutcome(new_size, price if flipped else entry, realized)


class Position:
    """A mutable position on one instrument in one account."""

    __slots__ = (
        "entry_price",
        "funding_paid",
        "instrument",
        "realized_pnl",
        "size",
    )

    def __init__(
        self,
        instrument: str,
        size: Decimal = ZERO,
        entry_price: Decimal = ZERO,
    ) -> None:
        self.instrument = instrument
        self.size = size
        self.entry_price = entry_price
        self.realized_pnl = ZERO
        self.funding_paid = ZERO

    @property
    def is_flat(self) -> bool:
        return self.size == 0

    def fill(self, quantity: Decimal, price: Decimal) -> Decimal:
        """Apply a signed fill and return the PnL it realised."""
        outcome = apply_fill(self.size, self.entry_price, quantity, price)
        self.size = outcome.size
        self.entry_price = outcome.entry_price
        self.realized_pnl += outcome.realized_pnl
        return outcome.realized_pnl

    def unrealized_pnl(self, mark: Decimal) -> Decimal:
        return self.size * (mark - self.entry_price)

    def __repr__(self) -> str:
        return f"Position({self.instrument!r}, size={self.size}, entry={self.entry_price})"
