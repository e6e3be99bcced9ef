"""Split a carry trade's PnL into funding, fees, interest, currency and basis, from events.

Funding, fees and interest are summed exactly from the events of the strategy's accounts
(``FundingSettled``, ``OrderFilled``, ``InterestCharged`` and the first hour charged with
``LoanBorrowed``), valued as the run's summary values them: a fee taken in a spot pair's base
at the fill price, interest owed in another asset by ``value(account, asset, amount)`` at the
venue's price when it is charged, and every amount converted into the run's reporting
currency by ``report(account, amount)`` at that moment. ``currency`` is the accounts'
currency effect since the start (given with each ``mark``); basis is the rest of the equity
change: the price PnL of the two legs, which for a hedged pair is the change of the spread
between them. The figures are exact, so for a strategy trading all of a run's accounts they
equal the summary's to the last digit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

from xmargin.model.events import FundingSettled, InterestCharged, LoanBorrowed, OrderFilled
from xmargin.model.numbers import ZERO
from xmargin.model.records import decimal_string


class CarryAttribution:
    """Running totals per source of PnL (positive = earned) for a set of accounts."""

    def __init__(
        self,
        accounts: Iterable[str],
        value: Callable[[str, str, Decimal], Decimal] | None = None,
        report: Callable[[str, Decimal], Decimal] | None = None,
    ) -> None:
        self.accounts = frozenset(accounts)
        self.value = value or (lambda _account, _asset, amount: amount)
        self.report = report or (lambda _account, amount: amount)
        self.funding = ZERO
        self.fees = ZERO
        self.interest = ZERO
        self.funding_by_leg: dict[tuple[str, str], Decimal] = {}
        self.settlements = 0
        self.start_equity: Decimal | None = None
        self.equity = ZERO
        self._start_effect = ZERO
        self.currency = ZERO

    def on_event(self, event: object) -> None:
        """Book one event if it concerns one of the accounts."""
        account = getattr(event, "account", None)
        if account not in self.accounts:
            return
        if isinstance(event, FundingSettled):
            received = -self.report(event.account, event.amount)
            self.funding += received
            key = (event.account, event.instrument)
            self.funding_by_leg[key] = self.funding_by_leg.get(key, ZERO) + received
            self.settlements += 1
        elif isinstance(event, OrderFilled):
            self.fees -= self.report(event.account, event.fee_in_quote())
        elif isinstance(event, InterestCharged):
            self.interest -= self._charged(event.account, event.asset, event.amount)
        elif isinstance(event, LoanBorrowed) and event.first_hour_interest:
            self.interest -= self._charged(event.account, event.asset, event.first_hour_interest)

    def _charged(self, account: str, asset: str, amount: Decimal) -> Decimal:
        return self.report(account, self.value(account, asset, amount))

    def mark(self, equity: Decimal, currency_effect: Decimal = ZERO) -> None:
        """Record the accounts' total equity and currency effect now (the first call sets
        the start)."""
        if self.start_equity is None:
            self.start_equity = equity
            self._start_effect = currency_effect
        self.equity = equity
        self.currency = currency_effect - self._start_effect

    @property
    def total(self) -> Decimal:
        return self.equity - (self.start_equity or self.equity)

    @property
    def basis(self) -> Decimal:
        return self.total - self.funding - self.fees - self.interest - self.currency

    def as_dict(self) -> dict[str, str]:
        """The split, exact."""
        return {
            "total": decimal_string(self.total),
            "funding": decimal_string(self.funding),
            "basis": decimal_string(self.basis),
            "fees": decimal_string(self.fees),
            "interest": decimal_string(self.interest),
            "currency": decimal_string(self.currency),
            "settlements": str(self.settlements),
        }
