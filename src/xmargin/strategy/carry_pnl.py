"""Split a carry trade's PnL into funding, fees, interest and basis, from the run's events.

Funding, fees and interest are summed exactly from the events of the strategy's accounts
(``FundingSettled``, ``OrderFilled``, ``InterestCharged`` and the first hour charged with
``LoanBorrowed``); basis is the rest of the equity change: the price PnL of the two legs,
which for a hedged pair is the change of the spread between them. Amounts in different
stablecoins (USDT, USDC) are added at par; interest owed in another asset (a borrowed coin)
and fees paid in the asset received (Binance spot buys) are valued by
``value(asset, amount)`` when they are charged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

from xmargin.model.events import FundingSettled, InterestCharged, LoanBorrowed, OrderFilled
from xmargin.model.numbers import ZERO


class CarryAttribution:
    """Running totals per source of PnL (positive = earned) for a set of accounts."""

    def __init__(
        self,
        accounts: Iterable[str],
        value: Callable[[str, Decimal], Decimal] | None = None,
    ) -> None:
        self.accounts = frozenset(accounts)
        self.value = value or (lambda _asset, amount: amount)
        self.funding = ZERO
        self.fees = ZERO
        self.interest = ZERO
        self.funding_by_leg: dict[tuple[str, str], Decimal] = {}
        self.settlements = 0
        self.start_equity: Decimal | None = None
        self.equity = ZERO

    def on_event(self, event: object) -> None:
        """Book one event if it concerns one of the accounts."""
        if getattr(event, "account", None) not in self.accounts:
            return
        if isinstance(event, FundingSettled):
            received = -event.amount
            self.funding += received
            key = (event.account, event.instrument)
            self.funding_by_leg[key] = self.funding_by_leg.get(key, ZERO) + received
            self.settlements += 1
        elif isinstance(event, OrderFilled):
            self.fees -= self.value(event.fee_asset, event.fee)
        elif isinstance(event, InterestCharged):
            self.interest -= self.value(event.asset, event.amount)
        elif isinstance(event, LoanBorrowed) and event.first_hour_interest:
            self.interest -= self.value(event.asset, event.first_hour_interest)

    def mark(self, equity: Decimal) -> None:
        """Record the accounts' total equity now (the first call sets the start)."""
        if self.start_equity is None:
            self.start_equity = equity
        self.equity = equity

    @property
    def total(self) -> Decimal:
        return self.equity - (self.start_equity or self.equity)

    @property
    def basis(self) -> Decimal:
        return self.total - self.funding - self.fees - self.interest

    def as_dict(self) -> dict[str, str]:
        """The split, rounded to cents for display."""
        cent = Decimal("0.01")
        return {
            "total": str(self.total.quantize(cent)),
            "funding": str(self.funding.quantize(cent)),
            "basis": str(self.basis.quantize(cent)),
            "fees": str(self.fees.quantize(cent)),
            "interest": str(self.interest.quantize(cent)),
            "settlements": str(self.settlements),
        }
