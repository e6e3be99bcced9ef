"""A run config with 300 synthetic 5-minute bars in a folder: a backtest that takes a moment."""

from __future__ import annotations

from pathlib import Path

RUN_CONFIG = """seed = 1

[[venues]]
id = "binance"
model = "binance_usdm_cross"

[[venues.accounts]]
id = "main"
balances = { USDT = "10000" }

[[data]]
venue = "binance"
symbol = "BTC/USDT:USDT"
kind = "ohlcv"
timeframe = "5m"
path = "bars.csv"

[[strategies]]
id = "sma"
strategy = "sma_cross"
account = "binance.main"
params = { instrument = "BTC/USDT:USDT", fast = 5, slow = 20, quantity = "0.1" }
"""


def write_tiny_run(folder: Path) -> Path:
    """Write ``run.toml`` and its ``bars.csv`` (a saw-tooth 100…149) into ``folder``."""
    rows = ["ts_ms,open,high,low,close,volume"]
    for i in range(300):
        price = 100 + i % 50
        rows.append(f"{1_735_689_600_000 + i * 300_000},{price},{price + 1},{price - 1},{price},10")
    (folder / "bars.csv").write_text("\n".join(rows) + "\n")
    config = folder / "run.toml"
    config.write_text(RUN_CONFIG)
    return config
