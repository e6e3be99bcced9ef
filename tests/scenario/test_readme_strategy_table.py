"""The README's strategy table states what the example configs do on the real data pack.

Each row's text is rebuilt here from a fresh run (and, for the de-peg rows, the pack's raw
file) in the README's own number format, and must appear in that row verbatim.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from tests.pack import DATA_PACK, needs_pack

from xmargin.app.cli import main

pytestmark = needs_pack
ROOT = Path(__file__).resolve().parents[2]
MINUS = "\N{MINUS SIGN}"


def money(value: Decimal, *, sign: bool = True) -> str:
    """1234.5 → '+1,234.50', −1234.5 → '−1,234.50' (two places, half-even as ``format``)."""
    text = f"{abs(value):,.2f}"
    if value < 0:
        return MINUS + text
    return ("+" + text) if sign else text


def percent(value: Decimal, places: int) -> str:
    text = f"{abs(value):.{places}f} %"
    return (MINUS if value < 0 else "+") + text


def run(name: str, events: Path) -> dict:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exited:
        main(
            [
                "backtest",
                str(ROOT / "examples" / f"{name}.toml"),
                "--json",
                "--no-db",
                "--events-out",
                str(events),
            ]
        )
        raise SystemExit(0)
    assert exited.value.code in (0, None), out.getvalue()
    return json.loads(out.getvalue())


def readme_row(config: str) -> str:
    rows = [
        line
        for line in (ROOT / "README.md").read_text().splitlines()
        if line.startswith("|") and f"`{config}" in line.split("|")[1]
    ]
    assert len(rows) == 1, f"README has {len(rows)} strategy-table rows for {config}"
    return rows[0]


def pnl(summary: dict) -> Decimal:
    return Decimal(summary["final_equity"]) - Decimal(summary["start_equity"])


def total_return(summary: dict) -> Decimal:
    return pnl(summary) / Decimal(summary["start_equity"]) * 100


def sell_fills(events: Path) -> list[dict]:
    with events.open() as lines:
        records = (json.loads(line) for line in lines)
        return [r for r in records if r["type"] == "OrderFilled" and r["side"] == "sell"]


def carry_text(summary: dict, strategy: str) -> str:
    legs = summary["strategies"][strategy]
    parts = ", ".join(f"{leg} {money(Decimal(legs[leg]))}" for leg in ("funding", "basis", "fees"))
    return f"**{money(Decimal(legs['total']))}** ({percent(total_return(summary), 2)}): {parts}"


@pytest.mark.parametrize(
    ("config", "strategy"),
    [("funding_carry_spot_perp", "carry"), ("funding_perp_perp", "perp_arb")],
)
def test_funding_rows(config, strategy, tmp_path):
    summary = run(config, tmp_path / "e.jsonl")
    assert Decimal(summary["strategies"][strategy]["total"]) == pnl(summary)
    assert carry_text(summary, strategy) in readme_row(config)


def test_spread_row(tmp_path):
    summary = run("spread_arb_sol_perp_spot", tmp_path / "e.jsonl")
    text = f"{money(pnl(summary))} on {money(Decimal(summary['start_equity']), sign=False)[:-3]}"
    assert text in readme_row("spread_arb_sol_perp_spot")


def lowest_low_after(path: Path, ts_ms: int) -> Decimal:
    with gzip.open(path, "rt", newline="") as handle:
        return min(Decimal(r["low"]) for r in csv.DictReader(handle) if int(r["ts_ms"]) >= ts_ms)


@pytest.mark.parametrize(
    ("config", "wording", "data"),
    [
        ("peg_reversion_fdusd", "the hard stop sold at {stop}", None),
        (
            "peg_reversion_usdc_2023",
            "stopped at {stop} before the {low} low",
            "stablecoin_depegs/kucoin_spot_USDCUSDT_1m_2023-02-18_2023-03-21.csv.gz",
        ),
    ],
)
def test_peg_rows(config, wording, data, tmp_path):
    events = tmp_path / "e.jsonl"
    summary = run(config, events)
    stop = min(sell_fills(events), key=lambda fill: Decimal(fill["price"]))
    low = (
        lowest_low_after(DATA_PACK / data, stop["ts_ms"]).quantize(Decimal("0.001"))
        if data
        else None
    )
    text = f"{money(pnl(summary))}: " + wording.format(stop=stop["price"], low=low)
    assert text in readme_row(config)


def test_signal_rows(tmp_path):
    configs = ("qqe_btc", "sma_momentum_btc", "multi_timeframe_btc")
    returns = [percent(total_return(run(c, tmp_path / f"{c}.jsonl")), 1) for c in configs]
    assert ", ".join(returns) + " (fees dominate)" in readme_row(configs[0])


def test_ml_forest_row(tmp_path):
    summary = run("ml_forest_btc", tmp_path / "e.jsonl")
    fees = money(-Decimal(summary["fees_paid"]))
    text = f"{percent(total_return(summary), 2)} ({fees} of it fees)"
    assert text in readme_row("ml_forest_btc")


def test_twap_row(tmp_path):
    summary = run("twap_buy_btc", tmp_path / "e.jsonl")
    slippage = summary["strategies"]["twap"]["slippage_bps"]
    assert f"{slippage} bp slippage against the arrival price" in readme_row("twap_buy_btc")
