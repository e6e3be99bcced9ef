"""Exact numbers: parsing into ``Decimal`` and the rounding rules of prices and quantities.

Every price, quantity and amount in xmargin is a ``Decimal``. Values enter through
:func:`parse_decimal` (text, int or Decimal: exact) or through an instrument's
``make_price``/``make_qty`` (float market data: snapped to the increment). Floats are
never accepted here, so a binary float cannot leak into the ledger by accident.
"""

from __future__ import annotations

import math
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP, Decimal, InvalidOperation

ZERO = Decimal(0)
ONE = Decimal(1)


class NumberError(ValueError):
    """A value that is not a finite decimal number (or not within its allowed range)."""


def parse_decimal(value: object, *, what: str = "value") -> Decimal:
    """Parse ``value`` (str, int or Decimal) exactly; reject floats, NaN, infinities and bools."""
    if isinstance(value, bool):
        raise NumberError(f"{what} must be a number, got {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip().replace("_", ""))
        except InvalidOperation:
            raise NumberError(f"{what} is not a number: {value!r}") from None
    elif isinstance(value, float):
        raise NumberError(
            f"{what} must be given exactly (as text or an integer), not as the float {value!r}"
        )
    else:
        raise NumberError(f"{what} must be a number, got {type(value).__name__} {value!r}")
    if not result.is_finite():
        raise NumberError(f"{what} must be finite, got {value!r}")
    return result


def parse_positive(value: object, *, what: str = "value") -> Decimal:
    """Parse a strictly positive exact number (prices)."""
    result = parse_decimal(value, what=what)
    if result <= 0:
        raise NumberError(f"{what} must be positive, got {value!r}")
    return result


def parse_non_negative(value: object, *, what: str = "value") -> Decimal:
    """Parse an exact number that may be zero but not negative (principals, rates)."""
    result = parse_decimal(value, what=what)
    if result < 0:
        raise NumberError(f"{what} must not be negative, got {value!r}")
    return result


def float_to_increments(value: float, increment: Decimal, *, what: str = "value") -> Decimal:
    """Snap a float to the nearest multiple of ``increment`` (half-even); the one float gate.

    The float is first read as its shortest round-tripping decimal text, so ``0.1`` is
    ``Decimal("0.1")``, not the binary expansion, then snapped to the grid.
    """
    if not math.isfinite(value):
        raise NumberError(f"{what} must be finite, got {value!r}")
    exact = Decimal(repr(float(value)))
    steps = (exact / increment).to_integral_value(rounding=ROUND_HALF_EVEN)
    return (steps * increment).normalize() if steps else ZERO


def round_to_increment(value: Decimal, increment: Decimal, *, mode: str = "nearest") -> Decimal:
    """Round ``value`` to a multiple of ``increment``: ``nearest`` (half-up), ``down`` or ``up``.

    ``down`` and ``up`` are toward and away from zero, so a quantity truncated ``down``
    never exceeds what was asked for, whichever its sign.
    """
    rounding = {"nearest": ROUND_HALF_UP, "down": ROUND_DOWN, "up": ROUND_UP}[mode]
    steps = (value / increment).to_integral_value(rounding=rounding)
    return steps * increment


def quantize_places(value: Decimal, places: int) -> Decimal:
    """Round half-up to ``places`` decimals (display and settlement rounding)."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def sign(value: Decimal) -> int:
    """Return -1, 0 or +1."""
    return (value > 0) - (value < 0)
