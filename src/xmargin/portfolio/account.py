"""An account view: a ledger book seen through its venue's margin model at current prices."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from xmargin.margin.base import MarginModel, MarginReport
from xmargin.margin.snapshot import (
    AccountSnapshot,
    LoanSnapshot,
    OrderSnapshot,
    OrderTotals,
    PositionSnapshot,
)
from xmargin.portfolio.ledger import AccountBook


def snapshot_of(
    book: AccountBook,
    marks: Mapping[str, Decimal],
    prices: Mapping[str, Decimal],
    *,
    leverage: Mapping[str, Decimal] | None = None,
    orders: tuple[OrderSnapshot, ...] = (),
    order_totals: Mapping[str, OrderTotals] | None = None,
) -> AccountSnapshot:
    """Freeze a book into the snapshot margin models read; every open position needs a mark."""
    leverage = leverage or {}
    positions = tuple(
        PositionSnapshot(
            p.instrument, p.size, p.entry_price, marks[p.instrument], leverage.get(p.instrument)
        )
        for p in book.open_positions()
    )
    loans = tuple(
        LoanSnapshot(loan.asset, loan.principal, loan.interest) for loan in book.loans.values()
    )
    return AccountSnapshot(
        dict(book.balances), positions, loans, dict(prices), orders, dict(leverage), order_totals
    )


class AccountView:
    """Read-only margin view of one account: snapshot, report, equity."""

    __slots__ = ("book", "leverage", "model")

    def __init__(
        self,
        book: AccountBook,
        model: MarginModel,
        leverage: Mapping[str, Decimal] | None = None,
    ) -> None:
        self.book = book
        self.model = model
        self.leverage = dict(leverage or {})

    def snapshot(
        self, marks: Mapping[str, Decimal], prices: Mapping[str, Decimal]
    ) -> AccountSnapshot:
        return snapshot_of(self.book, marks, prices, leverage=self.leverage)

    def report(self, marks: Mapping[str, Decimal], prices: Mapping[str, Decimal]) -> MarginReport:
        return self.model.assess(self.snapshot(marks, prices))

    def equity(self, marks: Mapping[str, Decimal], prices: Mapping[str, Decimal]) -> Decimal:
        return self.report(marks, prices).equity
