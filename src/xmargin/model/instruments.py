"""Instruments: spot pairs, linear and inverse perpetuals, dated futures, named as in ccxt."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from xmargin.model.numbers import NumberError, float_to_increments, round_to_increment

_SYMBOL = re.compile(
    r"^(?P<base>[A-Z0-9]+)/(?P<quote>[A-Z0-9]+)(?::(?P<settle>[A-Z0-9]+)(?:-(?P<expiry>\d{6}))?)?$"
)


class InstrumentKind(StrEnum):
    SPOT = "spot"
    LINEAR_PERPETUAL = "linear_perpetual"
    INVERSE_PERPETUAL = "inverse_perpetual"
    DATED_FUTURE = "dated_future"


@dataclass(frozen=True, slots=True)
class Instrument:
    """A tradable market on one venue, with its increments and limits.

    ``price_increment``/``size_increment`` are the tick and the lot; ``make_price`` and
    ``make_qty`` are the audited gate through which float market data becomes exact.
    """

    symbol: str
    kind: InstrumentKind
    base: str
    quote: str
    settle: str
    price_increment: Decimal = Decimal("0.01")
    size_increment: Decimal = Decimal("0.001")
    min_size: Decimal = Decimal(0)
    min_notional: Decimal = Decimal(0)
    contract_size: Decimal = Decimal(1)
    expiry: str | None = None
    mark_increment: Decimal = Decimal("1e-8")

    @property
    def is_derivative(self) -> bool:
        return self.kind is not InstrumentKind.SPOT

    @property
    def margin_asset(self) -> str:
        """The asset that margins and settles the instrument (the quote for spot)."""
        return self.settle

    def make_price(self, value: float) -> Decimal:
        """Convert a float price to an exact price on the tick grid."""
        price = float_to_increments(value, self.price_increment, what=f"{self.symbol} price")
        if price <= 0:
            raise NumberError(f"{self.symbol} price must be positive, got {value!r}")
        return price

    def make_mark(self, value: float) -> Decimal:
        """Convert a float mark/index price (not bound to the tick) to an exact price."""
        price = float_to_increments(value, self.mark_increment, what=f"{self.symbol} mark price")
        if price <= 0:
            raise NumberError(f"{self.symbol} mark price must be positive, got {value!r}")
        return price

    def make_qty(self, value: float) -> Decimal:
        """Convert a float quantity to an exact quantity, truncated to the lot."""
        exact = float_to_increments(value, Decimal("1e-12"), what=f"{self.symbol} quantity")
        return round_to_increment(exact, self.size_increment, mode="down")

    def round_price(self, price: Decimal) -> Decimal:
        return round_to_increment(price, self.price_increment)

    def round_qty(self, quantity: Decimal) -> Decimal:
        return round_to_increment(quantity, self.size_increment, mode="down")

    def notional(self, quantity: Decimal, price: Decimal) -> Decimal:
        """Return the quote-currency value of ``quantity`` at ``price`` (absolute)."""
        if self.kind is InstrumentKind.INVERSE_PERPETUAL:
            return abs(quantity) * self.contract_size
        return abs(quantity) * self.contract_size * price


def parse_symbol(symbol: str, **spec: Decimal) -> Instrument:
    """Build an instrument from a ccxt unified symbol such as ``BTC/USDT:USDT``.

    ``BASE/QUOTE`` is spot; ``BASE/QUOTE:SETTLE`` a perpetual (linear when the settle
    currency is the quote, inverse when it is the base); ``…:SETTLE-YYMMDD`` a dated future.
    """
    match = _SYMBOL.match(symbol)
    if match is None:
        raise ValueError(
            f"not a ccxt unified symbol: {symbol!r} (expected BASE/QUOTE or BASE/QUOTE:SETTLE)"
        )
    base, quote = match["base"], match["quote"]
    settle, expiry = match["settle"], match["expiry"]
    if settle is None:
        kind = InstrumentKind.SPOT
        settle = quote
    elif expiry is not None:
        kind = InstrumentKind.DATED_FUTURE
    elif settle == base and settle != quote:
        kind = InstrumentKind.INVERSE_PERPETUAL
    else:
        kind = InstrumentKind.LINEAR_PERPETUAL
    return Instrument(symbol, kind, base, quote, settle, expiry=expiry, **spec)
