"""Model D, ``hyperliquid_cross``: the spec's worked examples D-1 … D-4 and the model's rules."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from xmargin.core.errors import ConfigError
from xmargin.margin.base import MarginState, RatioKind
from xmargin.margin.hyperliquid import (
    HyperliquidCross,
    hyperliquid_from_params,
    premium_sample,
)
from xmargin.margin.liquidation_price import solve_price
from xmargin.margin.params import ParamReader
from xmargin.margin.snapshot import AccountSnapshot, PositionSnapshot
from xmargin.margin.tiers import TierTable
from xmargin.model.orders import OrderSide

BTC = "BTC/USDC:USDC"
ETH = "ETH/USDC:USDC"
TOLERANCE = Decimal("1e-9")
D = Decimal


def close(actual: Decimal | None, expected: str) -> bool:
    assert actual is not None
    return abs(actual - Decimal(expected)) <= TOLERANCE


def d1_account(mark: str = "100000") -> AccountSnapshot:
    """D-1: 12,000 USDC, long 1 BTC at 100,000 with L = 10."""
    position = PositionSnapshot(BTC, D(1), D(100_000), D(mark), leverage=D(10))
    return AccountSnapshot(balances={"USDC": D(12_000)}, positions=(position,))


def d2_account() -> AccountSnapshot:
    """D-2: 15,000 USDC, long 1 BTC @ 100,000 (mark 95,000), short 10 ETH @ 3,000 (mark 3,300)."""
    return AccountSnapshot(
        balances={"USDC": D(15_000)},
        positions=(
            PositionSnapshot(BTC, D(1), D(100_000), D(95_000), leverage=D(10)),
            PositionSnapshot(ETH, D(-10), D(3_000), D(3_300), leverage=D(10)),
        ),
    )


def solver_price(model: HyperliquidCross, account: AccountSnapshot, instrument: str) -> Decimal:
    position = account.position(instrument)
    assert position is not None
    price = solve_price(
        lambda p: model.liquidation_gap(account.with_mark(instrument, p)), position.mark_price
    )
    assert price is not None
    return price


D4_STEPS = [
    (D(0), D(40)),
    (D(10_000), D(25)),
    (D(50_000), D(10)),
    (D(100_000), D(5)),
    (D(300_000), D(3)),
]


def d4_model() -> HyperliquidCross:
    return HyperliquidCross(tiers={"X/USDC:USDC": TierTable.from_leverage_steps("X", D4_STEPS)})


# --- D-1 -----------------------------------------------------------------------------------


def test_d1_initial_margin_of_10x_long_is_accepted() -> None:
    model = HyperliquidCross(leverage={BTC: D(10)})
    empty = AccountSnapshot(balances={"USDC": D(12_000)})
    opened = model.apply_fill(empty, BTC, D(1), D(100_000), fee_rate=D(0))
    report = model.assess(opened)
    assert report.initial_margin_required == D(10_000)
    assert model.initial_gap(opened) == D(2_000)


def test_d1_maintenance_margin_uses_mmr_of_half_inverse_max_leverage() -> None:
    model = HyperliquidCross()
    assert model.table(BTC).tier_for(D(100_000)).mmr == D("0.0125")
    report = model.assess(d1_account())
    assert report.maintenance_margin_required == D(1_250)
    assert report.margin_ratio_kind is RatioKind.CROSS_MARGIN_RATIO
    assert report.state is MarginState.OK


def test_d1_liquidation_price_matches_spec_by_closed_form_and_solver() -> None:
    model = HyperliquidCross()
    account = d1_account()
    assert close(model.liquidation_price(account, BTC), "89113.9240506329")
    assert close(model.closed_form_liquidation_price(account, BTC), "89113.9240506329")
    assert close(solver_price(model, account, BTC), "89113.9240506329")


def test_d1_account_value_equals_maintenance_at_liquidation_price() -> None:
    model = HyperliquidCross()
    price = model.closed_form_liquidation_price(d1_account(), BTC)
    assert price is not None
    at_liquidation = d1_account().with_mark(BTC, price)
    assert close(model.account_value(at_liquidation), "1113.9240506329")
    assert close(model.total_maintenance(at_liquidation), "1113.9240506329")


def test_d1_backstop_threshold_price_solves_av_equal_two_thirds_mm() -> None:
    assert close(HyperliquidCross().backstop_price(d1_account(), BTC), "88739.4957983193")


def test_d1_withdrawable_at_entry_is_2000() -> None:
    model = HyperliquidCross()
    assert model.withdrawable(d1_account()) == D(2_000)
    assert model.assess(d1_account()).details["withdrawable"] == D(2_000)


def test_d1_state_is_liquidating_below_mm_and_backstop_below_two_thirds() -> None:
    model = HyperliquidCross()
    # At 89,000: AV = 1,000 < MM = 1,112.5 but above (2/3) MM = 741.67.
    assert model.assess(d1_account("89000")).state is MarginState.LIQUIDATING
    # At 88,000: AV = 0 < (2/3) × 1,100.
    assert model.assess(d1_account("88000")).state is MarginState.BACKSTOP


def test_d1_max_additional_buy_size_leaves_initial_margin_for_fees() -> None:
    """Buying q more at 100,000 with the 0.045% taker fee.

    AV = 12,000 − 45 q; Σ IM = (1 + q) × 10,000; AV − Σ IM = 2,000 − 10,045 q ≥ 0
    → q ≤ 2,000 / 10,045 = 0.199104031856645…, i.e. 0.199104031856 to 1e-12.
    """
    size = HyperliquidCross().max_additional_size(d1_account(), BTC, OrderSide.BUY, D(100_000))
    assert size == D("0.199104031856")


def test_d1_max_additional_sell_size_closes_then_opens_short() -> None:
    """Selling q > 1 at 100,000: closes the long (no PnL), opens a short of q − 1.

    AV = 12,000 − 45 q; Σ IM = (q − 1) × 10,000; 22,000 − 10,045 q ≥ 0
    → q ≤ 22,000 / 10,045 = 2.190144350423…
    """
    size = HyperliquidCross().max_additional_size(d1_account(), BTC, OrderSide.SELL, D(100_000))
    assert size == D("2.190144350423")


# --- D-2 -----------------------------------------------------------------------------------


def test_d2_account_value_maintenance_and_withdrawable() -> None:
    model = HyperliquidCross()
    account = d2_account()
    report = model.assess(account)
    pnl = {row.instrument: row.unrealized_pnl for row in report.exposures}
    assert pnl == {BTC: D(-5_000), ETH: D(-3_000)}
    assert report.equity == D(7_000)
    mm = {row.instrument: row.maintenance_margin for row in report.exposures}
    assert mm == {BTC: D("1187.5"), ETH: D(660)}
    assert report.maintenance_margin_required == D("1847.5")
    assert report.state is MarginState.OK
    assert report.initial_margin_required == D(12_800)
    assert report.details["withdrawable"] == D(0)


def test_d2_btc_liquidation_price_with_eth_fixed() -> None:
    model = HyperliquidCross()
    account = d2_account()
    assert close(model.liquidation_price(account, BTC), "89782.2784810127")
    assert close(solver_price(model, account, BTC), "89782.2784810127")


def test_d2_eth_liquidation_price_with_btc_fixed() -> None:
    model = HyperliquidCross()
    account = d2_account()
    price = model.closed_form_liquidation_price(account, ETH)
    assert close(price, "3805.1470588235")
    assert close(solver_price(model, account, ETH), "3805.1470588235")
    assert price is not None
    at_liquidation = account.with_mark(ETH, price)
    assert close(model.account_value(at_liquidation), "1948.5294117647")
    assert close(model.total_maintenance(at_liquidation), "1948.5294117647")


# --- D-3 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("premium", "rate_8h", "hourly", "payment"),
    [
        ("0.0003", "0.0001", "0.0000125", "2.5"),
        ("0.002", "0.0015", "0.0001875", "37.5"),
        ("-0.0012", "-0.0007", "-0.0000875", "-17.5"),
        ("0.5", "0.4995", "0.04", "8000"),
    ],
)
def test_d3_funding_rate_hourly_cap_and_payment_of_long_2_btc(
    premium: str, rate_8h: str, hourly: str, payment: str
) -> None:
    model = HyperliquidCross()
    assert model.funding_rate_8h(D(premium)) == D(rate_8h)
    rate = model.hourly_rate(D(premium))
    assert rate == D(hourly)
    assert model.funding_payment(D(2), D(100_000), rate) == D(payment)


def test_d3_uncapped_hourly_rate_of_large_premium_is_0_0624375_before_cap() -> None:
    uncapped = HyperliquidCross(funding_cap_hourly=D(1))
    assert uncapped.hourly_rate(D("0.5")) == D("0.0624375")


@pytest.mark.parametrize(
    ("bid", "ask", "expected"),
    [("100050", "100080", "0.0005"), ("99900", "99950", "-0.0005"), ("99990", "100010", "0")],
)
def test_d3_premium_samples(bid: str, ask: str, expected: str) -> None:
    assert premium_sample(D(bid), D(ask), D(100_000)) == D(expected)


def test_premium_average_is_simple_mean_by_default_and_linear_on_request() -> None:
    samples = [D("0.0001"), D("0.0003"), D("0.0002")]
    assert HyperliquidCross().average_premium(samples) == D("0.0002")
    linear = HyperliquidCross(premium_weighting="linear")
    assert close(linear.average_premium(samples), "0.0002166666667")


# --- D-4 -----------------------------------------------------------------------------------


def test_d4_tier_rates_and_deductions() -> None:
    table = TierTable.from_leverage_steps("X", D4_STEPS)
    rates = ["0.0125", "0.02", "0.05", "0.10", "0.1666666667"]
    deductions = ["0", "75", "1575", "6575", "26575"]
    for tier, rate, deduction in zip(table.tiers, rates, deductions, strict=True):
        assert close(tier.mmr, rate)
        assert close(tier.cum, deduction)


@pytest.mark.parametrize(
    ("notional", "expected"),
    [("8000", "100"), ("60000", "1425"), ("400000", "40091.6666666667")],
)
def test_d4_tiered_maintenance_margin(notional: str, expected: str) -> None:
    position = PositionSnapshot("X/USDC:USDC", D(1), D(notional), D(notional))
    assert close(d4_model().maintenance_margin(position), expected)


def test_d4_mainnet_btc_deduction_above_150m() -> None:
    packaged = HyperliquidCross().table(BTC).tiers
    assert [(t.floor, t.max_leverage) for t in packaged] == [(D(0), D(40)), (D(150_000_000), D(20))]
    assert packaged[1].cum == D(1_875_000)
    built = TierTable.from_leverage_steps(BTC, [(D(0), D(40)), (D(150_000_000), D(20))])
    assert built.tiers[1].cum == D(1_875_000)


def test_closed_form_liquidation_price_re_solves_in_the_tier_it_reaches() -> None:
    """Long 4 X @ 100,000 (notional 400k, tier 5), balance 150,000.

    In tier 4 (MMR 0.1, deduction 6,575): 150,000 + 4 (P − 100,000) − (0.4 P − 6,575) = 0
    → P = 243,425 / 3.6 = 67,618.0555555556 (notional 270,472 ✓ tier 4).
    """
    model = d4_model()
    position = PositionSnapshot("X/USDC:USDC", D(4), D(100_000), D(100_000), D(1))
    account = AccountSnapshot(balances={"USDC": D(150_000)}, positions=(position,))
    assert close(model.closed_form_liquidation_price(account, "X/USDC:USDC"), "67618.0555555556")
    assert close(solver_price(model, account, "X/USDC:USDC"), "67618.0555555556")


def test_liquidation_price_is_none_when_no_positive_price_liquidates() -> None:
    position = PositionSnapshot(BTC, D(1), D(100_000), D(100_000), D(10))
    account = AccountSnapshot(balances={"USDC": D(200_000)}, positions=(position,))
    assert HyperliquidCross().liquidation_price(account, BTC) is None


# --- leverage and initial margin -----------------------------------------------------------


def test_initial_gap_is_negative_when_leverage_exceeds_tier_max() -> None:
    position = PositionSnapshot(BTC, D(2_000), D(100_000), D(100_000), leverage=D(40))
    account = AccountSnapshot(balances={"USDC": D(100_000_000)}, positions=(position,))
    # 200M notional is in the 20x tier: excess = −200M × (40 − 20) / 40.
    assert HyperliquidCross().initial_gap(account) == D(-100_000_000)


def test_default_leverage_is_capped_at_the_tier_max() -> None:
    model = HyperliquidCross(default_leverage=D(50))
    position = PositionSnapshot(BTC, D(1), D(100_000), D(100_000))
    assert model.position_leverage(position) == D(40)
    assert model.initial_margin(position) == D(2_500)


# --- liquidation rules ---------------------------------------------------------------------


def test_liquidation_order_is_partial_above_100k_notional() -> None:
    model = HyperliquidCross()
    assert model.liquidation_order_quantity(D(2), D(100_000), in_cooldown=False) == D("-0.4")
    assert model.liquidation_order_quantity(D(-2), D(100_000), in_cooldown=False) == D("0.4")


def test_liquidation_order_is_full_at_or_below_100k_and_during_cooldown() -> None:
    model = HyperliquidCross()
    assert model.liquidation_order_quantity(D(1), D(100_000), in_cooldown=False) == D(-1)
    assert model.liquidation_order_quantity(D(2), D(100_000), in_cooldown=True) == D(-2)


def test_liquidation_cooldown_lasts_30_seconds_after_a_partial_liquidation() -> None:
    model = HyperliquidCross()
    second = 1_000_000_000
    assert model.in_liquidation_cooldown(29 * second, 0)
    assert not model.in_liquidation_cooldown(30 * second, 0)
    assert not model.in_liquidation_cooldown(5 * second, None)


# --- from_params ---------------------------------------------------------------------------


def test_from_params_reads_leverage_table_tiers_file_and_rates(tmp_path: Path) -> None:
    tiers = tmp_path / "tiers.csv"
    tiers.write_text(
        "symbol,tier,currency,min_notional,max_notional,maint_margin_rate,max_leverage\n"
        "DOGE/USDC:USDC,1,USDC,0,1000000,0.1,5\n"
    )
    reader = ParamReader(
        {
            "leverage": {BTC: 20, "DOGE/USDC:USDC": 3},
            "tiers_file": "tiers.csv",
            "taker_fee_rate": "0.0004",
            "backstop_ratio": "0.5",
            "premium_weighting": "linear",
        },
        base_dir=tmp_path,
    )
    model = hyperliquid_from_params(reader)
    reader.finish()
    assert model.leverage == {BTC: D(20), "DOGE/USDC:USDC": D(3)}
    assert model.knows("DOGE/USDC:USDC") and model.knows(BTC)
    assert model.taker_fee_rate == D("0.0004")
    assert model.backstop_ratio == D("0.5")
    assert model.premium_weighting == "linear"


def test_from_params_rejects_an_unknown_key() -> None:
    reader = ParamReader({"leverage": 5, "maintenance_fudge": 1})
    hyperliquid_from_params(reader)
    with pytest.raises(ConfigError, match="maintenance_fudge"):
        reader.finish()


@pytest.mark.parametrize(
    "params",
    [{"leverage": -1}, {"backstop_ratio": "1.5"}, {"premium_weighting": "median"}],
)
def test_from_params_rejects_a_bad_value(params: dict[str, object]) -> None:
    [(key, _)] = params.items()
    with pytest.raises(ConfigError, match=rf"^params\.{key}: (.* — expected |must be )"):
        hyperliquid_from_params(ParamReader(params))
