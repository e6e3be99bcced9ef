"""Model C (Binance USDⓈ-M cross): every worked example of spec §C.6."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest

from xmargin.core.errors import ConfigError, DataError
from xmargin.margin import binance_usdm_funding as funding
from xmargin.margin.base import MarginState
from xmargin.margin.binance_usdm import BinanceUsdmCross, binance_usdm_from_params
from xmargin.margin.params import ParamReader
from xmargin.margin.snapshot import AccountSnapshot, OrderSnapshot, PositionSnapshot
from xmargin.margin.tiers import Tier, TierTable
from xmargin.model.orders import OrderSide

D = Decimal
TOLERANCE = D("1e-9")
BTC = "BTC/USDT:USDT"
ETH = "ETH/USDT:USDT"


def close(actual: Decimal | None, expected: str) -> bool:
    assert actual is not None
    return abs(actual - D(expected)) <= TOLERANCE


def dp(value: Decimal | None, places: int) -> Decimal:
    assert value is not None
    return value.quantize(D(1).scaleb(-places), rounding=ROUND_HALF_UP)


def account(wallet: str, *positions: PositionSnapshot) -> AccountSnapshot:
    return AccountSnapshot(balances={"USDT": D(wallet)}, positions=positions)


@pytest.mark.parametrize(
    ("notional", "mmr", "cum", "maintenance"),
    [
        ("40000", "0.004", "0", "160"),
        ("50000", "0.005", "50", "200"),
        ("2000000", "0.0065", "950", "12050"),
        ("100000000", "0.05", "2981450", "2018550"),
    ],
)
def test_maintenance_margin_from_brackets_matches_spec_c1(notional, mmr, cum, maintenance):
    table = BinanceUsdmCross().tiers[BTC]
    tier = table.tier_for(D(notional))
    assert (tier.mmr, tier.cum) == (D(mmr), D(cum))
    assert table.maintenance(D(notional)) == D(maintenance)


def test_slice_sum_equals_bracket_formula_spec_c1():
    slices = D(50000) * D("0.004") + D(550000) * D("0.005") + D(1400000) * D("0.0065")
    assert BinanceUsdmCross().tiers[BTC].maintenance(D(2000000)) == slices


def test_long_liquidation_price_matches_spec_c2():
    model = BinanceUsdmCross()
    price = model.liquidation_price(
        account("10000", PositionSnapshot(BTC, D(1), D(50000), D(50000))), BTC
    )
    assert close(price, "40160.6425702811")


def test_short_liquidation_price_and_tier_at_liquidation_match_spec_c2():
    model = BinanceUsdmCross()
    snapshot = account("10000", PositionSnapshot(BTC, D(-2), D(50000), D(50000)))
    price = model.liquidation_price(snapshot, BTC)
    assert close(price, "54751.2437810945")
    assert price is not None
    assert close(2 * price, "109502.4875621891")
    at_liquidation = snapshot.with_mark(BTC, price)
    report = model.assess(at_liquidation)
    assert close(report.equity, "497.5124378109")
    assert close(report.maintenance_margin_required, "497.5124378109")
    assert model.assess(snapshot.with_mark(BTC, price + D("0.01"))).state is MarginState.LIQUIDATING
    assert model.assess(snapshot.with_mark(BTC, price - D("0.01"))).state is MarginState.MARGIN_CALL


def c3_model_and_account() -> tuple[BinanceUsdmCross, AccountSnapshot]:
    unbounded = D("Infinity")
    tiers = {
        BTC: TierTable(BTC, (Tier(D(0), unbounded, D("0.025"), D(16300), D(20)),)),
        ETH: TierTable(ETH, (Tier(D(0), unbounded, D("0.10"), D(135365), D(10)),)),
    }
    snapshot = account(
        "1535443.01",
        PositionSnapshot(BTC, D("109.488"), D("32481.98"), D("31967.27")),
        PositionSnapshot(ETH, D("3683.979"), D("1456.84"), D("1335.18")),
    )
    return BinanceUsdmCross(tiers=tiers), snapshot


def test_two_cross_positions_margin_figures_match_spec_c3():
    model, snapshot = c3_model_and_account()
    report = model.assess(snapshot)
    rows = {row.instrument: row for row in report.exposures}
    assert close(rows[BTC].maintenance_margin, "71200.811444")
    assert close(rows[ETH].maintenance_margin, "356512.508122")
    assert close(rows[BTC].unrealized_pnl, "-56354.56848")
    assert close(rows[ETH].unrealized_pnl, "-448192.88514")
    assert close(report.equity, "1030895.55638")
    assert close(report.margin_ratio, "0.4148949105")


def test_two_cross_positions_liquidation_prices_match_spec_c3():
    model, snapshot = c3_model_and_account()
    rows = {row.instrument: row for row in model.assess(snapshot).exposures}
    assert dp(rows[BTC].liquidation_price, 2) == D("26316.89")
    assert close(rows[BTC].liquidation_price, "26316.8932645189")
    assert dp(rows[ETH].liquidation_price, 2) == D("1153.26")
    assert close(rows[ETH].liquidation_price, "1153.2564642391")


@pytest.mark.parametrize(
    ("premium", "expected"),
    [("0.0002", "0.0001"), ("0.0009", "0.0004"), ("-0.0003", "0.0001"), ("-0.0012", "-0.0007")],
)
def test_funding_rate_matches_spec_c4(premium, expected):
    assert funding.funding_rate(D(premium), D("0.0001")) == D(expected)


def test_funding_rate_is_capped_spec_c4():
    assert funding.funding_rate(D("0.005"), D("0.0001")) == D("0.0045")
    assert funding.funding_rate(D("0.005"), D("0.0001"), cap=D("0.003"), floor=D("-0.003")) == D(
        "0.003"
    )


def test_funding_fee_paid_by_long_matches_spec_c4():
    assert BinanceUsdmCross().funding_payment(D("0.5"), D(60000), D("0.0004")) == D(12)
    assert BinanceUsdmCross().funding_payment(D("-0.5"), D(60000), D("0.0004")) == D(-12)


def test_interest_component_per_interval():
    assert funding.interest_rate(8) == D("0.0001")
    assert funding.interest_rate(4) == D("0.00005")


def test_mark_price_is_median_of_three_spec_c5():
    mark = funding.mark_price(
        index=D(30000),
        last_funding_rate=D("0.0001"),
        time_to_funding=D(2),
        funding_interval=D(8),
        basis_mean=D("4.5"),
        last_price=D(30010),
    )
    assert mark == D("30004.5")
    assert D(30000) * (1 + D("0.0001") * D(2) / D(8)) == D("30000.75")


def test_premium_index_and_weighted_average_spec_c6():
    assert funding.premium_index(D(30015), D(30020), D(30000)) == D("0.0005")
    average = funding.average_premium([D("0.0001"), D("0.0003"), D("0.0002")])
    assert close(average, "0.0002166666667")
    assert average == D("0.0013") / 6


def test_impact_notional_at_max_leverage():
    assert funding.impact_notional(D(125)) == D(25000)


def test_multi_assets_btc_collateral_and_auto_exchange_spec_c7():
    model = BinanceUsdmCross(multi_assets=True, collateral_ratios={"BTC": D("0.975")})
    snapshot = AccountSnapshot(balances={"BTC": D(1), "USDT": D(0)}, prices={"BTC": D(60000)})
    assert model.margin_balance(snapshot) == D(58500)
    assert dp(model.auto_exchange_amount(D(-5000), D("0.975")), 2) == D("5128.21")


def test_multi_assets_negative_wallet_counts_in_full():
    model = BinanceUsdmCross(multi_assets=True, collateral_ratios={"BTC": D("0.975")})
    snapshot = AccountSnapshot(
        balances={"BTC": D(1), "USDC": D(-5000)}, prices={"BTC": D(60000), "USDC": D(1)}
    )
    assert model.margin_balance(snapshot) == D(53500)


def test_multi_assets_without_price_names_the_asset():
    model = BinanceUsdmCross(multi_assets=True)
    with pytest.raises(DataError, match=r"prices\.BTC"):
        model.margin_balance(AccountSnapshot(balances={"BTC": D(1)}))


def test_available_balance_subtracts_position_and_order_margin():
    model = BinanceUsdmCross(default_leverage=D(10))
    snapshot = AccountSnapshot(
        balances={"USDT": D(10000)},
        positions=(PositionSnapshot(BTC, D(1), D(50000), D(50000)),),
        orders=(OrderSnapshot(BTC, D(1), D(40000)),),
    )
    report = model.assess(snapshot)
    assert report.initial_margin_required == D(9000)
    assert report.free_collateral == D(1000)


def test_max_additional_size_pays_margin_and_taker_fee():
    model = BinanceUsdmCross()
    size = model.max_additional_size(account("10000"), BTC, OrderSide.BUY, D(50000))
    assert size == (D(10000) / (D(2500) + D(25))).quantize(D("1e-12"), rounding="ROUND_DOWN")


def test_max_additional_size_counts_closing_an_opposite_position_as_free():
    model = BinanceUsdmCross(taker_fee_rate=D(0))
    snapshot = account("10000", PositionSnapshot(BTC, D(-1), D(50000), D(50000)))
    assert model.max_additional_size(snapshot, BTC, OrderSide.BUY, D(50000)) == D(5)


def test_leverage_above_the_tier_limit_blocks_new_exposure():
    model = BinanceUsdmCross(default_leverage=D(125), taker_fee_rate=D(0))
    snapshot = account("1000000", PositionSnapshot(BTC, D(2), D(50000), D(50000)))
    assert model.initial_gap(snapshot) < 0
    assert (
        model.initial_gap(account("1000000", PositionSnapshot(BTC, D(1), D(40000), D(40000)))) > 0
    )


def test_margin_call_state_between_call_ratio_and_one():
    model = BinanceUsdmCross()
    snapshot = account("10000", PositionSnapshot(BTC, D(1), D(50000), D(40200)))
    report = model.assess(snapshot)
    assert report.margin_ratio is not None and D("0.8") <= report.margin_ratio < 1
    assert report.state is MarginState.MARGIN_CALL


def test_flat_account_has_no_ratio_and_is_ok():
    report = BinanceUsdmCross().assess(account("100"))
    assert report.margin_ratio is None
    assert report.state is MarginState.OK


def test_from_params_reads_leverage_table_and_rejects_unknown_keys():
    model = binance_usdm_from_params(ParamReader({"leverage": {BTC: 5}, "taker_fee_rate": "0"}))
    assert model.leverage == {BTC: D(5)}
    assert model.taker_fee_rate == D(0)
    reader = ParamReader({"levrage": 5}, "acct.toml: params")
    binance_usdm_from_params(reader)
    with pytest.raises(ConfigError, match=r"acct.toml: params: unknown parameter\(s\): levrage"):
        reader.finish()


def test_from_params_rejects_a_negative_leverage():
    with pytest.raises(ConfigError, match=r"params.leverage: -3 — expected a positive number"):
        binance_usdm_from_params(ParamReader({"leverage": -3}))


def test_unknown_instrument_is_named():
    model = BinanceUsdmCross()
    assert not model.knows("DOGE/USDT:USDT")
    with pytest.raises(ConfigError, match="unknown instrument DOGE/USDT:USDT"):
        model.assess(account("100", PositionSnapshot("DOGE/USDT:USDT", D(1), D(1), D(1))))
