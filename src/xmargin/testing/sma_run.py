"""A self-contained backtest on synthetic 1-minute bars: data files and a run config on disk.

The SMA 20/100 cross of ``bench/backtest_speed.py`` (one strategy per symbol, 0.1 contracts,
Binance USDⓈ-M cross margin with 1,000,000 USDT), on deterministic synthetic bars written
as the data pack's OHLCV CSV; used by the memory benchmark and the storage fault tests.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from xmargin.data.synthetic import synthetic_ohlcv

SYMBOLS = ("BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT", "XRP/USDT:USDT")


def write_bars(path: Path, bars: int, seed: int) -> None:
    """Write ``bars`` synthetic 1-minute bars as the data pack's OHLCV CSV."""
    series = synthetic_ohlcv(bars, timeframe="1m", seed=seed)
    columns = np.column_stack(
        (series.ts_ms, series.open, series.high, series.low, series.close, series.volume)
    )
    np.savetxt(
        path,
        columns,
        fmt=["%d", "%.1f", "%.1f", "%.1f", "%.1f", "%.3f"],
        delimiter=",",
        header="ts_ms,open,high,low,close,volume",
        comments="",
    )


def write_config(folder: Path, bars: int, symbols: int) -> Path:
    """Write the data files and the run config of one configuration; return the config."""
    parts = [
        'name = "memory benchmark"',
        "seed = 1",
        "[[venues]]",
        'id = "binance"',
        'model = "binance_usdm_cross"',
        'fees = { maker = "0.0002", taker = "0.0004" }',
        "[[venues.accounts]]",
        'id = "main"',
        'balances = { USDT = "1000000" }',
    ]
    for index, symbol in enumerate(SYMBOLS[:symbols]):
        data = folder / f"bars_{bars}_{index}.csv"
        if not data.exists():
            write_bars(data, bars, 7 + index)
        parts += [
            "[[instruments]]",
            'venue = "binance"',
            f'symbol = "{symbol}"',
            'price_increment = "0.1"',
            'size_increment = "0.001"',
            "[[data]]",
            'venue = "binance"',
            f'symbol = "{symbol}"',
            'kind = "ohlcv"',
            'timeframe = "1m"',
            f'path = "{data}"',
            "[[strategies]]",
            f'id = "sma{index}"',
            'strategy = "sma_cross"',
            'account = "binance.main"',
            f'params = {{ instrument = "{symbol}", fast = 20, slow = 100, quantity = "0.1" }}',
        ]
    config = folder / f"run_{bars}_{symbols}.toml"
    config.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return config
