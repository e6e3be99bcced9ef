"""Market data: bars, trades, quotes, book snapshots, mark and index prices, funding rates.

Market data values are the floats the venue published; they become exact only through an
instrument's ``make_price``/``make_mark``. Timestamps are integer nanoseconds UTC:
``ts_event`` is when the data became known (a bar's close), ``ts_open`` a bar's open time.
These are plain slotted classes rather than dataclasses: a backtest builds millions.
"""

from __future__ import annotations


class Bar:
    """One OHLCV bar of ``instrument`` on ``venue``, known at ``ts_event`` (its close time)."""

    __slots__ = (
        "close",
        "high",
        "instrument",
        "low",
        "open",
        "timeframe",
        "ts_event",
        "ts_open",
        "venue",
        "volume",
    )

    def __init__(
        self,
        venue: str,
        instrument: str,
        timeframe: str,
        ts_open: int,
        ts_event: int,
        open: float,
        high: float,
        low: float,
        close: float,
        volume: float,
    ) -> None:
        self.venue = venue
        self.instrument = instrument
        self.timeframe = timeframe
        self.ts_open = ts_open
        self.ts_event = ts_event
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume

    def __repr__(self) -> str:
        return (
            f"Bar({self.venue}:{self.instrument} {self.timeframe} @{self.ts_open} "
            f"O={self.open} H={self.high} L={self.low} C={self.close} V={self.volume})"
        )


class Trade:
    """One public trade; ``aggressor_is_buyer`` is true when the taker bought."""

    __slots__ = ("aggressor_is_buyer", "instrument", "price", "quantity", "ts_event", "venue")

    def __init__(
        self,
        venue: str,
        instrument: str,
        ts_event: int,
        price: float,
        quantity: float,
        aggressor_is_buyer: bool,
    ) -> None:
        self.venue = venue
        self.instrument = instrument
        self.ts_event = ts_event
        self.price = price
        self.quantity = quantity
        self.aggressor_is_buyer = aggressor_is_buyer


class Quote:
    """Best bid and offer with their sizes."""

    __slots__ = ("ask", "ask_size", "bid", "bid_size", "instrument", "ts_event", "venue")

    def __init__(
        self,
        venue: str,
        instrument: str,
        ts_event: int,
        bid: float,
        bid_size: float,
        ask: float,
        ask_size: float,
    ) -> None:
        self.venue = venue
        self.instrument = instrument
        self.ts_event = ts_event
        self.bid = bid
        self.bid_size = bid_size
        self.ask = ask
        self.ask_size = ask_size

    @property
    def mid(self) -> float:
        return (self.bid + self.ask) / 2


class BookSnapshot:
    """Price levels, best first: ``bids`` descending, ``asks`` ascending, as (price, size)."""

    __slots__ = ("asks", "bids", "instrument", "ts_event", "venue")

    def __init__(
        self,
        venue: str,
        instrument: str,
        ts_event: int,
        bids: tuple[tuple[float, float], ...],
        asks: tuple[tuple[float, float], ...],
    ) -> None:
        self.venue = venue
        self.instrument = instrument
        self.ts_event = ts_event
        self.bids = bids
        self.asks = asks


class MarkPrice:
    """A venue's mark price over an interval: its open, extremes and close (one value for ticks)."""

    __slots__ = ("close", "high", "instrument", "low", "open", "ts_event", "ts_open", "venue")

    def __init__(
        self,
        venue: str,
        instrument: str,
        ts_open: int,
        ts_event: int,
        open: float,
        high: float,
        low: float,
        close: float,
    ) -> None:
        self.venue = venue
        self.instrument = instrument
        self.ts_open = ts_open
        self.ts_event = ts_event
        self.open = open
        self.high = high
        self.low = low
        self.close = close


class IndexPrice(MarkPrice):
    """A venue's index (or oracle) price over an interval."""

    __slots__ = ()


class FundingRate:
    """The rate settled at ``ts_event`` for the interval ending then (positive: longs pay)."""

    __slots__ = ("instrument", "interval_hours", "rate", "ts_event", "venue")

    def __init__(
        self, venue: str, instrument: str, ts_event: int, rate: float, interval_hours: int = 8
    ) -> None:
        self.venue = venue
        self.instrument = instrument
        self.ts_event = ts_event
        self.rate = rate
        self.interval_hours = interval_hours
