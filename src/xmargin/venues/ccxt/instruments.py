"""ccxt markets and leverage tiers as xmargin instruments and tier tables.

ccxt gives numbers as floats; each is read through its shortest ``repr`` (the venue's own
decimal string for every value a venue publishes, ``0.1`` stays ``0.1``) and checked finite.
Only ccxt's ``TICK_SIZE`` precision mode is accepted: it is what all four venues use.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from xmargin.core.errors import DataError
from xmargin.margin.tiers import Tier, TierTable
from xmargin.model.instruments import Instrument, InstrumentKind, parse_symbol

TICK_SIZE = 4  # ccxt.base.decimal_to_precision.TICK_SIZE
_CUM_TOLERANCE = Decimal("0.000001")


def exact(value: Any, what: str, *, source: str) -> Decimal:
    """A ccxt number (float, int or numeric string) as an exact, finite ``Decimal``."""
    if isinstance(value, bool) or value is None:
        raise DataError(f"{what} is missing", source=source)
    if isinstance(value, float) and not math.isfinite(value):
        raise DataError(f"{what} is not finite: {value!r}", source=source)
    try:
        number = Decimal(repr(value) if isinstance(value, float) else str(value))
    except ArithmeticError:
        raise DataError(f"{what} is not a number: {value!r}", source=source) from None
    if not number.is_finite():
        raise DataError(f"{what} is not finite: {value!r}", source=source)
    return number


def optional(value: Any, what: str, *, source: str) -> Decimal | None:
    return None if value is None or value == "" else exact(value, what, source=source)


def instrument_from_market(market: Mapping[str, Any], precision_mode: int) -> Instrument:
    """Build the instrument of one ccxt market (tick, lot, minimums, contract size, settle)."""
    symbol = str(market.get("symbol"))
    source = f"market {symbol}"
    if precision_mode != TICK_SIZE:
        raise DataError(f"precision mode {precision_mode} is not tick sizes", source=source)
    precision, limits = market.get("precision") or {}, market.get("limits") or {}
    tick = exact(precision.get("price"), "precision.price", source=source)
    lot = exact(precision.get("amount"), "precision.amount", source=source)
    if tick <= 0 or lot <= 0:
        raise DataError(f"tick {tick} and lot {lot} must be positive", source=source)
    min_size = optional((limits.get("amount") or {}).get("min"), "min amount", source=source)
    min_notional = optional((limits.get("cost") or {}).get("min"), "min cost", source=source)
    contract = optional(market.get("contractSize"), "contractSize", source=source)
    instrument = parse_symbol(
        symbol,
        price_increment=tick,
        size_increment=lot,
        min_size=min_size or Decimal(0),
        min_notional=min_notional or Decimal(0),
        contract_size=contract or Decimal(1),
    )
    _check_kind(instrument, market, source)
    return instrument


def _check_kind(instrument: Instrument, market: Mapping[str, Any], source: str) -> None:
    expected = {
        InstrumentKind.SPOT: "spot",
        InstrumentKind.LINEAR_PERPETUAL: "swap",
        InstrumentKind.INVERSE_PERPETUAL: "swap",
        InstrumentKind.DATED_FUTURE: "future",
    }[instrument.kind]
    if market.get("type") != expected:
        raise DataError(
            f"symbol says {instrument.kind.value}, ccxt says type {market.get('type')!r}",
            source=source,
        )
    settle = market.get("settle") or market.get("quote")
    if settle != instrument.settle:
        raise DataError(f"settle {settle!r} disagrees with the symbol", source=source)


def instruments_from_markets(
    markets: Mapping[str, Mapping[str, Any]], precision_mode: int, symbols: Iterable[str]
) -> dict[str, Instrument]:
    """The instruments of ``symbols``; a symbol the venue does not list is named."""
    found: dict[str, Instrument] = {}
    for symbol in symbols:
        market = markets.get(symbol)
        if market is None:
            raise DataError(f"the venue lists no market {symbol}", source="load_markets")
        found[symbol] = instrument_from_market(market, precision_mode)
    return found


def tier_table_from_ccxt(symbol: str, tiers: Iterable[Mapping[str, Any]]) -> TierTable:
    """Build a tier table from ccxt ``fetch_leverage_tiers`` rows (lowest first).

    ccxt does not parse Binance's ``cum``; it is derived by the recurrence of
    :mod:`xmargin.margin.tiers` and, when the raw row carries one, checked against it.
    """
    source = f"leverage tiers of {symbol}"
    built: list[Tier] = []
    for row in tiers:
        floor = exact(row.get("minNotional"), "minNotional", source=source)
        cap = exact(row.get("maxNotional"), "maxNotional", source=source)
        mmr = exact(row.get("maintenanceMarginRate"), "maintenanceMarginRate", source=source)
        leverage = exact(row.get("maxLeverage"), "maxLeverage", source=source)
        previous = built[-1] if built else None
        if floor != (previous.cap if previous else 0) or cap <= floor or not 0 < mmr <= 1:
            raise DataError(
                f"tier [{floor}, {cap}) with rate {mmr} does not continue the table", source=source
            )
        cum = previous.cum + floor * (mmr - previous.mmr) if previous else Decimal(0)
        given = optional((row.get("info") or {}).get("cum"), "cum", source=source)
        if given is not None and abs(given - cum) > _CUM_TOLERANCE * max(Decimal(1), cum):
            raise DataError(f"cum {given} disagrees with the recurrence ({cum})", source=source)
        built.append(Tier(floor, cap, mmr, cum, leverage))
    if not built:
        raise DataError("no tiers", source=source)
    return TierTable(symbol, tuple(built))
