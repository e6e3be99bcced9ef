"""``xmargin stress``: output fields, Monte Carlo, the pack covariance and every bad input."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from xmargin.app.cli import cli, main
from xmargin.app.cli_stress import stress_command
from xmargin.app.covariance import estimate_covariance, find_data_dir, hourly_closes
from xmargin.core.errors import ConfigError

if "stress" not in cli.commands:  # until app/cli.py registers it
    cli.add_command(stress_command)

D = Decimal
REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "examples" / "accounts"
ACCOUNT = """
venue = "binance_usdm_cross"
[balances]
USDT = "10200"
[[positions]]
instrument = "BTC/USDT:USDT"
size = "1"
entry_price = "50000"
mark_price = "50000"
[[positions]]
instrument = "ETH/USDT:USDT"
size = "-10"
entry_price = "3000"
mark_price = "3000"
"""


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main([*args])
        raise SystemExit(0)
    captured = capsys.readouterr()
    return exited.value.code or 0, captured.out, captured.err


def write(tmp_path: Path, text: str = ACCOUNT, name: str = "account.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_repeated_shocks_form_one_scenario_with_the_documented_fields(tmp_path, capsys):
    code, out, _ = run(
        capsys,
        "stress",
        str(write(tmp_path)),
        "--shock",
        "BTC=-20%",
        "--shock",
        "eth=3000",
        "--json",
    )
    assert code == 0
    document = json.loads(out)
    assert (document["venue"], document["quote"], document["equity"]) == (
        "binance_usdm_cross",
        "USDT",
        "10200",
    )
    [scenario] = document["scenarios"]
    assert scenario["name"] == "BTC=-20% eth=3000"
    assert scenario["equity"] == "200"
    assert scenario["margin_ratio"] == "1.4"
    assert scenario["state"] == "liquidating"
    assert scenario["liquidated"] == ["BTC/USDT:USDT", "ETH/USDT:USDT"]
    assert scenario["loss"] == "10000"
    assert scenario["liquidation_gap"] == "-80"
    assert scenario["prices"] == {"BTC": "40000", "ETH": "3000"}
    assert scenario["liquidations"][0] == {
        "instrument": "BTC/USDT:USDT",
        "quantity": "-1",
        "price": "40000",
        "stage": "full",
        "round": 1,
    }
    assert "monte_carlo" not in document


def test_without_flags_every_builtin_scenario_runs(tmp_path, capsys):
    code, out, _ = run(capsys, "stress", str(write(tmp_path)), "--json")
    assert code == 0
    names = [s["name"] for s in json.loads(out)["scenarios"]]
    assert {"usdc_svb_2023", "ust_collapse_2022", "fdusd_2025_04_02", "usdt_2022"} <= set(names)
    assert {"funding_spike", "liquidity_haircut", "liquidation_cascade"} <= set(names)


def test_named_and_file_scenarios_with_configured_builtins(tmp_path, capsys):
    scenario = write(tmp_path, '[shocks]\n"*" = "+10%"\n', "up.toml")
    code, out, _ = run(
        capsys,
        "stress",
        str(write(tmp_path)),
        "--scenario",
        "liquidity_haircut",
        "--scenario",
        str(scenario),
        "--closing-cost-bps",
        "10",
        "--json",
    )
    assert code == 0
    haircut, up = json.loads(out)["scenarios"]
    assert haircut["charges"] == {"closing_cost": "80"}  # 10 bps of 80,000
    assert up["name"] == "up"
    assert up["loss"] == "-2000"  # +5,000 BTC, −3,000 ETH short


def test_the_cascade_reports_rounds(tmp_path, capsys):
    code, out, _ = run(
        capsys,
        "stress",
        str(EXAMPLES / "hyperliquid_two_positions.toml"),
        "--scenario",
        "liquidation_cascade",
        "--json",
    )
    assert code == 0
    [cascade] = json.loads(out)["scenarios"]
    assert cascade["rounds"] == 1
    assert cascade["converged"] is True
    assert cascade["liquidated"] == ["BTC/USDC:USDC", "ETH/USDC:USDC"]
    assert cascade["liquidations"][0]["stage"] == "backstop"


def test_the_table_shows_every_scenario_and_notes(tmp_path, capsys):
    code, out, _ = run(
        capsys, "stress", str(write(tmp_path)), "--scenario", "usdt_2022", "--shock", "BTC=-20%"
    )
    assert code == 0
    assert "BTC=-20%" in out and "usdt_2022" in out
    assert "liquidating" in out
    assert "quote currency" in out


def test_monte_carlo_json_is_seeded_and_complete(tmp_path, capsys, pack):
    args = (
        "stress",
        str(write(tmp_path)),
        "--monte-carlo",
        "3000",
        "--seed",
        "5",
        "--horizon",
        "8h",
        "--worst",
        "3",
        "--data-dir",
        str(pack),
        "--json",
    )
    code, out, _ = run(capsys, *args)
    assert code == 0
    document = json.loads(out)
    assert document["scenarios"] == []
    mc = document["monte_carlo"]
    assert mc["scenarios"] == 3000
    assert mc["horizon"] == "8h"
    assert set(mc["var"]) == set(mc["expected_shortfall"]) == {"95%", "99%"}
    assert D(mc["var"]["99%"]) >= D(mc["var"]["95%"]) > 0
    assert D(mc["expected_shortfall"]["95%"]) >= D(mc["var"]["95%"])
    assert 0 <= D(mc["probability_of_liquidation"]) <= 1
    assert set(mc["assets"]) == {"BTC", "ETH"}
    assert len(mc["worst"]) == 3
    worst = mc["worst"][0]
    assert {"index", "name", "equity", "margin_ratio", "liquidated", "loss", "prices"} <= set(worst)
    assert float(worst["loss"]) == pytest.approx(float(worst["kernel_loss"]), rel=1e-9)
    _, again, _ = run(capsys, *args)
    first, second = json.loads(again)["monte_carlo"], mc
    assert {k: v for k, v in first.items() if k != "seconds"} == {
        k: v for k, v in second.items() if k != "seconds"
    }


def test_monte_carlo_table_and_a_fixed_depeg(tmp_path, capsys, pack):
    account = write(
        tmp_path,
        ACCOUNT.replace('USDT = "10200"', 'USDT = "10200"\nUSDC = "5000"').replace(
            'venue = "binance_usdm_cross"',
            'venue = "binance_usdm_cross"\n[params]\nmulti_assets = true',
        )
        + '[prices]\nUSDC = "1"\n',
    )
    code, out, _ = run(
        capsys,
        "stress",
        str(account),
        "--monte-carlo",
        "2000",
        "--mc-scenario",
        "usdc_svb_2023",
        "--data-dir",
        str(pack),
        "--json",
    )
    assert code == 0
    mc = json.loads(out)["monte_carlo"]
    assert mc["fixed_scenario"] == "usdc_svb_2023"
    assert mc["assets"]["USDC"]["source"].startswith("stablecoin")
    assert D(mc["mean_loss"]) > 600  # 5,000 × 0.13 of USDC is always lost
    code, out, _ = run(
        capsys, "stress", str(account), "--monte-carlo", "500", "--data-dir", str(pack)
    )
    assert code == 0
    assert "probability of liquidation" in out and "VaR 99%" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--shock", "DOGE=-20%"), "--shock: unknown asset DOGE in DOGE=-20%"),
        (
            ("--shock", "BTC=-2x%"),
            "--shock BTC=-2x%: percentage: '-2x' — expected a number such as",
        ),
        (("--shock", "BTC=-150%"), "--shock BTC=-150%: a change must be above -100%"),
        (("--shock", "BTC"), "--shock BTC: expected ASSET=PRICE"),
        (("--shock", "BTC=0"), "--shock BTC=0: price: '0' — expected a positive number"),
        (("--scenario", "crash_99"), "--scenario: unknown scenario 'crash_99'"),
        (("--closing-cost-bps", "-1"), "--closing-cost-bps -1:"),
        (("--monte-carlo", "10", "--horizon", "soon"), "--horizon soon:"),
        (("--monte-carlo", "10", "--proxy", "DOGE"), "--proxy DOGE: expected ASSET=PROXY"),
    ],
)
def test_bad_input_prints_one_line_and_exits_2(tmp_path, capsys, args, message):
    code, out, err = run(capsys, "stress", str(write(tmp_path)), *args, "--data-dir", str(tmp_path))
    assert code == 2
    assert out == ""
    assert err.startswith("xmargin: error: ")
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_malformed_scenario_file_names_the_file_and_field(tmp_path, capsys):
    broken = write(tmp_path, '[shocks]\nBTC = "-20"\nETH = "x%"\n', "broken.toml")
    code, _, err = run(capsys, "stress", str(write(tmp_path)), "--scenario", str(broken))
    assert code == 2
    assert f"{broken}: shocks.BTC: price: '-20' — expected a positive number" in err
    assert 'for a change write "-20%"' in err
    broken.write_text('[shocks]\nBTC = "-20%"\nETH = "x%"\n')
    code, _, err = run(capsys, "stress", str(write(tmp_path)), "--scenario", str(broken))
    assert code == 2
    assert f"{broken}: shocks.ETH: percentage: 'x' — expected a number such as" in err
    syntax = write(tmp_path, "[shocks\n", "syntax.toml")
    code, _, err = run(capsys, "stress", str(write(tmp_path)), "--scenario", str(syntax))
    assert code == 2 and "malformed TOML" in err


def test_usage_errors_and_missing_files_exit_2(tmp_path, capsys):
    code, _, err = run(capsys, "stress", str(write(tmp_path)), "--monte-carlo", "0")
    assert code == 2 and "--monte-carlo" in err
    code, _, err = run(capsys, "stress", str(tmp_path / "missing.toml"))
    assert code == 2 and "file not found" in err


def test_an_asset_without_pack_data_asks_for_a_proxy(tmp_path, capsys, pack):
    account = ACCOUNT.replace("ETH/USDT:USDT", "DOGE/USDT:USDT")
    tiers = tmp_path / "tiers.csv"
    tiers.write_text(
        "symbol,tier,currency,min_notional,max_notional,maint_margin_rate,max_leverage\n"
        "BTC/USDT:USDT,1,USDT,0,1000000000,0.004,125\n"
        "DOGE/USDT:USDT,1,USDT,0,1000000000,0.01,50\n"
    )
    account = account.replace("[balances]", f'[params]\ntiers_file = "{tiers}"\n[balances]')
    path = write(tmp_path, account)
    code, _, err = run(capsys, "stress", str(path), "--monte-carlo", "100", "--data-dir", str(pack))
    assert code == 2
    assert "no price data in the pack for DOGE" in err and "--proxy DOGE=BTC" in err
    code, out, _ = run(
        capsys,
        "stress",
        str(path),
        "--monte-carlo",
        "100",
        "--proxy",
        "doge=btc",
        "--data-dir",
        str(pack),
        "--json",
    )
    assert code == 0
    assets = json.loads(out)["monte_carlo"]["assets"]
    assert assets["DOGE"]["source"].startswith("proxy BTC")
    assert assets["DOGE"]["daily_volatility"] == assets["BTC"]["daily_volatility"]


# -- the pack covariance ---------------------------------------------------------------------


def test_the_covariance_matches_a_direct_computation_on_the_pack(pack):
    covariance = estimate_covariance(("BTC", "ETH", "USDC"), pack)
    closes = {}
    for asset in ("BTC", "ETH"):
        rows = np.loadtxt(
            pack / f"binance_usdm_perp/{asset}USDT_perp_5m.csv.gz", delimiter=",", skiprows=1
        )
        hours = rows[:, 0].astype(np.int64) // 3_600_000
        last = np.r_[np.flatnonzero(np.diff(hours)), hours.size - 1]
        closes[asset] = (hours[last], rows[last, 4])
    assert np.array_equal(closes["BTC"][0], closes["ETH"][0])
    returns = [np.diff(np.log(closes[a][1])) for a in ("BTC", "ETH")]
    expected = np.cov(np.vstack(returns)) * 24
    assert covariance.hours == returns[0].size
    assert np.allclose(covariance.daily[:2, :2], expected, rtol=1e-10)
    assert np.all(covariance.daily[2] == 0) and np.all(covariance.daily[:, 2] == 0)
    volatility = covariance.volatility()
    assert 0.01 < volatility["BTC"] < 0.06 and volatility["USDC"] == 0
    assert covariance.daily[0, 1] / np.sqrt(covariance.daily[0, 0] * covariance.daily[1, 1]) > 0.5


def test_hourly_closes_take_the_last_bar_of_each_hour(pack):
    hours, closes = hourly_closes(pack / "binance_usdm_perp/BTCUSDT_perp_5m.csv.gz")
    assert np.all(np.diff(hours) == 3_600_000)
    assert closes.size == hours.size


def test_the_data_dir_is_found_or_explained(tmp_path, monkeypatch):
    monkeypatch.delenv("XMARGIN_DATA_DIR", raising=False)
    with pytest.raises(ConfigError, match="--data-dir"):
        find_data_dir(tmp_path / "nowhere")
    (tmp_path / "shared" / "data").mkdir(parents=True)
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_data_dir(None, (deep,)) == tmp_path / "shared" / "data"
    monkeypatch.setenv("XMARGIN_DATA_DIR", str(tmp_path))
    assert find_data_dir(None) == tmp_path
