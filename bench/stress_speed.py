"""How fast does the vectorised stress kernel run 10,000 Monte Carlo scenarios on 50 perps?

The account: a Binance USDⓈ-M cross account (``binance_usdm_cross``) with one position in
each of 50 real USDT-margined symbols, their maintenance brackets read from the data pack's
tier file (``shared/data/margin_tiers/binance_usdm_leverage_tiers.csv.gz``; BTC, ETH, SOL and
XRP first, then alphabetical). Marks, sizes and sides are synthetic and seeded: marks
log-uniform in [0.01, 50,000], notionals log-uniform in [10k, 400k] (so several bracket tiers
are in play), entries within ±5 % of the mark, the wallet at 1/10 of the total notional.
Shocks: a one-factor covariance (daily volatility 3–8 %, correlation 0.6), horizon 1 day.

Timed end to end, best and median of ``--repeat`` runs: compiling the kernel, drawing the
correlated lognormal multipliers, evaluating equity and maintenance, VaR/ES. The reference
measured in the same run is the exact Decimal margin model on the first ``--sample`` draws
(equity and maintenance through ``BinanceUsdmCross``), extrapolated to all scenarios; the
largest relative difference between kernel and exact model on that sample is reported.

    uv run python bench/stress_speed.py [--scenarios 10000] [--positions 50] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

import numpy as np

from xmargin.margin.binance_usdm import BinanceUsdmCross
from xmargin.margin.snapshot import AccountSnapshot, PositionSnapshot
from xmargin.margin.tiers import TierTable, load_tier_file
from xmargin.risk.stress import move_prices
from xmargin.risk.stress_kernels import compile_kernel
from xmargin.risk.stress_liquidation import equity_of
from xmargin.risk.stress_monte_carlo import monte_carlo

TIER_FILE = (
    Path(__file__).resolve().parents[2]
    / "shared/data/margin_tiers/binance_usdm_leverage_tiers.csv.gz"
)
FIRST = ("BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT", "XRP/USDT:USDT")


def build_account(
    tiers: dict[str, TierTable], positions: int, seed: int
) -> tuple[BinanceUsdmCross, AccountSnapshot]:
    """Return the synthetic ``positions``-perp account described in the module doc."""
    usdt = sorted(s for s in tiers if s.endswith("/USDT:USDT") and s not in FIRST)
    symbols = [s for s in FIRST if s in tiers] + usdt
    if len(symbols) < positions:
        sys.exit(f"the tier file has only {len(symbols)} USDT-margined symbols")
    rng = np.random.default_rng(seed)
    rows = []
    total = Decimal(0)
    for symbol in symbols[:positions]:
        mark = Decimal(f"{np.exp(rng.uniform(np.log(0.01), np.log(50_000))):.6g}")
        notional = Decimal(f"{np.exp(rng.uniform(np.log(10_000), np.log(400_000))):.6g}")
        size = (notional / mark).quantize(Decimal("0.001")) * (1 if rng.random() < 0.6 else -1)
        entry = (mark * Decimal(f"{rng.uniform(0.95, 1.05):.4f}")).normalize()
        rows.append(PositionSnapshot(symbol, size, entry, mark))
        total += abs(size) * mark
    chosen = {p.instrument: tiers[p.instrument] for p in rows}
    model = BinanceUsdmCross(tiers=chosen)
    return model, AccountSnapshot({"USDT": (total / 10).quantize(Decimal(1))}, tuple(rows))


def one_factor_covariance(count: int, seed: int, correlation: float = 0.6) -> np.ndarray:
    vols = np.random.default_rng(seed + 1).uniform(0.03, 0.08, count)
    matrix = np.full((count, count), correlation)
    np.fill_diagonal(matrix, 1.0)
    return matrix * np.outer(vols, vols)


def exact_figures(
    model: BinanceUsdmCross, account: AccountSnapshot, assets: tuple[str, ...], row: np.ndarray
) -> tuple[Decimal, Decimal]:
    """Equity and maintenance of one draw through the exact Decimal model."""
    moves = {a: (Decimal(repr(float(m))), Decimal(1)) for a, m in zip(assets, row, strict=True)}
    moved = move_prices(account, moves)
    equity = equity_of(model, moved)
    return equity, equity - model.liquidation_gap(moved)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=10_000)
    parser.add_argument("--positions", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sample", type=int, default=200, help="exact reference draws")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tiers", type=Path, default=TIER_FILE)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not args.tiers.is_file():
        sys.exit(f"tier file not found: {args.tiers} (the shared data pack; see --tiers)")
    model, account = build_account(load_tier_file(args.tiers), args.positions, args.seed)
    covariance = one_factor_covariance(args.positions, args.seed)
    timings = []
    for _ in range(max(1, args.repeat)):
        started = time.perf_counter()
        kernel = compile_kernel(model, account)
        result = monte_carlo(kernel, covariance, args.scenarios, seed=args.seed)
        timings.append(time.perf_counter() - started)
    evaluated = kernel.evaluate(result.multipliers[: args.sample])
    started = time.perf_counter()
    exact = [
        exact_figures(model, account, kernel.assets, row)
        for row in result.multipliers[: args.sample]
    ]
    reference = time.perf_counter() - started
    worst = 0.0
    for i, (equity, maintenance) in enumerate(exact):
        for got, want in ((evaluated.equity[i], equity), (evaluated.maintenance[i], maintenance)):
            worst = max(worst, abs(got - float(want)) / max(1.0, abs(float(want))))
    sample = min(args.sample, args.scenarios)
    extrapolated = reference / sample * args.scenarios
    figures = {
        "scenarios": args.scenarios,
        "positions": args.positions,
        "seconds": round(statistics.median(timings), 6),
        "best_seconds": round(min(timings), 6),
        "probability_of_liquidation": result.probability_of_liquidation,
        "var_99": result.tails[-1].value_at_risk,
        "reference": {
            "what": "exact Decimal binance_usdm_cross equity + maintenance per draw",
            "sample": sample,
            "seconds": round(reference, 6),
            "extrapolated_seconds": round(extrapolated, 3),
            "speedup": round(extrapolated / statistics.median(timings), 1),
            "max_relative_difference": worst,
        },
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(
        f"{args.scenarios:,} scenarios × {args.positions} positions: "
        f"median {figures['seconds']:.4f} s, best {figures['best_seconds']:.4f} s "
        f"(compile + draws + kernel + VaR/ES)"
    )
    print(
        f"exact Decimal reference: {sample} draws in {reference:.3f} s → "
        f"{extrapolated:.1f} s for {args.scenarios:,} (×{figures['reference']['speedup']}); "
        f"max relative difference {worst:.2e}"
    )
    print(
        f"P(liquidation) {result.probability_of_liquidation:.4f}, "
        f"VaR 99% {result.tails[-1].value_at_risk:,.2f} USDT"
    )


if __name__ == "__main__":
    main()
