"""The ledger books fills, fees, funding, interest, loans and transfers exactly."""

from __future__ import annotations

from decimal import Decimal

import pytest

from xmargin.core.errors import InvariantError
from xmargin.margin.binance_usdm import BinanceUsdmCross
from xmargin.model.instruments import parse_symbol
from xmargin.portfolio.account import AccountView
from xmargin.portfolio.ledger import Ledger, PostingKind

D = Decimal
PERP = parse_symbol("BTC/USDT:USDT")
SPOT = parse_symbol("BTC/USDT")


def funded(amount: str = "10000") -> Ledger:
    ledger = Ledger()
    ledger.deposit(0, "main", "USDT", D(amount))
    return ledger


def test_perp_round_trip_books_pnl_and_fees():
    ledger = funded()
    ledger.apply_fill(1, "main", PERP, D(1), D(50000), D(25), "USDT")
    realized = ledger.apply_fill(2, "main", PERP, D(-1), D(51000), D("25.5"), "USDT")
    assert realized == D(1000)
    assert ledger.book("main").balance("USDT") == D("10949.5")
    assert ledger.book("main").position(PERP.symbol).is_flat


def test_spot_fill_moves_both_assets():
    ledger = funded()
    ledger.apply_fill(1, "main", SPOT, D("0.1"), D(50000), D("0.0001"), "BTC")
    book = ledger.book("main")
    assert (book.balance("BTC"), book.balance("USDT")) == (D("0.0999"), D(5000))


def test_funding_positive_is_paid_and_recorded_on_the_position():
    ledger = funded()
    ledger.apply_fill(1, "main", PERP, D("0.5"), D(60000), D(0), "USDT")
    ledger.settle_funding(2, "main", PERP, D(12))
    assert ledger.book("main").balance("USDT") == D(9988)
    assert ledger.book("main").position(PERP.symbol).funding_paid == D(12)


def test_borrow_interest_and_repay_interest_first():
    ledger = funded("0")
    ledger.borrow(1, "main", "USDC", D(1000), "L-1")
    ledger.charge_interest(1, "main", "USDC", D("0.01"))
    ledger.charge_interest(2, "main", "USDC", D("0.01"))
    assert ledger.book("main").liability("USDC") == D("1000.02")
    with pytest.raises(InvariantError, match="exceeds the balance"):
        ledger.repay(3, "main", "USDC", D("1000.02"))
    ledger.deposit(3, "main", "USDC", D("0.02"))
    assert ledger.repay(3, "main", "USDC", D("1000.02")) == (D("0.02"), D(1000))
    assert ledger.book("main").liability("USDC") == 0
    assert ledger.book("main").balance("USDC") == 0


def test_transfer_between_sub_accounts_conserves_the_total():
    ledger = funded()
    ledger.transfer(1, "main", "sub", "USDT", D(2500))
    assert ledger.book("sub").balance("USDT") == D(2500)
    assert ledger.total("USDT") == D(10000)
    with pytest.raises(InvariantError, match="transfer of 0 USDT is not positive"):
        ledger.transfer(1, "main", "sub", "USDT", D(0))


def test_every_balance_is_the_sum_of_its_postings():
    ledger = funded()
    ledger.apply_fill(1, "main", PERP, D(2), D(100), D("0.1"), "USDT")
    ledger.apply_fill(2, "main", PERP, D(-3), D(110), D("0.15"), "USDT")
    ledger.settle_funding(3, "main", PERP, D("-0.4"))
    ledger.transfer(4, "main", "sub", "USDT", D(1))
    for account in ledger.accounts:
        posted = sum(
            (p.amount for p in ledger.postings if p.account == account and p.asset == "USDT"), D(0)
        )
        assert posted == ledger.book(account).balance("USDT")
    kinds = {p.kind for p in ledger.postings}
    assert kinds == {
        PostingKind.DEPOSIT,
        PostingKind.REALIZED_PNL,
        PostingKind.FEE,
        PostingKind.FUNDING,
        PostingKind.TRANSFER,
    }


def test_account_view_reads_the_book_through_the_margin_model():
    ledger = funded()
    ledger.apply_fill(1, "main", PERP, D(1), D(50000), D(0), "USDT")
    view = AccountView(ledger.book("main"), BinanceUsdmCross(), {PERP.symbol: D(10)})
    report = view.report({PERP.symbol: D(49000)}, {})
    assert report.equity == D(9000)
    assert report.initial_margin_required == D(4900)
    assert view.equity({PERP.symbol: D(50000)}, {}) == D(10000)


def test_negative_deposit_is_a_bug():
    with pytest.raises(InvariantError, match="deposit of -1 USDT into main is negative"):
        Ledger().deposit(0, "main", "USDT", D(-1))
