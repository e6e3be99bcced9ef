"""Strategies by name: the examples shipped with xmargin, or any ``module:Class``."""

from __future__ import annotations

import importlib

from xmargin.core.errors import ConfigError
from xmargin.strategy.base import Strategy
from xmargin.strategy.examples.buy_and_hold import BuyAndHold
from xmargin.strategy.examples.funding_carry import FundingCarry
from xmargin.strategy.examples.funding_perp_perp import FundingPerpPerp
from xmargin.strategy.examples.ml_forest import MlForest
from xmargin.strategy.examples.multi_timeframe import MultiTimeframe
from xmargin.strategy.examples.peg_reversion import PegReversion
from xmargin.strategy.examples.qqe import QqeStrategy
from xmargin.strategy.examples.sma_cross import SmaCross
from xmargin.strategy.examples.sma_momentum import SmaMomentum
from xmargin.strategy.examples.spread_arb import SpreadArb

BUILT_IN: dict[str, type[Strategy]] = {
    cls.name: cls
    for cls in (
        SmaCross,
        BuyAndHold,
        FundingCarry,
        FundingPerpPerp,
        SpreadArb,
        PegReversion,
        QqeStrategy,
        SmaMomentum,
        MultiTimeframe,
        MlForest,
    )
}


def resolve_strategy(name: str, where: str = "strategy") -> type[Strategy]:
    """Return the strategy class called ``name`` (a built-in name or ``package.module:Class``)."""
    if name in BUILT_IN:
        return BUILT_IN[name]
    module_name, _, class_name = name.partition(":")
    if not class_name:
        known = ", ".join(sorted(BUILT_IN))
        raise ConfigError(
            f"unknown strategy {name!r} (built in: {known}; or module:Class)", where=where
        )
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"cannot load strategy {name!r}: {exc}", where=where) from None
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise ConfigError(f"{name!r} is not a Strategy subclass", where=where)
    return cls
