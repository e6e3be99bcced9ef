"""Every strategy example config backtests on the real data pack and trades."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from tests.pack import needs_pack

from xmargin.backtest.runner import Backtest, run_backtest
from xmargin.backtest.sources import load_sources
from xmargin.engine.config import load_run_config
from xmargin.strategy.registry import BUILT_IN

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = {
    "funding_carry_spot_perp": "funding_carry",
    "funding_perp_perp": "funding_perp_perp",
    "spread_arb_sol_perp_spot": "spread_arb",
    "peg_reversion_fdusd": "peg_reversion",
    "peg_reversion_usdc_2023": "peg_reversion",
    "qqe_btc": "qqe",
    "sma_momentum_btc": "sma_momentum",
    "multi_timeframe_btc": "multi_timeframe",
    "ml_forest_btc": "ml_forest",
}


@needs_pack
@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_backtests_on_the_pack(name):
    config = load_run_config(REPO / "examples" / f"{name}.toml")
    assert [s.strategy for s in config.strategies] == [EXAMPLES[name]]
    summary = run_backtest(config).summary()

    assert summary["fills"] > 0
    assert summary["liquidations"] == []
    assert Decimal(summary["final_equity"]) > Decimal(summary["start_equity"]) / 2
    checked = assert_strategy_split_is_the_summarys(summary)
    assert checked == (name in PAIR_EXAMPLES)


PAIR_EXAMPLES = {"funding_carry_spot_perp", "funding_perp_perp", "spread_arb_sol_perp_spot"}
SPLIT_LINES = {"basis": "trading", "funding": "funding", "fees": "fees", "interest": "interest"}


def assert_strategy_split_is_the_summarys(summary: dict) -> bool:
    """A pair strategy trading all of the run's accounts reports the summary's own figures,
    exactly (there are no liquidation fees: the examples are not liquidated). Return whether
    there was one."""
    split = summary["metrics"]["pnl_split"]
    checked = False
    for figures in summary["strategies"].values():
        if "basis" not in figures:
            continue
        checked = True
        total = Decimal(summary["final_equity"]) - Decimal(summary["start_equity"])
        assert Decimal(figures["total"]) == total
        assert Decimal(figures["currency"]) == Decimal(split["currency"])
        for line, summary_line in SPLIT_LINES.items():
            assert Decimal(figures[line]) == Decimal(split[summary_line]), line
    return checked


def test_every_new_strategy_has_an_example():
    assert set(EXAMPLES.values()) <= set(BUILT_IN)


@needs_pack
def test_the_twap_example_buys_its_parent_in_slices_and_reports_slippage():
    config = load_run_config(REPO / "examples" / "twap_buy_btc.toml")
    backtest = Backtest(config, load_sources(config))
    result = backtest.run()
    report = backtest.kernel.strategies["twap"].report()

    assert report.done and report.filled == 2 and report.children == 24
    submitted = [e for e in result.recorder.events if e["type"] == "OrderSubmitted"]
    assert len(submitted) == 24 and {e["strategy"] for e in submitted} == {"twap"}
    assert report.slippage_bps is not None and abs(report.slippage_bps) < 100
