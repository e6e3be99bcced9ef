"""Binance Cross Margin loans over an account snapshot: borrow, hourly accrual, repayment.

Interest is simple and hourly (spec §B.3): a borrow of ``B`` adds ``B`` to the principal
and to the free balance and charges the first hour at once (``B × hourly_rate``); every
full hour charges ``principal × hourly_rate``; interest never accrues on interest.
Repayments pay interest first, then principal, and only from the asset's own balance.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from xmargin.core.errors import TerminalVenueError
from xmargin.margin.snapshot import AccountSnapshot, LoanSnapshot
from xmargin.model.numbers import ZERO


@dataclass(frozen=True, slots=True)
class Repayment:
    """The account after a repayment and how the amount was split."""

    account: AccountSnapshot
    interest_paid: Decimal
    principal_paid: Decimal

    @property
    def paid(self) -> Decimal:
        return self.interest_paid + self.principal_paid


def loan_of(account: AccountSnapshot, asset: str) -> LoanSnapshot:
    """Return ``asset``'s loan, or an empty one."""
    return account.loan(asset) or LoanSnapshot(asset, ZERO, ZERO)


def add_loan(
    account: AccountSnapshot, asset: str, amount: Decimal, hourly_rate: Decimal
) -> AccountSnapshot:
    """Record a borrow of ``amount``: principal grows and the first hour is charged now.

    The balance is left alone (auto-borrow covers a shortfall that was already spent).
    """
    if amount <= 0:
        raise ValueError(f"borrow amount must be positive, got {amount}")
    loan = loan_of(account, asset)
    return account.with_loan(
        LoanSnapshot(asset, loan.principal + amount, loan.interest + amount * hourly_rate)
    )


def borrow(
    account: AccountSnapshot, asset: str, amount: Decimal, hourly_rate: Decimal
) -> AccountSnapshot:
    """Borrow ``amount`` of ``asset``: free balance and principal grow, first hour charged now."""
    credited = account.with_balance(asset, account.balance(asset) + amount)
    return add_loan(credited, asset, amount, hourly_rate)


def accrue_hour(account: AccountSnapshot, hourly_rate: Callable[[str], Decimal]) -> AccountSnapshot:
    """Charge one full hour of interest on every outstanding principal (not on interest)."""
    for loan in account.loans:
        if loan.principal > 0:
            charged = loan.principal * hourly_rate(loan.asset)
            account = account.with_loan(
                LoanSnapshot(loan.asset, loan.principal, loan.interest + charged)
            )
    return account


def settle_loan(account: AccountSnapshot, asset: str, amount: Decimal) -> Repayment:
    """Apply ``amount`` to ``asset``'s loan, interest first, without touching the balance."""
    loan = loan_of(account, asset)
    interest_paid = min(amount, loan.interest)
    principal_paid = min(amount - interest_paid, loan.principal)
    remaining = LoanSnapshot(asset, loan.principal - principal_paid, loan.interest - interest_paid)
    return Repayment(account.with_loan(remaining), interest_paid, principal_paid)


def repay(account: AccountSnapshot, asset: str, amount: Decimal) -> Repayment:
    """Repay up to ``amount`` of ``asset`` from its balance, interest first, then principal.

    Only what is owed is taken; asking to repay more than the balance holds is refused
    with ``TerminalVenueError``.
    """
    if amount <= 0:
        raise ValueError(f"repay amount must be positive, got {amount}")
    held = account.balance(asset)
    if amount > held:
        raise TerminalVenueError(f"cannot repay {amount} {asset}: only {held} held")
    settled = settle_loan(account, asset, amount)
    after = settled.account.with_balance(asset, held - settled.paid)
    return Repayment(after, settled.interest_paid, settled.principal_paid)
