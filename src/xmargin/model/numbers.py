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


MAX_TEXT_LENGTH = 64
"""The longest number text read: longer text is rejected before it is parsed."""
MAX_SIGNIFICANT_DIGITS = 34
"""The most digits a number read may have, trailing zeros aside (decimal128's 34)."""
MAGNITUDE_CEILING_EXPONENT = 20
"""Every number read has ``|x| < 10**20`` (tier files write int64 max, 9.2e18, as no cap)."""
MAGNITUDE_FLOOR_EXPONENT = -18
"""Every non-zero number read has ``|x| ≥ 10**-18`` (the finest asset unit, 1 wei)."""


def parse_number(
    value: object,
    *,
    what: str | None = None,
    positive: bool = False,
    minimum: Decimal | None = None,
    maximum: Decimal | None = None,
    integer: bool = False,
) -> Decimal:
    """Parse ``value`` (str, int or Decimal) exactly, within bounds; the one audited number gate.

    Rejects bools, floats, NaN and infinities, text longer than :data:`MAX_TEXT_LENGTH`,
    more than :data:`MAX_SIGNIFICANT_DIGITS` digits and magnitudes outside
    ``[10**-18, 10**20)``; all checked on the text, the int's size or the Decimal's
    (sign, digits, exponent) tuple before any arithmetic, so ``1e999999999`` costs nothing.
    Then the range: ``positive`` (> 0), ``minimum``/``maximum`` (inclusive), ``integer``.
    Every failure is a :class:`NumberError` reading ``[what: ]VALUE — expected …``.
    """
    result = _exact(value, what)
    if integer and result != result.to_integral_value():
        raise _error(value, what, "a whole number")
    if positive and result <= 0:
        raise _error(value, what, "a positive number")
    if minimum is not None and result < minimum:
        raise _error(value, what, f"a number ≥ {minimum}")
    if maximum is not None and result > maximum:
        raise _error(value, what, f"a number ≤ {maximum}")
    return result


def parse_integer(
    value: object,
    *,
    what: str | None = None,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    """Parse a whole number within ``[minimum, maximum]`` (seeds, counts, minutes)."""
    result = parse_number(
        value,
        what=what,
        integer=True,
        minimum=None if minimum is None else Decimal(minimum),
        maximum=None if maximum is None else Decimal(maximum),
    )
    return int(result)


def parse_decimal(value: object, *, what: str | None = None) -> Decimal:
    """Parse ``value`` (str, int or Decimal) exactly; reject floats, NaN, infinities and bools."""
    return parse_number(value, what=what)


def parse_positive(value: object, *, what: str | None = None) -> Decimal:
    """Parse a strictly positive exact number (prices)."""
    return parse_number(value, what=what, positive=True)


def parse_non_negative(value: object, *, what: str | None = None) -> Decimal:
    """Parse an exact number that may be zero but not negative (principals, rates)."""
    return parse_number(value, what=what, minimum=ZERO)


def _exact(value: object, what: str | None) -> Decimal:
    """The value as a Decimal after the type, text-length, digit and magnitude checks."""
    if isinstance(value, bool):
        raise _error(value, what, "a number")
    if isinstance(value, float):
        raise _error(value, what, f'an exact number: write it as text, "{value!r}"')
    if isinstance(value, int):
        if abs(value) >= 10**MAGNITUDE_CEILING_EXPONENT:
            raise _error(value, what, f"a magnitude below 1e{MAGNITUDE_CEILING_EXPONENT}")
        return Decimal(value)
    if isinstance(value, str):
        text = value.strip().replace("_", "")
        if len(text) > MAX_TEXT_LENGTH:
            raise _error(value, what, f"a number of at most {MAX_TEXT_LENGTH} characters")
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise _error(value, what, 'a number such as "12.5"') from None
    elif isinstance(value, Decimal):
        result = value
    else:
        raise _error(value, what, "a number")
    if not result.is_finite():
        raise _error(value, what, "a finite number")
    _, digits, exponent = result.as_tuple()
    exponent = int(exponent)  # finite, so an int (not 'n', 'N' or 'F')
    trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    if len(digits) - trailing_zeros > MAX_SIGNIFICANT_DIGITS:
        raise _error(value, what, f"at most {MAX_SIGNIFICANT_DIGITS} significant digits")
    if not any(digits):
        if not MAGNITUDE_FLOOR_EXPONENT <= exponent < MAGNITUDE_CEILING_EXPONENT:
            raise _error(value, what, 'a number such as "0"')
        return result
    adjusted = exponent + len(digits) - 1
    if adjusted >= MAGNITUDE_CEILING_EXPONENT:
        raise _error(value, what, f"a magnitude below 1e{MAGNITUDE_CEILING_EXPONENT}")
    if adjusted < MAGNITUDE_FLOOR_EXPONENT:
        raise _error(value, what, f"zero or a magnitude of at least 1e{MAGNITUDE_FLOOR_EXPONENT}")
    return result


def _error(value: object, what: str | None, expected: str) -> NumberError:
    message = f"{shown_value(value)} — expected {expected}"
    return NumberError(f"{what}: {message}" if what else message)


def shown_value(value: object) -> str:
    """The value as the user wrote it, cut short when long (a number of 5,000 digits)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return f"an integer of about {int(value.bit_length() * 0.30103)} digits"
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else f"{value[:24]!r}… ({len(value)} characters)"
    text = str(value)
    return text if len(text) <= 40 else f"{text[:24]}… ({len(text)} characters)"


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
