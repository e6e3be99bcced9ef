"""Solve for the price at which a piecewise-linear margin gap reaches zero."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, localcontext

_PRECISION = 60
_MAX_NEWTON_STEPS = 64
_MAX_BISECTION_STEPS = 200
_FAR = Decimal("1e12")


def solve_price(gap_at: Callable[[Decimal], Decimal], start: Decimal) -> Decimal | None:
    """Return the positive price where ``gap_at`` crosses zero; None if it never does.

    The margin gap of a cross account is continuous, monotone and piecewise linear in any
    one price (tiered maintenance adds kinks, never jumps), so Newton steps on the local
    slope land exactly on the root of each linear piece and finish in a few steps. When a
    step leaves the positive prices, the root (if any) is bracketed between the start and
    a price a trillion times smaller or larger, and bisected.
    """
    if start <= 0:
        return None
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        value = gap_at(start)
        if value == 0:
            return start
        slope = _slope(gap_at, start, value)
        if slope == 0:
            return None
        root = _newton(gap_at, start, value, slope)
        if root is None:
            downward = (value > 0) == (slope > 0)
            far = start / _FAR if downward else start * _FAR
            root = _bisect(gap_at, start, value, far)
    return None if root is None else +root


def _slope(gap_at: Callable[[Decimal], Decimal], price: Decimal, value: Decimal) -> Decimal:
    step = price.scaleb(-20)
    slope = (gap_at(price + step) - value) / step
    if slope == 0:
        slope = (value - gap_at(price - step)) / step
    return slope


def _newton(
    gap_at: Callable[[Decimal], Decimal], price: Decimal, value: Decimal, slope: Decimal
) -> Decimal | None:
    start = price
    for _ in range(_MAX_NEWTON_STEPS):
        following = price - value / slope
        if following <= 0 or following > start * _FAR:
            return None
        if abs(following - price) <= price.scaleb(-40):
            return following
        price = following
        value = gap_at(price)
        if value == 0:
            return price
        slope = _slope(gap_at, price, value)
        if slope == 0:
            return None
    return None


def _bisect(
    gap_at: Callable[[Decimal], Decimal], start: Decimal, value: Decimal, far: Decimal
) -> Decimal | None:
    """Bisect between ``start`` and ``far`` if the gap changes sign there; else None."""
    if (gap_at(far) > 0) == (value > 0):
        return None
    low, high = sorted((start, far))
    low_positive = gap_at(low) > 0
    for _ in range(_MAX_BISECTION_STEPS):
        middle = (low + high) / 2
        if (gap_at(middle) > 0) == low_positive:
            low = middle
        else:
            high = middle
        if high - low <= high.scaleb(-45):
            break
    return (low + high) / 2
