"""Binance USDⓈ-M funding rate, premium index and mark price (spec §C.3, examples C-4 … C-6)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

DEFAULT_INTEREST_8H = Decimal("0.0001")
PREMIUM_CLAMP = Decimal("0.0005")


def interest_rate(interval_hours: int) -> Decimal:
    """Return the interest component per funding interval: 0.0003 × H / 24 (0.0001 for 8 h)."""
    return Decimal("0.0003") * interval_hours / 24


def premium_index(impact_bid: Decimal, impact_ask: Decimal, index: Decimal) -> Decimal:
    """Return one premium sample from the impact bid/ask and the index."""
    return (max(Decimal(0), impact_bid - index) - max(Decimal(0), index - impact_ask)) / index


def average_premium(samples: Sequence[Decimal]) -> Decimal:
    """Return the time-weighted premium: sample k weighs k, so later samples count more."""
    if not samples:
        return Decimal(0)
    weighted = sum((k * s for k, s in enumerate(samples, start=1)), Decimal(0))
    return weighted / (len(samples) * (len(samples) + 1) // 2)


def funding_rate(
    premium: Decimal,
    interest: Decimal = DEFAULT_INTEREST_8H,
    *,
    cap: Decimal | None = None,
    floor: Decimal | None = None,
) -> Decimal:
    """Return ``F = P + clamp(I − P, ±0.0005)``, then clamped to ``[floor, cap]`` when given."""
    rate = premium + min(PREMIUM_CLAMP, max(-PREMIUM_CLAMP, interest - premium))
    if cap is not None:
        rate = min(rate, cap)
    if floor is not None:
        rate = max(rate, floor)
    return rate


def mark_price(
    index: Decimal,
    last_funding_rate: Decimal,
    time_to_funding: Decimal,
    funding_interval: Decimal,
    basis_mean: Decimal,
    last_price: Decimal,
) -> Decimal:
    """Return ``median(price1, price2, last)`` of the perpetual's mark-price rule.

    ``price1`` projects the last funding rate over the time left in the interval;
    ``price2`` adds the 5-minute mean of ``mid − index`` to the index.
    """
    price1 = index * (1 + last_funding_rate * time_to_funding / funding_interval)
    price2 = index + basis_mean
    return sorted((price1, price2, last_price))[1]


def impact_notional(max_leverage: Decimal, margin: Decimal = Decimal(200)) -> Decimal:
    """Return the impact notional: 200 USDT of margin at the top leverage."""
    return margin * max_leverage
