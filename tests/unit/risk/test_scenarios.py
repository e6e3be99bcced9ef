"""Built-in scenarios, ``--shock`` text and scenario files (with every malformed case)."""

from __future__ import annotations

import gzip
from decimal import Decimal
from pathlib import Path

import pytest
from tests.pack import DATA_PACK, needs_pack

from xmargin.core.errors import ConfigError
from xmargin.risk.scenarios import (
    FDUSD_2025_04_02_LOW,
    builtin_scenarios,
    load_scenario_file,
    parse_shock,
    resolve_scenario,
)
from xmargin.risk.stress import ShockKind

D = Decimal


def test_builtin_scenarios_cover_the_issue_and_appendix_s():
    names = set(builtin_scenarios())
    assert {
        "usdc_svb_2023",
        "ust_collapse_2022",
        "fdusd_2025_04_02",
        "usdt_2022",
        "funding_spike",
        "liquidity_haircut",
        "liquidation_cascade",
        "crash_20",
    } <= names
    scenarios = builtin_scenarios(closing_cost_bps=D(25), funding_periods=5)
    assert scenarios["liquidity_haircut"].closing_cost_bps == D(25)
    assert scenarios["funding_spike"].funding is not None
    assert scenarios["funding_spike"].funding.periods == 5
    [usdc] = scenarios["usdc_svb_2023"].shocks
    assert (usdc.asset, usdc.value) == ("USDC", D("0.87"))
    ust = scenarios["ust_collapse_2022"].path
    assert [s.value for s in ust[-1].shocks if s.asset == "UST"] == [D("0.10")]


@needs_pack
def test_the_fdusd_anchor_is_the_data_packs_real_low():
    path = DATA_PACK / "stablecoins" / "binance_spot_FDUSDUSDT_5m.csv.gz"
    day = 1743552000000  # 2025-04-02 00:00 UTC
    with gzip.open(path, "rt") as rows:
        next(rows)
        lows = [
            D(line.split(",")[3])
            for line in rows
            if day <= int(line.split(",")[0]) < day + 86400000
        ]
    assert min(lows) == FDUSD_2025_04_02_LOW


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("BTC=-20%", ShockKind.CHANGE, D("-0.2")),
        ("eth=+15%", ShockKind.CHANGE, D("0.15")),
        ("USDC=0.87", ShockKind.PRICE, D("0.87")),
        ("*=-10%", ShockKind.CHANGE, D("-0.1")),
    ],
)
def test_shock_text_is_a_price_or_a_percentage(text, kind, value):
    shock = parse_shock(text)
    assert (shock.kind, shock.value) == (kind, value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("BTC", "expected ASSET=PRICE"),
        ("BTC=", "expected ASSET=PRICE"),
        ("=5", "expected ASSET=PRICE"),
        ("BTC=abc", "price: 'abc' — expected a number such as"),
        ("BTC=-x%", "percentage: '-x' — expected a number such as"),
        ("BTC=-100%", "above -100%"),
        ("BTC=0", "price: '0' — expected a positive number"),
        ("BTC=-5", "price: '-5' — expected a positive number"),
        ("B-TC=5", "not an asset code"),
    ],
)
def test_bad_shock_text_names_the_flag(text, message):
    with pytest.raises(ConfigError, match=message) as raised:
        parse_shock(text)
    assert str(raised.value).startswith(f"--shock {text}:")


GOOD_FILE = """
name = "flash"
description = "BTC down, alts further"
closing_cost_bps = 25
[shocks]
"*" = "-40%"
BTC = "-30%"
USDC = 0.97
[funding]
periods = 2
rate = "0.001"
[cascade]
impact_lambda = 1
max_rounds = 7
[cascade.daily_volume]
BTC = 20000000000
"""


def write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_scenario_file_loads_every_table(tmp_path):
    scenario = load_scenario_file(write(tmp_path, GOOD_FILE))
    assert scenario.name == "flash"
    assert [str(s) for s in scenario.shocks] == ["*=-40%", "BTC=-30%", "USDC=0.97"]
    assert scenario.closing_cost_bps == D(25)
    assert scenario.funding is not None and scenario.funding.rate == D("0.001")
    assert scenario.cascade is not None
    assert scenario.cascade.impact_lambda == D(1)
    assert scenario.cascade.bps_per_million is None
    assert scenario.cascade.max_rounds == 7
    assert scenario.cascade.move("BTC", D(20_000_000)) == D("0.001")


def test_a_path_file_and_the_default_name(tmp_path):
    text = '[[path]]\nlabel = "d1"\nshocks = { UST = "0.6" }\n[[path]]\nshocks = { UST = 0.1 }\n'
    scenario = load_scenario_file(write(tmp_path, text, "terra.toml"))
    assert scenario.name == "terra"
    assert [step.label for step in scenario.steps] == ["d1", "step 2"]


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("[shocks\n", "s.toml", "malformed TOML"),
        ("colour = 1\n[shocks]\nBTC = 1\n", "s.toml", "unknown key"),
        ('name = "x"\n', "s.toml", "nothing to stress"),
        ('[shocks]\nBTC = "-120%"\n', "s.toml: shocks.BTC", "above -100%"),
        ('[shocks]\nBTC = "cheap"\n', "s.toml: shocks.BTC", "'cheap' — expected a number such as"),
        ("[shocks]\nBTC = true\n", "s.toml: shocks.BTC", "must be a price"),
        ('[shocks]\n"B/C" = 1\n', "s.toml: shocks.B/C", "not an asset code"),
        ("shocks = 3\n", "s.toml: shocks", "must be a table"),
        ("[shocks]\nBTC=1\n[[path]]\nshocks = {BTC = 2}\n", "s.toml: path", "not both"),
        ("[[path]]\nlabel = 'x'\n", "s.toml: path[0].shocks", "missing"),
        ("[funding]\nperiods = 0\n", "s.toml: funding.periods", "whole number"),
        ("[funding]\nrate = '-1'\n", "s.toml: funding.rate", "must not be negative"),
        ("[cascade]\nspeed = 1\n", "s.toml: cascade", "unknown key"),
        ("[cascade]\nmax_move = 2\n", "s.toml: cascade.max_move", "must be in"),
        ("[cascade]\nimpact_lambda = 1\nbps_per_million = 2\n", "s.toml: cascade", "not both"),
        ("closing_cost_bps = 'x'\n", "s.toml: closing_cost_bps", "'x' — expected a number such as"),
    ],
)
def test_malformed_scenario_files_name_the_file_and_field(tmp_path, text, where, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as raised:
        load_scenario_file(path)
    assert str(raised.value).startswith(str(path.parent / where))


def test_resolve_scenario_takes_names_then_files(tmp_path):
    builtins = builtin_scenarios()
    assert resolve_scenario("crash_20", builtins) is builtins["crash_20"]
    assert resolve_scenario(str(write(tmp_path, GOOD_FILE)), builtins).name == "flash"
    with pytest.raises(ConfigError, match=r"--scenario: unknown scenario 'crash_99'"):
        resolve_scenario("crash_99", builtins)
    with pytest.raises(ConfigError, match="file not found"):
        resolve_scenario(str(tmp_path / "missing.toml"), builtins)
