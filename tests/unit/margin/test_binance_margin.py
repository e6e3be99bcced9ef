"""Model B, ``binance_cross_margin``: spec §B worked examples B-1 … B-4 and the model's rules."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest

from xmargin.core.errors import ConfigError, DataError, TerminalVenueError
from xmargin.margin.base import MarginState, RatioKind
from xmargin.margin.binance_margin import (
    BinanceCrossMargin,
    binance_cross_margin_from_params,
)
from xmargin.margin.binance_margin_assets import packaged_assets
from xmargin.margin.binance_margin_liquidation import sale_value_to_stop
from xmargin.margin.binance_margin_loans import accrue_hour, borrow, repay
from xmargin.margin.params import ParamReader
from xmargin.margin.snapshot import AccountSnapshot, LoanSnapshot, OrderSnapshot
from xmargin.model.numbers import ZERO
from xmargin.model.orders import OrderSide

D = Decimal
TOLERANCE = D("1e-9")
B1_HOURLY = D("0.0002") / 24


def close(actual: Decimal | None, expected: str | Decimal) -> bool:
    assert actual is not None
    return abs(actual - D(expected)) <= TOLERANCE


def rounded(value: Decimal, places: int) -> Decimal:
    return value.quantize(D(1).scaleb(-places), rounding=ROUND_HALF_UP)


def b1_deposit() -> AccountSnapshot:
    return AccountSnapshot(balances={"USDT": D(10000)}, prices={"BTC": D(30000)})


def b1_long(btc_price: str = "30000", interest: Decimal = ZERO) -> AccountSnapshot:
    """B-1 after borrowing 20,000 USDT and buying 1 BTC at 30,000 (fees ignored)."""
    return AccountSnapshot(
        balances={"USDT": D(0), "BTC": D(1)},
        loans=(LoanSnapshot("USDT", D(20000), interest),),
        prices={"BTC": D(btc_price)},
    )


def b1_interest_after_a_day() -> Decimal:
    """Borrow at 13:20 (first hour charged), then accrue at 14:00 … 13:00 the next day."""
    account = borrow(b1_deposit(), "USDT", D(20000), B1_HOURLY)
    for _ in range(24):
        account = accrue_hour(account, lambda _asset: B1_HOURLY)
    loan = account.loan("USDT")
    assert loan is not None
    return loan.interest


# B-1 Classic 3x long ladder ------------------------------------------------------------


def test_borrow_of_twice_equity_is_accepted_at_3x_spec_b1() -> None:
    model = BinanceCrossMargin()
    assert model.can_borrow(b1_deposit(), "USDT", D(20000))
    assert not model.can_borrow(b1_deposit(), "USDT", D("20000.01"))


def test_post_borrow_cml_is_exactly_the_3x_threshold_spec_b1() -> None:
    after = borrow(b1_deposit(), "USDT", D(20000), D(0))
    assert BinanceCrossMargin().classic(after).collateral_margin_level == D("1.5")


def test_max_borrow_is_twice_equity_at_3x_spec_b1() -> None:
    assert BinanceCrossMargin().max_borrow(b1_deposit(), "USDT") == D(20000)


def test_max_borrow_is_four_times_equity_at_5x_spec_b1() -> None:
    model = BinanceCrossMargin(mode="classic_5x")
    assert model.max_borrow(b1_deposit(), "USDT") == D(40000)
    assert model.can_borrow(b1_deposit(), "USDT", D(40000))
    assert not model.can_borrow(b1_deposit(), "USDT", D("40000.01"))


def test_long_has_margin_level_1_5_without_interest_spec_b1() -> None:
    figures = BinanceCrossMargin().classic(b1_long())
    assert figures.total_assets == D(30000)
    assert figures.total_liabilities == D(20000)
    assert figures.margin_level == D("1.5")


def test_margin_call_starts_at_26000_spec_b1() -> None:
    model = BinanceCrossMargin()
    assert model.state(b1_long("26000.01")) is MarginState.OK
    assert model.state(b1_long("26000")) is MarginState.MARGIN_CALL
    assert model.state(b1_long("22000.01")) is MarginState.MARGIN_CALL
    assert model.state(b1_long("22000")) is MarginState.LIQUIDATING


def test_liquidation_price_without_interest_is_22000_spec_b1() -> None:
    assert close(BinanceCrossMargin().liquidation_price(b1_long(), "BTC/USDT"), "22000")


def test_interest_after_25_hourly_charges_spec_b1() -> None:
    assert rounded(b1_interest_after_a_day(), 10) == D("4.1666666667")
    assert BinanceCrossMargin().hourly_rate("USDT") == B1_HOURLY


def test_liquidation_price_with_a_day_of_interest_spec_b1() -> None:
    account = b1_long(interest=b1_interest_after_a_day())
    price = BinanceCrossMargin().liquidation_price(account, "BTC/USDT")
    assert close(price, "22004.5833333333")


def test_liquidating_the_whole_btc_pays_fee_repays_debt_leaves_equity_spec_b1() -> None:
    model = BinanceCrossMargin()
    account = b1_long(interest=b1_interest_after_a_day())
    price = model.liquidation_price(account, "BTC/USDT")
    assert price is not None
    sale = model.liquidate(account, "BTC", D(1), price)
    assert close(sale.fee, "440.0916666667")
    assert close(sale.repaid, "20004.1666666667")
    assert close(sale.interest_repaid, "4.1666666667")
    assert sale.account.loans == ()
    assert close(model.assess(sale.account).equity, "1560.325")
    assert model.liquidation_done(sale.account)


def test_assess_reports_classic_requirements_on_the_b1_long() -> None:
    report = BinanceCrossMargin().assess(b1_long())
    assert report.venue == "binance_cross_margin"
    assert report.margin_ratio_kind is RatioKind.MARGIN_LEVEL
    assert report.equity == D(10000)
    assert report.collateral == D(28500)  # BTC at collateral ratio 0.95
    assert report.initial_margin_required == D(10000)  # (1.5 − 1) × 20,000
    assert report.maintenance_margin_required == D(2000)  # (1.1 − 1) × 20,000
    assert report.free_collateral == D(-1500)  # 28,500 − 1.5 × 20,000
    assert report.margin_ratio == D("1.5")
    assert report.state is MarginState.OK
    assert report.details["collateral_margin_level"] == D("1.425")
    (row,) = report.exposures
    assert (row.instrument, row.size, row.price) == ("BTC/USDT", D(1), D(30000))
    assert close(row.liquidation_price, "22000")


# Liquidation stop rule (B.4) -----------------------------------------------------------


def test_regular_liquidation_stops_only_once_ml_exceeds_liq_stop() -> None:
    model = BinanceCrossMargin()
    account = b1_long(interest=b1_interest_after_a_day())
    price = model.liquidation_price(account, "BTC/USDT")
    assert price is not None
    account = account.with_price("BTC", price)
    figures = model.classic(account)
    value = sale_value_to_stop(figures.total_assets, figures.owed, D("1.5"), D("0.02"))
    assert value is not None
    assert not model.liquidation_done(account)
    at_stop = model.liquidate(account, "BTC", value / price, price).account
    assert close(model.classic(at_stop).margin_level, "1.5")
    short_of_stop = model.liquidate(account, "BTC", value * D("0.999999") / price, price)
    assert not model.liquidation_done(short_of_stop.account)
    past_stop = model.liquidate(account, "BTC", value * D("1.000001") / price, price)
    assert model.liquidation_done(past_stop.account)


# B-2 Interest timeline and repayment order ---------------------------------------------

B2_RATE = D("0.00001")


def b2_borrowed() -> AccountSnapshot:
    """13:20 borrow 1,000 USDC, holding 10 USDC of one's own to pay interest with."""
    return borrow(AccountSnapshot(balances={"USDC": D(10)}), "USDC", D(1000), B2_RATE)


def test_borrow_charges_the_first_hour_at_once_spec_b2() -> None:
    account = b2_borrowed()
    assert account.loan("USDC") == LoanSnapshot("USDC", D(1000), D("0.01"))
    assert account.balance("USDC") == D(1010)


def test_hourly_accrual_charges_principal_only_spec_b2() -> None:
    account = accrue_hour(b2_borrowed(), lambda _asset: B2_RATE)
    assert account.loan("USDC") == LoanSnapshot("USDC", D(1000), D("0.02"))


def test_repay_all_pays_interest_then_principal_spec_b2() -> None:
    account = accrue_hour(b2_borrowed(), lambda _asset: B2_RATE)
    outcome = repay(account, "USDC", D("1000.02"))
    assert outcome.interest_paid == D("0.02")
    assert outcome.principal_paid == D(1000)
    assert outcome.paid == D("1000.02")
    assert outcome.account.loan("USDC") is None
    assert outcome.account.balance("USDC") == D("9.98")


def test_partial_repay_clears_interest_first_then_accrues_on_the_rest_spec_b2_variant() -> None:
    account = accrue_hour(b2_borrowed(), lambda _asset: B2_RATE)
    outcome = repay(account, "USDC", D("500.02"))
    assert outcome.interest_paid == D("0.02")
    assert outcome.account.loan("USDC") == LoanSnapshot("USDC", D(500), D(0))
    later = accrue_hour(outcome.account, lambda _asset: B2_RATE)
    assert later.loan("USDC") == LoanSnapshot("USDC", D(500), D("0.005"))


def test_repaying_more_than_held_is_refused() -> None:
    with pytest.raises(TerminalVenueError, match="cannot repay 1011 USDC: only 1010 held"):
        repay(b2_borrowed(), "USDC", D(1011))


# B-3 Margin level vs collateral margin level -------------------------------------------


def b3_account() -> AccountSnapshot:
    return AccountSnapshot(
        balances={"BTC": D(1), "USDT": D(10000)},
        loans=(LoanSnapshot("USDT", D(25000)),),
        prices={"BTC": D(30000)},
    )


def test_margin_level_and_collateral_margin_level_spec_b3() -> None:
    figures = BinanceCrossMargin().classic(b3_account())
    assert figures.total_assets == D(40000)
    assert figures.margin_level == D("1.6")
    assert figures.collateral_value == D(38500)
    assert figures.collateral_margin_level == D("1.54")


def test_permissions_trade_and_borrow_but_no_transfer_spec_b3() -> None:
    model = BinanceCrossMargin()
    allowed = model.permissions(b3_account())
    assert allowed.trade and model.can_trade(b3_account())
    assert allowed.borrow
    assert not allowed.transfer_out
    assert not model.can_transfer_out(b3_account(), "USDT", D("0.01"))
    assert model.max_transfer_out(b3_account(), "USDT") == D(0)


def test_no_margin_call_at_ml_1_6_spec_b3() -> None:
    report = BinanceCrossMargin().assess(b3_account())
    assert report.state is MarginState.OK
    assert report.margin_ratio == D("1.6")


def test_b3_may_borrow_up_to_the_post_borrow_threshold() -> None:
    model = BinanceCrossMargin()
    # (38,500 + B) / (25,000 + B) ≥ 1.5  ⇔  B ≤ 2,000
    assert model.max_borrow(b3_account(), "USDT") == D(2000)
    assert model.can_borrow(b3_account(), "USDT", D(2000))
    assert not model.can_borrow(b3_account(), "USDT", D("2000.01"))


def test_transfer_out_keeps_cml_at_least_2() -> None:
    model = BinanceCrossMargin()
    account = AccountSnapshot(balances={"USDT": D(50000)}, loans=(LoanSnapshot("USDT", D(20000)),))
    assert model.max_transfer_out(account, "USDT") == D(10000)
    assert model.can_transfer_out(account, "USDT", D(10000))
    assert not model.can_transfer_out(account, "USDT", D("10000.01"))


def test_borrow_limit_caps_the_principal() -> None:
    model = BinanceCrossMargin(borrow_limits={"USDT": D(5000)})
    assert model.max_borrow(b1_deposit(), "USDT") == D(5000)
    assert model.can_borrow(b1_deposit(), "USDT", D(5000))
    assert not model.can_borrow(b1_deposit(), "USDT", D("5000.01"))


def test_nothing_may_be_borrowed_or_traded_while_liquidating() -> None:
    model = BinanceCrossMargin()
    account = b1_long("21000")
    assert model.state(account) is MarginState.LIQUIDATING
    assert not model.can_trade(account)
    assert not model.can_borrow(account, "USDT", D(1))
    assert model.max_borrow(account, "USDT") == D(0)
    assert model.permissions(account).trade is False


# B-4 Pro tiered requirements -----------------------------------------------------------


def b4_account(usdt: str = "100000") -> AccountSnapshot:
    return AccountSnapshot(
        balances={"BTC": D(13), "ETH": D(13), "USDT": D(usdt)},
        loans=(LoanSnapshot("BTC", D(13)), LoanSnapshot("ETH", D(13))),
        prices={"BTC": D(30000), "ETH": D(3000)},
    )


def test_pro_initial_margin_sums_bracket_slices_spec_b4() -> None:
    pro = BinanceCrossMargin(mode="pro").pro(b4_account())
    assert pro.total_initial == D("75327.1")


def test_pro_maintenance_margin_uses_the_bracket_amount_spec_b4() -> None:
    pro = BinanceCrossMargin(mode="pro").pro(b4_account())
    assert pro.maintenance == {"BTC": D(29200), "ETH": D(2130)}
    assert pro.total_maintenance == D(31330)


def test_pro_maintenance_equals_the_slice_sum_spec_b4() -> None:
    btc = packaged_assets().pro_brackets["BTC"]
    slices = D(50000) * D("0.05") + D(50000) * D("0.07") + D(290000) * D("0.08")
    assert btc.maintenance(D(390000)) == slices


def test_pro_assess_reports_tiered_requirements_and_margin_level() -> None:
    model = BinanceCrossMargin(mode="pro")
    report = model.assess(b4_account())
    # Net collateral: 13 × 30,000 × 0.95 + 13 × 3,000 × 0.95 + 100,000 − 429,000.
    net = D("407550") + D(100000) - D(429000)
    assert report.details["net_collateral"] == net
    assert report.initial_margin_required == D("75327.1")
    assert report.maintenance_margin_required == D(31330)
    assert report.free_collateral == net - D("75327.1")
    assert report.margin_ratio == net / D(31330)
    assert report.state is MarginState.OK


def test_pro_liquidation_price_is_where_net_collateral_meets_maintenance() -> None:
    model = BinanceCrossMargin(mode="pro")
    # Short 13 BTC: 490,000 USDT held, 13 BTC owed. Above 100k liability:
    # 490,000 − 13p = 13p × 0.08 − 2,000  ⇔  p = 492,000 / 14.04.
    account = AccountSnapshot(
        balances={"USDT": D(490000)},
        loans=(LoanSnapshot("BTC", D(13)),),
        prices={"BTC": D(30000)},
    )
    price = model.liquidation_price(account, "BTC/USDT")
    assert close(price, D(492000) / D("14.04"))
    assert price is not None
    assert model.state(account.with_price("BTC", price + 1)) is MarginState.LIQUIDATING
    assert model.state(account.with_price("BTC", price - 1)) is not MarginState.LIQUIDATING


def test_pro_margin_call_uses_the_named_level() -> None:
    model = BinanceCrossMargin(mode="pro", pro_margin_call_ml=D(3))
    assert model.assess(b4_account()).state is MarginState.MARGIN_CALL


def test_pro_open_order_loss_is_the_haircut_value_given_up() -> None:
    model = BinanceCrossMargin(mode="pro")
    order = OrderSnapshot("BTC/USDT", D(1), D(31000))
    account = AccountSnapshot(
        balances={"USDT": D(40000)}, prices={"BTC": D(30000)}, orders=(order,)
    )
    assert model.pro(account).open_order_loss == D(31000) - D(28500)


def test_pro_borrow_requires_net_collateral_to_cover_initial_margin() -> None:
    model = BinanceCrossMargin(mode="pro")
    account = AccountSnapshot(balances={"USDT": D(10000)}, prices={"BTC": D(30000)})
    largest = model.max_borrow(account, "BTC")
    assert model.can_borrow(account, "BTC", largest)
    assert not model.can_borrow(account, "BTC", largest + D("0.000001"))
    after = borrow(account, "BTC", largest, D(0))
    assert abs(model.initial_gap(after)) <= D("1e-6")


def test_pro_liability_without_brackets_is_a_config_error() -> None:
    model = BinanceCrossMargin(mode="pro")
    account = AccountSnapshot(balances={"USDT": D(1000)}, loans=(LoanSnapshot("USDT", D(10)),))
    with pytest.raises(ConfigError, match="no Pro liability brackets for USDT"):
        model.assess(account)


# What-if fills: auto-borrow, auto-repay, capacity --------------------------------------


def test_what_if_buy_auto_borrows_the_quote_shortfall() -> None:
    model = BinanceCrossMargin()
    after = model.apply_fill(b1_deposit(), "BTC/USDT", D(1), D(30000), fee_rate=D(0))
    assert after.balance("BTC") == D(1)
    assert after.balance("USDT") == D(0)
    loan = after.loan("USDT")
    assert loan is not None
    assert loan.principal == D(20000)
    assert loan.interest == D(20000) * B1_HOURLY  # the first hour, charged at once


def test_what_if_buy_pays_the_fee_in_the_received_asset() -> None:
    after = BinanceCrossMargin().apply_fill(b1_deposit(), "BTC/USDT", D(1), D(30000))
    assert after.balance("BTC") == D("0.999")
    loan = after.loan("USDT")
    assert loan is not None and loan.principal == D(20000)


def test_what_if_sell_without_holdings_borrows_the_base() -> None:
    model = BinanceCrossMargin(taker_fee_rate=D(0))
    after = model.apply_fill(b1_deposit(), "BTC/USDT", D("-0.5"), D(30000))
    assert after.balance("BTC") == D(0)
    assert after.balance("USDT") == D(25000)
    loan = after.loan("BTC")
    assert loan is not None and loan.principal == D("0.5")
    (row,) = model.exposures(after)
    assert (row.instrument, row.asset) == ("BTC/USDT", "BTC")
    assert row.size == -(D("0.5") + loan.interest)


def test_what_if_sell_with_auto_repay_pays_the_loan_interest_first() -> None:
    model = BinanceCrossMargin(taker_fee_rate=D(0), auto_repay=True)
    bought = model.apply_fill(b1_deposit(), "BTC/USDT", D(1), D(30000))
    sold = model.apply_fill(bought, "BTC/USDT", D(-1), D(30000))
    assert sold.loans == ()
    assert close(sold.balance("USDT"), D(10000) - D(20000) * B1_HOURLY)


def test_max_additional_size_is_the_3x_and_5x_leverage_cap() -> None:
    ratios = {"USDT": D(1), "BTC": D(1)}
    for mode, expected in (("classic_3x", D(1)), ("classic_5x", D(5) / D(3))):
        model = BinanceCrossMargin(
            mode=mode, taker_fee_rate=D(0), collateral_ratios=ratios, hourly_rates={"USDT": D(0)}
        )
        size = model.max_additional_size(b1_deposit(), "BTC/USDT", OrderSide.BUY, D(30000))
        assert abs(size - expected) <= D("1e-11")


def test_max_additional_size_respects_the_borrow_limit() -> None:
    model = BinanceCrossMargin(taker_fee_rate=D(0), borrow_limits={"USDT": D(5000)})
    size = model.max_additional_size(b1_deposit(), "BTC/USDT", OrderSide.BUY, D(30000))
    assert abs(size - D("0.5")) <= D("1e-11")


# Model plumbing ------------------------------------------------------------------------


def test_account_without_liabilities_has_no_margin_level() -> None:
    report = BinanceCrossMargin().assess(b1_deposit())
    assert report.margin_ratio is None
    assert report.state is MarginState.OK
    assert "margin_level" not in report.details
    assert report.exposures == ()


def test_negative_balance_is_rejected_as_data() -> None:
    account = AccountSnapshot(balances={"USDT": D(-1)})
    with pytest.raises(DataError, match=r"balances\.USDT"):
        BinanceCrossMargin().assess(account)


def test_knows_spot_markets_only() -> None:
    model = BinanceCrossMargin()
    assert model.knows("BTC/USDT")
    assert not model.knows("BTC/USDT:USDT")
    assert not model.knows("not a symbol")


def test_unknown_mode_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown mode"):
        BinanceCrossMargin(mode="10x")


def test_packaged_defaults_are_the_dated_examples() -> None:
    assets = packaged_assets()
    assert assets.collateral_ratios == {"USDT": 1, "USDC": 1, "BTC": D("0.95"), "ETH": D("0.95")}
    assert assets.default_collateral_ratio == D("0.9")
    assert assets.hourly_rates["USDT"] == B1_HOURLY
    amounts = [b.maintenance_amount for b in assets.pro_brackets["BTC"].brackets]
    assert amounts == [0, 1000, 2000]


def test_from_params_reads_every_setting_and_merges_tables() -> None:
    reader = ParamReader(
        {
            "mode": "classic_5x",
            "quote": "USDT",
            "taker_fee_rate": "0.00075",
            "collateral_ratios": {"SOL": "0.8"},
            "default_collateral_ratio": "0.5",
            "borrow_limits": {"USDT": "50000"},
            "hourly_rates": {"USDT": "0.00001"},
            "default_hourly_rate": "0.000002",
            "pro_margin_call_ml": "1.2",
            "pro_brackets": {
                "USDT": [
                    {"floor": "0", "mmr": "0.05", "imr": "0.1112"},
                    {"floor": "100000", "mmr": "0.07", "imr": "0.1429"},
                ]
            },
            "fee_in_received_asset": False,
            "auto_repay": True,
        }
    )
    model = binance_cross_margin_from_params(reader)
    reader.finish()
    assert model.rules.borrow_cml_threshold == D("1.25")
    assert model.taker_fee_rate == D("0.00075")
    assert model.collateral_ratio("SOL") == D("0.8")
    assert model.collateral_ratio("BTC") == D("0.95")
    assert model.collateral_ratio("DOGE") == D("0.5")
    assert model.borrow_limits == {"USDT": D(50000)}
    assert model.hourly_rate("USDT") == D("0.00001")
    assert model.hourly_rate("DOGE") == D("0.000002")
    assert model.pro_margin_call_ml == D("1.2")
    assert model.brackets("USDT").brackets[1].maintenance_amount == D(2000)
    assert model.brackets("BTC").brackets[2].floor == D(100000)
    assert not model.fee_in_received_asset
    assert model.auto_repay


def test_from_params_rejects_an_unknown_key() -> None:
    reader = ParamReader({"mode": "pro", "leverage": 3})
    binance_cross_margin_from_params(reader)
    with pytest.raises(ConfigError, match="unknown parameter"):
        reader.finish()


@pytest.mark.parametrize(
    ("params", "where"),
    [
        ({"mode": "10x"}, "params.mode"),
        ({"taker_fee_rate": "-0.001"}, "params.taker_fee_rate"),
        ({"collateral_ratios": {"BTC": "1.2"}}, "params.collateral_ratios.BTC"),
        ({"hourly_rates": {"USDT": "-1"}}, "params.hourly_rates.USDT"),
        ({"pro_margin_call_ml": "0.9"}, "params.pro_margin_call_ml"),
        (
            {"pro_brackets": {"SOL": [{"floor": "0", "mmr": "0.05", "imr": "0.1", "x": 1}]}},
            r"params.pro_brackets.SOL\[0\]",
        ),
        (
            {
                "pro_brackets": {
                    "SOL": [
                        {"floor": "0", "mmr": "0.05", "imr": "0.1"},
                        {"floor": "100", "mmr": "0.1", "imr": "0.2", "maintenance_amount": "6"},
                    ]
                }
            },
            r"params.pro_brackets.SOL\[1\]",
        ),
    ],
)
def test_from_params_rejects_a_bad_value(params: dict[str, object], where: str) -> None:
    with pytest.raises(ConfigError, match=where):
        binance_cross_margin_from_params(ParamReader(params))
