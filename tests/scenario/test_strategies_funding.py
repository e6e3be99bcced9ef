"""The funding-arbitrage examples on the real data pack: the funding each leg received,
recomputed independently from the pack's funding and mark files, equals the backtest's
``FundingSettled`` events exactly.

The recomputation reads the CSV files itself and applies the rule of the spec (§0.4 and
model C): at each settlement time ``t`` in the run, a leg holding ``q`` (the sum of its fills
strictly before ``t``: funding settles before the orders of the same timestamp) pays
``q × mark(t) × rate(t)``, where ``mark(t)`` is the close of the last mark bar (Hyperliquid,
which has no mark series: the last trade bar) that closed at or before ``t``. Shorts
receive when the rate is positive. The only shared code is the instrument's float-to-price
gate (``make_mark``), the one audited conversion of market data into exact numbers.
"""

from __future__ import annotations

import bisect
import csv
import gzip
from decimal import Decimal
from pathlib import Path

import pytest

from xmargin.backtest.runner import Backtest
from xmargin.backtest.sources import load_sources
from xmargin.engine.config import load_run_config

REPO = Path(__file__).resolve().parents[2]
HOUR_MS = 3_600_000

BINANCE_BTC = (
    "BTC/USDT:USDT",
    "binance_usdm_perp/funding_rates_8h.csv",
    "binance_usdm_perp/BTCUSDT_perp_mark_1h.csv.gz",
    HOUR_MS,
)
HYPERLIQUID_BTC = (
    "BTC/USDC:USDC",
    "second_venue/hyperliquid_funding_1h.csv.gz",
    "second_venue/hyperliquid_BTCUSDC_perp_5m.csv.gz",
    300_000,
)
CASES = {
    "funding_carry_spot_perp": {"binance.perp": BINANCE_BTC},
    "funding_perp_perp": {"binance.arb": BINANCE_BTC, "hyperliquid.arb": HYPERLIQUID_BTC},
}


def rows(path: Path) -> list[dict[str, str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="") as handle:
        return list(csv.DictReader(handle))


def expected_settlements(run, account, leg, pack):
    symbol, funding_file, mark_file, step_ms = leg
    config = run.config
    venue = config.accounts[account]
    instrument = config.instruments[(venue, symbol)]
    rates = [
        (int(r["ts_ms"]), Decimal(repr(float(r["funding_rate"]))))
        for r in rows(pack / funding_file)
        if r["symbol"] == symbol
    ]
    marks = rows(pack / mark_file)
    closes_at = [int(r["ts_ms"]) + step_ms for r in marks]
    fills = [
        (e["ts_ms"], Decimal(e["quantity"]) * (1 if e["side"] == "buy" else -1))
        for e in run.result.recorder.events
        if e["type"] == "OrderFilled" and e["account"] == account and e["instrument"] == symbol
    ]
    assert not any(e["type"] == "Liquidated" for e in run.result.recorder.events), (
        "a liquidation would change the position outside fills"
    )
    expected = []
    for t, rate in rates:
        if not config.start_ms <= t <= config.end_ms:
            continue
        size = sum((q for ts, q in fills if ts < t), Decimal(0))
        if size == 0:
            continue
        index = bisect.bisect_right(closes_at, t) - 1
        mark = instrument.make_mark(float(marks[index]["close"]))
        expected.append((t, account, symbol, size, mark, rate, size * mark * rate))
    return expected


class Run:
    def __init__(self, name: str) -> None:
        self.config = load_run_config(REPO / "examples" / f"{name}.toml")
        self.backtest = Backtest(self.config, load_sources(self.config))
        self.result = self.backtest.run()


@pytest.fixture(scope="module", params=sorted(CASES))
def run(request, pack) -> tuple[str, Run]:
    return request.param, Run(request.param)


def test_funding_settlements_match_the_independent_computation_exactly(run, pack):
    name, result = run
    for account, leg in CASES[name].items():
        expected = expected_settlements(result, account, leg, pack)
        settled = [
            (
                e["ts_ms"],
                e["account"],
                e["instrument"],
                Decimal(e["position_size"]),
                Decimal(e["mark_price"]),
                Decimal(e["rate"]),
                Decimal(e["amount"]),
            )
            for e in result.result.recorder.events
            if e["type"] == "FundingSettled" and e["account"] == account
        ]
        assert len(expected) > 50, f"{name}: {account} held its leg over too few settlements"
        assert settled == expected


def test_the_examples_earn_funding_and_the_strategy_books_every_settlement(run, pack):
    _, result = run
    received = -sum(
        (
            Decimal(e["amount"])
            for e in result.result.recorder.events
            if e["type"] == "FundingSettled"
        ),
        Decimal(0),
    )
    assert received > 0
    strategy = next(iter(result.backtest.kernel.strategies.values()))
    report = strategy.results()
    assert Decimal(report["funding"]) == in_usdt(result, pack)
    total = Decimal(report["total"])
    parts = sum(Decimal(report[k]) for k in ("funding", "basis", "fees", "interest", "currency"))
    assert total == parts


def in_usdt(run: Run, pack: Path) -> Decimal:
    """The funding received in USDT: a USDC leg's at the close of the last USDC/USDT bar that
    closed at or before the settlement (from the pack's file)."""
    usdc = rows(pack / "stablecoins/binance_spot_USDCUSDT_5m.csv.gz")
    closes_at = [int(r["ts_ms"]) + 300_000 for r in usdc]
    total = Decimal(0)
    for e in run.result.recorder.events:
        if e["type"] != "FundingSettled":
            continue
        amount = -Decimal(e["amount"])
        if e["instrument"].endswith(":USDC"):
            index = bisect.bisect_right(closes_at, e["ts_ms"]) - 1
            spec = run.config.instruments[("binance", "USDC/USDT")]
            amount *= spec.make_mark(float(usdc[index]["close"]))
        total += amount
    return total
