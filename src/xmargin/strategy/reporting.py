"""How a strategy values its accounts' figures in the run's reporting currency."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from xmargin.model.numbers import ZERO


class Reporting(Protocol):
    """The run's reporting currency, as the backtest's results use it."""

    def value(self, account: str, amount: Decimal) -> Decimal:
        """``amount`` in ``account``'s settle currency, in the reporting currency now."""
        ...

    def currency_effect(self, account: str) -> Decimal:
        """The revaluation of ``account``'s equity by rate moves so far."""
        ...


class SettleCurrency:
    """Every account reports in its own settle currency (no conversion, no currency effect)."""

    def value(self, account: str, amount: Decimal) -> Decimal:
        return amount

    def currency_effect(self, account: str) -> Decimal:
        return ZERO
