"""The run configuration: a good file loads; every mistake is one error naming file and field."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from xmargin.core.errors import ConfigError
from xmargin.engine.config import load_run_config

GOOD = """
seed = 5
[run]
start = "2025-01-01"
end = "2025-02-01T12:00:00Z"

[[venues]]
id = "binance"
model = "binance_usdm_cross"
fees = { maker = "0.0002", taker = "0.0004" }
slippage = { kind = "fixed_bps", bps = 2 }
latency = { order_ms = 50 }

[[venues.accounts]]
id = "main"
balances = { USDT = "1000" }
leverage = { "BTC/USDT:USDT" = 5 }

[[data]]
venue = "binance"
symbol = "BTC/USDT:USDT"
kind = "ohlcv"
timeframe = "5m"
path = "binance_usdm_perp/BTCUSDT_perp_5m.csv.gz"

[[strategies]]
id = "s"
strategy = "sma_cross"
account = "binance.main"
params = { instrument = "BTC/USDT:USDT" }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "run.toml"
    path.write_text(text)
    return path


def test_a_good_config_loads_with_its_values(tmp_path):
    config = load_run_config(write(tmp_path, GOOD))
    assert config.seed == 5
    assert config.start_ms == 1_735_689_600_000
    assert config.end_ms == 1_738_411_200_000
    [venue] = config.venues
    assert venue.sim.fees.taker == Decimal("0.0004")
    assert venue.sim.slippage.bps == 2.0
    assert venue.sim.latency.order_ms == 50.0
    [account] = venue.accounts
    assert account.id == "binance.main"
    assert account.balances == {"USDT": Decimal(1000)}
    assert account.model.taker_fee_rate == Decimal("0.0004")
    spec = config.instruments[("binance", "BTC/USDT:USDT")]
    assert (spec.price_increment, spec.size_increment) == (Decimal("0.1"), Decimal("0.001"))
    assert config.accounts == {"binance.main": "binance"}


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("seed = 5", "seed = 5\ncolour = 1", "unknown parameter(s): colour"),
        (
            'model = "binance_usdm_cross"',
            'model = "kraken"',
            "venues[0]: venue: unknown venue 'kraken'",
        ),
        ('kind = "ohlcv"', 'kind = "candles"', "data[0].kind: must be one of"),
        ('timeframe = "5m"\n', "", "data[0].timeframe: a ohlcv source needs a timeframe"),
        (
            'venue = "binance"\nsymbol',
            'venue = "bybit"\nsymbol',
            "data[0].venue: unknown venue 'bybit'",
        ),
        (
            'account = "binance.main"',
            'account = "binance.sub"',
            "strategies[0].account: unknown account",
        ),
        (
            'balances = { USDT = "1000" }',
            'balances = { USDT = "-5" }',
            "balances.USDT: '-5' — expected a number ≥ 0",
        ),
        ('balances = { USDT = "1000" }', 'balances = { DOGE = "5" }', "unknown asset 'DOGE'"),
        ('end = "2025-02-01T12:00:00Z"', 'end = "2024-01-01"', "run.end: must be after run.start"),
        (
            'start = "2025-01-01"',
            'start = "yesterday"',
            "run.start: 'yesterday' — expected an ISO date",
        ),
        ('kind = "fixed_bps"', 'kind = "magic"', "slippage.kind: must be one of"),
        (
            "latency = { order_ms = 50 }",
            "latency = { order_ms = -1 }",
            "latency.order_ms: -1 — expected a number ≥ 0",
        ),
        ("[[venues.accounts]]", "[[venues.acounts]]", "unknown parameter(s): acounts"),
        ('id = "s"', 'id = "s"\nfoo = 1', "strategies[0]: unknown parameter(s): foo"),
        ('symbol = "BTC/USDT:USDT"\nkind', 'symbol = "BTCUSDT"\nkind', "not a ccxt unified symbol"),
    ],
)
def test_each_mistake_is_named(tmp_path, old, new, message):
    assert old in GOOD
    with pytest.raises(ConfigError) as raised:
        load_run_config(write(tmp_path, GOOD.replace(old, new, 1)))
    text = str(raised.value)
    assert text.startswith(str(tmp_path / "run.toml")), text
    assert message in text, text


def test_malformed_toml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="malformed TOML"):
        load_run_config(write(tmp_path, "seed = ["))
    with pytest.raises(ConfigError, match="file not found"):
        load_run_config(tmp_path / "absent.toml")


def test_a_venue_needs_an_account_and_a_config_a_venue(tmp_path):
    with pytest.raises(ConfigError, match=r"at least one \[\[venues.accounts\]\]"):
        load_run_config(
            write(tmp_path, 'seed = 1\n[[venues]]\nid = "x"\nmodel = "binance_usdm_cross"\n')
        )
    with pytest.raises(ConfigError, match=r"at least one \[\[venues\]\]"):
        load_run_config(write(tmp_path, "seed = 1\n"))


def test_taker_fee_lives_in_the_venue_fees(tmp_path):
    text = GOOD.replace("fees = {", 'params = { taker_fee_rate = "0.001" }\nfees = {')
    with pytest.raises(ConfigError, match=r"params\.taker_fee_rate: set the venue.s fees\.taker"):
        load_run_config(write(tmp_path, text))
