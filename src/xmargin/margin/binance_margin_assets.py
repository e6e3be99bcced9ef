"""The packaged Binance Cross Margin asset defaults: collateral ratios, interest, Pro brackets.

The values live in ``xmargin/margin/data/binance_margin_assets.toml`` and are dated
examples; the file says where each comes from.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from xmargin.core.errors import ConfigError
from xmargin.margin.binance_margin_pro import LiabilityBrackets, build_brackets
from xmargin.model.numbers import NumberError, parse_non_negative

ASSETS_FILE = "binance_margin_assets.toml"
HOURS_PER_DAY = 24


@dataclass(frozen=True, slots=True)
class BinanceMarginAssets:
    """Per-asset defaults: collateral ratios, hourly interest rates and Pro brackets."""

    collateral_ratios: Mapping[str, Decimal]
    default_collateral_ratio: Decimal
    hourly_rates: Mapping[str, Decimal]
    default_hourly_rate: Decimal
    pro_brackets: Mapping[str, LiabilityBrackets]


@cache
def packaged_assets() -> BinanceMarginAssets:
    """Load the packaged defaults once (read-only mappings)."""
    text = resources.files("xmargin.margin.data").joinpath(ASSETS_FILE).read_text("utf-8")
    return parse_assets(text, source=f"xmargin/margin/data/{ASSETS_FILE}")


def parse_assets(text: str, *, source: str) -> BinanceMarginAssets:
    """Parse the asset-defaults TOML (numbers read as exact decimals)."""
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", where=source) from None
    ratios = _numbers(data.get("collateral_ratios", {}), f"{source}: collateral_ratios")
    daily = _numbers(data.get("daily_interest_rates", {}), f"{source}: daily_interest_rates")
    brackets_raw = data.get("pro_brackets", {})
    if not isinstance(brackets_raw, Mapping):
        raise ConfigError("must be a table of asset = [brackets]", where=f"{source}: pro_brackets")
    brackets = {
        asset: build_brackets(asset, rows, f"{source}: pro_brackets")
        for asset, rows in brackets_raw.items()
    }
    return BinanceMarginAssets(
        collateral_ratios=MappingProxyType(ratios),
        default_collateral_ratio=_number(
            data.get("default_collateral_ratio"), f"{source}: default_collateral_ratio"
        ),
        hourly_rates=MappingProxyType({a: r / HOURS_PER_DAY for a, r in daily.items()}),
        default_hourly_rate=_number(
            data.get("default_daily_interest_rate"), f"{source}: default_daily_interest_rate"
        )
        / HOURS_PER_DAY,
        pro_brackets=MappingProxyType(brackets),
    )


def _numbers(raw: Any, where: str) -> dict[str, Decimal]:
    if not isinstance(raw, Mapping):
        raise ConfigError("must be a table of asset = number", where=where)
    return {str(k): _number(v, f"{where}.{k}") for k, v in raw.items()}


def _number(raw: Any, where: str) -> Decimal:
    try:
        return parse_non_negative(raw)
    except NumberError as exc:
        raise ConfigError(str(exc), where=where) from None
