"""Properties: the ledger conserves value; the order state machine never leaves its table."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.property.order_lifecycle import ALLOWED, TERMINAL

from xmargin.core.errors import IllegalTransitionError
from xmargin.model.instruments import parse_symbol
from xmargin.model.orders import Order, OrderSide, OrderStatus
from xmargin.portfolio.ledger import Ledger, PostingKind

PERP = parse_symbol("BTC/USDT:USDT")
SPOT = parse_symbol("BTC/USDT")
ACCOUNTS = ("a", "b")

amounts = st.decimals(min_value="0.001", max_value="1000", places=3)
prices = st.decimals(min_value="1", max_value="100000", places=2)
operations = st.one_of(
    st.tuples(st.just("perp"), st.sampled_from(ACCOUNTS), amounts, st.booleans(), prices),
    st.tuples(st.just("spot"), st.sampled_from(ACCOUNTS), amounts, st.booleans(), prices),
    st.tuples(st.just("funding"), st.sampled_from(ACCOUNTS), amounts, st.booleans(), prices),
    st.tuples(st.just("transfer"), st.sampled_from(ACCOUNTS), amounts, st.booleans(), prices),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(operations, max_size=40))
def test_ledger_balances_are_exactly_opening_plus_postings(ops):
    ledger = Ledger()
    for account in ACCOUNTS:
        ledger.deposit(0, account, "USDT", Decimal(1_000_000))
    fees = Decimal(0)
    for ts, (kind, account, quantity, buy, price) in enumerate(ops, start=1):
        signed = quantity if buy else -quantity
        if kind == "perp":
            fee = (quantity * price * Decimal("0.0004")).quantize(Decimal("1e-8"))
            fees += fee
            ledger.apply_fill(ts, account, PERP, signed, price, fee, "USDT")
        elif kind == "spot":
            ledger.apply_fill(ts, account, SPOT, signed, price, Decimal(0), "USDT")
        elif kind == "funding":
            ledger.settle_funding(ts, account, PERP, signed)
        else:
            other = "b" if account == "a" else "a"
            total = ledger.total("USDT")
            ledger.transfer(ts, account, other, "USDT", quantity)
            assert ledger.total("USDT") == total
    for account in ACCOUNTS:
        book = ledger.book(account)
        for asset in ("USDT", "BTC"):
            posted = sum(
                (p.amount for p in ledger.postings if p.account == account and p.asset == asset),
                Decimal(0),
            )
            assert posted == book.balance(asset)
    booked_fees = -sum((p.amount for p in ledger.postings if p.kind is PostingKind.FEE), Decimal(0))
    assert booked_fees == fees


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list(OrderStatus)), max_size=12))
def test_order_status_only_follows_the_documented_lifecycle(targets):
    order = Order("O-1", "BTC/USDT:USDT", OrderSide.BUY, Decimal(1))
    for target in targets:
        before = order.status
        try:
            order.transition(target)
        except IllegalTransitionError:
            assert target.value not in ALLOWED[before.value]
            assert order.status is before
        else:
            assert target.value in ALLOWED[before.value]
            assert order.status is target


def test_closed_statuses_are_exactly_the_terminal_ones():
    assert {s.value for s in OrderStatus if s.is_closed} == TERMINAL
    assert {s.value for s in OrderStatus if s.is_open} == {
        "accepted",
        "triggered",
        "partially_filled",
        "pending_update",
        "pending_cancel",
    }


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(amounts, st.booleans(), prices), min_size=1, max_size=30))
def test_position_realised_pnl_equals_cash_flow_when_flat(fills):
    """Closing at the end, realised PnL equals the net cash of all fills."""
    ledger = Ledger()
    cash = Decimal(0)
    for ts, (quantity, buy, price) in enumerate(fills, start=1):
        signed = quantity if buy else -quantity
        ledger.apply_fill(ts, "a", PERP, signed, price, Decimal(0), "USDT")
        cash -= signed * price
    position = ledger.book("a").position(PERP.symbol)
    last_price = fills[-1][2]
    closing = -position.size
    if closing:
        ledger.apply_fill(len(fills) + 1, "a", PERP, closing, last_price, Decimal(0), "USDT")
        cash -= closing * last_price
    assert ledger.book("a").position(PERP.symbol).realized_pnl == cash
    assert ledger.book("a").balance("USDT") == cash
