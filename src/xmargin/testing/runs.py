"""A hand-made finished run of known content, shaped like a ``BacktestResult``, for storage,
report and benchmark tests that must not depend on the market-data pack or the engine.

The run trades BTC/USDT:USDT on account ``binance.main`` (strategy ``sma``), pays funding,
borrows and pays interest on ``binance.margin``, trips a breaker and is liquidated once.
Every figure is exact and listed in ``EXPECTED``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

HOUR_MS = 3_600_000
START_MS = 1_735_689_600_000  # 2025-01-01 00:00 UTC
D = Decimal


def _fill(
    ts: int, coid: str, side: str, qty: str, price: str, fee: str, pnl: str
) -> dict[str, Any]:
    return {
        "type": "OrderFilled", "ts_ms": ts, "account": "binance.main", "client_order_id": coid,
        "instrument": "BTC/USDT:USDT", "side": side, "quantity": qty, "price": price,
        "fee": fee, "fee_asset": "USDT", "liquidity": "taker", "realized_pnl": pnl,
        "strategy": "sma", "trade_id": f"T-{coid}",
    }  # fmt: skip


def _order(ts: int, coid: str, side: str, qty: str) -> list[dict[str, Any]]:
    return [
        {"type": "OrderSubmitted", "ts_ms": ts, "account": "binance.main",
         "client_order_id": coid, "instrument": "BTC/USDT:USDT", "side": side,
         "order_type": "market", "quantity": qty, "price": None, "strategy": "sma"},
        {"type": "OrderAccepted", "ts_ms": ts, "account": "binance.main",
         "client_order_id": coid, "venue_order_id": f"V-{coid}"},
    ]  # fmt: skip


def sample_records() -> list[dict[str, Any]]:
    """The run's event log (records as the recorder keeps them)."""
    t = START_MS
    return [
        *_order(t + HOUR_MS, "O-1", "buy", "0.5"),
        _fill(t + HOUR_MS, "O-1", "buy", "0.5", "93646.7", "23.411675", "0"),
        {"type": "FundingSettled", "ts_ms": t + 8 * HOUR_MS, "account": "binance.main",
         "instrument": "BTC/USDT:USDT", "rate": "0.0001", "mark_price": "94000.1",
         "position_size": "0.5", "amount": "4.700005", "asset": "USDT"},
        {"type": "LoanBorrowed", "ts_ms": t + 9 * HOUR_MS, "account": "binance.margin",
         "asset": "USDT", "amount": "1000", "loan_id": "L-1", "first_hour_interest": "0.01"},
        {"type": "InterestCharged", "ts_ms": t + 10 * HOUR_MS, "account": "binance.margin",
         "asset": "USDT", "principal": "1000", "hourly_rate": "0.0000041667",
         "amount": "0.0041667"},
        {"type": "OrderDenied", "ts_ms": t + 11 * HOUR_MS, "account": "binance.main",
         "client_order_id": "O-2", "instrument": "BTC/USDT:USDT", "rule": "max_leverage",
         "reason": "leverage 12 > 10", "strategy": "sma"},
        *_order(t + 12 * HOUR_MS, "O-3", "sell", "0.2"),
        _fill(t + 12 * HOUR_MS, "O-3", "sell", "0.2", "95000.5", "9.50005", "270.76"),
        {"type": "OrderSubmitted", "ts_ms": t + 13 * HOUR_MS, "account": "binance.main",
         "client_order_id": "O-4", "instrument": "BTC/USDT:USDT", "side": "sell",
         "order_type": "limit", "quantity": "0.1", "price": "99000", "strategy": "sma"},
        {"type": "OrderRejected", "ts_ms": t + 13 * HOUR_MS, "account": "binance.main",
         "client_order_id": "O-4", "reason": "post-only would cross"},
        {"type": "LoanRepaid", "ts_ms": t + 20 * HOUR_MS, "account": "binance.margin",
         "asset": "USDT", "interest_paid": "0.0141667", "principal_paid": "1000"},
        {"type": "BreakerTripped", "ts_ms": t + 30 * HOUR_MS, "breaker": "max_drawdown",
         "action": "halted", "value": "0.31", "limit": "0.30", "detail": "equity fell"},
        {"type": "TradingStateChanged", "ts_ms": t + 30 * HOUR_MS, "previous": "active",
         "current": "halted", "reason": "max_drawdown", "scope": "portfolio"},
        {"type": "Liquidated", "ts_ms": t + 40 * HOUR_MS, "account": "binance.main",
         "instrument": "BTC/USDT:USDT", "size": "0.3", "price": "90000.25",
         "fee": "13.5000375", "stage": "full", "trigger_ts_ms": t + 39 * HOUR_MS,
         "margin_ratio": "1.0000000760"},
    ]  # fmt: skip


EXPECTED: dict[str, Any] = {
    "events": 16,
    "orders": 3,
    "fills": 2,
    "positions": 3,
    "funding_payments": 1,
    "loans": 2,
    "interest_charges": 1,
    "risk_events": 4,
    "fees": D("32.911725"),
    "funding": D("4.700005"),
    "interest": D("0.0041667"),
    "liquidation_fees": D("13.5000375"),
    "start_equity": D("10000"),
    "final_equity": D("9123.456789012345678901"),
}


@dataclass
class SampleRecorder:
    events: list[dict[str, Any]]


@dataclass
class SampleOutcome:
    """The attributes storage reads from a ``BacktestResult``, with known values."""

    recorder: SampleRecorder
    start_equity: Decimal
    final_equity: Decimal
    grid_ms: np.ndarray
    equity: np.ndarray
    gross_notional: np.ndarray
    margin_curves: dict[str, list[tuple[int, float | None]]] = field(default_factory=dict)
    account_samples: dict[str, list[Any]] = field(default_factory=dict)
    wall_seconds: float = 0.25

    def summary(self) -> dict[str, Any]:
        text = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in self.recorder.events)
        return {
            "start_equity": str(self.start_equity),
            "final_equity": str(self.final_equity),
            "fills": sum(1 for r in self.recorder.events if r["type"] == "OrderFilled"),
            "fees_paid": str(EXPECTED["fees"]),
            "funding_paid": str(EXPECTED["funding"]),
            "interest_paid": str(EXPECTED["interest"]),
            "liquidation_fees": str(EXPECTED["liquidation_fees"]),
            "liquidations": [{"ts_ms": START_MS + 40 * HOUR_MS, "instrument": "BTC/USDT:USDT"}],
            "metrics": {"total_return": -0.0876543211, "max_drawdown": 0.2, "trades": 1},
            "events": len(self.recorder.events),
            "event_log_sha256": hashlib.sha256(text.encode()).hexdigest(),
        }


def sample_outcome(hours: int = 72, records: list[dict[str, Any]] | None = None) -> SampleOutcome:
    """A finished run: 5-minute grid over ``hours``, equity falling linearly to the final value."""
    steps = hours * 12
    grid = START_MS + np.arange(steps, dtype=np.int64) * 300_000
    start, final = float(EXPECTED["start_equity"]), float(EXPECTED["final_equity"])
    equity = np.linspace(start, final, steps)
    gross = np.full(steps, 20_000.0)
    margin: list[tuple[int, float | None]] = [
        (int(t), 0.01 + i * 1e-4) for i, t in enumerate(grid[::12].tolist())
    ]
    return SampleOutcome(
        SampleRecorder(sample_records() if records is None else records),
        EXPECTED["start_equity"],
        EXPECTED["final_equity"],
        grid,
        equity,
        gross,
        {"binance.main": margin},
    )


def many_records(count: int) -> list[dict[str, Any]]:
    """``count`` records of the sample's shapes, in time order (for bulk-insert benchmarks)."""
    base = sample_records()
    span = base[-1]["ts_ms"] - base[0]["ts_ms"] + HOUR_MS
    records = []
    for index in range(count):
        cycle, offset = divmod(index, len(base))
        record = dict(base[offset])
        record["ts_ms"] += cycle * span
        if "client_order_id" in record:
            record["client_order_id"] = f"{record['client_order_id']}-{cycle}"
        records.append(record)
    return records
