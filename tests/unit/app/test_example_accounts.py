"""Every example account prints what the README says it prints."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from tests.pack import DATA_PACK, needs_pack

from xmargin.app.cli import main

ROOT = Path(__file__).resolve().parents[3]
ACCOUNTS = ROOT / "examples" / "accounts"

# file → (ratio to 4 dp, {instrument: liquidation price to 2 dp}), as in the README table.
README_FIGURES = {
    "binance_usdm_two_positions.toml": (
        "0.4149",
        {"BTC/USDT:USDT": "26316.89", "ETH/USDT:USDT": "1153.26"},
    ),
    "binance_margin_3x_long.toml": ("1.4997", {"BTC/USDT": "22004.58"}),
    "ftx_spot_margin_short.toml": ("0.3333", {"ETH/USD": "1844.66"}),
    "ftx_two_perps.toml": ("0.2429", {"BTC/USD:USD": "12783.51", "ETH/USD:USD": "2160.38"}),
    "hyperliquid_two_positions.toml": (
        "0.2639",
        {"BTC/USDC:USDC": "89782.28", "ETH/USDC:USDC": "3805.15"},
    ),
    "bybit_uta_long.toml": ("0.0363", {"BTC/USDT:USDT": "50251.26"}),
}


def places(text: str, digits: int) -> str:
    return str(Decimal(text).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def margin_json(capsys, *args: str) -> dict:
    with pytest.raises(SystemExit) as exited:
        main(["margin", *args, "--json"])
        raise SystemExit(0)
    assert exited.value.code in (0, None)
    return json.loads(capsys.readouterr().out)


def test_every_example_account_is_in_the_readme_table():
    assert sorted(README_FIGURES) == sorted(p.name for p in ACCOUNTS.glob("*.toml"))
    readme = (ROOT / "README.md").read_text()
    for name in README_FIGURES:
        assert f"`{name}`" in readme


@pytest.mark.parametrize("name", sorted(README_FIGURES))
def test_example_account_prints_the_readme_figures(capsys, name):
    ratio, liquidation = README_FIGURES[name]
    report = margin_json(capsys, str(ACCOUNTS / name))
    assert places(report["margin_ratio"], 4) == ratio
    printed = {p["instrument"]: places(p["liquidation_price"], 2) for p in report["positions"]}
    assert printed == liquidation


def test_readme_what_if_sells_50_btc(capsys):
    result = margin_json(
        capsys,
        str(ACCOUNTS / "binance_usdm_two_positions.toml"),
        "--what-if",
        "sell 50 BTC/USDT:USDT",
    )
    fee = Decimal(result["before"]["equity"]) - Decimal(result["after"]["equity"])
    assert places(str(fee), 2) == "799.18"
    assert places(result["after"]["margin_ratio"], 4) == "0.3764"
    after = {p["instrument"]: p["liquidation_price"] for p in result["after"]["positions"]}
    assert places(after["ETH/USDT:USDT"], 2) == "1141.45"
    assert result["accepted"] is True


@needs_pack
def test_the_binance_tier_file_of_the_data_pack_loads(tmp_path, capsys):
    tiers = DATA_PACK / "margin_tiers" / "binance_usdm_leverage_tiers.csv.gz"
    account = tmp_path / "a.toml"
    account.write_text(
        f'venue = "binance_usdm_cross"\n[params]\ntiers_file = "{tiers}"\n'
        '[balances]\nUSDT = "1000"\n'
        '[[positions]]\ninstrument = "DOGE/USDT:USDT"\nsize = "10000"\nentry_price = "0.1"\n'
        'mark_price = "0.1"\n'
    )
    report = margin_json(capsys, str(account))
    assert report["positions"][0]["maintenance_margin"] == "5"
