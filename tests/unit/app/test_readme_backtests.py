"""The example backtests print what the README says they print."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from tests.pack import needs_pack

from xmargin.app.cli import main

ROOT = Path(__file__).resolve().parents[3]
pytestmark = needs_pack


def summary(capsys, name: str, *extra: str) -> dict:
    with pytest.raises(SystemExit) as exited:
        main(["backtest", str(ROOT / "examples" / name), "--json", "--no-db", *extra])
        raise SystemExit(0)
    assert exited.value.code in (0, None)
    return json.loads(capsys.readouterr().out)


def two(value: str) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))


def test_buy_and_hold_figures(capsys, tmp_path):
    events = tmp_path / "e.jsonl"
    result = summary(capsys, "buy_and_hold_btc.toml", "--events-out", str(events))
    assert (two(result["fees_paid"]), two(result["funding_paid"])) == (
        Decimal("46.38"),
        Decimal("5737.48"),
    )
    assert two(result["final_equity"]) == Decimal("67733.96")
    records = [json.loads(line) for line in events.read_text().splitlines()]
    fill = next(r for r in records if r["type"] == "OrderFilled")
    assert (fill["price"], fill["ts_ms"]) == ("92755.5", 1_735_603_500_000)
    assert sum(r["type"] == "FundingSettled" for r in records) == 1246
    assert records[-1]["type"] == "FundingSettled"


def test_sma_cross_figures(capsys):
    result = summary(capsys, "sma_cross.toml")
    assert (result["fills"], result["orders_denied"]) == (527, 931)
    assert two(result["fees_paid"]) == Decimal("4870.70")
    assert two(result["final_equity"]) == Decimal("8095.40")
    [tripped] = result["risk"]["breakers_tripped"]
    assert (tripped["breaker"], tripped["ts_ms"]) == ("max_drawdown", 1_747_050_900_000)


def test_xrp_liquidation_figures(capsys):
    result = summary(capsys, "xrp_5x_long.toml")
    [liquidation] = result["liquidations"]
    assert liquidation["price"] == "2.25701091"
    assert liquidation["size"] == "1776.8"
    # found on the 5-minute path: the 21:10 UTC bar, booked at its close (decision 0003)
    assert liquidation["trigger_bar_ts_ms"] == 1_760_130_600_000
    assert liquidation["ts_ms"] == 1_760_130_900_000
    assert two(liquidation["fee"]) == Decimal("20.05")
    assert Decimal(result["final_equity"]) == 0


def test_breaker_crash_figures(capsys):
    result = summary(capsys, "breaker_crash.toml")
    [tripped] = result["risk"]["breakers_tripped"]
    assert (tripped["breaker"], tripped["ts_ms"]) == ("daily_loss", 1_760_130_900_000)
    assert two(result["final_equity"]) == Decimal("629.66")


def test_funding_perp_perp_figures_in_usdt(capsys):
    result = summary(capsys, "funding_perp_perp.toml")
    assert result["reporting_currency"] == "USDT"
    assert two(result["start_equity"]) == Decimal("60003.00")  # 30,000 USDC at 1.0001
    figures = result["strategies"]["perp_arb"]
    assert {k: two(figures[k]) for k in ("total", "funding", "basis", "fees", "currency")} == {
        "total": Decimal("814.08"),
        "funding": Decimal("993.50"),
        "basis": Decimal("-48.66"),
        "fees": Decimal("-129.02"),
        "currency": Decimal("-1.74"),
    }
