"""Find the largest order quantity a margin account still accepts."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, localcontext

_RESOLUTION = Decimal("1e-12")


def max_fill_size(gap_after: Callable[[Decimal], Decimal], free_below: Decimal) -> Decimal:
    """Return the largest ``q ≥ free_below`` with ``gap_after(q) ≥ 0``, to 1e-12 units.

    ``free_below`` is the quantity that only reduces an existing position, always allowed.
    ``gap_after`` must be non-increasing in ``q`` beyond it (more size never frees margin).
    """
    with localcontext() as ctx:
        ctx.prec = 50
        if gap_after(free_below) < 0:
            return free_below
        low = free_below
        high = max(free_below * 2, Decimal(1))
        while gap_after(high) >= 0:
            low = high
            high *= 2
            if high > Decimal("1e18"):
                return high
        while high - low > _RESOLUTION:
            middle = (low + high) / 2
            if gap_after(middle) >= 0:
                low = middle
            else:
                high = middle
    return low.quantize(_RESOLUTION)
