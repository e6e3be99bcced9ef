"""A run with a USDT account (Binance USDⓈ-M) and a USDC account (Hyperliquid) reports in
USDT, converting USDC at the pack's Binance USDC/USDT 5-minute closes.

Everything expected is recomputed here from the pack's raw rows: the USDC account buys
0.1 BTC/USDC:USDC at the first bar's close and holds; its equity in USDC is
``20,000 − fee + 0.1 × (close − entry)`` at the last Hyperliquid close; the rate at ``t`` is
the close of the last USDC/USDT bar that closed at or before ``t``. The currency effect adds,
at every 5-minute step after the first, the USDC equity before the step's data times the
rate's move. The only shared code is the instruments' float-to-price gate.
"""

from __future__ import annotations

import bisect
import csv
import gzip
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest

from xmargin.app.cli import main
from xmargin.backtest.runner import Backtest
from xmargin.backtest.sources import load_sources
from xmargin.engine.config import load_run_config

D = Decimal
START_MS = 1_743_465_600_000  # 2025-04-01 00:00 UTC
END_MS = START_MS + 3 * 86_400_000
STEP_MS = 300_000
TAKER = D("0.00045")

CONFIG = f"""
seed = 1

[run]
start = "2025-04-01"
end = "2025-04-04"
data_dir = "{{pack}}"

[risk.breakers]
daily_loss = false
max_drawdown = false

[[venues]]
id = "binance"
model = "binance_usdm_cross"

[[venues.accounts]]
id = "main"
balances = {{ USDT = "10000" }}

[[venues]]
id = "hyperliquid"
model = "hyperliquid_cross"
fees = {{ maker = "0.00015", taker = "{TAKER}" }}

[[venues.accounts]]
id = "main"
balances = {{ USDC = "20000" }}

[[data]]
venue = "binance"
symbol = "USDC/USDT"
kind = "ohlcv"
timeframe = "5m"
path = "stablecoins/binance_spot_USDCUSDT_5m.csv.gz"

[[data]]
venue = "hyperliquid"
symbol = "BTC/USDC:USDC"
kind = "ohlcv"
timeframe = "5m"
path = "second_venue/hyperliquid_BTCUSDC_perp_5m.csv.gz"

[[strategies]]
id = "hold"
strategy = "buy_and_hold"
account = "hyperliquid.main"
params = {{ instrument = "BTC/USDC:USDC", quantity = "0.1" }}
"""


def closes(path: Path) -> tuple[list[int], list[float]]:
    """Bar close times and close prices of a 5-minute file."""
    with gzip.open(path, "rt", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [int(r["ts_ms"]) + STEP_MS for r in rows], [float(r["close"]) for r in rows]


def last_at(times: list[int], values: list[Decimal], t: int) -> Decimal:
    return values[bisect.bisect_right(times, t) - 1]


@pytest.fixture(scope="module")
def run(pack, tmp_path_factory):
    path = tmp_path_factory.mktemp("currency") / "run.toml"
    path.write_text(CONFIG.replace("{pack}", str(pack)), encoding="utf-8")
    config = load_run_config(path)
    backtest = Backtest(config, load_sources(config))
    return config, backtest.run()


def test_figures_are_the_raw_rows_converted_point_in_time(run, pack):
    config, result = run
    usdc_spec = config.instruments[("binance", "USDC/USDT")]
    btc_spec = config.instruments[("hyperliquid", "BTC/USDC:USDC")]
    rate_times, rate_floats = closes(pack / "stablecoins/binance_spot_USDCUSDT_5m.csv.gz")
    rates = [usdc_spec.make_mark(r) for r in rate_floats]
    btc_times, btc_floats = closes(pack / "second_venue/hyperliquid_BTCUSDC_perp_5m.csv.gz")
    btc = [btc_spec.make_price(p) for p in btc_floats]
    steps = sorted(
        {t for t in rate_times + btc_times if START_MS < t <= END_MS}
    )  # every event time of the run
    first, last = steps[0], steps[-1]
    entry = last_at(btc_times, btc, first)
    fee = D("0.1") * entry * TAKER

    def usdc_equity(t: int) -> Decimal:
        return D(20000) - fee + D("0.1") * (last_at(btc_times, btc, t) - entry)

    effect = D(0)
    for before, step in pairwise(steps):
        move = last_at(rate_times, rates, step) - last_at(rate_times, rates, before)
        effect += usdc_equity(before) * move
    start = D(10000) + D(20000) * last_at(rate_times, rates, first)
    final = D(10000) + usdc_equity(last) * last_at(rate_times, rates, last)

    summary = result.summary()
    assert D(summary["start_equity"]) == start
    assert D(summary["final_equity"]) == final
    split = {k: D(v) for k, v in summary["metrics"]["pnl_split"].items()}
    assert split["currency"] == effect != 0
    assert split["fees"] == -fee * last_at(rate_times, rates, first)
    assert sum(split.values(), D(0)) == final - start
    # the equity curve at every bar close: USDT + the USDC equity at the rate of the time
    curve = dict(zip(result.grid_ms.tolist(), result.equity.tolist(), strict=True))
    for t in steps[1:]:
        expected = D(10000) + usdc_equity(t) * last_at(rate_times, rates, t)
        assert curve[t] == pytest.approx(float(expected), rel=1e-12)


def test_without_the_usdc_stream_the_cli_stops_with_one_line_naming_the_fix(pack, tmp_path, capsys):
    without = CONFIG.split("[[data]]")
    text = "[[data]]".join([without[0], *without[2:]]).replace("{pack}", str(pack))
    path = tmp_path / "run.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        main(["backtest", str(path), "--no-db"])
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"xmargin: error: {path}: run.reporting_currency: hyperliquid.main settles in USDC but "
        "the run has no price of USDC in the reporting currency USDT: add a [[data]] stream "
        "for USDC/USDT (kind ohlcv), or set run.reporting_currency"
    )


COLLATERAL = """
seed = 1

[run]
start = "2025-04-01"
end = "2025-04-04"
data_dir = "{pack}"

[risk.breakers]
daily_loss = false
max_drawdown = false

[[venues]]
id = "binance"
model = "binance_usdm_cross"
params = { multi_assets = true }

[[venues.accounts]]
id = "main"
balances = { USDT = "10000", USDC = "5000" }

[[data]]
venue = "binance"
symbol = "USDC/USDT"
kind = "ohlcv"
timeframe = "5m"
path = "stablecoins/binance_spot_USDCUSDT_5m.csv.gz"

[[data]]
venue = "binance"
symbol = "BTC/USDT:USDT"
kind = "ohlcv"
timeframe = "5m"
path = "binance_usdm_perp/BTCUSDT_perp_5m.csv.gz"

[[strategies]]
id = "hold"
strategy = "buy_and_hold"
account = "binance.main"
params = { instrument = "BTC/USDT:USDT", quantity = "0.1" }
"""


def test_usdc_collateral_in_a_usdt_account_is_the_currency_line(pack, tmp_path):
    path = tmp_path / "run.toml"
    path.write_text(COLLATERAL.replace("{pack}", str(pack)), encoding="utf-8")
    config = load_run_config(path)
    result = Backtest(config, load_sources(config)).run()
    usdc_spec = config.instruments[("binance", "USDC/USDT")]
    btc_spec = config.instruments[("binance", "BTC/USDT:USDT")]
    rate_times, rate_floats = closes(pack / "stablecoins/binance_spot_USDCUSDT_5m.csv.gz")
    rates = [usdc_spec.make_mark(r) for r in rate_floats]
    btc_times, btc_floats = closes(pack / "binance_usdm_perp/BTCUSDT_perp_5m.csv.gz")
    btc = [btc_spec.make_price(p) for p in btc_floats]
    first = min(t for t in rate_times + btc_times if t > START_MS)
    last = max(t for t in rate_times + btc_times if t <= END_MS)
    entry, exit_ = last_at(btc_times, btc, first), last_at(btc_times, btc, last)
    r_first, r_last = last_at(rate_times, rates, first), last_at(rate_times, rates, last)
    fee = D("0.1") * entry * D("0.0005")

    summary = result.summary()
    split = {k: D(v) for k, v in summary["metrics"]["pnl_split"].items()}
    assert D(summary["start_equity"]) == D(10000) + D(5000) * r_first
    assert D(summary["final_equity"]) == D(10000) + D(5000) * r_last - fee + D("0.1") * (
        exit_ - entry
    )
    assert split["currency"] == D(5000) * (r_last - r_first) != 0
    assert split["trading"] == D("0.1") * (exit_ - entry)
    assert split["fees"] == -fee
