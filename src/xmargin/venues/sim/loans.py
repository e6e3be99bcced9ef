"""Borrowing, repaying and transfers on the simulated exchange.

A borrow request creates a pending loan that the venue confirms or refuses when the request
reaches it (after the order latency): refused where the venue does not lend (futures-only
models: Binance USDⓈ-M, Hyperliquid; FTX borrows are negative balances, not loans), above
the venue's borrow limit, or when the account's margin model would not allow the new
liability.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING

from xmargin.margin.base import CrossMarginModel
from xmargin.margin.binance_margin import BinanceCrossMargin
from xmargin.margin.bybit import BybitUtaCross
from xmargin.margin.snapshot import AccountSnapshot, LoanSnapshot
from xmargin.model.events import (
    LoanBorrowed,
    LoanFailed,
    LoanRepaid,
    LoanRequested,
    TransferCompleted,
    TransferRejected,
)
from xmargin.model.numbers import ZERO
from xmargin.venues.sim.accounts import SimAccount

if TYPE_CHECKING:
    from xmargin.venues.sim.exchange import SimulatedExchange


class LoanDesk:
    """Loans and transfers of one simulated venue."""

    def __init__(self, exchange: SimulatedExchange) -> None:
        self.exchange = exchange
        self.pending: list[tuple[int, SimAccount, str, Decimal, str]] = []

    def hourly_rate(self, account: SimAccount, asset: str) -> Decimal:
        """The venue's configured hourly rate, else the margin model's own for the asset,
        else the venue's default, else the model's default, else zero."""
        config = self.exchange.config
        configured = config.interest_rates.get(asset)
        if configured is not None:
            return configured
        model = account.model
        if isinstance(model, BinanceCrossMargin) and asset in model.hourly_rates:
            return model.hourly_rates[asset]
        if config.default_interest_rate is not None:
            return config.default_interest_rate
        return model.hourly_rate(asset) if isinstance(model, BinanceCrossMargin) else ZERO

    def request(self, account: SimAccount, asset: str, amount: Decimal) -> str:
        """Ask to borrow; the answer (``LoanBorrowed`` or ``LoanFailed``) comes after latency."""
        exchange = self.exchange
        loan_id = exchange.ids.next(f"{exchange.venue_id}-L")
        now = exchange.clock.now_ns()
        exchange.emit(LoanRequested(now, account.id, asset, amount, loan_id))
        arrival = now + exchange.config.latency.order_delay_ns(exchange._latency_rng)
        self.pending.append((arrival, account, asset, amount, loan_id))
        return loan_id

    def process(self, ts: int) -> None:
        """Answer the borrow requests that have reached the venue."""
        due = [item for item in self.pending if item[0] <= ts]
        self.pending = [item for item in self.pending if item[0] > ts]
        for _, account, asset, amount, loan_id in due:
            reason = self.borrow_rejection(account, asset, amount)
            if reason is None:
                self._confirm(account, asset, amount, loan_id, ts)
            else:
                self.exchange.emit(LoanFailed(ts, account.id, asset, amount, loan_id, reason))

    def borrow_rejection(self, account: SimAccount, asset: str, amount: Decimal) -> str | None:
        """Return why the venue refuses to lend ``amount`` of ``asset``, or None."""
        if amount <= 0:
            return f"borrow amount must be positive, got {amount}"
        if not _lends(account.model):
            return f"{account.model.venue} accounts cannot borrow"
        limit = self.exchange.config.borrow_limits.get(asset)
        limit = (
            limit if limit is not None else getattr(account.model, "borrow_limits", {}).get(asset)
        )
        owed = account.book.loans[asset].principal if asset in account.book.loans else ZERO
        if limit is not None and owed + amount > limit:
            return f"borrow limit: {owed + amount} {asset} would exceed the limit of {limit}"
        snapshot = self.exchange.snapshot(account, also=(asset,))
        if asset != account.quote and asset not in snapshot.prices:
            return f"no price for {asset} in {account.quote} on {self.exchange.venue_id}"
        can_borrow = getattr(account.model, "can_borrow", None)
        if callable(can_borrow):
            allowed = can_borrow(snapshot, asset, amount)
        else:
            allowed = account.model.initial_gap(_with_borrow(snapshot, asset, amount)) >= 0
        if not allowed:
            return f"insufficient collateral to borrow {amount} {asset}"
        return None

    def _confirm(
        self, account: SimAccount, asset: str, amount: Decimal, loan_id: str, ts: int
    ) -> None:
        ledger = self.exchange.ledger
        ledger.borrow(ts, account.id, asset, amount, loan_id)
        first_hour = ZERO
        if self.exchange.config.first_hour_interest:
            first_hour = amount * self.hourly_rate(account, asset)
            if first_hour:
                ledger.charge_interest(ts, account.id, asset, first_hour)
        self.exchange.emit(LoanBorrowed(ts, account.id, asset, amount, loan_id, first_hour))
        self.exchange.guard.mark_dirty(account)

    def repay(self, account: SimAccount, asset: str, amount: Decimal) -> None:
        """Repay up to ``amount`` (at most what is owed and held), interest first."""
        book = account.book
        owed = book.liability(asset)
        paid = min(amount, owed, max(book.balance(asset), ZERO))
        if paid <= 0:
            return
        ts = self.exchange.clock.now_ns()
        interest, principal = self.exchange.ledger.repay(ts, account.id, asset, paid)
        self.exchange.emit(LoanRepaid(ts, account.id, asset, interest, principal))
        self.exchange.guard.mark_dirty(account)

    def transfer(self, source: SimAccount, target_id: str, asset: str, amount: Decimal) -> None:
        """Move collateral between sub-accounts if the source keeps its initial margin."""
        ts = self.exchange.clock.now_ns()
        target = self.exchange.accounts.get(target_id)
        if target is None:
            reason: str | None = f"unknown account {target_id!r} on {self.exchange.venue_id}"
        elif not target.model.knows_asset(asset):
            reason = f"{target_id} cannot hold {asset}"
        else:
            reason = self._transfer_rejection(source, asset, amount)
        if target is None or reason is not None:
            rejected = TransferRejected(ts, source.id, target_id, asset, amount, reason or "")
            self.exchange.emit(rejected)
            return
        self.exchange.ledger.transfer(ts, source.id, target.id, asset, amount)
        self.exchange.emit(TransferCompleted(ts, source.id, target.id, asset, amount))
        self.exchange.guard.mark_dirty(source)
        self.exchange.guard.mark_dirty(target)

    def _transfer_rejection(self, source: SimAccount, asset: str, amount: Decimal) -> str | None:
        if amount <= 0:
            return f"transfer amount must be positive, got {amount}"
        if source.book.balance(asset) < amount:
            return f"insufficient {asset}: {source.book.balance(asset)} held"
        snapshot = self.exchange.snapshot(source)
        can_transfer = getattr(source.model, "can_transfer_out", None)
        if callable(can_transfer):
            allowed = can_transfer(snapshot, asset, amount)
        else:
            after = snapshot.with_balance(asset, snapshot.balance(asset) - amount)
            allowed = source.model.initial_gap(after) >= 0
        return None if allowed else f"the transfer would leave {source.id} below initial margin"

    def auto_borrow_rejection(
        self, account: SimAccount, asset: str, shortfall: Decimal
    ) -> str | None:
        """Spot orders short of ``asset``: refused unless the venue lends automatically."""
        if not self.exchange.config.auto_borrow:
            return f"insufficient {asset}: short by {shortfall}"
        return self.borrow_rejection(account, asset, shortfall)

    def settle_spot_shortfall(self, account: SimAccount) -> None:
        """Turn negative balances left by a spot fill into confirmed loans (auto-borrow)."""
        if not self.exchange.config.auto_borrow:
            return
        ts = self.exchange.clock.now_ns()
        for asset, amount in tuple(account.book.balances.items()):
            if amount < 0:
                loan_id = self.exchange.ids.next(f"{self.exchange.venue_id}-L")
                self._confirm(account, asset, -amount, loan_id, ts)


def _lends(model: CrossMarginModel) -> bool:
    """Whether the model's accounts hold margin loans (spot margin, unified accounts)."""
    return isinstance(model, BinanceCrossMargin | BybitUtaCross)


def _with_borrow(snapshot: AccountSnapshot, asset: str, amount: Decimal) -> AccountSnapshot:
    held = snapshot.loan(asset)
    loan = (
        LoanSnapshot(asset, amount)
        if held is None
        else replace(held, principal=held.principal + amount)
    )
    return snapshot.with_loan(loan).with_balance(asset, snapshot.balance(asset) + amount)
