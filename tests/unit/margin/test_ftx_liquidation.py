"""FTX liquidation ladder, backstop fills and automatic conversion (spec §A.6, §A.7)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from xmargin.margin.ftx import ConversionTarget, FtxCross, RuleSet
from xmargin.margin.ftx_liquidation import (
    auto_close_fills,
    auto_close_fraction,
    conversion_sales,
    liquidation_chunk,
    liquidation_order_price,
    liquidation_orders,
)
from xmargin.margin.snapshot import AccountSnapshot, PositionSnapshot

D = Decimal
TOL = D("1e-9")
BTC_PERP = "BTC/USD:USD"


def a4_at(mark: str) -> AccountSnapshot:
    position = PositionSnapshot(BTC_PERP, D(2), D(10000), D(mark))
    return AccountSnapshot(balances={"USD": D(1000)}, positions=(position,))


@pytest.mark.parametrize(
    ("size", "chunk"),
    [("10", "1"), ("-10", "1"), ("0.3", "0.05"), ("0.02", "0.02")],
)
def test_liquidation_chunk_is_a_tenth_but_at_least_1000_usd(size: str, chunk: str) -> None:
    assert liquidation_chunk(D(size), D(20000), D("0.10"), D(1000)) == D(chunk)


def test_liquidation_orders_are_priced_3_bps_through_the_mark() -> None:
    assert liquidation_order_price(D(20000), D(1), D("0.0003")) == D(19994)
    assert liquidation_order_price(D(20000), D(-1), D("0.0003")) == D(20006)


def test_liquidating_account_sells_a_chunk_of_its_long() -> None:
    (order,) = liquidation_orders(FtxCross(), a4_at("9790"))
    assert order.instrument == BTC_PERP
    assert order.quantity == D("-0.2")
    assert order.price == D(9790) * D("0.9997")


def test_healthy_or_auto_closing_account_gets_no_chunk_orders() -> None:
    assert liquidation_orders(FtxCross(), a4_at("9800")) == ()
    assert liquidation_orders(FtxCross(), a4_at("9600")) == ()


def test_auto_close_fraction_is_everything_once_mf_is_negative() -> None:
    assert auto_close_fraction(D("-0.001"), D("0.015")) == 1


def test_auto_close_fills_close_at_the_zero_price_and_credit_the_fund() -> None:
    model = FtxCross()
    account = a4_at("9600")
    mf = model.margin_fraction(account)
    assert mf == D(200) / D(19200)
    (fill,) = auto_close_fills(model, account)
    closed = 2 * (1 - mf / D("0.015"))
    assert abs(fill.quantity + closed) <= TOL
    assert abs(fill.account_price - D(9500)) <= TOL
    assert abs(fill.backstop_price - (D(9500) * 2 + D(9600)) / 3) <= TOL
    assert abs(fill.fund_credit - closed * (fill.backstop_price - D(9500))) <= TOL


def test_auto_close_does_nothing_while_only_liquidating() -> None:
    assert auto_close_fills(FtxCross(), a4_at("9700")) == ()


def test_legacy_conversion_sells_just_enough_plus_one_percent() -> None:
    model = FtxCross(rule_set=RuleSet.LEGACY_2020)
    account = AccountSnapshot(balances={"BTC": D(3), "USD": D(-35000)}, prices={"BTC": D(20000)})
    ((coin, quantity),) = conversion_sales(model, account)
    assert coin == "BTC"
    assert abs(quantity - D("0.2525")) <= TOL  # 5,000 USD ends the trigger, plus 1 %


def test_zero_usd_conversion_sells_largest_weighted_collateral_first() -> None:
    model = FtxCross(rule_set=RuleSet.LEGACY_2020, conversion_target=ConversionTarget.ZERO_USD)
    account = AccountSnapshot(
        balances={"BTC": D(1), "ETH": D(20), "USD": D(-31000)},
        prices={"BTC": D(20000), "ETH": D(1500)},
    )
    assert conversion_sales(model, account) == (("ETH", D(20)), ("BTC", D("0.05")))


def test_no_conversion_sales_without_a_trigger() -> None:
    model = FtxCross(rule_set=RuleSet.LEGACY_2020)
    account = AccountSnapshot(balances={"BTC": D(2), "USD": D(-9000)}, prices={"BTC": D(20000)})
    assert conversion_sales(model, account) == ()
