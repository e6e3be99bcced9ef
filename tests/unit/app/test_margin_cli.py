"""``xmargin margin``: output shapes, what-ifs and one clear line for every bad input."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from xmargin.app.cli import main

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "accounts"
GOOD = """
venue = "binance_usdm_cross"
[balances]
USDT = "10000"
[[positions]]
instrument = "BTC/USDT:USDT"
size = "1"
entry_price = "50000"
mark_price = "50000"
"""


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main([*args])
        raise SystemExit(0)
    captured = capsys.readouterr()
    return exited.value.code or 0, captured.out, captured.err


def write(tmp_path: Path, text: str, name: str = "account.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_json_output_has_the_documented_fields(tmp_path, capsys):
    code, out, _ = run(capsys, "margin", str(write(tmp_path, GOOD)), "--json")
    assert code == 0
    report = json.loads(out)
    assert report["venue"] == "binance_usdm_cross"
    assert report["equity"] == "10000"
    assert report["initial_margin_required"] == "2500"
    assert report["maintenance_margin_required"] == "200"
    assert report["free_collateral"] == "7500"
    assert report["margin_ratio"] == "0.02"
    assert report["margin_ratio_kind"] == "margin_ratio"
    assert report["state"] == "ok"
    [position] = report["positions"]
    assert position == {
        "instrument": "BTC/USDT:USDT",
        "size": "1",
        "price": "50000",
        "entry_price": "50000",
        "notional": "50000",
        "unrealized_pnl": "0",
        "initial_margin": "2500",
        "maintenance_margin": "200",
        "liquidation_price": "40160.6425702811",
    }


def test_what_if_prints_before_and_after(tmp_path, capsys):
    path = write(tmp_path, GOOD)
    code, out, _ = run(
        capsys, "margin", str(path), "--what-if", "buy 1 BTC/USDT:USDT @ 50000", "--json"
    )
    assert code == 0
    result = json.loads(out)
    assert result["what_if"] == ["buy 1 BTC/USDT:USDT @ 50000"]
    assert result["accepted"] is True
    assert result["before"]["positions"][0]["size"] == "1"
    after = result["after"]
    assert after["positions"][0]["size"] == "2"
    assert after["equity"] == "9975"  # 25 USDT taker fee at 0.05%
    assert Decimal(after["positions"][0]["liquidation_price"]) > Decimal("40160.64")


def test_chained_what_ifs_that_exceed_free_margin_are_rejected(tmp_path, capsys):
    path = write(tmp_path, GOOD)
    code, out, _ = run(
        capsys,
        "margin",
        str(path),
        "--what-if",
        "buy 2 BTC/USDT:USDT",
        "--what-if",
        "buy 2 BTC/USDT:USDT",
        "--json",
    )
    assert code == 0
    assert json.loads(out)["accepted"] is False


def test_table_output_names_the_model_and_liquidation_price(tmp_path, capsys):
    code, out, _ = run(capsys, "margin", str(write(tmp_path, GOOD)))
    assert code == 0
    assert "binance_usdm_cross" in out
    assert "40,160.6426" in out


def test_example_c3_account_reproduces_the_spec(capsys):
    code, out, _ = run(
        capsys, "margin", str(EXAMPLES / "binance_usdm_two_positions.toml"), "--json"
    )
    assert code == 0
    report = json.loads(out)
    assert report["margin_ratio"] == "0.4148949105"
    liquidation = {p["instrument"]: p["liquidation_price"] for p in report["positions"]}
    assert liquidation == {"BTC/USDT:USDT": "26316.8932645189", "ETH/USDT:USDT": "1153.2564642391"}


BAD_INPUTS = [
    (GOOD.replace("binance_usdm_cross", "kraken_cross"), "venue: unknown venue 'kraken_cross'"),
    (GOOD.replace('USDT = "10000"', 'DOGE = "5"'), "balances.DOGE: unknown asset 'DOGE'"),
    (GOOD.replace("BTC/USDT:USDT", "FOO/USDT:USDT"), "positions[0].instrument: unknown instrument"),
    (GOOD.replace('mark_price = "50000"', ""), "positions[0].mark_price: missing"),
    (
        GOOD.replace('mark_price = "50000"', 'mark_price = "-5"'),
        "positions[0].mark_price: '-5' — expected a positive number",
    ),
    (
        GOOD.replace('mark_price = "50000"', "mark_price = 0"),
        "positions[0].mark_price: 0 — expected a positive number",
    ),
    (
        GOOD.replace('mark_price = "50000"', "mark_price = nan"),
        "positions[0].mark_price: NaN — expected a finite number",
    ),
    (
        GOOD.replace('USDT = "10000"', 'USDT = "NaN"'),
        "balances.USDT: 'NaN' — expected a finite number",
    ),
    (GOOD + "\n[extra]\nx = 1\n", "unknown key(s) extra"),
    (GOOD + "\n[params]\nleverag = 5\n", "params: unknown parameter(s): leverag"),
    (
        GOOD.replace('size = "1"', 'size = "1"\ncolour = "red"'),
        "positions[0]: unknown key(s) colour",
    ),
    ("venue = [", "malformed TOML"),
    (GOOD.replace('venue = "binance_usdm_cross"', ""), "venue: missing"),
]


@pytest.mark.parametrize(("text", "message"), BAD_INPUTS)
def test_bad_input_prints_one_line_naming_file_and_field(tmp_path, capsys, text, message):
    path = write(tmp_path, text)
    code, out, err = run(capsys, "margin", str(path))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith(f"xmargin: error: {path}")
    assert message in err
    assert "Traceback" not in err


def test_json_nan_is_rejected(tmp_path, capsys):
    path = write(tmp_path, '{"venue": "binance_usdm_cross", "balances": {"USDT": NaN}}', "a.json")
    code, _, err = run(capsys, "margin", str(path))
    assert code == 2
    expected = "NaN — expected a finite number (NaN and Infinity are not amounts)"
    assert err == f"xmargin: error: {path}: {expected}\n"


def test_missing_file_and_wrong_type(tmp_path, capsys):
    code, _, err = run(capsys, "margin", str(tmp_path / "nope.toml"))
    assert (code, "file not found" in err) == (2, True)
    code, _, err = run(capsys, "margin", str(write(tmp_path, "x", "a.yaml")))
    assert (code, "unsupported file type" in err) == (2, True)


@pytest.mark.parametrize(
    ("what_if", "message"),
    [
        ("hold 1 BTC/USDT:USDT", "expected 'buy|sell QTY SYMBOL [@ PRICE]'"),
        ("buy -1 BTC/USDT:USDT", "quantity: '-1' — expected a positive number"),
        ("buy 1 BTC/USDT:USDT @ abc", "price: 'abc' — expected a number such as"),
        ("buy 1 DOGE/USDT:USDT @ 1", "has no parameters for DOGE/USDT:USDT"),
        ("buy 1 ETH/USDT:USDT", "no mark price for ETH/USDT:USDT"),
    ],
)
def test_bad_what_if_is_named(tmp_path, capsys, what_if, message):
    code, _, err = run(capsys, "margin", str(write(tmp_path, GOOD)), "--what-if", what_if)
    assert code == 2
    assert message in err


def test_debug_shows_the_traceback(tmp_path):
    path = write(tmp_path, "venue = [")
    with pytest.raises(Exception, match="malformed TOML"):
        main(["--debug", "margin", str(path)])
