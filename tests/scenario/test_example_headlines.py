"""Every example config's headline figures, pinned to the last digit on the real data pack.

Fees and funding are also recomputed here from the event log, independently of the summary
code: a fill's fee is in its fee asset (valued at the fill price when that is the base asset),
and a funding settlement's amount is what the account paid (negative when it received).
"""

from __future__ import annotations

import contextlib
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from tests.pack import needs_pack

from xmargin.app.cli import main

pytestmark = needs_pack
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# final equity, fees, funding paid, interest paid, liquidation fees, liquidations
# (ts_ms, instrument, price, size)
HEADLINES: dict[str, tuple[str, str, str, str, str, list[tuple[int, str, str, str]]]] = {
    "breaker_crash": ("629.656499514925", "1.815735", "0.165265485075", "0", "0", []),
    "buy_and_hold_btc": (
        "67733.9625179288467868",
        "46.37775",
        "5737.4836451111532132",
        "0",
        "0",
        [],
    ),
    "funding_carry_spot_perp": (
        "77060.5079748604978667256",
        "215.1840393247",
        "-2259.2516704876978667256",
        "0",
        "0",
        [],
    ),
    "funding_perp_perp": (
        "61160.3837813348928795353",
        "135.90511835",
        "-1410.7462996848928795353",
        "0",
        "0",
        [],
    ),
    "ml_forest_btc": (
        "22513.2858236477666777197",
        "2446.51399045",
        "5.0430859022333222803",
        "0",
        "0",
        [],
    ),
    "multi_timeframe_btc": (
        "21069.83196358037491524",
        "1274.91025",
        "46.65778641962508476",
        "0",
        "0",
        [],
    ),
    "peg_reversion_fdusd": ("58760.4718843", "45.62810889", "0", "0", "0", []),
    "peg_reversion_usdc_2023": ("58465.94933102", "237.3345731", "0", "0", "0", []),
    "qqe_btc": ("23833.43001435595164879", "1324.59872", "7.77126564404835121", "0", "0", []),
    "sma_cross": ("8095.40080103720702748", "4870.698965", "6.23023396279297252", "0", "0", []),
    "sma_momentum_btc": (
        "18866.71745028888373999",
        "2256.898135",
        "33.47441471111626001",
        "0",
        "0",
        [],
    ),
    "spread_arb_sol_perp_spot": (
        "40264.30920679192641666666667",
        "48.8778666",
        "-28.9715936793",
        "0.4109761267053541666666666667",
        "0",
        [],
    ),
    "twap_buy_btc": ("99907.0227644", "87.1060356", "0", "0", "0", []),
    "xrp_5x_long": (
        "0",
        "2.49364996",
        "0.4121315282544",
        "0",
        "20.05128492444",
        [(1_760_133_600_000, "XRP/USDT:USDT", "2.25701091", "1776.8")],
    ),
}


def run_example(name: str, events: Path) -> dict:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exited:
        main(
            [
                "backtest",
                str(EXAMPLES / f"{name}.toml"),
                "--json",
                "--no-db",
                "--events-out",
                str(events),
            ]
        )
        raise SystemExit(0)
    assert exited.value.code in (0, None), out.getvalue()
    return json.loads(out.getvalue())


def test_every_example_config_is_pinned():
    # gateway configs are served, not backtested: tests/e2e/test_gateway_ccxt.py runs them
    backtests = {p.stem for p in EXAMPLES.glob("*.toml") if not p.stem.startswith("gateway_")}
    assert backtests == set(HEADLINES)


@pytest.mark.parametrize("name", sorted(HEADLINES))
def test_example_headline_figures(name, tmp_path):
    events = tmp_path / "events.jsonl"
    summary = run_example(name, events)
    final, fees, funding, interest, liquidation_fees, liquidations = HEADLINES[name]
    assert Decimal(summary["final_equity"]) == Decimal(final)
    assert Decimal(summary["fees_paid"]) == Decimal(fees)
    assert Decimal(summary["funding_paid"]) == Decimal(funding)
    assert Decimal(summary["interest_paid"]) == Decimal(interest)
    assert Decimal(summary["liquidation_fees"]) == Decimal(liquidation_fees)
    assert [
        (item["ts_ms"], item["instrument"], item["price"], item["size"])
        for item in summary["liquidations"]
    ] == liquidations

    recomputed_fees = Decimal(0)
    recomputed_funding = Decimal(0)
    with events.open() as lines:
        for line in lines:
            record = json.loads(line)
            if record["type"] == "OrderFilled":
                fee = Decimal(record["fee"])
                base = record["instrument"].split("/")[0]
                recomputed_fees += (
                    fee * Decimal(record["price"]) if record["fee_asset"] == base else fee
                )
            elif record["type"] == "FundingSettled":
                recomputed_funding += Decimal(record["amount"])
    assert recomputed_fees == Decimal(fees)
    assert recomputed_funding == Decimal(funding)
