"""Market data: bars, trades, quotes, book snapshots, mark and index prices, funding rates.

Timestamps are integer nanoseconds UTC: ``ts_event`` is when it happened at the venue
(a bar's open time for bars), ``ts_init`` when we saw it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Bar:
    instrument: str
    timeframe: str
    ts_event: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    ts_init: int = 0


@dataclass(frozen=True, slots=True)
class Trade:
    instrument: str
    ts_event: int
    price: Decimal
    quantity: Decimal
    aggressor_is_buyer: bool
    trade_id: str = ""
    ts_init: int = 0


@dataclass(frozen=True, slots=True)
class Quote:
    instrument: str
    ts_event: int
    bid: Decimal
    bid_size: Decimal
    ask: Decimal
    ask_size: Decimal
    ts_init: int = 0

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / 2


@dataclass(frozen=True, slots=True)
class BookSnapshot:
    """Price levels, best first: ``bids`` descending, ``asks`` ascending, as (price, size)."""

    instrument: str
    ts_event: int
    bids: tuple[tuple[Decimal, Decimal], ...]
    asks: tuple[tuple[Decimal, Decimal], ...]
    ts_init: int = 0


@dataclass(frozen=True, slots=True)
class MarkPrice:
    instrument: str
    ts_event: int
    price: Decimal
    ts_init: int = 0


@dataclass(frozen=True, slots=True)
class IndexPrice:
    instrument: str
    ts_event: int
    price: Decimal
    ts_init: int = 0


@dataclass(frozen=True, slots=True)
class FundingRate:
    """The funding rate settled at ``ts_event`` for the interval ending then (> 0: longs pay)."""

    instrument: str
    ts_event: int
    rate: Decimal
    interval_hours: int = 8
    ts_init: int = 0
