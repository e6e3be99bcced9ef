"""Order state machine, the position fill rule of spec §0.3, and loans."""

from __future__ import annotations

from decimal import Decimal

import pytest

from xmargin.core.errors import IllegalTransitionError
from xmargin.model.balances import Loan, LoanStatus
from xmargin.model.orders import TRANSITIONS, Order, OrderSide, OrderStatus, OrderType
from xmargin.model.positions import Position, apply_fill

D = Decimal


def order(**kwargs) -> Order:
    return Order("O-1", "BTC/USDT:USDT", OrderSide.BUY, D(2), **kwargs)


def test_order_walks_the_happy_path():
    o = order(order_type=OrderType.LIMIT, price=D(100))
    for status in (OrderStatus.SUBMITTED, OrderStatus.ACCEPTED):
        o.transition(status)
    o.fill(D(1), D(100))
    assert o.status is OrderStatus.PARTIALLY_FILLED
    o.fill(D(1), D(102))
    assert o.status is OrderStatus.FILLED
    assert o.avg_fill_price == D(101)
    assert o.leaves_quantity == 0


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (OrderStatus.INITIALIZED, OrderStatus.FILLED),
        (OrderStatus.FILLED, OrderStatus.CANCELED),
        (OrderStatus.DENIED, OrderStatus.SUBMITTED),
        (OrderStatus.CANCELED, OrderStatus.ACCEPTED),
    ],
)
def test_illegal_transitions_raise(start, target):
    o = order()
    o.status = start
    with pytest.raises(IllegalTransitionError, match=f"{start.value} -> {target.value}"):
        o.transition(target)


def test_closed_states_are_terminal():
    for status in OrderStatus:
        if status.is_closed:
            assert TRANSITIONS[status] == frozenset()


def test_overfill_raises():
    o = order()
    o.transition(OrderStatus.SUBMITTED)
    with pytest.raises(IllegalTransitionError, match="fill of 3"):
        o.fill(D(3), D(1))


def test_order_validation():
    with pytest.raises(ValueError, match="quantity must be positive"):
        Order("x", "BTC/USDT", OrderSide.BUY, D(0))
    with pytest.raises(ValueError, match="needs a positive price"):
        Order("x", "BTC/USDT", OrderSide.BUY, D(1), OrderType.LIMIT)
    with pytest.raises(ValueError, match="needs a trigger price"):
        Order("x", "BTC/USDT", OrderSide.SELL, D(1), OrderType.STOP_MARKET)
    with pytest.raises(ValueError, match="post-only"):
        Order("x", "BTC/USDT", OrderSide.SELL, D(1), post_only=True)


def test_fill_increases_average_the_entry():
    outcome = apply_fill(D(1), D(100), D(3), D(200))
    assert (outcome.size, outcome.entry_price, outcome.realized_pnl) == (D(4), D(175), D(0))


def test_fill_reducing_realises_pnl_and_keeps_entry():
    outcome = apply_fill(D(4), D(700), D(-1), D(195))
    assert (outcome.size, outcome.entry_price, outcome.realized_pnl) == (D(3), D(175), D(20))


def test_fill_flipping_opens_the_rest_at_the_fill_price():
    outcome = apply_fill(D(-2), D(-200), D(5), D(90))
    assert (outcome.size, outcome.entry_price, outcome.realized_pnl) == (D(3), D(90), D(20))


def test_fill_closing_flat_resets_entry():
    outcome = apply_fill(D(2), D(200), D(-2), D(90))
    assert (outcome.size, outcome.entry_price, outcome.realized_pnl) == (D(0), D(0), D(-20))


def test_position_accumulates_realised_pnl():
    position = Position("BTC/USDT:USDT")
    position.fill(D(1), D(100))
    position.fill(D(-1), D(110))
    position.fill(D(-1), D(120))
    position.fill(D(1), D(100))
    assert position.realized_pnl == D(30)
    assert position.is_flat


def test_loan_accrues_simple_interest_and_repays_interest_first():
    loan = Loan("USDC", D(1000), status=LoanStatus.CONFIRMED)
    loan.accrue(D("0.00001"))
    loan.accrue(D("0.00001"))
    assert loan.interest == D("0.02")
    assert loan.repay(D("500.02")) == (D("0.02"), D(500))
    assert loan.accrue(D("0.00001")) == D("0.005")
    loan.repay(D("500.005"))
    assert loan.status is LoanStatus.REPAID


def test_loan_status_machine():
    loan = Loan("USDT", D(1))
    loan.transition(LoanStatus.FAILED)
    with pytest.raises(IllegalTransitionError, match="loan USDT: failed -> confirmed"):
        loan.transition(LoanStatus.CONFIRMED)
