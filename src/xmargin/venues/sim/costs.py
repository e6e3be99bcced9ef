"""Trading costs of the simulated exchange: maker/taker fees and slippage models."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """Maker and taker fee rates, charged on fill notional in the settlement asset."""

    maker: Decimal = Decimal("0.0002")
    taker: Decimal = Decimal("0.0005")

    def rate(self, liquidity: str) -> Decimal:
        return self.maker if liquidity == "maker" else self.taker


@dataclass(frozen=True, slots=True)
class Slippage:
    """How far a taker fill lands from its reference price, and how much a bar can absorb.

    ``kind``: ``none``; ``fixed_bps`` (every taker fill ``bps`` worse); ``volume`` (fills are
    capped at ``participation`` of the bar's volume — the rest waits for later bars — and
    pay ``impact_bps`` per 100 % of the bar's volume they take).
    """

    kind: str = "none"
    bps: float = 0.0
    participation: float = 1.0
    impact_bps: float = 0.0

    def capacity(self, bar_volume: float) -> float | None:
        """Return the most a bar lets one instrument fill, or None when unlimited."""
        if self.kind != "volume":
            return None
        return self.participation * bar_volume

    def adjust(self, price: float, side_sign: int, quantity: float, bar_volume: float) -> float:
        """Return the taker fill price for ``quantity`` at reference ``price``."""
        if self.kind == "fixed_bps":
            return price * (1 + side_sign * self.bps / 10_000)
        if self.kind == "volume" and bar_volume > 0:
            return price * (1 + side_sign * self.impact_bps / 10_000 * quantity / bar_volume)
        return price
