"""Exact stress scenarios: shocks, liquidated exposures, charges, de-pegs and the cascade.

Expected values are worked by hand from the spec formulas (§C.3, §D.3/D.4, §B.3).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from xmargin.core.errors import ConfigError
from xmargin.margin.base import MarginState
from xmargin.margin.binance_margin import BinanceCrossMargin
from xmargin.margin.binance_usdm import BinanceUsdmCross
from xmargin.margin.bybit import BybitUtaCross
from xmargin.margin.hyperliquid import HyperliquidCross
from xmargin.margin.snapshot import AccountSnapshot, LoanSnapshot, PositionSnapshot
from xmargin.risk.scenarios import builtin_scenarios
from xmargin.risk.stress import (
    FundingSpike,
    Scenario,
    Shock,
    ShockKind,
    evaluate,
    reference_price,
    risk_assets,
)
from xmargin.risk.stress_liquidation import CascadeModel

D = Decimal
BUILTINS = builtin_scenarios()


def change(asset: str, value: str) -> Shock:
    return Shock(asset, ShockKind.CHANGE, D(value))


def price(asset: str, value: str) -> Shock:
    return Shock(asset, ShockKind.PRICE, D(value))


def usdm_account(wallet: str) -> AccountSnapshot:
    """Long 1 BTC and short 10 ETH at their entries (both first bracket, MMR 0.004)."""
    return AccountSnapshot(
        balances={"USDT": D(wallet)},
        positions=(
            PositionSnapshot("BTC/USDT:USDT", D(1), D(50000), D(50000)),
            PositionSnapshot("ETH/USDT:USDT", D(-10), D(3000), D(3000)),
        ),
    )


def test_btc_down_20_percent_liquidates_every_cross_position_with_exact_figures():
    # BTC 40,000: uPnL −10,000, MB = 10,200 − 10,000 = 200;
    # MM = 40,000 × 0.004 + 30,000 × 0.004 = 280; ratio = 280 / 200 = 1.4 ≥ 1.
    result = evaluate(
        BinanceUsdmCross(), usdm_account("10200"), Scenario("b", (change("BTC", "-0.2"),))
    )
    assert result.equity == D(200)
    assert result.margin_ratio == D("1.4")
    assert result.state is MarginState.LIQUIDATING
    assert result.loss == D(10000)
    assert result.liquidation_gap == D(-80)
    assert result.liquidated == ("BTC/USDT:USDT", "ETH/USDT:USDT")
    assert [(f.quantity, f.price, f.stage) for f in result.liquidations] == [
        (D(-1), D(40000), "full"),
        (D(10), D(3000), "full"),
    ]
    assert result.prices == {"BTC": D(40000)}


def test_the_same_shock_with_more_wallet_liquidates_nothing():
    # MB = 400, ratio = 280 / 400 = 0.7, below the 0.8 margin call.
    result = evaluate(
        BinanceUsdmCross(), usdm_account("10400"), Scenario("b", (change("BTC", "-0.2"),))
    )
    assert result.margin_ratio == D("0.7")
    assert result.state is MarginState.OK
    assert result.liquidated == ()
    # ETH fixed, BTC liquidates where 400 + (P − 40,000) = 0.004 P + 120 → P = 39,879.5180722892…
    assert result.nearest is not None and result.nearest.instrument == "BTC/USDT:USDT"
    assert result.nearest.liquidation_price.quantize(D("1e-6")) == D("39879.518072")


def test_setting_a_price_equals_the_matching_percentage():
    model, account = BinanceUsdmCross(), usdm_account("10200")
    by_price = evaluate(model, account, Scenario("p", (price("BTC", "40000"),)))
    by_change = evaluate(model, account, Scenario("c", (change("BTC", "-0.2"),)))
    assert (by_price.equity, by_price.margin_ratio) == (by_change.equity, by_change.margin_ratio)


def hyperliquid_account() -> AccountSnapshot:
    """Long 2 BTC (200k notional, MMR 0.0125) and short 10 ETH (MMR 0.02), 42,000 USDC."""
    return AccountSnapshot(
        balances={"USDC": D(42000)},
        positions=(
            PositionSnapshot("BTC/USDC:USDC", D(2), D(100000), D(100000), D(10)),
            PositionSnapshot("ETH/USDC:USDC", D(-10), D(3000), D(3000), D(10)),
        ),
    )


def test_hyperliquid_partially_liquidates_only_the_large_position():
    # BTC 80,000: AV = 42,000 − 40,000 = 2,000; MM = 160,000 × 0.0125 + 30,000 × 0.02 = 2,600.
    # Backstop below 2/3 × 2,600 = 1,733.33: not reached. BTC notional 160,000 > 100,000 is
    # liquidated 20 %, the 30,000 ETH position in full.
    result = evaluate(
        HyperliquidCross(), hyperliquid_account(), Scenario("b", (change("BTC", "-0.2"),))
    )
    assert result.equity == D(2000)
    assert result.margin_ratio == D("1.3")
    assert result.state is MarginState.LIQUIDATING
    assert [(f.instrument, f.quantity, f.stage) for f in result.liquidations] == [
        ("BTC/USDC:USDC", D("-0.4"), "partial"),
        ("ETH/USDC:USDC", D(10), "full"),
    ]


def test_the_cascade_converges_after_two_rounds_with_exact_fills():
    impact = D(1250)  # bps per 1M of notional: a 32,000 order moves the price 0.4 %
    scenario = Scenario(
        "cascade", (change("BTC", "-0.2"),), cascade=CascadeModel(bps_per_million=impact)
    )
    result = evaluate(HyperliquidCross(), hyperliquid_account(), scenario)
    fee = D("0.00045")
    # Round 1: sell 0.4 BTC (32,000): move 0.125 × 0.032 = 0.004 → 79,680.
    btc1 = D(80000) * (1 - D("0.125") * D("0.032"))
    balance = D(42000) + D("0.4") * (btc1 - D(100000)) - D("0.4") * btc1 * fee
    # …then buy 10 ETH (30,000): move 0.125 × 0.03 = 0.00375 → 3,011.25.
    eth = D(3000) * (1 + D("0.125") * D("0.03"))
    balance += D(-10) * (eth - D(3000)) - D(10) * eth * fee
    # AV = balance − 1.6 × 20,320 = 1,219.61 < MM = 1,593.6 (and above 2/3 of it): round 2
    # sells the remaining 1.6 BTC in full (cooldown): move 0.125 × 0.127488.
    assert balance + D("1.6") * (btc1 - D(100000)) < D("1.6") * btc1 * D("0.0125")
    btc2 = btc1 * (1 - D("0.125") * D("1.6") * btc1 / D(1_000_000))
    balance += D("1.6") * (btc2 - D(100000)) - D("1.6") * btc2 * fee
    assert balance == D("-868.4971510544")
    assert result.rounds == 2
    assert result.converged is True
    assert [(f.instrument, f.quantity, f.price, f.round) for f in result.liquidations] == [
        ("BTC/USDC:USDC", D("-0.4"), btc1, 1),
        ("ETH/USDC:USDC", D(10), eth, 1),
        ("BTC/USDC:USDC", D("-1.6"), btc2, 2),
    ]
    assert result.shocked_equity == D(2000)
    assert result.bad_debt == -balance
    assert result.equity == 0  # the insurance fund covers the flat account's deficit
    assert result.loss == D(42000)


def test_a_cascade_on_binance_usdm_closes_everything_in_one_round():
    scenario = Scenario("c", (change("BTC", "-0.2"),), cascade=CascadeModel(bps_per_million=D(0)))
    result = evaluate(BinanceUsdmCross(), usdm_account("10200"), scenario)
    # Closed at 40,000 and 3,000 with the 0.5 % clearance fee on 70,000: 200 − 350 < 0.
    assert (result.rounds, result.converged) == (1, True)
    assert result.bad_debt == D(150)
    assert result.equity == 0


def multi_assets_account() -> tuple[BinanceUsdmCross, AccountSnapshot]:
    model = BinanceUsdmCross(
        multi_assets=True, collateral_ratios={"USDC": D("0.9999"), "FDUSD": D("0.989")}
    )
    account = AccountSnapshot(
        balances={"USDT": D(0), "USDC": D(50000), "FDUSD": D(20000)},
        positions=(PositionSnapshot("BTC/USDT:USDT", D(1), D(60000), D(60000)),),
        prices={"USDC": D(1), "FDUSD": D(1)},
    )
    return model, account


def test_usdc_depeg_cuts_multi_assets_collateral_at_its_ratio():
    model, account = multi_assets_account()
    # Base MB = 50,000 × 0.9999 + 20,000 × 0.989 = 69,775; MM = 60,000 × 0.005 − 50 = 250.
    result = evaluate(model, account, BUILTINS["usdc_svb_2023"])
    assert result.base_equity == D(69775)
    assert result.equity == D("63275.65")  # 50,000 × 0.87 × 0.9999 + 19,780
    assert result.loss == D("6499.35")
    assert result.margin_ratio == D(250) / D("63275.65")
    assert result.prices == {"USDC": D("0.87")}


def test_fdusd_depeg_uses_the_real_2025_04_02_low():
    model, account = multi_assets_account()
    result = evaluate(model, account, BUILTINS["fdusd_2025_04_02"])
    assert result.equity == D(49995) + D(20000) * D("0.8726") * D("0.989")
    assert result.prices == {"FDUSD": D("0.8726")}


def test_a_depeg_with_a_crash_sums_both_and_the_quote_depeg_changes_nothing():
    model, account = multi_assets_account()
    both = evaluate(model, account, Scenario("x", (price("USDC", "0.87"), change("BTC", "-0.2"))))
    # USDT amount −12,000 counts at ratio 1; MM = 48,000 × 0.004 = 192.
    assert both.equity == D("43495.65") + D(19780) - D(12000)
    usdt = evaluate(model, account, BUILTINS["usdt_2022"])
    assert usdt.loss == 0
    assert any("quote currency" in note for note in usdt.notes)


def test_bybit_coin_collateral_follows_a_usdc_depeg():
    account = AccountSnapshot(
        balances={"USDT": D(1000), "USDC": D(10000)},
        positions=(PositionSnapshot("BTC/USDT:USDT", D(1), D(60000), D(58000), D(10)),),
        prices={"USDC": D(1)},
    )
    result = evaluate(BybitUtaCross(), account, BUILTINS["usdc_svb_2023"])
    # (1,000 − 2,000) USDT + 10,000 × 0.87 USDC (ratio 1) = 7,700; MM = 58,000 × 0.005 = 290.
    assert result.equity == D(7700)
    assert result.margin_ratio == D(290) / D(7700)


def test_the_ust_collapse_reports_its_worst_anchor_and_the_whole_path():
    model = BinanceCrossMargin()
    account = AccountSnapshot(
        balances={"UST": D(10000), "LUNA": D(100)},
        loans=(LoanSnapshot("USDT", D(5000)),),
        prices={"UST": D(1), "LUNA": D(80)},
    )
    result = evaluate(model, account, BUILTINS["ust_collapse_2022"])
    assert [point.equity for point in result.path] == [
        D(12450),
        D(4700),
        D(-1840),
        D("-3699.92"),
        D("-3999.984"),
    ]
    assert result.step == "2022-05-16"
    assert result.equity == D("-3999.984")
    assert result.loss == D("16999.984")
    assert result.state is MarginState.LIQUIDATING
    assert result.liquidated == ("UST/USDT",)  # the largest asset, all of it
    assert result.liquidations[0].quantity == D(-10000)
    assert any("USTC" in note for note in result.notes)  # not held: skipped, said so


def test_funding_spike_charges_three_capped_payments_on_every_perpetual():
    # First-tier MMR 0.004 on 50,000 and 30,000: 3 × 0.004 × 80,000 = 960, whatever the side.
    result = evaluate(BinanceUsdmCross(), usdm_account("10200"), BUILTINS["funding_spike"])
    assert result.charges == {"funding": D(960)}
    assert result.loss == D(960)
    explicit = Scenario("f", funding=FundingSpike(2, D("0.001")))
    assert evaluate(BinanceUsdmCross(), usdm_account("10200"), explicit).loss == D(160)


def test_liquidity_haircut_charges_the_closing_cost_on_every_notional():
    result = evaluate(BinanceUsdmCross(), usdm_account("10200"), BUILTINS["liquidity_haircut"])
    assert result.charges == {"closing_cost": D(400)}  # 50 bps of 80,000
    assert result.equity == D(9800)


def test_every_asset_shock_skips_stablecoins_and_explicit_entries_win():
    model, account = multi_assets_account()
    assert risk_assets(model, account) == ("BTC", "FDUSD", "USDC")
    result = evaluate(model, account, Scenario("x", (change("*", "-0.5"), change("BTC", "-0.1"))))
    assert result.prices == {"BTC": D(54000)}


def test_reference_price_prefers_the_valuation_price_then_a_quote_mark():
    account = AccountSnapshot(
        positions=(
            PositionSnapshot("BTC/USDC:USDC", D(1), D(1), D(60100)),
            PositionSnapshot("BTC/USDT:USDT", D(1), D(1), D(60000)),
        ),
    )
    assert reference_price(account, "USDT", "BTC") == D(60000)
    assert reference_price(account.with_price("BTC", D(59990)), "USDT", "BTC") == D(59990)
    assert reference_price(account, "USDT", "DOGE") is None


def test_a_strict_shock_on_an_asset_the_account_lacks_is_an_error():
    with pytest.raises(ConfigError, match=r"--shock: unknown asset DOGE"):
        evaluate(
            BinanceUsdmCross(),
            usdm_account("10200"),
            Scenario("x", (change("DOGE", "-0.2"),)),
            strict=True,
            where="--shock",
        )


def test_shocks_reject_impossible_values():
    with pytest.raises(ConfigError, match="a change must be above -100%"):
        change("BTC", "-1")
    with pytest.raises(ConfigError, match="a price must be positive, got 0"):
        price("BTC", "0")
