"""Group fills into round trips: from a flat position back to flat, per account and instrument.

A trip opens when the position leaves zero and closes when it returns to zero. A fill that
flips the position (long → short or back) closes the current trip with the part that brings
it to zero and opens a new trip with the remainder. The flipping fill's realised PnL belongs
wholly to the closing part (opening a position realises nothing); its fee is split pro rata
by quantity: the closing share is ``fee × closed / |quantity|`` at the Decimal context's
precision and the opening share is the exact remainder, so the two always sum to the fee.

Trips still open after the last fill are not returned: the backtest runner flattens every
position at the end of a run, so a complete run leaves none open.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from xmargin.core.errors import DataError

_ZERO = Decimal(0)

TripSide = Literal["long", "short"]


@dataclass(frozen=True, slots=True)
class FillRecord:
    """One fill as the ledger booked it.

    ``quantity`` is signed (+ buy, − sell); ``fee`` is in the quote asset, positive when
    paid; ``realized_pnl`` is the trading PnL the fill realised, before fees.
    """

    ts_ms: int
    account: str
    instrument: str
    quantity: Decimal
    price: Decimal
    fee: Decimal
    realized_pnl: Decimal


@dataclass(frozen=True, slots=True)
class RoundTrip:
    """A position's life from flat to flat.

    ``max_quantity`` is the largest absolute size reached; ``entry_notional`` is
    Σ |quantity| × price over the fills (or fill parts) that opened or increased it;
    ``pnl`` is realised PnL minus ``fees``.
    """

    account: str
    instrument: str
    side: TripSide
    opened_ts_ms: int
    closed_ts_ms: int
    max_quantity: Decimal
    entry_notional: Decimal
    pnl: Decimal
    fees: Decimal


@dataclass(slots=True)
class _OpenTrip:
    side: TripSide
    opened_ts_ms: int
    position: Decimal
    max_quantity: Decimal
    entry_notional: Decimal
    realized_pnl: Decimal
    fees: Decimal

    def add(self, quantity: Decimal, price: Decimal, fee: Decimal, pnl: Decimal) -> None:
        """Book a fill part that does not cross zero."""
        if abs(self.position + quantity) > abs(self.position):
            self.entry_notional += abs(quantity) * price
        self.position += quantity
        self.max_quantity = max(self.max_quantity, abs(self.position))
        self.fees += fee
        self.realized_pnl += pnl


def _opened(ts_ms: int, quantity: Decimal, price: Decimal, fee: Decimal) -> _OpenTrip:
    return _OpenTrip(
        side="long" if quantity > 0 else "short",
        opened_ts_ms=ts_ms,
        position=quantity,
        max_quantity=abs(quantity),
        entry_notional=abs(quantity) * price,
        realized_pnl=_ZERO,
        fees=fee,
    )


def _closed(key: tuple[str, str], trip: _OpenTrip, ts_ms: int) -> RoundTrip:
    return RoundTrip(
        account=key[0],
        instrument=key[1],
        side=trip.side,
        opened_ts_ms=trip.opened_ts_ms,
        closed_ts_ms=ts_ms,
        max_quantity=trip.max_quantity,
        entry_notional=trip.entry_notional,
        pnl=trip.realized_pnl - trip.fees,
        fees=trip.fees,
    )


def round_trips(fills: Iterable[FillRecord]) -> list[RoundTrip]:
    """Return the closed round trips of ``fills`` (given in event order), in closing order.

    Raises ``DataError`` for a zero-quantity fill or a fill older than the previous one.
    """
    open_trips: dict[tuple[str, str], _OpenTrip] = {}
    closed: list[RoundTrip] = []
    last_ts: int | None = None
    for row, fill in enumerate(fills):
        if fill.quantity == 0:
            raise DataError("fill quantity is zero", source="fills", row=row, field="quantity")
        if last_ts is not None and fill.ts_ms < last_ts:
            raise DataError("fills are not in time order", source="fills", row=row, field="ts_ms")
        last_ts = fill.ts_ms
        key = (fill.account, fill.instrument)
        trip = open_trips.get(key)
        if trip is None:
            trip = _opened(fill.ts_ms, fill.quantity, fill.price, fill.fee)
            trip.realized_pnl += fill.realized_pnl
            open_trips[key] = trip
            continue
        after = trip.position + fill.quantity
        if after != 0 and (after > 0) != (trip.position > 0):
            closing = -trip.position
            closing_fee = fill.fee * abs(closing) / abs(fill.quantity)
            trip.add(closing, fill.price, closing_fee, fill.realized_pnl)
            closed.append(_closed(key, trip, fill.ts_ms))
            open_trips[key] = _opened(fill.ts_ms, after, fill.price, fill.fee - closing_fee)
            continue
        trip.add(fill.quantity, fill.price, fill.fee, fill.realized_pnl)
        if trip.position == 0:
            closed.append(_closed(key, trip, fill.ts_ms))
            del open_trips[key]
    return closed
