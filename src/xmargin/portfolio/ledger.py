"""The ledger: the one place balances, positions and loans change, each change a posting.

Every movement of an asset is a :class:`Posting`, so an account's balance of an asset is
always its opening balance plus the sum of its postings: nothing appears or vanishes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from xmargin.core.errors import InvariantError
from xmargin.model.balances import Loan, LoanStatus
from xmargin.model.instruments import Instrument, InstrumentKind
from xmargin.model.numbers import ZERO
from xmargin.model.positions import Position


class PostingKind(StrEnum):
    DEPOSIT = "deposit"
    TRADE = "trade"
    REALIZED_PNL = "realized_pnl"
    FEE = "fee"
    FUNDING = "funding"
    INTEREST = "interest"
    BORROW = "borrow"
    REPAY = "repay"
    TRANSFER = "transfer"
    LIQUIDATION_FEE = "liquidation_fee"
    INSURANCE = "insurance"


@dataclass(frozen=True, slots=True)
class Posting:
    """One signed change of one asset's balance in one account."""

    ts: int
    account: str
    asset: str
    amount: Decimal
    kind: PostingKind
    reference: str = ""


class AccountBook:
    """The balances, positions and loans of one account."""

    __slots__ = ("account_id", "balances", "loans", "positions")

    def __init__(self, account_id: str) -> None:
        self.account_id = account_id
        self.balances: dict[str, Decimal] = {}
        self.positions: dict[str, Position] = {}
        self.loans: dict[str, Loan] = {}

    def balance(self, asset: str) -> Decimal:
        return self.balances.get(asset, ZERO)

    def position(self, instrument: str) -> Position:
        held = self.positions.get(instrument)
        if held is None:
            held = self.positions[instrument] = Position(instrument)
        return held

    def open_positions(self) -> Iterator[Position]:
        return (p for p in self.positions.values() if p.size != 0)

    def liability(self, asset: str) -> Decimal:
        loan = self.loans.get(asset)
        return loan.liability if loan else ZERO


class Ledger:
    """Books of every account, changed only through these methods, each leaving postings."""

    __slots__ = ("_books", "keep_postings", "postings")

    def __init__(self, *, keep_postings: bool = True) -> None:
        self._books: dict[str, AccountBook] = {}
        self.postings: list[Posting] = []
        self.keep_postings = keep_postings

    def book(self, account: str) -> AccountBook:
        book = self._books.get(account)
        if book is None:
            book = self._books[account] = AccountBook(account)
        return book

    @property
    def accounts(self) -> tuple[str, ...]:
        return tuple(self._books)

    def _post(
        self, ts: int, account: str, asset: str, amount: Decimal, kind: PostingKind, ref: str = ""
    ) -> None:
        if amount == 0:
            return
        balances = self.book(account).balances
        balances[asset] = balances.get(asset, ZERO) + amount
        if self.keep_postings:
            self.postings.append(Posting(ts, account, asset, amount, kind, ref))

    def deposit(self, ts: int, account: str, asset: str, amount: Decimal) -> None:
        """Credit an external deposit (a starting balance)."""
        if amount < 0:
            raise InvariantError(f"deposit of {amount} {asset} into {account} is negative")
        self._post(ts, account, asset, amount, PostingKind.DEPOSIT)

    def apply_fill(
        self,
        ts: int,
        account: str,
        instrument: Instrument,
        quantity: Decimal,
        price: Decimal,
        fee: Decimal,
        fee_asset: str,
        reference: str = "",
    ) -> Decimal:
        """Apply a signed fill and its fee; return the PnL it realised (zero for spot)."""
        if instrument.kind is InstrumentKind.SPOT:
            self._post(ts, account, instrument.base, quantity, PostingKind.TRADE, reference)
            self._post(
                ts, account, instrument.quote, -quantity * price, PostingKind.TRADE, reference
            )
            realized = ZERO
        else:
            realized = self.book(account).position(instrument.symbol).fill(quantity, price)
            self._post(
                ts, account, instrument.settle, realized, PostingKind.REALIZED_PNL, reference
            )
        self._post(ts, account, fee_asset, -fee, PostingKind.FEE, reference)
        return realized

    def settle_funding(
        self, ts: int, account: str, instrument: Instrument, amount: Decimal
    ) -> None:
        """Book a funding payment: ``amount`` positive is paid, negative received."""
        self.book(account).position(instrument.symbol).funding_paid += amount
        self._post(ts, account, instrument.settle, -amount, PostingKind.FUNDING, instrument.symbol)

    def borrow(self, ts: int, account: str, asset: str, amount: Decimal, loan_id: str = "") -> Loan:
        """Confirm a loan: the principal grows and the borrowed asset is credited."""
        if amount <= 0:
            raise InvariantError(f"borrow of {amount} {asset} is not positive")
        book = self.book(account)
        loan = book.loans.get(asset)
        if loan is None or loan.status is not LoanStatus.CONFIRMED:
            loan = Loan(asset, ZERO, ZERO, LoanStatus.PENDING, loan_id)
            loan.transition(LoanStatus.CONFIRMED)
            book.loans[asset] = loan
        loan.principal += amount
        self._post(ts, account, asset, amount, PostingKind.BORROW, loan_id)
        return loan

    def charge_interest(self, ts: int, account: str, asset: str, amount: Decimal) -> None:
        """Add accrued interest to a loan (a liability, not yet a balance change)."""
        loan = self.book(account).loans.get(asset)
        if loan is None:
            raise InvariantError(f"interest on {asset} in {account} without a loan")
        loan.interest += amount

    def repay(self, ts: int, account: str, asset: str, amount: Decimal) -> tuple[Decimal, Decimal]:
        """Repay up to ``amount`` of a loan, interest first; return (interest, principal) paid."""
        book = self.book(account)
        loan = book.loans.get(asset)
        if loan is None:
            raise InvariantError(f"repay of {asset} in {account} without a loan")
        if amount > book.balance(asset):
            raise InvariantError(f"repay of {amount} {asset} exceeds the balance in {account}")
        interest, principal = loan.repay(amount)
        self._post(ts, account, asset, -(interest + principal), PostingKind.REPAY, loan.loan_id)
        if loan.liability == 0:
            del book.loans[asset]
        return interest, principal

    def transfer(
        self, ts: int, source: str, target: str, asset: str, amount: Decimal, ref: str = ""
    ) -> None:
        """Move ``amount`` of ``asset`` between two accounts; the total is unchanged."""
        if amount <= 0:
            raise InvariantError(f"transfer of {amount} {asset} is not positive")
        self._post(ts, source, asset, -amount, PostingKind.TRANSFER, ref or target)
        self._post(ts, target, asset, amount, PostingKind.TRANSFER, ref or source)

    def adjust(
        self, ts: int, account: str, asset: str, amount: Decimal, kind: PostingKind, ref: str = ""
    ) -> None:
        """Post a venue-imposed change (liquidation fee, insurance-fund top-up)."""
        self._post(ts, account, asset, amount, kind, ref)

    def total(self, asset: str) -> Decimal:
        """Return the sum of ``asset`` over every account."""
        return sum((b.balance(asset) for b in self._books.values()), ZERO)
