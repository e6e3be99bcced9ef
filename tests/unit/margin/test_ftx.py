"""Model A, ``ftx_cross``: the spec's worked examples A-1 … A-8, and the model's rules."""

from __future__ import annotations

from decimal import Decimal

import pytest

from xmargin.core.errors import ConfigError, DataError
from xmargin.margin.base import MarginState, RatioKind
from xmargin.margin.ftx import FtxCross, RuleSet, funding_premium
from xmargin.margin.ftx_liquidation import (
    auto_close_fraction,
    backstop_fill_price,
    backstop_fund_share,
    backstop_gain,
    mark_price_deltas,
    position_zero_prices,
    zero_price,
)
from xmargin.margin.ftx_markets import FtxMarket
from xmargin.margin.snapshot import AccountSnapshot, LoanSnapshot, OrderSnapshot, PositionSnapshot
from xmargin.model.orders import OrderSide

D = Decimal
TOL = D("1e-9")
BTC_PERP = "BTC/USD:USD"
ETH_PERP = "ETH/USD:USD"


def assert_close(actual: Decimal | None, expected: str, tolerance: Decimal = TOL) -> None:
    assert actual is not None
    assert abs(actual - D(expected)) <= tolerance, f"{actual} != {expected}"


def long_btc(size: str, entry: str, mark: str, usd: str) -> AccountSnapshot:
    position = PositionSnapshot(BTC_PERP, D(size), D(entry), D(mark))
    return AccountSnapshot(balances={"USD": D(usd)}, positions=(position,))


# -- A-1 position IMF, MMF, ACMF ------------------------------------------------------------


@pytest.mark.parametrize(
    ("leverage", "size", "imf", "mmf", "acmf"),
    [
        ("10", "900", "0.10", "0.036", "0.018"),
        ("10", "14400", "0.24", "0.144", "0.084"),
        ("20", "2", "0.05", "0.03", "0.015"),
    ],
)
def test_position_fractions_match_spec_a1(
    leverage: str, size: str, imf: str, mmf: str, acmf: str
) -> None:
    model = FtxCross(account_leverage=D(leverage))
    account = long_btc(size, "20000", "20000", "1000000000")
    (row,) = model.requirements(account)
    assert_close(row.imf, imf)
    assert_close(row.mmf, mmf)
    assert_close(model.imf_account(account), imf)
    assert_close(model.mmf_account(account), mmf)
    assert_close(model.acmf(account), acmf)


def test_acmf_takes_the_offset_branch_for_large_mmf_spec_a1() -> None:
    account = long_btc("14400", "20000", "20000", "1000000000")
    model = FtxCross(account_leverage=D(10))
    assert model.mmf_account(account) - model.acmf_offset == model.acmf(account)


# -- A-2 maximum position -------------------------------------------------------------------


def test_max_additional_size_matches_spec_a2() -> None:
    model = FtxCross(taker_fee_rate=D(0))
    account = AccountSnapshot(balances={"USD": D(1000000)})
    size = model.max_additional_size(account, BTC_PERP, OrderSide.BUY, D(20000))
    assert_close(size, "854.9879733383")


def test_max_position_notional_closed_form_matches_spec_a2() -> None:
    model = FtxCross()
    market = model.market(BTC_PERP)
    flat_size = D(1000000) / model.base_imf / D(20000)
    assert_close(market.imf_factor * flat_size.sqrt(), "0.0632455532")
    notional = model.max_position_notional(D(1000000), BTC_PERP, D(20000))
    assert_close(notional, "17099759.4667669699")
    size = notional / D(20000)
    assert_close(size, "854.9879733383")
    imf = market.imf(size, model.base_imf)
    assert_close(imf, "0.0584803548")
    assert_close(notional * imf, "1000000", D("1e-6"))


def test_max_position_notional_is_leverage_bound_when_size_term_is_small() -> None:
    assert FtxCross().max_position_notional(D(1000), BTC_PERP, D(20000)) == D(20000)


# -- A-3 collateral weights -----------------------------------------------------------------


def test_small_btc_holding_uses_the_flat_weights_spec_a3() -> None:
    model = FtxCross()
    btc = model.coin("BTC")
    assert btc.size_weight(D(100)) == D("1.1") / D("1.02")
    assert btc.w_total(D(100)) == D("0.975")
    assert btc.w_initial(D(100)) == D("0.95")
    account = AccountSnapshot(balances={"BTC": D(100)}, prices={"BTC": D(20000)})
    assert model.collateral_total(account) == D(1950000)
    assert model.collateral_initial(account) == D(1900000)


def test_large_btc_holding_is_size_haircut_spec_a3() -> None:
    model = FtxCross()
    btc = model.coin("BTC")
    assert_close(btc.size_weight(D(10000)), "0.9166666667")
    assert_close(btc.w_total(D(10000)), "0.9166666667")
    assert_close(btc.w_initial(D(10000)), "0.9166666667")
    account = AccountSnapshot(balances={"BTC": D(10000)}, prices={"BTC": D(20000)})
    assert_close(model.collateral_total(account), "183333333.3333333333")
    assert_close(model.collateral_initial(account), "183333333.3333333333")


def test_haircut_thresholds_match_spec_a3() -> None:
    btc = FtxCross().coin("BTC")
    total_start = btc.haircut_start(btc.total_weight)
    initial_start = btc.haircut_start(btc.initial_weight)
    assert_close(total_start, "4109.1387245233")
    assert_close(initial_start, "6232.6869806094")
    assert total_start is not None
    assert btc.w_total(total_start - 1) == D("0.975")
    assert btc.w_total(total_start + 1) < D("0.975")


def test_eth_weights_match_spec_a3() -> None:
    eth = FtxCross().coin("ETH")
    assert (eth.w_total(D(1000)), eth.w_initial(D(1000))) == (D("0.95"), D("0.9"))
    assert_close(eth.w_total(D(1000000)), "0.7857142857")
    assert_close(eth.w_initial(D(1000000)), "0.7857142857")


# -- A-4 liquidation ladder and backstop split ----------------------------------------------

A4 = long_btc("2", "10000", "10000", "1000")


def test_opening_at_exactly_the_imf_limit_is_accepted_spec_a4() -> None:
    model = FtxCross()
    assert model.omf(A4) == D("0.05")
    assert model.imf_account(A4) == D("0.05")
    assert model.initial_gap(A4) == 0
    assert model.initial_gap(model.apply_fill(A4, BTC_PERP, D("0.001"), D(10000))) < 0


def test_liquidation_starts_at_spec_a4_price() -> None:
    model = FtxCross()
    assert_close(model.liquidation_price(A4, BTC_PERP), "9793.8144329897")
    (row,) = model.assess(A4).exposures
    assert_close(row.liquidation_price, "9793.8144329897")


def test_auto_close_starts_at_spec_a4_price() -> None:
    model = FtxCross()
    assert model.acmf(A4) == D("0.015")
    assert_close(model.auto_close_price(A4, BTC_PERP), "9644.6700507614")


@pytest.mark.parametrize(
    ("mark", "state"),
    [
        ("10000", MarginState.OK),
        ("9793.8144329898", MarginState.OK),
        ("9793.8144329896", MarginState.LIQUIDATING),
        ("9700", MarginState.LIQUIDATING),
        ("9644.6700507615", MarginState.LIQUIDATING),
        ("9644.6700507613", MarginState.AUTO_CLOSE),
        ("9400", MarginState.AUTO_CLOSE),
    ],
)
def test_state_follows_spec_a4_thresholds(mark: str, state: MarginState) -> None:
    model = FtxCross()
    account = A4.with_mark(BTC_PERP, D(mark))
    assert model.state(account) is state
    assert model.assess(account).state is state


def test_backstop_split_at_auto_close_start_matches_spec_a4() -> None:
    model = FtxCross()
    mark = model.auto_close_price(A4, BTC_PERP)
    assert mark is not None
    account = A4.with_mark(BTC_PERP, mark)
    tav = model.total_account_value(account)
    assert_close(tav, "289.3401015228")
    zp = zero_price(D(2), mark, model.margin_fraction(account))
    assert_close(zp, "9500")
    assert_close(zp, str(D(10000) - D(1000) / D(2)))
    assert_close(position_zero_prices(model, account)[BTC_PERP], "9500")
    fill = backstop_fill_price(zp, mark, model.blp_share)
    assert_close(fill, "9548.2233502538")
    gain = backstop_gain(D(2), mark, fill)
    assert_close(gain, "192.8934010152")
    assert_close(gain, str(tav * 2 / 3))
    fund = backstop_fund_share(D(2), zp, fill)
    assert_close(fund, "96.4467005076")
    assert_close(fund, str(tav / 3))
    assert_close(tav + D(2) * (zp - mark), "0")


def test_auto_close_fraction_matches_spec_a4() -> None:
    assert_close(auto_close_fraction(D("0.01"), D("0.015")), "0.3333333333")


# -- A-5 position zero prices ---------------------------------------------------------------

A5_MODEL = FtxCross(
    markets={BTC_PERP: FtxMarket(D("0.002")), ETH_PERP: FtxMarket(D("0.001"), mmf_weight=D(2))}
)
A5 = AccountSnapshot(
    balances={"USD": D(10000)},
    positions=(
        PositionSnapshot(BTC_PERP, D(1), D(21000), D(20000)),
        PositionSnapshot(ETH_PERP, D(-10), D(1450), D(1500)),
    ),
)


def test_two_position_account_matches_spec_a5() -> None:
    model = A5_MODEL
    assert model.unrealized_pnl(A5) == D(-1500)
    assert model.total_account_value(A5) == D(8500)
    assert model.total_notional(A5) == D(35000)
    assert_close(model.margin_fraction(A5), "0.2428571429")
    assert_close(model.mmf_account(A5), "0.0428571429")
    maintenance = {r.instrument: r.maintenance_margin for r in model.requirements(A5)}
    assert maintenance == {BTC_PERP: D(600), ETH_PERP: D(900)}


def test_position_zero_prices_match_spec_a5() -> None:
    deltas = mark_price_deltas(A5_MODEL, A5)
    assert_close(deltas[BTC_PERP], "0.17")
    assert_close(deltas[ETH_PERP], "0.34")
    prices = position_zero_prices(A5_MODEL, A5)
    assert_close(prices[BTC_PERP], "16600")
    assert_close(prices[ETH_PERP], "2010")


def test_closing_at_position_zero_prices_realises_minus_tav_spec_a5() -> None:
    prices = position_zero_prices(A5_MODEL, A5)
    from_mark = [p.size * (prices[p.instrument] - p.mark_price) for p in A5.positions]
    from_entry = [p.size * (prices[p.instrument] - p.entry_price) for p in A5.positions]
    assert_close(from_mark[0], "-3400")
    assert_close(from_mark[1], "-5100")
    assert_close(sum(from_mark, D(0)), "-8500")
    assert_close(from_entry[0], "-4400")
    assert_close(from_entry[1], "-5600")
    assert_close(sum(from_entry, D(0)), "-10000")


# -- A-6 negative USD conversion (legacy_2020) ----------------------------------------------


@pytest.mark.parametrize(
    ("btc", "usd", "collateral", "triggered"),
    [("3", "-35000", "23500", True), ("1", "-16000", "3500", True), ("2", "-9000", "30000", False)],
)
def test_legacy_conversion_triggers_match_spec_a6(
    btc: str, usd: str, collateral: str, triggered: bool
) -> None:
    model = FtxCross(rule_set=RuleSet.LEGACY_2020)
    account = AccountSnapshot(balances={"BTC": D(btc), "USD": D(usd)}, prices={"BTC": D(20000)})
    assert model.collateral_total(account) == D(collateral)
    assert model.conv_ratio * model.collateral_total(account) == 4 * D(collateral)
    assert model.total_notional(account) == 0
    assert model.conversion_triggered(account) is triggered


def test_legacy_conversion_triggers_near_maintenance() -> None:
    model = FtxCross(rule_set=RuleSet.LEGACY_2020)
    account = long_btc("2", "10000", "9795", "-100").with_balance("BTC", D("0.0567"))
    account = AccountSnapshot(
        balances=account.balances, positions=account.positions, prices={"BTC": D(20000)}
    )
    mf, mmf = model.margin_fraction(account), model.mmf_account(account)
    assert mmf < mf < mmf + model.conv_mmf_buffer
    assert model.conversion_triggered(account)


def test_spot_margin_era_converts_only_without_spot_margin_and_below_maintenance() -> None:
    account = long_btc("2", "10000", "9700", "-50").with_balance("BTC", D("0.05"))
    account = AccountSnapshot(
        balances=account.balances, positions=account.positions, prices={"BTC": D(20000)}
    )
    assert FtxCross().state(account) is MarginState.LIQUIDATING
    assert FtxCross().conversion_triggered(account)
    assert not FtxCross(spot_margin_enabled=True).conversion_triggered(account)
    healthy = account.with_mark(BTC_PERP, D(10000))
    assert not FtxCross().conversion_triggered(healthy)


def test_legacy_interest_applies_only_beyond_30000_usd() -> None:
    model = FtxCross(rule_set=RuleSet.LEGACY_2020)
    deep = AccountSnapshot(balances={"USD": D(-35000)})
    assert model.borrow_interest(deep, {}) == {"USD": D(35000) * D("0.001") / 24}
    assert model.borrow_interest(AccountSnapshot(balances={"USD": D(-16000)}), {}) == {}


def test_legacy_negative_balances_are_not_margined() -> None:
    model = FtxCross(rule_set=RuleSet.LEGACY_2020)
    account = AccountSnapshot(balances={"USD": D(300000), "ETH": D(-100)}, prices={"ETH": D(1)})
    assert model.requirements(account) == ()
    assert model.assess(account).margin_ratio is None


# -- A-7 spot-margin short with hourly interest ---------------------------------------------

A7_MODEL = FtxCross(spot_margin_enabled=True, taker_fee_rate=D(0))


def a7_account() -> AccountSnapshot:
    deposit = AccountSnapshot(balances={"USD": D(50000)}, prices={"ETH": D(1500)})
    return A7_MODEL.apply_fill(deposit, "ETH/USD", D(-100), D(1500))


def test_spot_short_moves_balances_spec_a7() -> None:
    assert a7_account().balances == {"USD": D(200000), "ETH": D(-100)}


def test_spot_short_margin_matches_spec_a7() -> None:
    model, account = A7_MODEL, a7_account()
    (row,) = model.requirements(account)
    assert_close(row.imf, "0.2222222222")
    assert_close(row.mmf, "0.0842105263")
    assert model.total_account_value(account) == D(50000)
    assert model.total_notional(account) == D(150000)
    assert_close(model.margin_fraction(account), "0.3333333333")
    assert_close(model.omf(account), "0.3333333333")
    assert model.omf(account) >= model.imf_account(account)
    assert model.initial_gap(account) >= 0
    report = model.assess(account)
    assert_close(report.initial_margin_required, "33333.3333333333")
    assert report.margin_ratio_kind is RatioKind.MARGIN_FRACTION


def test_spot_short_liquidation_price_matches_spec_a7() -> None:
    (row,) = A7_MODEL.assess(a7_account()).exposures
    assert row.instrument == "ETH/USD"
    assert_close(row.liquidation_price, "1844.6601941748")


def test_hourly_interest_is_added_to_the_borrow_spec_a7() -> None:
    rates = {"ETH": D("0.00001")}
    assert A7_MODEL.borrow_interest(a7_account(), rates) == {"ETH": D("0.001")}
    assert A7_MODEL.accrue_interest(a7_account(), rates).balance("ETH") == D("-100.001")


def test_borrow_without_a_rate_is_a_data_error() -> None:
    with pytest.raises(DataError, match="ETH"):
        A7_MODEL.borrow_interest(a7_account(), {})


def test_borrow_rate_derivation_is_135_percent_of_lending_at_7bps_taker() -> None:
    assert FtxCross().borrow_rate(D("0.00001")) == D("0.0000135")


# -- A-8 hourly funding ---------------------------------------------------------------------


def test_hourly_funding_matches_spec_a8() -> None:
    model = FtxCross()
    rate = model.funding_rate(funding_premium(D(20024), D(20000)))
    assert rate == D("0.00005")
    assert model.funding_payment(D(10), D(20000), rate) == D(10)
    assert model.funding_payment(D(10), D(20000), rate) == D(10) * D(24) / D(24)


# -- general rules --------------------------------------------------------------------------


def test_resting_orders_widen_the_open_size() -> None:
    model = FtxCross()
    account = long_btc("2", "10000", "10000", "100000")
    orders = (OrderSnapshot(BTC_PERP, D(3), D(9900)), OrderSnapshot(BTC_PERP, D(-4), D(10100)))
    account = AccountSnapshot(balances=account.balances, positions=account.positions, orders=orders)
    assert model.open_size(account, BTC_PERP) == D(5)
    assert model.free_collateral(account) == D(100000) - D(50000) * D("0.05")
    assert model.assess(account).maintenance_margin_required == D(20000) * D("0.03")


def test_unrealized_gains_do_not_add_free_collateral() -> None:
    model = FtxCross()
    winner = long_btc("2", "10000", "11000", "1000")
    assert model.free_collateral(winner) == D(1000) - D(22000) * D("0.05")
    loser = long_btc("2", "10000", "9900", "1000")
    assert model.free_collateral(loser) == D(800) - D(19800) * D("0.05")


def test_resting_spot_buy_reserves_the_collateral_it_would_use() -> None:
    order = OrderSnapshot("BTC/USD", D(1), D(20000))
    account = AccountSnapshot(balances={"USD": D(10000)}, prices={"BTC": D(20000)}, orders=(order,))
    model = FtxCross(spot_margin_enabled=True)
    assert model.spot_order_reserve(account) == D(2000)
    assert model.initial_gap(account) == D(8000)


def test_spot_capacity_without_spot_margin_is_the_balance() -> None:
    model = FtxCross()
    account = AccountSnapshot(balances={"USD": D(1000), "ETH": D(2)}, prices={"ETH": D(1500)})
    assert model.max_additional_size(account, "ETH/USD", OrderSide.SELL, D(1500)) == D(2)
    bought = model.max_additional_size(account, "ETH/USD", OrderSide.BUY, D(1000))
    assert bought == D(1000) / (D(1000) * D("1.0007"))


def test_exposures_list_positions_then_every_non_usd_coin() -> None:
    account = AccountSnapshot(
        balances={"USD": D(1000), "BTC": D("0.5"), "ETH": D(-1)},
        positions=A4.positions,
        prices={"BTC": D(20000), "ETH": D(1500)},
    )
    rows = FtxCross().exposures(account)
    assert [(r.instrument, r.size, r.asset) for r in rows] == [
        (BTC_PERP, D(2), None),
        ("BTC/USD", D("0.5"), "BTC"),
        ("ETH/USD", D(-1), "ETH"),
    ]


def test_report_without_exposure_has_no_ratio_and_is_ok() -> None:
    report = FtxCross().assess(AccountSnapshot(balances={"USD": D(1000)}))
    assert report.margin_ratio is None
    assert report.state is MarginState.OK
    assert (report.equity, report.collateral, report.free_collateral) == (D(1000),) * 3


def test_loans_are_rejected_because_ftx_borrows_are_negative_balances() -> None:
    account = AccountSnapshot(balances={"USD": D(1000)}, loans=(LoanSnapshot("USD", D(10)),))
    with pytest.raises(ConfigError, match="negative coin balance"):
        FtxCross().assess(account)


@pytest.mark.parametrize(
    ("instrument", "known"),
    [
        (BTC_PERP, True),
        ("BTC/USD:USD-221230", True),
        ("ETH/USD", True),
        ("DOGE/USD:USD", False),
        ("BTC/USDT:USDT", False),
        ("DOGE/USD", False),
        ("not a symbol", False),
    ],
)
def test_knows_only_configured_markets_and_coins(instrument: str, known: bool) -> None:
    assert FtxCross().knows(instrument) is known


def test_position_in_an_unknown_market_is_a_config_error() -> None:
    position = PositionSnapshot("DOGE/USD:USD", D(10), D(1), D(1))
    with pytest.raises(ConfigError, match="DOGE/USD:USD"):
        FtxCross().assess(AccountSnapshot(balances={"USD": D(100)}, positions=(position,)))
