"""``xmargin backtest``: JSON summary, event log, outputs, and errors with exit code 2."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from tests.pack import needs_pack

from xmargin.app.cli import main
from xmargin.data import download

ROOT = Path(__file__).resolve().parents[3]


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main([*args])
        raise SystemExit(0)
    captured = capsys.readouterr()
    return exited.value.code or 0, captured.out, captured.err


@needs_pack
def test_json_summary_and_event_log_of_the_xrp_example(tmp_path, capsys):
    events = tmp_path / "events.jsonl"
    code, out, _ = run(
        capsys,
        "backtest",
        str(ROOT / "examples" / "xrp_5x_long.toml"),
        "--json",
        "--events-out",
        str(events),
    )
    assert code == 0
    summary = json.loads(out)
    for key in (
        "fills",
        "orders",
        "fees_paid",
        "funding_paid",
        "interest_paid",
        "liquidations",
        "final_equity",
        "start_equity",
        "metrics",
    ):
        assert key in summary
    assert summary["start_equity"] == "1000"
    assert summary["orders"] == 1 and summary["fills"] == 1
    [liquidation] = summary["liquidations"]
    assert liquidation["instrument"] == "XRP/USDT:USDT"
    assert set(liquidation) >= {"ts_ms", "instrument", "price", "size"}
    records = [json.loads(line) for line in events.read_text().splitlines()]
    assert all("type" in r and "ts_ms" in r for r in records)
    filled = next(r for r in records if r["type"] == "OrderFilled")
    assert {"instrument", "side", "quantity", "price", "fee", "fee_asset", "strategy"} <= set(
        filled
    )
    assert filled["strategy"] == "long" and filled["fee_asset"] == "USDT"
    funding = [r for r in records if r["type"] == "FundingSettled"]
    assert funding, "the position lived through two funding settlements"
    for record in funding:
        expected = (
            Decimal(record["position_size"])
            * Decimal(record["mark_price"])
            * Decimal(record["rate"])
        )
        assert Decimal(record["amount"]) == expected
    kinds = [r["type"] for r in records]
    assert kinds.index("Liquidated") > kinds.index("OrderFilled")
    assert Decimal(summary["final_equity"]) < Decimal(1)


@needs_pack
def test_out_dir_holds_summary_events_and_equity(tmp_path, capsys):
    code, _, _ = run(
        capsys,
        "backtest",
        str(ROOT / "examples" / "xrp_5x_long.toml"),
        "--out",
        str(tmp_path / "run"),
    )
    assert code == 0
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["fills"] == 1
    assert (tmp_path / "run" / "events.jsonl").read_text().count("\n") > 3
    equity = (tmp_path / "run" / "equity.csv").read_text().splitlines()
    assert equity[0] == "ts_ms,equity,gross_notional"
    assert len(equity) > 500


def test_a_missing_data_file_is_one_line_with_exit_2(tmp_path, capsys):
    config = (ROOT / "examples" / "sma_cross.toml").read_text()
    path = tmp_path / "run.toml"
    path.write_text(config.replace("BTCUSDT_perp_5m.csv.gz", "NOPE_5m.csv.gz"))
    code, _, err = run(capsys, "backtest", str(path), "--data-dir", str(tmp_path))
    assert code == 2
    assert "data[0].path: data file not found" in err
    assert err.count("\n") == 1


def test_unknown_strategy_parameter_is_named(tmp_path, capsys):
    config = (ROOT / "examples" / "sma_cross.toml").read_text()
    path = tmp_path / "run.toml"
    path.write_text(config.replace("fast = 20", "fastest = 20"))
    code, _, err = run(capsys, "backtest", str(path), "--data-dir", str(tmp_path))
    assert code == 2
    assert "strategies[0].params: unknown parameter(s) fastest" in err


def test_fallback_uses_the_synthetic_market_when_download_fails(tmp_path, capsys, monkeypatch):
    def offline(exchange_id: str):
        raise OSError("no network")

    monkeypatch.setattr(download, "make_exchange", offline)
    config = (ROOT / "examples" / "sma_cross.toml").read_text()
    config = config.replace('end = "2026-01-01"', 'end = "2025-01-03"')
    path = tmp_path / "run.toml"
    path.write_text(config)
    code, out, err = run(
        capsys, "backtest", str(path), "--data-dir", str(tmp_path), "--json", "--data-fallback"
    )
    assert code == 0
    assert "using the synthetic market" in err
    assert json.loads(out)["orders"] > 0
