"""How fast does the full backtest engine run an SMA 20/100 cross on 1-minute bars?

The strategy: target +0.1 BTC while SMA20 > SMA100 of the closes, −0.1 BTC while below,
unchanged when equal, flat until both averages exist; one market order to the new target
on each change, filled at the signal bar's close, taker fee 4 bps, no slippage, flattened
at the last close. It runs through the whole engine: the kernel, a Binance USDⓈ-M cross
margin account, the risk hook, the simulated exchange and (with --funding) 8-hourly funding.

Without --data, a deterministic 1-year 1-minute series (525,600 bars) is generated.
The reference measured in the same run is a plain numpy/Python computation of the same
signals and PnL; the engine must agree with it on trades, PnL and fees.

    uv run python bench/backtest_speed.py [--data FILE] [--bars N] [--symbols K]
                                          [--funding] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from decimal import Decimal
from pathlib import Path

import numpy as np

from xmargin.backtest.feed import FeedSource
from xmargin.backtest.runner import Backtest
from xmargin.data.loaders import read_ohlcv
from xmargin.data.series import OhlcvSeries
from xmargin.data.synthetic import synthetic_funding, synthetic_ohlcv
from xmargin.engine.config import parse_run_config

SYMBOLS = ("BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT", "XRP/USDT:USDT")
QUANTITY = Decimal("0.1")
FEE = Decimal("0.0004")
YEAR_OF_MINUTES = 525_600


def series_for(args: argparse.Namespace, index: int) -> OhlcvSeries:
    if args.data:
        series, _ = read_ohlcv(args.data)
        if args.bars:
            series = series.slice(
                int(series.ts_ms[0]), int(series.ts_ms[min(args.bars, len(series)) - 1])
            )
        return series
    return synthetic_ohlcv(args.bars or YEAR_OF_MINUTES, timeframe="1m", seed=7 + index)


def run_engine(serieses: list[OhlcvSeries], funding: bool) -> tuple[dict, float]:
    symbols = SYMBOLS[: len(serieses)]
    document = {
        "seed": 1,
        "venues": [
            {
                "id": "binance",
                "model": "binance_usdm_cross",
                "fees": {"maker": "0.0002", "taker": str(FEE)},
                "funding": {"interval_hours": 8},
                "accounts": [{"id": "main", "balances": {"USDT": "1000000"}}],
            }
        ],
        "instruments": [
            {"venue": "binance", "symbol": s, "price_increment": "0.1", "size_increment": "0.001"}
            for s in symbols
        ],
        "strategies": [
            {
                "id": f"sma{i}",
                "strategy": "sma_cross",
                "account": "binance.main",
                "params": {"instrument": s, "fast": 20, "slow": 100, "quantity": str(QUANTITY)},
            }
            for i, s in enumerate(symbols)
        ],
        "data": [
            {
                "venue": "binance",
                "symbol": s,
                "kind": "ohlcv",
                "timeframe": "1m",
                "path": "unused.csv",
            }
            for s in symbols
        ],
    }
    config = parse_run_config(document, Path("bench.toml"))
    sources = [
        FeedSource("ohlcv", "binance", s, series, "1m")
        for s, series in zip(symbols, serieses, strict=True)
    ]
    if funding:
        first, last = int(serieses[0].ts_ms[0]), int(serieses[0].ts_ms[-1])
        sources += [
            FeedSource("funding", "binance", s, synthetic_funding(first, last)) for s in symbols
        ]
    started = time.perf_counter()
    backtest = Backtest(config, sources)
    result = backtest.run()
    wall = time.perf_counter() - started
    summary = result.summary()
    summary["pnl"] = str(result.final_equity - result.start_equity)
    return summary, wall


def reference(series: OhlcvSeries) -> dict:
    """The same strategy in plain numpy/Python: trades, PnL and fees, exactly."""
    close = series.close
    fast = np.convolve(close, np.ones(20) / 20, mode="full")[: len(close)]
    slow = np.convolve(close, np.ones(100) / 100, mode="full")[: len(close)]
    # Running sums as the strategy keeps them, so equal comparisons match bit for bit.
    fast_sum = slow_sum = 0.0
    target = Decimal(0)
    position = Decimal(0)
    cash = Decimal(0)
    fees = Decimal(0)
    trades = 0
    values = close.tolist()
    for i, price in enumerate(values):
        fast_sum += price
        slow_sum += price
        if i >= 20:
            fast_sum -= values[i - 20]
        if i >= 100:
            slow_sum -= values[i - 100]
        if i < 99:
            continue
        f, s = fast_sum / 20, slow_sum / 100
        wanted = QUANTITY if f > s else -QUANTITY if f < s else target
        if wanted != target:
            target = wanted
            exact = Decimal(repr(price)).quantize(Decimal("0.1"))
            delta = wanted - position
            cash -= delta * exact
            fees += abs(delta) * exact * FEE
            position = wanted
            trades += 1
    if position:
        exact = Decimal(repr(values[-1])).quantize(Decimal("0.1"))
        cash += position * exact
        fees += abs(position) * exact * FEE
        trades += 1
    del fast, slow
    return {"trades": trades, "pnl": str(cash - fees), "fees": str(fees)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="an OHLCV file in the data pack's format (1m bars)")
    parser.add_argument("--bars", type=int, default=0, help="number of bars (default: 1 year)")
    parser.add_argument("--symbols", type=int, default=1, choices=range(1, 5), metavar="K")
    parser.add_argument("--funding", action="store_true", help="settle funding every 8 hours")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    serieses = [series_for(args, i) for i in range(args.symbols)]
    bars = sum(len(s) for s in serieses)

    started = time.perf_counter()
    expected = [reference(s) for s in serieses]
    reference_wall = time.perf_counter() - started

    summary, wall = run_engine(serieses, args.funding)
    fills = summary["fills"]
    figures = {
        "bars": bars,
        "symbols": args.symbols,
        "funding": args.funding,
        "trades": fills,
        "pnl": summary["pnl"],
        "fees": summary["fees_paid"],
        "funding_paid": summary["funding_paid"],
        "wall_s": round(wall, 3),
        "bars_per_second": round(bars / wall),
        "reference_wall_s": round(reference_wall, 3),
        "reference_bars_per_second": round(bars / reference_wall),
        "reference_trades": sum(e["trades"] for e in expected),
        "reference_pnl": str(sum(Decimal(e["pnl"]) for e in expected)),
        "reference_fees": str(sum(Decimal(e["fees"]) for e in expected)),
    }
    agrees = (
        figures["trades"] == figures["reference_trades"]
        and Decimal(figures["fees"]) == Decimal(figures["reference_fees"])
        and (args.funding or Decimal(figures["pnl"]) == Decimal(figures["reference_pnl"]))
    )
    figures["matches_reference"] = agrees
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"bars {bars:,} ({args.symbols} symbol(s){', funding' if args.funding else ''})")
        pnl, fees = Decimal(figures["pnl"]), Decimal(figures["fees"])
        print(f"trades {fills:,}   pnl {pnl:,.2f}   fees {fees:,.2f}")
        print(f"engine     {wall:8.3f} s   {figures['bars_per_second']:>10,} bars/s")
        reference_speed = figures["reference_bars_per_second"]
        print(
            f"reference  {reference_wall:8.3f} s   {reference_speed:>10,} bars/s"
            "   (plain Python, same signals, no engine)"
        )
        compared = "trades, fees" + ("" if args.funding else " and PnL")
        print(f"engine agrees with the reference on {compared}: {agrees}")
    if not agrees:
        sys.exit(1)


if __name__ == "__main__":
    main()
