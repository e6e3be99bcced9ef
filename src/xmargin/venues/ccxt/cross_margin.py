"""Binance spot cross margin through ccxt's ``binance`` class: borrow, repay, loans, margin level.

Every call carries ``{"marginMode": "cross"}``: without it ccxt sends orders to *spot*
(wire spec §3.2). A borrow is answered with ``LoanBorrowed`` (its first hour of interest is
the amount times the venue's hourly rate, its daily rate / 24, which Binance charges at once)
or ``LoanFailed``; a repayment with ``LoanRepaid`` whose interest and principal are what the
venue's own account shows paid (before minus after). A borrow whose answer was lost is
settled the same way: by what the account shows, never by sending it again.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from xmargin.core.clock import Clock
from xmargin.core.errors import DataError
from xmargin.model.balances import Loan, LoanStatus
from xmargin.model.events import LoanBorrowed, LoanFailed, LoanRepaid
from xmargin.venues.ccxt.instruments import exact
from xmargin.venues.ccxt.requests import (
    OutcomeUnknownError,
    RequestRunner,
    VenueRefusedError,
)
from xmargin.venues.ccxt.tracking import OrderTracker

MARGIN: dict[str, Any] = {"marginMode": "cross"}
HOURS_PER_DAY = 24


def loans_from_account(balance: Mapping[str, Any]) -> dict[str, Loan]:
    """The open loans of a ccxt cross-margin balance (``info.userAssets`` borrowed/interest)."""
    rows = (balance.get("info") or {}).get("userAssets")
    if not isinstance(rows, list):
        raise DataError("a cross-margin balance has no userAssets", source="margin account")
    loans: dict[str, Loan] = {}
    for row in rows:
        asset = str(row.get("asset"))
        principal = exact(row.get("borrowed"), f"borrowed {asset}", source="margin account")
        interest = exact(row.get("interest"), f"interest {asset}", source="margin account")
        if principal or interest:
            loans[asset] = Loan(asset, principal, interest, LoanStatus.CONFIRMED)
    return dict(sorted(loans.items()))


def margin_level(balance: Mapping[str, Any]) -> Decimal:
    """The venue's margin level (total asset value / total liability) of the account."""
    value = (balance.get("info") or {}).get("marginLevel")
    return exact(value, "marginLevel", source="margin account")


class CrossMarginDesk:
    """Borrows and repays for one cross-margin account, reporting through the tracker."""

    def __init__(self, runner: RequestRunner, tracker: OrderTracker, clock: Clock) -> None:
        self.runner = runner
        self.tracker = tracker
        self.clock = clock
        self._ids = itertools.count(1)

    def next_loan_id(self) -> str:
        return f"{self.tracker.account}-L{next(self._ids)}"

    async def account(self) -> dict[str, Any]:
        balance: dict[str, Any] = await self.runner.call("fetch_balance", MARGIN)
        return balance

    async def loans(self) -> dict[str, Loan]:
        return loans_from_account(await self.account())

    async def margin_level(self) -> Decimal:
        return margin_level(await self.account())

    async def _owed(self, asset: str) -> Loan:
        return (await self.loans()).get(asset) or Loan(asset, Decimal(0))

    async def borrow(self, asset: str, amount: Decimal, loan_id: str) -> None:
        account = self.tracker.account
        before = await self._owed(asset)
        try:
            await self.runner.call("borrow_cross_margin", asset, float(amount), places_order=True)
        except VenueRefusedError as refused:
            failed = LoanFailed(
                self.clock.now_ns(), account, asset, amount, loan_id, refused.failure.reason
            )
            self.tracker.emit(failed)
            return
        except OutcomeUnknownError as unknown:
            after = await self._owed(asset)
            if after.principal - before.principal < amount:
                reason = f"no loan on the account after an unanswered borrow ({unknown})"
                self.tracker.emit(
                    LoanFailed(self.clock.now_ns(), account, asset, amount, loan_id, reason)
                )
                return
        hourly = await self.hourly_rate(asset)
        self.tracker.emit(
            LoanBorrowed(self.clock.now_ns(), account, asset, amount, loan_id, amount * hourly)
        )

    async def hourly_rate(self, asset: str) -> Decimal:
        rate = await self.runner.call("fetch_cross_borrow_rate", asset)
        daily = exact(rate.get("rate"), f"{asset} borrow rate", source="fetch_cross_borrow_rate")
        period = rate.get("period")
        if period not in (None, 86_400_000):
            raise DataError(f"borrow rate period {period} is not a day", source=asset)
        return daily / HOURS_PER_DAY

    async def repay(self, asset: str, amount: Decimal) -> None:
        before = await self._owed(asset)
        try:
            await self.runner.call("repay_cross_margin", asset, float(amount), places_order=True)
        except VenueRefusedError as refused:
            self.tracker.fail("repay", asset, refused.failure.reason)
            return
        except OutcomeUnknownError:
            pass  # the account below shows what was paid, if anything
        after = await self._owed(asset)
        interest, principal = before.interest - after.interest, before.principal - after.principal
        if interest or principal:
            self.tracker.emit(
                LoanRepaid(self.clock.now_ns(), self.tracker.account, asset, interest, principal)
            )
