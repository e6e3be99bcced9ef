"""Assets: coins and fiat, with a stablecoin flag and the peg a stablecoin aims for."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

KNOWN_STABLECOINS: dict[str, str] = {
    "USDT": "USD",
    "USDC": "USD",
    "BUSD": "USD",
    "FDUSD": "USD",
    "TUSD": "USD",
    "USDP": "USD",
    "USD1": "USD",
    "DAI": "USD",
    "UST": "USD",
    "USDE": "USD",
}


@dataclass(frozen=True, slots=True)
class Asset:
    """A currency that balances, loans and fees are held in."""

    code: str
    precision: int = 8
    is_stablecoin: bool = False
    peg_currency: str | None = None
    peg: Decimal | None = None

    @classmethod
    def named(cls, code: str, precision: int = 8) -> Asset:
        """Build an asset from its code, flagging the well-known USD stablecoins."""
        code = code.upper()
        if code in KNOWN_STABLECOINS:
            return cls(code, precision, True, KNOWN_STABLECOINS[code], Decimal(1))
        return cls(code, precision)

    def depeg(self, price_in_peg_currency: Decimal) -> Decimal:
        """Return how far a stablecoin trades from its peg (negative below the peg)."""
        if self.peg is None:
            raise ValueError(f"{self.code} is not a pegged asset")
        return price_in_peg_currency - self.peg
