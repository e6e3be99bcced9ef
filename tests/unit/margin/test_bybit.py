"""Model E, ``bybit_uta_cross``: the spec's worked examples E-1 … E-3 and the model's rules."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest

from xmargin.core.errors import ConfigError
from xmargin.margin.base import MarginState, RatioKind
from xmargin.margin.bybit import (
    BybitUtaCross,
    bybit_from_params,
    hourly_interest,
    premium_index,
    weighted_premium,
)
from xmargin.margin.params import ParamReader
from xmargin.margin.snapshot import AccountSnapshot, LoanSnapshot, OrderSnapshot, PositionSnapshot
from xmargin.model.orders import OrderSide

BTC = "BTC/USDT:USDT"
TOLERANCE = Decimal("1e-9")
D = Decimal
MINUTE = 60 * 1_000_000_000


def close(actual: Decimal | None, expected: str) -> bool:
    assert actual is not None
    return abs(actual - Decimal(expected)) <= TOLERANCE


def e1_account(mark: str = "58000") -> AccountSnapshot:
    """E-1: 10,000 USDT, long 1 BTC perp at 60,000, leverage 10."""
    position = PositionSnapshot(BTC, D(1), D(60_000), D(mark), leverage=D(10))
    return AccountSnapshot(balances={"USDT": D(10_000)}, positions=(position,))


def e3_account() -> AccountSnapshot:
    """E-3: E-1 plus a buy limit of 1 BTC at 58,500 while the mark is 58,000."""
    return AccountSnapshot(
        balances={"USDT": D(10_000)},
        positions=e1_account().positions,
        orders=(OrderSnapshot(BTC, D(1), D(58_500)),),
    )


# --- E-1 -----------------------------------------------------------------------------------


def test_e1_margin_balance_margins_and_rates() -> None:
    model = BybitUtaCross()
    report = model.assess(e1_account())
    assert report.details["margin_balance"] == D(8_000)
    assert report.maintenance_margin_required == D(290)
    assert report.initial_margin_required == D(5_800)
    assert report.margin_ratio == D("0.03625")
    assert report.margin_ratio_kind is RatioKind.MAINTENANCE_MARGIN_RATE
    assert report.details["initial_margin_rate"] == D("0.725")
    assert model.maintenance_margin_rate(e1_account()) == D("0.03625")
    assert model.initial_margin_rate(e1_account()) == D("0.725")
    assert report.state is MarginState.OK


def test_e1_first_risk_limit_tier_of_btc_and_eth_is_mmr_0_005_at_100x() -> None:
    model = BybitUtaCross()
    for symbol in (BTC, "ETH/USDT:USDT"):
        first = model.table(symbol).tiers[0]
        assert (first.mmr, first.max_leverage) == (D("0.005"), D(100))


def test_e1_liquidation_price_from_the_model() -> None:
    model = BybitUtaCross()
    price = model.liquidation_price(e1_account(), BTC)
    assert close(price, "50251.2562814070")
    assert model.assess(e1_account()).exposures[0].liquidation_price == price


def test_e1_account_is_liquidating_once_mm_rate_reaches_1() -> None:
    model = BybitUtaCross()
    assert model.assess(e1_account("50000")).state is MarginState.LIQUIDATING
    assert model.assess(e1_account("50300")).state is MarginState.OK


def test_e1_max_additional_buy_size() -> None:
    """Buying q at 58,000 with the 0.055% taker fee.

    Denominator 8,000 − 31.9 q; IM (1 + q) × 5,800; 2,200 − 5,831.9 q ≥ 0
    → q ≤ 2,200 / 5,831.9 = 0.377235549306…
    """
    size = BybitUtaCross().max_additional_size(e1_account(), BTC, OrderSide.BUY, D(58_000))
    assert size == D("0.377235549306")


def test_initial_gap_is_negative_when_leverage_exceeds_tier_max() -> None:
    position = PositionSnapshot(BTC, D(100), D(60_000), D(60_000), leverage=D(100))
    account = AccountSnapshot(balances={"USDT": D(1_000_000)}, positions=(position,))
    # 6M notional is in the 50x tier: excess = −6M × (100 − 50) / 100.
    assert BybitUtaCross().initial_gap(account) == D(-3_000_000)


# --- E-2 -----------------------------------------------------------------------------------


def test_e2_hourly_interest_on_10000_usdt_at_8_percent_apr() -> None:
    interest = hourly_interest(D(10_000), D("0.08"))
    assert interest.quantize(D("1e-10"), rounding=ROUND_HALF_UP) == D("0.0913242009")


def test_e2_interest_is_booked_at_five_past_the_hour() -> None:
    model = BybitUtaCross()
    hour = 60 * MINUTE
    assert model.is_interest_time(7 * hour + 5 * MINUTE)
    assert not model.is_interest_time(7 * hour)
    assert not model.is_interest_time(7 * hour + 5 * MINUTE + 1)


# --- E-3 -----------------------------------------------------------------------------------


def test_e3_order_loss_of_buy_above_mark_is_minus_500() -> None:
    assert BybitUtaCross().order_loss(e3_account()) == D(-500)


def test_e3_order_loss_reduces_both_rate_denominators() -> None:
    """Denominator 8,000 − 500 = 7,500; MM 290; IM 5,800 + order IM 58,500 / 10 = 11,650."""
    model = BybitUtaCross()
    account = e3_account()
    assert model.denominator(account) == D(7_500)
    assert close(model.maintenance_margin_rate(account), "0.0386666666667")
    assert close(model.initial_margin_rate(account), "1.5533333333333")
    assert model.only_reducing_allowed(account)
    assert not model.only_reducing_allowed(e1_account())


def test_order_with_a_better_price_than_mark_has_no_loss() -> None:
    account = AccountSnapshot(
        balances={"USDT": D(10_000)},
        positions=e1_account().positions,
        orders=(OrderSnapshot(BTC, D(-1), D(58_500)), OrderSnapshot(BTC, D(1), D(57_000))),
    )
    assert BybitUtaCross().order_loss(account) == D(0)


def test_spot_borrow_is_blocked_when_im_rate_reaches_l_minus_1_over_l() -> None:
    model = BybitUtaCross()
    assert not model.spot_borrow_blocked(e1_account(), D(5))  # 0.725 < 0.8
    assert model.spot_borrow_blocked(e1_account(), D(2))  # 0.725 ≥ 0.5


# --- collateral and borrows ----------------------------------------------------------------


def test_positive_coins_count_at_collateral_ratio_and_negative_ones_in_full() -> None:
    model = BybitUtaCross()
    held = AccountSnapshot(balances={"BTC": D(1)}, prices={"BTC": D(60_000)})
    assert model.margin_balance(held) == D(57_000)
    owed = AccountSnapshot(balances={"BTC": D(-1), "USDT": D(100_000)}, prices={"BTC": D(60_000)})
    assert model.margin_balance(owed) == D(40_000)


def test_loans_and_negative_balances_are_borrows_with_their_own_margins() -> None:
    """USDT −1,000 (borrowed) and 0.1 BTC held against a 0.01 BTC loan, BTC at 60,000.

    Margin balance −1,000 + 0.09 × 60,000 × 0.95 = 4,130. Borrowed value 1,000 + 600:
    IM × 0.2 = 320, MM × 0.04 = 64.
    """
    account = AccountSnapshot(
        balances={"USDT": D(-1_000), "BTC": D("0.1")},
        prices={"BTC": D(60_000)},
        loans=(LoanSnapshot("BTC", D("0.01")),),
    )
    report = BybitUtaCross().assess(account)
    assert report.details["margin_balance"] == D(4_130)
    assert report.initial_margin_required == D(320)
    assert report.maintenance_margin_required == D(64)
    assert [row.instrument for row in report.exposures] == ["BTC/USDT"]


# --- funding -------------------------------------------------------------------------------


def test_funding_interest_scales_with_the_interval() -> None:
    model = BybitUtaCross()
    assert model.funding_interest(8) == D("0.0001")
    assert model.funding_interest(4) == D("0.00005")


@pytest.mark.parametrize(
    ("premium", "expected"),
    [("0.0002", "0.0001"), ("0.0009", "0.0004"), ("-0.0003", "0.0001"), ("-0.0012", "-0.0007")],
)
def test_funding_rate_clamps_interest_minus_premium(premium: str, expected: str) -> None:
    assert BybitUtaCross().funding_rate(D(premium), 8) == D(expected)


def test_premium_samples_weigh_later_minutes_more() -> None:
    assert premium_index(D(30_015), D(30_020), D(30_000)) == D("0.0005")
    samples = [D("0.0001"), D("0.0003"), D("0.0002")]
    assert close(weighted_premium(samples), "0.0002166666667")


# --- from_params ---------------------------------------------------------------------------


def test_from_params_reads_leverage_collateral_and_interest_minute() -> None:
    reader = ParamReader(
        {
            "leverage": {BTC: 25},
            "collateral_ratios": {"BTC": "0.9", "DOGE": "0.5"},
            "borrow_mm_rates": {"BTC": "0.05"},
            "interest_minute": 7,
            "taker_fee_rate": "0.0006",
        }
    )
    model = bybit_from_params(reader)
    reader.finish()
    assert model.leverage == {BTC: D(25)}
    assert model.collateral_ratios["BTC"] == D("0.9")
    assert model.collateral_ratios["USDT"] == D(1)
    assert model.collateral_ratios["DOGE"] == D("0.5")
    assert model.borrow_mm_rates == {"BTC": D("0.05")}
    assert model.interest_minute == 7
    assert model.taker_fee_rate == D("0.0006")


def test_from_params_rejects_an_unknown_key() -> None:
    reader = ParamReader({"leverage": 5, "insurance": 1})
    bybit_from_params(reader)
    with pytest.raises(ConfigError, match="insurance"):
        reader.finish()


@pytest.mark.parametrize(
    "params",
    [
        {"collateral_ratios": {"BTC": "1.5"}},
        {"interest_minute": "5.5"},
        {"interest_minute": 60},
        {"leverage": 0},
    ],
)
def test_from_params_rejects_a_bad_value(params: dict[str, object]) -> None:
    [(key, _)] = params.items()
    with pytest.raises(ConfigError, match=rf"^params\.{key}\b.*: (.* — expected |must be )"):
        bybit_from_params(ParamReader(params))
