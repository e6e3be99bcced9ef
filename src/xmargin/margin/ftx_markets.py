"""FTX per-market and per-coin margin parameters, their size-scaled fractions and defaults.

Defaults ship in ``xmargin/margin/data/ftx_markets.toml`` (spec §A.1); ``ftx_params``
merges an account file's overrides over them.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from xmargin.core.errors import DataError
from xmargin.model.numbers import ONE, ZERO, NumberError, parse_decimal

SIZE_WEIGHT_NUMERATOR = Decimal("1.1")
BORROW_IMF_NUMERATOR = Decimal("1.1")
BORROW_MMF_NUMERATOR = Decimal("1.03")
_DEFAULTS_FILE = "ftx_markets.toml"


@dataclass(frozen=True, slots=True)
class FtxMarket:
    """A futures market's size-scaling IMF factor and its IMF/MMF multipliers."""

    imf_factor: Decimal
    imf_weight: Decimal = ONE
    mmf_weight: Decimal = ONE

    def imf(self, open_size: Decimal, base_imf: Decimal) -> Decimal:
        """Return ``IMF_pos = max(base_imf, imf_factor × sqrt(open_size)) × imf_weight``."""
        return max(base_imf, self.imf_factor * abs(open_size).sqrt()) * self.imf_weight

    def mmf(self, size: Decimal, base_mmf: Decimal, slope: Decimal) -> Decimal:
        """Return ``MMF_pos = max(base_mmf, slope × imf_factor × sqrt(|q|)) × mmf_weight``."""
        return max(base_mmf, slope * self.imf_factor * abs(size).sqrt()) * self.mmf_weight


@dataclass(frozen=True, slots=True)
class FtxCoin:
    """A coin's collateral weights and size-scaling factor."""

    total_weight: Decimal
    initial_weight: Decimal
    imf_factor: Decimal = ZERO

    def size_weight(self, amount: Decimal) -> Decimal:
        """Return ``1.1 / (1 + imf_factor × sqrt(amount))`` for a positive holding."""
        return SIZE_WEIGHT_NUMERATOR / (1 + self.imf_factor * amount.sqrt())

    def w_total(self, amount: Decimal) -> Decimal:
        return min(self.total_weight, self.size_weight(amount))

    def w_initial(self, amount: Decimal) -> Decimal:
        return min(self.initial_weight, self.size_weight(amount))

    def borrow_imf(self, amount: Decimal) -> Decimal:
        """Return ``IMF_borrow = max(1.1 / initial_weight − 1, imf_factor × sqrt(|b|))``."""
        size_term = self.imf_factor * abs(amount).sqrt()
        return max(BORROW_IMF_NUMERATOR / self.initial_weight - 1, size_term)

    def borrow_mmf(self, amount: Decimal, slope: Decimal) -> Decimal:
        """Return ``MMF_borrow = max(1.03 / total_weight − 1, slope × imf_factor × sqrt(|b|))``."""
        size_term = slope * self.imf_factor * abs(amount).sqrt()
        return max(BORROW_MMF_NUMERATOR / self.total_weight - 1, size_term)

    def haircut_start(self, weight: Decimal) -> Decimal | None:
        """Return the holding above which the size weight falls below ``weight`` (None: never)."""
        if self.imf_factor == 0:
            return None
        return ((SIZE_WEIGHT_NUMERATOR / weight - 1) / self.imf_factor) ** 2


@cache
def _packaged() -> tuple[dict[str, FtxMarket], dict[str, FtxCoin]]:
    source = f"xmargin/margin/data/{_DEFAULTS_FILE}"
    text = resources.files("xmargin.margin.data").joinpath(_DEFAULTS_FILE).read_text("utf-8")
    raw = tomllib.loads(text, parse_float=Decimal)
    try:
        markets = {
            symbol: FtxMarket(**_numbers(fields)) for symbol, fields in raw["markets"].items()
        }
        coins = {coin: FtxCoin(**_numbers(fields)) for coin, fields in raw["coins"].items()}
    except (KeyError, TypeError, NumberError) as exc:
        raise DataError(f"malformed packaged FTX defaults: {exc}", source=source) from None
    return markets, coins


def _numbers(fields: Mapping[str, Any]) -> dict[str, Decimal]:
    return {name: parse_decimal(value, what=name) for name, value in fields.items()}


def default_markets() -> dict[str, FtxMarket]:
    """Return the packaged futures markets (BTC, ETH, SOL perpetuals)."""
    return dict(_packaged()[0])


def default_coins() -> dict[str, FtxCoin]:
    """Return the packaged collateral coins (USD, BTC, ETH, FTT, BUSD, EUR)."""
    return dict(_packaged()[1])
