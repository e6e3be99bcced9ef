"""A small gateway venue on hand-made bars: BTC/USDT:USDT 5-minute bars and funding."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np

from xmargin.backtest.feed import FeedSource
from xmargin.data.series import FundingSeries, OhlcvSeries
from xmargin.engine.config import parse_run_config
from xmargin.gateway.runtime import GatewayRuntime
from xmargin.gateway.service import GatewayService
from xmargin.gateway.settings import Credential, GatewaySettings

SYMBOL = "BTC/USDT:USDT"
T0 = 1_760_054_400_000  # 2025-10-10 00:00 UTC, a bar open
FIVE_MIN = 300_000
# open, high, low, close, volume of six bars from T0
BARS = [
    (100.0, 101.0, 99.0, 100.5, 10.0),
    (100.5, 102.0, 100.0, 101.5, 20.0),
    (101.5, 101.6, 98.0, 99.0, 30.0),
    (99.0, 99.5, 97.0, 98.0, 40.0),
    (98.0, 103.0, 97.5, 102.0, 50.0),
    (102.0, 102.5, 101.0, 101.2, 60.0),
]
FUNDING = [(T0 + 10 * 60_000, 0.0001), (T0 + 25 * 60_000, -0.0002)]


Bar = tuple[float, float, float, float, float]


def sources(rows: list[Bar] = BARS) -> list[FeedSource]:
    columns = list(zip(*rows, strict=True))
    bars = OhlcvSeries(
        np.array([T0 + i * FIVE_MIN for i in range(len(rows))]),
        *(np.array(c) for c in columns),
        timeframe="5m",
    )
    funding = FundingSeries(
        np.array([t for t, _ in FUNDING]),
        np.array([r for _, r in FUNDING]),
        np.array([8, 8]),
    )
    return [
        FeedSource("ohlcv", "binance", SYMBOL, bars, "5m"),
        FeedSource("funding", "binance", SYMBOL, funding),
    ]


def run_config(balance: str = "1000") -> object:
    document = {
        "seed": 1,
        "venues": [
            {
                "id": "binance",
                "model": "binance_usdm_cross",
                "fees": {"maker": Decimal("0.0002"), "taker": Decimal("0.0005")},
                "accounts": [
                    {
                        "id": "main",
                        "balances": {"USDT": Decimal(balance)},
                        "leverage": {SYMBOL: Decimal(10)},
                    }
                ],
            }
        ],
        "data": [
            {
                "venue": "binance",
                "symbol": SYMBOL,
                "kind": "ohlcv",
                "timeframe": "5m",
                "path": "unused.csv",
            }
        ],
        "instruments": [
            {
                "venue": "binance",
                "symbol": SYMBOL,
                "price_increment": Decimal("0.1"),
                "size_increment": Decimal("0.001"),
                "min_notional": Decimal(5),
            }
        ],
    }
    return parse_run_config(document, Path("hand-made.toml"))


class FakeWall:
    def __init__(self) -> None:
        self.ns = 1_000_000_000_000

    def __call__(self) -> int:
        return self.ns


def service(
    speed: float = 60.0, start_ms: int | None = None, rows: list[Bar] = BARS
) -> tuple[GatewayService, FakeWall]:
    wall = FakeWall()
    runtime = GatewayRuntime(
        run_config(),  # type: ignore[arg-type]
        sources(rows),
        "binance",
        start_ms=start_ms,
        speed=speed,
        wall_ns=wall,
    )
    settings = GatewaySettings("binance", (Credential("binance.main", "k", "s"),))
    return GatewayService(runtime, settings), wall
