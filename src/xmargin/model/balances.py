"""Balances and loans held in an account."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from xmargin.core.errors import IllegalTransitionError
from xmargin.model.numbers import ZERO


@dataclass(slots=True)
class Balance:
    """What an account holds of one asset: free to use, and locked in open orders."""

    asset: str
    free: Decimal = ZERO
    locked: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.free + self.locked


class LoanStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    FAILED = "failed"
    REPAID = "repaid"


_LOAN_TRANSITIONS: dict[LoanStatus, frozenset[LoanStatus]] = {
    LoanStatus.PENDING: frozenset({LoanStatus.CONFIRMED, LoanStatus.FAILED}),
    LoanStatus.CONFIRMED: frozenset({LoanStatus.REPAID}),
    LoanStatus.FAILED: frozenset(),
    LoanStatus.REPAID: frozenset(),
}


@dataclass(slots=True)
class Loan:
    """A margin loan of one asset: principal, accrued unpaid interest and its status.

    Interest is simple (never on interest) and repayments pay interest first.
    """

    asset: str
    principal: Decimal
    interest: Decimal = ZERO
    status: LoanStatus = LoanStatus.PENDING
    loan_id: str = ""

    def transition(self, status: LoanStatus) -> None:
        """Move to ``status``; an illegal move raises ``IllegalTransitionError``."""
        if status not in _LOAN_TRANSITIONS[self.status]:
            raise IllegalTransitionError(
                f"loan {self.loan_id or self.asset}: {self.status} -> {status}"
            )
        self.status = status

    @property
    def liability(self) -> Decimal:
        return self.principal + self.interest

    def accrue(self, hourly_rate: Decimal) -> Decimal:
        """Charge one hour of interest on the principal; return the amount charged."""
        charged = self.principal * hourly_rate
        self.interest += charged
        return charged

    def repay(self, amount: Decimal) -> tuple[Decimal, Decimal]:
        """Repay up to ``amount``, interest first; return ``(interest_paid, principal_paid)``."""
        interest_paid = min(amount, self.interest)
        self.interest -= interest_paid
        principal_paid = min(amount - interest_paid, self.principal)
        self.principal -= principal_paid
        if self.principal == 0 and self.interest == 0 and self.status is LoanStatus.CONFIRMED:
            self.transition(LoanStatus.REPAID)
        return interest_paid, principal_paid
