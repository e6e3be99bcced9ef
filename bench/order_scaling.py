"""Does the cost of one order stay flat as resting limit orders pile up?

On the real pack's Binance USDⓈ-M BTC 5-minute bars (``binance_usdm_perp/BTCUSDT_perp_5m``),
a strategy on a Binance USDⓈ-M cross-margin account first rests R limit orders far from the
market (half below at 50-55 % of the price, half above at 140-145 %, each on its own tick,
0.01 BTC each, so they reserve margin and never fill), then sends one 0.01 BTC market
order per bar, alternating buy and sell, through the whole engine (kernel, risk hook,
simulated exchange; fills at the signal bar's close).

Measured, per R in 10, 100, 1,000, 5,000 (timers around the exchange's own methods):

- per order: the venue's submit plus the order's arrival (admission, the initial-margin check
  against the account with every resting order's reserve, and its fill at the close);
- per fill: booking one fill (the margin check at fill, the ledger, the maintenance recheck);
- per bar: matching the bar against the R resting orders.

The reference, measured in the same run, is the same with 10 resting orders: the ratio
column shows how far each figure is from flat (1.00). Each case runs ``--repeat`` times,
interleaved with the others, and keeps its fastest figures, as the machine may be shared.

    uv run python bench/order_scaling.py [--data FILE] [--bars N] [--resting 10,100,1000,5000]
                                         [--repeat K] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from xmargin.backtest.feed import FeedSource
from xmargin.backtest.runner import Backtest
from xmargin.data.loaders import read_ohlcv
from xmargin.data.pack import find_pack
from xmargin.data.series import OhlcvSeries
from xmargin.engine.config import parse_run_config
from xmargin.model.market_data import Bar
from xmargin.model.orders import OrderSide, OrderType
from xmargin.strategy.base import Strategy
from xmargin.venues.sim.exchange import SimulatedExchange

SYMBOL = "BTC/USDT:USDT"
PACK_FILE = Path("binance_usdm_perp") / "BTCUSDT_perp_5m.csv.gz"
LOT = Decimal("0.01")
TICK = Decimal("0.1")
RESTING = (10, 100, 1_000, 5_000)


class RestThenTrade(Strategy):
    """Rest ``resting`` far-away limits on the first bar, then one market order per bar."""

    name = "bench_rest_then_trade"

    def __init__(self, strategy_id: str, resting: int, arm: Callable[[], None]) -> None:
        super().__init__(strategy_id, None)
        self.resting = resting
        self.arm = arm
        self.bars = 0

    def on_bar(self, bar: Bar) -> None:
        self.bars += 1
        if self.bars == 1:
            price = Decimal(repr(bar.close)).quantize(TICK)
            below, above = price * Decimal("0.5"), price * Decimal("1.4")
            step = (price * Decimal("0.1") / max(self.resting, 1)).quantize(TICK) or TICK
            for i in range(self.resting):
                buy = i % 2 == 0
                offset = step * (i // 2)
                limit = (below + offset if buy else above + offset).quantize(TICK)
                side = OrderSide.BUY if buy else OrderSide.SELL
                self.ctx.order(SYMBOL, side, LOT, OrderType.LIMIT, price=limit)
            return
        if self.bars == 2:
            self.arm()
        side = OrderSide.BUY if self.bars % 2 == 0 else OrderSide.SELL
        self.ctx.order(SYMBOL, side, LOT)


class Stopwatch:
    """Accumulated wall time and call count of wrapped methods, from a given moment on."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.armed = False

    def wrap(self, owner: Any, method: str, label: str) -> None:
        inner: Callable[..., Any] = getattr(owner, method)

        def timed(*args: Any, **kwargs: Any) -> Any:
            if not self.armed:
                return inner(*args, **kwargs)
            started = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - started
                self.calls[label] = self.calls.get(label, 0) + 1

        setattr(owner, method, timed)

    def arm(self) -> None:
        self.armed = True

    def micros(self, label: str) -> float:
        calls = self.calls.get(label, 0)
        return self.seconds.get(label, 0.0) / calls * 1e6 if calls else float("nan")


def config_document() -> dict[str, Any]:
    return {
        "seed": 1,
        "venues": [
            {
                "id": "binance",
                "model": "binance_usdm_cross",
                "fees": {"maker": "0.0002", "taker": "0.0004"},
                "accounts": [{"id": "main", "balances": {"USDT": "10000000"}}],
            }
        ],
        "instruments": [
            {
                "venue": "binance",
                "symbol": SYMBOL,
                "price_increment": "0.1",
                "size_increment": "0.001",
            }
        ],
        "strategies": [],
        "data": [
            {
                "venue": "binance",
                "symbol": SYMBOL,
                "kind": "ohlcv",
                "timeframe": "5m",
                "path": "unused.csv",
            }
        ],
    }


def measure(series: OhlcvSeries, resting: int) -> dict[str, Any]:
    config = parse_run_config(config_document(), Path("bench.toml"))
    backtest = Backtest(config, [FeedSource("ohlcv", "binance", SYMBOL, series, "5m")])
    watch = Stopwatch()
    strategy = RestThenTrade("bench", resting, watch.arm)
    backtest.attach(strategy, "binance.main")
    exchange: SimulatedExchange = backtest.venues["binance"]
    watch.wrap(exchange, "submit", "submit")
    watch.wrap(exchange, "_arrive", "arrive")
    watch.wrap(exchange.fills, "execute", "fill")
    watch.wrap(exchange, "on_bar", "bar")
    started = time.perf_counter()
    result = backtest.run()
    wall = time.perf_counter() - started
    working = len(exchange.open_orders("binance.main"))
    orders = watch.calls.get("submit", 0)
    per_order = (watch.seconds.get("submit", 0.0) + watch.seconds.get("arrive", 0.0)) / max(
        orders, 1
    )
    return {
        "resting": resting,
        "working_at_end": working,
        "orders": orders,
        "fills": result.summary()["fills"],
        "us_per_order": per_order * 1e6,
        "us_per_fill": watch.micros("fill"),
        "us_per_bar": watch.micros("bar"),
        "wall_s": wall,
    }


def fastest(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One row: each timing the fastest of ``runs`` (they must agree on everything else)."""
    timings = ("us_per_order", "us_per_fill", "us_per_bar", "wall_s")
    counts = {k: v for k, v in runs[0].items() if k not in timings}
    if any({k: v for k, v in run.items() if k not in timings} != counts for run in runs):
        raise SystemExit("order_scaling: repeated runs disagree on orders or fills")
    return {**counts, **{t: min(run[t] for run in runs) for t in timings}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="a 5m OHLCV file (default: the pack's BTC perp 5m bars)")
    parser.add_argument("--bars", type=int, default=288, help="bars to run (default: one day)")
    parser.add_argument("--resting", default=",".join(map(str, RESTING)))
    parser.add_argument("--repeat", type=int, default=3, help="runs per case (fastest kept)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.data:
        path = Path(args.data)
    else:
        pack = find_pack()
        if pack is None:
            print("order_scaling: the data pack was not found; pass --data FILE", file=sys.stderr)
            raise SystemExit(2)
        path = pack / PACK_FILE
    series, _ = read_ohlcv(path)
    count = min(args.bars, len(series))
    series = series.slice(int(series.ts_ms[0]), int(series.ts_ms[count - 1]))
    counts = [int(x) for x in args.resting.split(",")]
    runs: dict[int, list[dict[str, Any]]] = {r: [] for r in counts}
    for _ in range(args.repeat):  # interleaved, so a change in the machine's load hits all
        for resting in counts:
            runs[resting].append(measure(series, resting))
    rows = [fastest(runs[r]) for r in counts]
    reference = rows[0]
    if args.json:
        print(json.dumps({"data": str(path), "bars": count, "rows": rows}, indent=2))
        return
    print(f"{path.name}: {count:,} bars; reference: {counts[0]:,} resting orders, same run")
    print(
        f"{'resting':>8} {'working':>8} {'orders':>7} {'µs/order':>9} {'ratio':>6}"
        f" {'µs/fill':>8} {'ratio':>6} {'µs/bar':>8} {'ratio':>6} {'wall s':>7}"
    )
    for row in rows:
        print(
            f"{row['resting']:>8,} {row['working_at_end']:>8,} {row['orders']:>7,}"
            f" {row['us_per_order']:>9.1f} {row['us_per_order'] / reference['us_per_order']:>6.2f}"
            f" {row['us_per_fill']:>8.1f} {row['us_per_fill'] / reference['us_per_fill']:>6.2f}"
            f" {row['us_per_bar']:>8.1f} {row['us_per_bar'] / reference['us_per_bar']:>6.2f}"
            f" {row['wall_s']:>7.2f}"
        )


if __name__ == "__main__":
    main()
