"""One reporting currency per run, on hand-made data: conversion, currency effect, errors.

Venue ``bin`` (Binance USDⓈ-M) settles in USDT, venue ``hl`` (Hyperliquid) in USDC. Hourly
bars stamped at their close ``T0 + (k + 1) h``; the USDC/USDT bars on ``bin`` are the rate.
Expected figures are worked by hand below from the rows given.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.strategy.support import HOUR, T0, bars, build, run_strategies, venue

from xmargin.backtest.runner import run_backtest
from xmargin.core.errors import ConfigError
from xmargin.engine.config import parse_run_config
from xmargin.model.events import OrderFilled
from xmargin.model.orders import OrderSide
from xmargin.research.report import build_report
from xmargin.storage import open_database, persist_run
from xmargin.testing.series import ohlcv

D = Decimal
BTC_USDC = "BTC/USDC:USDC"
VENUES = [
    venue("bin", "binance_usdm_cross", {"main": {"USDT": "10000"}}),
    venue("hl", "hyperliquid_cross", {"main": {"USDC": "20000"}}, taker="0.0005", leverage={}),
]
HOLD = {
    "id": "hold",
    "strategy": "buy_and_hold",
    "account": "hl.main",
    "params": {"instrument": BTC_USDC, "quantity": "0.1"},
}
NO_BREAKERS = {"breakers": {"daily_loss": False, "max_drawdown": False}}


def flat(prices: list[str]) -> list[tuple[float, float, float, float]]:
    return [(float(p),) * 4 for p in prices]


def sources(btc: list[str], usdc: list[str]) -> list:
    return [
        bars("hl", BTC_USDC, ohlcv(T0, "1h", flat(btc))),
        bars("bin", "USDC/USDT", ohlcv(T0, "1h", flat(usdc))),
    ]


def run(btc, usdc, strategies=(HOLD,), run=None, venues=VENUES):
    return run_strategies(venues, sources(btc, usdc), list(strategies), risk=NO_BREAKERS, run=run)


def test_a_usdc_account_is_converted_at_the_rate_of_its_time_and_the_split_sums_exactly():
    btc = ["50000", "51000", "49000", "52000", "52000"]
    usdc = ["1.0000", "0.9990", "0.9950", "1.0010", "1.0020"]
    _, result = run(btc, usdc)
    summary = result.summary()
    # Start: taken after the first step's data, before the strategy's order: 10,000 USDT +
    # 20,000 USDC × 1.0000. The buy fills at the first close, 50,000: fee 0.1 × 50,000 ×
    # 0.0005 = 2.5 USDC = 2.5 USDT at 1.0000. Then the Hyperliquid equity is
    # 19,997.5 + 0.1 × (price − 50,000) USDC.
    assert D(summary["start_equity"]) == D("30000")
    assert D(summary["final_equity"]) == D("10000") + D("20197.5") * D("1.0020")
    # Currency effect: at each later step the equity before its data × the rate's move.
    before = [D("19997.5"), D("20097.5"), D("19897.5"), D("20197.5")]
    moves = [D("-0.0010"), D("-0.0040"), D("0.0060"), D("0.0010")]
    effect = sum((e * m for e, m in zip(before, moves, strict=True)), D(0))
    assert effect == D("39.195")
    split = {k: D(v) for k, v in summary["metrics"]["pnl_split"].items()}
    assert split["currency"] == effect
    assert split["fees"] == D("-2.5")
    # Trading: the position's moves at the rate of their time.
    assert split["trading"] == D("100") * D("0.9990") - D("200") * D("0.9950") + D("300") * D(
        "1.0010"
    )
    total = D(summary["final_equity"]) - D(summary["start_equity"])
    assert sum(split.values(), D(0)) == total
    assert summary["reporting_currency"] == "USDT"
    # The curve's last point is the final equity (floats).
    assert result.equity[-1] == pytest.approx(float(total + 30000), rel=1e-12)


def test_the_reporting_currency_can_be_the_second_venues_and_the_usdt_account_is_inverted():
    btc = ["50000", "50000", "50000"]
    usdc = ["1.0000", "0.9990", "1.0010"]
    _, result = run(btc, usdc, strategies=(), run={"reporting_currency": "USDC"})
    summary = result.summary()
    # 10,000 USDT / rate + 20,000 USDC; USDT moves from 1 / 1.0000 to 1 / 1.0010.
    assert D(summary["start_equity"]) == D("30000")
    assert D(summary["final_equity"]) == D("20000") + D("10000") * (D(1) / D("1.0010"))
    assert summary["reporting_currency"] == "USDC"
    split = {k: D(v) for k, v in summary["metrics"]["pnl_split"].items()}
    effect = D("10000") * (D(1) / D("0.9990") - 1) + D("10000") * (
        D(1) / D("1.0010") - D(1) / D("0.9990")
    )
    assert split["currency"] == effect
    assert split["trading"] == 0


def test_a_settle_currency_without_a_price_stream_stops_the_run_at_start_up():
    only_btc = [bars("hl", BTC_USDC, ohlcv(T0, "1h", flat(["50000"] * 3)))]
    with pytest.raises(
        ConfigError,
        match=r"hl\.main settles in USDC but the run has no price of USDC in the reporting "
        r"currency USDT: add a \[\[data\]\] stream for USDC/USDT",
    ):
        build(VENUES, only_btc, [HOLD], risk=NO_BREAKERS)


def test_a_rate_stream_that_ends_before_the_run_stops_it_at_start_up():
    short_rate = [
        bars("hl", BTC_USDC, ohlcv(T0, "1h", flat(["50000"] * 6))),
        bars("bin", "USDC/USDT", ohlcv(T0, "1h", flat(["1.0"] * 3))),
    ]
    with pytest.raises(
        ConfigError,
        match=r"run\.end: USDC/USDT \(to convert USDC\) ends at 2024-01-01T03:00:00, before the "
        r"run's last event at 2024-01-01T06:00:00: set run\.end",
    ):
        build(VENUES, short_rate, [HOLD], risk=NO_BREAKERS)


def test_a_rate_stream_that_starts_after_the_run_stops_it_at_start_up():
    late_rate = [
        bars("hl", BTC_USDC, ohlcv(T0, "1h", flat(["50000"] * 6))),
        bars("bin", "USDC/USDT", ohlcv(T0 + 2 * HOUR, "1h", flat(["1.0"] * 4))),
    ]
    with pytest.raises(ConfigError, match=r"run\.start: USDC/USDT .* starts at 2024-01-01T03:00"):
        build(VENUES, late_rate, [HOLD], risk=NO_BREAKERS)


def test_a_balance_the_venue_cannot_price_stops_the_run_at_start_up():
    holding = [venue("bin", "binance_usdm_cross", {"main": {"USDT": "1000", "USDC": "500"}})]
    holding[0]["params"] = {"multi_assets": True}
    data = [bars("bin", "BTC/USDT:USDT", ohlcv(T0, "1h", flat(["50000"] * 3)))]
    with pytest.raises(
        ConfigError,
        match=r"bin\.main holds USDC but venue bin has no USDC/USDT price to value it in USDT: "
        r"add a \[\[data\]\] stream for USDC/USDT on venue bin",
    ):
        build(holding, data, [])


def test_a_bad_reporting_currency_is_rejected_and_the_default_is_the_first_venues():
    with pytest.raises(ConfigError, match=r"run\.reporting_currency: must be an asset code"):
        build(VENUES, sources(["1"], ["1"]), [], run={"reporting_currency": "usd t"})
    backtest = build(VENUES, sources(["50000"], ["1"]), [])
    assert backtest.config.reporting_currency == "USDT"


def test_a_run_in_one_currency_has_no_currency_line_and_keeps_its_figures():
    data = [bars("bin", "BTC/USDT:USDT", ohlcv(T0, "1h", flat(["50000", "50500", "51000"])))]
    hold = {
        **HOLD,
        "account": "bin.main",
        "params": {"instrument": "BTC/USDT:USDT", "quantity": "0.1"},
    }
    _, result = run_strategies(VENUES[:1], data, [hold], risk=NO_BREAKERS)
    split = {k: D(v) for k, v in result.summary()["metrics"]["pnl_split"].items()}
    # 0.1 BTC bought at 50,000 (fee 2.5), marked at 51,000: +100 − 2.5.
    assert split["currency"] == 0
    assert (split["trading"], split["fees"]) == (D("100"), D("-2.5"))


prices = st.lists(st.integers(45_000, 55_000), min_size=2, max_size=8)
rates = st.lists(st.integers(9_900, 10_100), min_size=8, max_size=8)


@settings(max_examples=20, deadline=None)
@given(prices, rates)
def test_the_currency_effect_is_the_equity_before_each_rate_move_times_the_move(btc, usdc):
    """For any price and rate path: currency = Σ E(before) × Δrate, computed here from the
    rows, and the split sums exactly to the total."""
    rate = [D(r) / 10_000 for r in usdc[: len(btc)]]
    _, result = run([str(p) for p in btc], [str(r) for r in rate])
    summary = result.summary()
    fee = D("0.1") * btc[0] * D("0.0005")
    equity_before = [D(20000) - fee + D("0.1") * (p - btc[0]) for p in btc[:-1]]
    effect = sum(
        (e * (rate[i + 1] - rate[i]) for i, e in enumerate(equity_before)),
        D(0),
    )
    split = {k: D(v) for k, v in summary["metrics"]["pnl_split"].items()}
    assert split["currency"] == effect
    total = D(summary["final_equity"]) - D(summary["start_equity"])
    assert sum(split.values(), D(0)) == total
    assert D(summary["start_equity"]) == D(10000) + D(20000) * rate[0]


def test_a_stored_runs_report_shows_the_runs_own_split_in_its_reporting_currency(tmp_path):
    btc = ["50000", "51000", "49000", "52000", "52000"]
    usdc = ["1.0000", "0.9990", "0.9950", "1.0010", "1.0020"]
    _, result = run(btc, usdc)
    db = open_database(f"sqlite:///{tmp_path / 'runs.db'}")
    run_id = persist_run(db, "x.toml", "seed = 1\n", 1, result)
    report = build_report(db, run_id)
    assert report.quote == "USDT"
    assert report.pnl_split["currency"] == D("39.195")
    expected = {k: D(v) for k, v in result.summary()["metrics"]["pnl_split"].items()}
    assert report.pnl_split == expected


def test_round_trips_count_fees_and_realised_pnl_in_the_reporting_currency():
    hold = {**HOLD, "params": {**HOLD["params"], "flatten_on_stop": True}}
    btc = ["50000", "51000", "49000", "52000", "52000"]
    usdc = ["1.0000", "0.9990", "0.9950", "1.0010", "1.0020"]
    _, result = run(btc, usdc, strategies=(hold,))
    # bought 0.1 at 50,000 (fee 2.5 USDC at 1.0000), sold at the end at 52,000: +200 USDC
    # realised and a 2.6 USDC fee, both at 1.0020
    assert result.metrics.trades == 1
    assert result.metrics.average_win == D("200") * D("1.0020") - D("2.5") - D("2.6") * D("1.0020")


def test_a_fee_taken_in_a_spot_pairs_base_is_valued_at_the_fill_price():
    def fill(instrument: str, fee_asset: str) -> OrderFilled:
        return OrderFilled(
            0, "a", "c", instrument, OrderSide.BUY, D("2"), D("150"), D("0.002"), fee_asset,
            "taker", D(0),
        )  # fmt: skip

    assert fill("SOL/USDT", "SOL").fee_in_quote() == D("0.3")
    assert fill("SOL/USDT", "USDT").fee_in_quote() == D("0.002")
    assert fill("SOL/USDT:USDT", "SOL").fee_in_quote() == D("0.002")


def test_a_missing_rate_stream_is_reported_before_any_data_loads(tmp_path):
    document = {
        "venues": VENUES,
        "data": [
            {
                "venue": "hl",
                "symbol": BTC_USDC,
                "kind": "ohlcv",
                "timeframe": "1h",
                "path": str(tmp_path / "absent.csv"),
            }
        ],
    }
    config = parse_run_config(document, tmp_path / "run.toml")
    with pytest.raises(ConfigError, match=r"run\.reporting_currency: hl\.main settles in USDC"):
        run_backtest(config, data_dir=tmp_path)


def collateral_run(strategies=()):
    account = {"main": {"USDT": "1000", "USDC": "500"}}
    holding = venue("bin", "binance_cross_margin", account, taker="0.001")
    holding["params"] = {"mode": "classic_3x"}
    holding["default_interest_rate"] = "0"
    data = [bars("bin", "USDC/USDT", ohlcv(T0, "1h", flat(["1.0000", "0.9900", "0.9800"])))]
    return run_strategies([holding], data, list(strategies), risk=NO_BREAKERS)


def test_collateral_in_another_currency_moves_the_currency_line_until_it_is_traded():
    _, result = collateral_run()
    summary = result.summary()
    split = {k: D(v) for k, v in summary["metrics"]["pnl_split"].items()}
    # 500 USDC valued by the venue at 1.00, then 0.99, then 0.98: all of it currency
    assert (D(summary["start_equity"]), D(summary["final_equity"])) == (D(1500), D(1490))
    assert (split["currency"], split["trading"]) == (D("-10"), D(0))

    buy = {
        "id": "buy",
        "strategy": "buy_and_hold",
        "account": "bin.main",
        "params": {"instrument": "USDC/USDT", "quantity": "100"},
    }
    _, traded = collateral_run([buy])
    split = {k: D(v) for k, v in traded.summary()["metrics"]["pnl_split"].items()}
    # bought 100 more at the first close: from then on USDC is a position (trading PnL)
    total = D(traded.summary()["final_equity"]) - D(traded.summary()["start_equity"])
    assert split["currency"] == 0
    assert split["trading"] + split["fees"] == total
