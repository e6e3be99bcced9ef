"""Index data is refused at start-up (decision 0006); every lendable asset needs a borrow rate."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from xmargin.app.cli import main
from xmargin.backtest.feed import FeedSource
from xmargin.backtest.runner import Backtest
from xmargin.core.errors import ConfigError
from xmargin.data.series import OhlcvSeries
from xmargin.engine.config import load_run_config

PERP_RUN = """
[[venues]]
id = "binance"
model = "binance_usdm_cross"

[[venues.accounts]]
balances = { USDT = "1000" }

[[data]]
venue = "binance"
symbol = "BTC/USDT:USDT"
kind = "ohlcv"
timeframe = "5m"
path = "bars.csv"
"""

INDEX_TABLE = """
[[data]]
venue = "binance"
symbol = "BTC/USDT:USDT"
kind = "index"
timeframe = "5m"
path = "index.csv"
"""

MARGIN_RUN = """
[[venues]]
id = "bm"
model = "binance_cross_margin"
{settings}

[[venues.accounts]]
balances = {{ USDT = "1000" }}

[[data]]
venue = "bm"
symbol = "SOL/USDT"
kind = "ohlcv"
timeframe = "5m"
path = "bars.csv"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "run.toml"
    path.write_text(text)
    return path


# -- index data --------------------------------------------------------------------------------


def test_an_index_table_is_refused_naming_its_field_and_the_fix(tmp_path):
    path = write(tmp_path, PERP_RUN + INDEX_TABLE)
    with pytest.raises(ConfigError, match=r'data\[1\]\.kind: kind = "index" is not supported') as e:
        load_run_config(path)
    assert str(e.value).startswith(f"{path}: data[1].kind: ")
    assert "docs/decisions/0006-index-data.md" in str(e.value)
    assert 'give the mark price as kind = "mark"' in str(e.value)


def test_the_cli_refuses_an_index_table_with_one_line_and_exit_2(tmp_path, capsys):
    path = write(tmp_path, PERP_RUN + INDEX_TABLE)
    with pytest.raises(SystemExit) as exited:
        main(["backtest", str(path), "--no-db"])
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert 'data[1].kind: kind = "index" is not supported' in err


def test_an_index_source_built_in_code_is_refused_not_dropped(tmp_path):
    config = load_run_config(write(tmp_path, PERP_RUN))
    ts = np.array([1_735_689_600_000, 1_735_689_900_000], dtype=np.int64)
    prices = np.array([100.0, 101.0])
    series = OhlcvSeries(ts, prices, prices, prices, prices, np.ones(2), timeframe="5m")
    index = FeedSource("index", "binance", "BTC/USDT:USDT", series, "5m")
    bars = FeedSource("ohlcv", "binance", "BTC/USDT:USDT", series, "5m")
    backtest = Backtest(config, [bars, index])
    with pytest.raises(ConfigError, match='binance BTC/USDT:USDT index: kind = "index" is not'):
        backtest.run()


# -- borrow rates ------------------------------------------------------------------------------


def test_a_lendable_asset_without_a_rate_is_an_error_naming_the_asset_and_the_keys(tmp_path):
    # SOL is the spot base: the venue can lend it; USDT has the model's packaged rate
    path = write(tmp_path, MARGIN_RUN.format(settings=""))
    with pytest.raises(ConfigError, match="no borrow rate for SOL on this binance_cross_margin"):
        load_run_config(path)
    with pytest.raises(ConfigError) as raised:
        load_run_config(path)
    assert str(raised.value) == (
        f"{path}: venues[0].interest_rates: no borrow rate for SOL on this binance_cross_margin "
        "venue: set interest_rates.SOL (hourly) or default_interest_rate"
    )


@pytest.mark.parametrize(
    "settings",
    [
        'interest_rates = { SOL = "0.00001" }',
        'default_interest_rate = "0.00002"',
        'params = { default_hourly_rate = "0.00003" }',
    ],
)
def test_a_rate_for_the_asset_or_a_configured_default_is_enough(tmp_path, settings):
    config = load_run_config(write(tmp_path, MARGIN_RUN.format(settings=settings)))
    assert config.venues[0].id == "bm"


def test_the_default_rate_is_read_exactly_and_must_not_be_negative(tmp_path):
    text = MARGIN_RUN.format(settings='default_interest_rate = "0.0000125"')
    config = load_run_config(write(tmp_path, text))
    assert config.venues[0].sim.default_interest_rate == Decimal("0.0000125")
    bad = MARGIN_RUN.format(settings='default_interest_rate = "-0.1"')
    with pytest.raises(
        ConfigError, match=r"venues\[0\]\.default_interest_rate: '-0.1' — expected a number ≥ 0"
    ):
        load_run_config(write(tmp_path, bad))


def test_a_bybit_account_needs_a_rate_for_what_it_holds(tmp_path):
    text = PERP_RUN.replace('"binance_usdm_cross"', '"bybit_uta_cross"')
    with pytest.raises(ConfigError, match="no borrow rate for USDT on this bybit_uta_cross venue"):
        load_run_config(write(tmp_path, text))
    fixed = text.replace(
        'model = "bybit_uta_cross"',
        'model = "bybit_uta_cross"\ninterest_rates = { USDT = "0.000005" }',
    )
    assert load_run_config(write(tmp_path, fixed)).venues[0].sim.interest_rates == {
        "USDT": Decimal("0.000005")
    }


def test_futures_only_venues_need_no_borrow_rate(tmp_path):
    assert load_run_config(write(tmp_path, PERP_RUN)).venues[0].sim.interest_rates == {}
