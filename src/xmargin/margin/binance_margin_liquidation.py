"""Binance Cross Margin liquidation steps (spec §B.4) as pure functions.

The engine sells non-liability assets for the liability asset at market, charges
``liquidation_fee_rate × value sold`` **[assumption on the fee base]**, repays the
liability interest first, and stops as soon as the margin level exceeds ``liq_stop_ml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from xmargin.core.errors import InvariantError
from xmargin.margin.binance_margin_loans import loan_of, settle_loan
from xmargin.margin.snapshot import AccountSnapshot


@dataclass(frozen=True, slots=True)
class LiquidationSale:
    """The account after one liquidation sale and its figures (in the ``into`` asset)."""

    account: AccountSnapshot
    proceeds: Decimal
    fee: Decimal
    interest_repaid: Decimal
    principal_repaid: Decimal

    @property
    def repaid(self) -> Decimal:
        return self.interest_repaid + self.principal_repaid


def liquidation_sale(
    account: AccountSnapshot,
    asset: str,
    amount: Decimal,
    price: Decimal,
    *,
    into: str,
    fee_rate: Decimal,
) -> LiquidationSale:
    """Sell ``amount`` of ``asset`` at ``price`` (``into`` per unit) and repay ``into``'s loan.

    The fee ``fee_rate × amount × price`` comes out of the proceeds; the ``into`` balance
    then repays its loan, interest first, as far as it reaches.
    """
    held = account.balance(asset)
    if amount <= 0 or amount > held:
        raise InvariantError(f"liquidation cannot sell {amount} {asset}: {held} held")
    proceeds = amount * price
    fee = proceeds * fee_rate
    sold = account.with_balance(asset, held - amount)
    cash = sold.balance(into) + proceeds - fee
    owed = loan_of(sold, into).liability
    settled = settle_loan(sold, into, min(max(cash, Decimal(0)), owed))
    after = settled.account.with_balance(into, cash - settled.paid)
    return LiquidationSale(after, proceeds, fee, settled.interest_paid, settled.principal_paid)


def sale_value_to_stop(
    total_assets: Decimal, liabilities: Decimal, stop_ml: Decimal, fee_rate: Decimal
) -> Decimal | None:
    """Return the value to sell (and repay with, net of fee) to bring ML up to ``stop_ml``.

    Selling value ``V`` and repaying ``V × (1 − fee_rate)`` leaves ``TA − V`` over
    ``L − V × (1 − fee_rate)``; this solves that ratio for ``stop_ml``. The regular
    liquidation stops once ML *exceeds* ``stop_ml``, so a sale must go at least this far.
    Returns 0 when ML already exceeds ``stop_ml`` and None when no sale can reach it.
    """
    if liabilities <= 0 or total_assets > stop_ml * liabilities:
        return Decimal(0)
    gain_per_value = stop_ml * (1 - fee_rate) - 1
    if gain_per_value <= 0:
        return None
    value = (stop_ml * liabilities - total_assets) / gain_per_value
    if value * (1 - fee_rate) > liabilities or value > total_assets:
        return None
    return value


def buy_back_to_stop(
    total_assets: Decimal,
    liabilities: Decimal,
    stop_ml: Decimal,
    fee_rate: Decimal,
    price: Decimal,
) -> Decimal | None:
    """Return the quantity of a borrowed asset to buy back (and repay) to bring ML to ``stop_ml``.

    Buying ``x`` at ``price`` costs ``x × price × (1 + fee_rate)`` of the valuation asset and
    repaying it removes ``x × price`` of liabilities, leaving ``TA − x·p·(1 + f)`` over
    ``L − x·p``; this solves that ratio for ``stop_ml``. Returns 0 when ML already exceeds
    ``stop_ml`` and None when no buy-back can reach it (it would repay more than is owed).
    """
    if liabilities <= 0 or total_assets > stop_ml * liabilities:
        return Decimal(0)
    gain_per_value = stop_ml - 1 - fee_rate
    if gain_per_value <= 0 or price <= 0:
        return None
    quantity = (stop_ml * liabilities - total_assets) / (price * gain_per_value)
    if quantity * price > liabilities:
        return None
    return quantity
