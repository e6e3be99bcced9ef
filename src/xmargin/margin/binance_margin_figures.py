"""Binance Cross Margin account figures (spec §B.3): TA, TL, TI, CV and the Pro totals.

Balances are holdings (free + locked, never negative); liabilities are the loans.
Every amount is valued at the asset's valuation price in the account's quote.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from xmargin.core.errors import DataError
from xmargin.margin.binance_margin_pro import LiabilityBrackets
from xmargin.margin.snapshot import AccountSnapshot
from xmargin.model.instruments import InstrumentKind, parse_symbol
from xmargin.model.numbers import ZERO


@dataclass(frozen=True, slots=True)
class ClassicFigures:
    """TA, TL, TI and CV of one account; ML and CML are None without liabilities."""

    total_assets: Decimal
    total_liabilities: Decimal
    total_interest: Decimal
    collateral_value: Decimal

    @property
    def owed(self) -> Decimal:
        """``TL + TI``."""
        return self.total_liabilities + self.total_interest

    @property
    def equity(self) -> Decimal:
        return self.total_assets - self.owed

    @property
    def margin_level(self) -> Decimal | None:
        return self.total_assets / self.owed if self.owed > 0 else None

    @property
    def collateral_margin_level(self) -> Decimal | None:
        return self.collateral_value / self.owed if self.owed > 0 else None


@dataclass(frozen=True, slots=True)
class ProFigures:
    """Pro totals: net collateral, open-order loss and per-asset MM and IM."""

    net_collateral: Decimal
    open_order_loss: Decimal
    maintenance: Mapping[str, Decimal]
    initial: Mapping[str, Decimal]

    @property
    def total_maintenance(self) -> Decimal:
        return sum(self.maintenance.values(), ZERO)

    @property
    def total_initial(self) -> Decimal:
        return sum(self.initial.values(), ZERO)

    @property
    def usable_collateral(self) -> Decimal:
        """``net_coll − Σ open_order_loss``, the numerator of the Pro margin level."""
        return self.net_collateral - self.open_order_loss

    @property
    def margin_level(self) -> Decimal | None:
        mm = self.total_maintenance
        return self.usable_collateral / mm if mm > 0 else None


def classic_figures(
    account: AccountSnapshot, quote: str, ratio: Callable[[str], Decimal]
) -> ClassicFigures:
    """Value every holding and loan: ``TA``, ``TL``, ``TI`` and ``CV``."""
    if account.positions:
        raise DataError("Binance Cross Margin holds no derivatives positions", field="positions")
    total_assets = collateral = ZERO
    for asset, amount in account.balances.items():
        if amount < 0:
            raise DataError(
                f"holding of {asset} is {amount}; a Binance margin debt is a loan, not a "
                "negative balance",
                field=f"balances.{asset}",
            )
        if amount == 0:
            continue
        value = amount * account.price_of(asset, quote)
        total_assets += value
        collateral += value * ratio(asset)
    principal = interest = ZERO
    for loan in account.loans:
        price = account.price_of(loan.asset, quote)
        principal += loan.principal * price
        interest += loan.interest * price
    return ClassicFigures(total_assets, principal, interest, collateral)


def pro_figures(
    account: AccountSnapshot,
    quote: str,
    ratio: Callable[[str], Decimal],
    brackets: Callable[[str], LiabilityBrackets],
) -> ProFigures:
    """Compute net collateral, open-order loss and each liability's MM and IM."""
    classic = classic_figures(account, quote, ratio)
    maintenance: dict[str, Decimal] = {}
    initial: dict[str, Decimal] = {}
    for loan in account.loans:
        liability = loan.liability * account.price_of(loan.asset, quote)
        table = brackets(loan.asset)
        maintenance[loan.asset] = table.maintenance(liability)
        initial[loan.asset] = table.initial(liability)
    return ProFigures(
        net_collateral=classic.collateral_value - classic.owed,
        open_order_loss=open_order_loss(account, quote, ratio),
        maintenance=maintenance,
        initial=initial,
    )


def open_order_loss(
    account: AccountSnapshot, quote: str, ratio: Callable[[str], Decimal]
) -> Decimal:
    """Sum ``max(0, CV of what an order spends − CV of what it receives)`` over open orders.

    **[assumption]** Binance defines the loss on collateral values; this reads it as the
    haircut value given up minus the haircut value received if the order filled at its
    limit price, valued at the current valuation prices.
    """
    total = ZERO
    for order in account.orders:
        spec = parse_symbol(order.instrument)
        if spec.kind is not InstrumentKind.SPOT:
            raise DataError(f"{order.instrument} is not a spot market", field="orders")
        base_value = abs(order.quantity) * account.price_of(spec.base, quote) * ratio(spec.base)
        quote_amount = abs(order.quantity) * order.price
        quote_value = quote_amount * account.price_of(spec.quote, quote) * ratio(spec.quote)
        if order.quantity > 0:
            total += max(ZERO, quote_value - base_value)
        else:
            total += max(ZERO, base_value - quote_value)
    return total
