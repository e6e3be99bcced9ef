"""Every venue margin model by id, and how to build one from an account file's params."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from xmargin.core.errors import ConfigError
from xmargin.margin.base import CrossMarginModel
from xmargin.margin.binance_margin import binance_cross_margin_from_params
from xmargin.margin.binance_usdm import binance_usdm_from_params
from xmargin.margin.bybit import bybit_from_params
from xmargin.margin.ftx_params import ftx_cross_from_params
from xmargin.margin.hyperliquid import hyperliquid_from_params
from xmargin.margin.params import ParamReader

Factory = Callable[[ParamReader], CrossMarginModel]

FACTORIES: dict[str, Factory] = {
    "ftx_cross": ftx_cross_from_params,
    "binance_cross_margin": binance_cross_margin_from_params,
    "binance_usdm_cross": binance_usdm_from_params,
    "hyperliquid_cross": hyperliquid_from_params,
    "bybit_uta_cross": bybit_from_params,
}


def model_ids() -> tuple[str, ...]:
    return tuple(FACTORIES)


def build_model(
    venue: object,
    params: Mapping[str, Any],
    *,
    source: str = "account",
    base_dir: Path | None = None,
) -> CrossMarginModel:
    """Build the model called ``venue`` from ``params``; unknown venues and keys are rejected.

    Errors name ``source`` and the field, e.g. ``acct.toml: params.leverage: must be positive``.
    """
    factory = FACTORIES.get(venue) if isinstance(venue, str) else None
    if factory is None:
        known = ", ".join(FACTORIES)
        raise ConfigError(f"unknown venue {venue!r} (known: {known})", where=f"{source}: venue")
    reader = ParamReader(params, f"{source}: params", base_dir)
    model = factory(reader)
    reader.finish()
    return model
