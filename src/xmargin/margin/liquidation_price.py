"""Solve for the price at which a piecewise-linear margin gap reaches zero."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, localcontext

_PRECISION = 60
_MAX_NEWTON_STEPS = 64
_MAX_BISECTION_STEPS = 400


def solve_price(gap_at: Callable[[Decimal], Decimal], start: Decimal) -> Decimal | None:
    """Return the positive price where ``gap_at`` crosses zero, nearest ``start``; None if none.

    The margin gap of a cross account is continuous and piecewise linear in any one price
    (tiered maintenance adds kinks, never jumps), so Newton steps on the local slope land
    exactly on the root of each linear piece and finish in a few steps. Bisection backs
    them up should a step leave the positive prices or fail to settle.
    """
    if start <= 0:
        return None
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        root = _newton(gap_at, start)
        if root is None:
            root = _bisect(gap_at, start)
    return None if root is None else +root


def _slope(gap_at: Callable[[Decimal], Decimal], price: Decimal, value: Decimal) -> Decimal:
    step = price.scaleb(-20)
    slope = (gap_at(price + step) - value) / step
    if slope == 0:
        slope = (value - gap_at(price - step)) / step
    return slope


def _newton(gap_at: Callable[[Decimal], Decimal], start: Decimal) -> Decimal | None:
    price = start
    for _ in range(_MAX_NEWTON_STEPS):
        value = gap_at(price)
        if value == 0:
            return price
        slope = _slope(gap_at, price, value)
        if slope == 0:
            return None
        following = price - value / slope
        if following <= 0:
            return None
        if abs(following - price) <= price.scaleb(-40):
            return following
        price = following
    return None


def _bisect(gap_at: Callable[[Decimal], Decimal], start: Decimal) -> Decimal | None:
    """Bracket a sign change below or above ``start`` and bisect it."""
    value = gap_at(start)
    if value == 0:
        return start
    low, high = start, start
    found = False
    for _ in range(200):
        low = low / 2
        if (gap_at(low) > 0) != (value > 0):
            high = low * 2
            found = True
            break
        high = high * 2
        if (gap_at(high) > 0) != (value > 0):
            low = high / 2
            found = True
            break
    if not found:
        return None
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
