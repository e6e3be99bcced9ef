"""Build the report of a stored run: headline figures, curves, PnL split, tables, trades.

Everything is read back from the run store. Money stays ``Decimal`` (PnL split, tables,
trades); the curves are the stored performance snapshots, as floats for drawing.
The PnL split is computed from the stored rows: fees, funding, interest and liquidation fees
are the sums of their tables, and trading PnL is what remains of the equity change, so the
parts always add up to final − start equity.
"""

from __future__ import annotations

import csv
import io
import json
import tomllib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from xmargin.research.charts import Marker, Point
from xmargin.research.time_axis import utc
from xmargin.storage import DatabaseTarget, RunRepository, StoredRun, open_database

ZERO = Decimal(0)
NS_PER_MS = 1_000_000
BREAKER_TYPES = ("BreakerTripped", "StrategyFenced")
TRADE_COLUMNS = (
    "time_utc", "account", "strategy", "instrument", "side", "quantity", "price", "notional",
    "fee", "fee_asset", "liquidity", "realized_pnl", "client_order_id", "trade_id",
)  # fmt: skip


@dataclass(frozen=True)
class MonthReturn:
    year: int
    month: int
    value: float


@dataclass
class RunReport:
    """Everything a report shows about one run."""

    run: StoredRun
    quote: str
    pnl_split: dict[str, Decimal | None]
    equity: list[Point] = field(default_factory=list)
    drawdown: list[Point] = field(default_factory=list)
    leverage: list[Point] = field(default_factory=list)
    margin: dict[str, list[Point]] = field(default_factory=dict)
    markers: list[Marker] = field(default_factory=list)
    monthly: list[MonthReturn] = field(default_factory=list)
    strategies: list[dict[str, Any]] = field(default_factory=list)
    instruments: list[dict[str, Any]] = field(default_factory=list)
    risk_summary: list[dict[str, Any]] = field(default_factory=list)
    trades: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def metrics(self) -> dict[str, Any]:
        metrics = self.run.summary.get("metrics", {})
        return metrics if isinstance(metrics, dict) else {}


def build_report(target: DatabaseTarget, reference: str) -> RunReport:
    """Read run ``reference`` (id, prefix or ``last``) and everything its report shows."""
    repo = RunRepository(open_database(target))
    run = repo.get(reference)
    fills = repo.fills(run.run_id)
    funding = repo.funding(run.run_id)
    interest = repo.interest(run.run_id)
    risk = repo.risk_events(run.run_id)
    report = RunReport(
        run=run,
        quote=_quote(fills, run),
        pnl_split=pnl_split(run, fills, funding, interest, risk),
        markers=markers(risk),
        strategies=by_strategy(fills),
        instruments=by_instrument(fills, funding),
        risk_summary=risk_summary(risk),
        trades=[_trade(row) for row in fills],
        counts=repo.counts(run.run_id),
    )
    for row in repo.snapshots(run.run_id):
        ts = row["ts_ns"] // NS_PER_MS
        if row["account"] == "*":
            if row["total_balance"] is not None:
                report.equity.append((ts, float(row["total_balance"])))
            if row["drawdown"] is not None:
                report.drawdown.append((ts, -100 * float(row["drawdown"])))
            if row["leverage"] is not None:
                report.leverage.append((ts, float(row["leverage"])))
        elif row["margin_ratio"] is not None:
            report.margin.setdefault(row["account"], []).append(
                (ts, 100 * float(row["margin_ratio"]))
            )
    opening = float(run.start_equity) if run.start_equity is not None else None
    report.monthly = monthly_returns(report.equity, opening)
    return report


def pnl_split(
    run: StoredRun,
    fills: Iterable[dict[str, Any]],
    funding: Iterable[dict[str, Any]],
    interest: Iterable[dict[str, Any]],
    risk: Iterable[dict[str, Any]],
) -> dict[str, Decimal | None]:
    """Trading, fees, funding, interest, liquidation fees and currency; the parts sum to the
    equity change. A run that stored its own split (in its reporting currency) shows that one;
    otherwise it is summed from the stored rows."""
    metrics = run.summary.get("metrics") if isinstance(run.summary, dict) else None
    stored = metrics.get("pnl_split") if isinstance(metrics, dict) else None
    if isinstance(stored, dict) and stored:
        return {str(k): Decimal(str(v)) for k, v in stored.items()}
    fees = sum((row["fee"] for row in fills), ZERO)
    paid_funding = sum((row["amount"] for row in funding), ZERO)
    paid_interest = sum((row["amount"] for row in interest), ZERO)
    liquidation_fees = sum(
        (
            Decimal(json.loads(r["detail"]).get("fee", "0"))
            for r in risk
            if r["type"] == "Liquidated"
        ),
        ZERO,
    )
    costs = fees + paid_funding + paid_interest + liquidation_fees
    trading = None
    if run.final_equity is not None and run.start_equity is not None:
        trading = run.final_equity - run.start_equity + costs
    return {
        "trading": trading,
        "fees": -fees,
        "funding": -paid_funding,
        "interest": -paid_interest,
        "liquidation_fees": -liquidation_fees,
    }


def markers(risk: Iterable[dict[str, Any]]) -> list[Marker]:
    """Liquidations and breakers (a halt without its own breaker event counts as one)."""
    rows = list(risk)
    breaker_times = {r["ts_ns"] for r in rows if r["type"] in BREAKER_TYPES}
    found = []
    for row in rows:
        detail = json.loads(row["detail"])
        ts = row["ts_ns"] // NS_PER_MS
        if row["type"] == "Liquidated":
            label = f"liquidation: {row['instrument']} {detail.get('size')} @ {detail.get('price')}"
            found.append(Marker(ts, "liquidation", label))
        elif row["type"] == "BreakerTripped":
            label = (
                f"breaker {detail.get('breaker')}: {detail.get('action')} ({detail.get('detail')})"
            )
            found.append(Marker(ts, "breaker", label))
        elif row["type"] == "StrategyFenced":
            found.append(Marker(ts, "breaker", f"strategy {detail.get('strategy')} fenced"))
        elif (
            row["type"] == "TradingStateChanged"
            and detail.get("current") in ("halted", "reducing")
            and row["ts_ns"] not in breaker_times
        ):
            found.append(
                Marker(ts, "breaker", f"trading {detail.get('current')}: {detail.get('reason')}")
            )
    return found


def by_strategy(fills: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per strategy: fills, traded notional, fees, realised PnL and net (realised − fees)."""
    groups: dict[str, dict[str, Any]] = defaultdict(_totals)
    for row in fills:
        _add_fill(groups[row["strategy"] or "(none)"], row)
    return [
        {
            "strategy": name,
            **{k: v for k, v in values.items() if k != "funding"},
            "net": values["realized_pnl"] - values["fees"],
        }
        for name, values in sorted(groups.items())
    ]


def by_instrument(
    fills: Iterable[dict[str, Any]], funding: Iterable[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Per instrument: the strategy columns plus funding paid; net = realised − fees − funding."""
    groups: dict[str, dict[str, Any]] = defaultdict(_totals)
    for row in fills:
        _add_fill(groups[row["instrument"]], row)
    for row in funding:
        groups[row["instrument"]]["funding"] += row["amount"]
    return [
        {
            "instrument": name,
            **values,
            "net": values["realized_pnl"] - values["fees"] - values["funding"],
        }
        for name, values in sorted(groups.items())
    ]


def _totals() -> dict[str, Any]:
    return {"fills": 0, "notional": ZERO, "fees": ZERO, "realized_pnl": ZERO, "funding": ZERO}


def _add_fill(group: dict[str, Any], row: dict[str, Any]) -> None:
    group["fills"] += 1
    group["notional"] += row["quantity"] * row["price"]
    group["fees"] += row["fee"]
    group["realized_pnl"] += row["realized_pnl"]


def risk_summary(risk: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each risk event type with its count and first/last time."""
    seen: dict[str, dict[str, Any]] = {}
    for row in risk:
        ts = row["ts_ns"] // NS_PER_MS
        entry = seen.setdefault(row["type"], {"type": row["type"], "count": 0, "first_ms": ts})
        entry["count"] += 1
        entry["last_ms"] = ts
    return sorted(seen.values(), key=lambda e: e["first_ms"])


def monthly_returns(equity: list[Point], opening: float | None = None) -> list[MonthReturn]:
    """Return of each calendar month (UTC): month-end equity over the previous month-end.

    The first month is measured from ``opening`` (the run's start equity), else from the
    first point.
    """
    closes: dict[tuple[int, int], float] = {}
    if opening is None:
        opening = equity[0][1] if equity else 0.0
    for ts, value in equity:
        moment = utc(ts)
        closes[(moment.year, moment.month)] = value
    result = []
    previous = opening
    for (year, month), close in closes.items():
        result.append(MonthReturn(year, month, close / previous - 1 if previous > 0 else 0.0))
        previous = close
    return result


def _quote(fills: list[dict[str, Any]], run: StoredRun) -> str:
    """The currency money is shown in: the run's reporting currency, else the usual fee asset,
    else the first account balance."""
    reporting = run.summary.get("reporting_currency") if isinstance(run.summary, dict) else None
    if isinstance(reporting, str) and reporting:
        return reporting
    assets = [row["fee_asset"] for row in fills if row["fee_asset"]]
    if assets:
        return str(max(sorted(set(assets)), key=assets.count))
    try:
        config = tomllib.loads(run.config_text)
        balances = config["venues"][0]["accounts"][0]["balances"]
        return str(next(iter(balances)))
    except (tomllib.TOMLDecodeError, KeyError, IndexError, StopIteration, TypeError):
        return "quote"


def _trade(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "time_utc": f"{utc(row['ts_ns'] // NS_PER_MS):%Y-%m-%d %H:%M:%S}",
        "account": row["account"],
        "strategy": row["strategy"],
        "instrument": row["instrument"],
        "side": row["side"],
        "quantity": row["quantity"],
        "price": row["price"],
        "notional": row["quantity"] * row["price"],
        "fee": row["fee"],
        "fee_asset": row["fee_asset"],
        "liquidity": row["liquidity"],
        "realized_pnl": row["realized_pnl"],
        "client_order_id": row["client_order_id"],
        "trade_id": row["trade_id"],
    }


def trades_csv(report: RunReport) -> str:
    """The trade list as CSV (exact decimals), for spreadsheets and tax tools."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(TRADE_COLUMNS)
    for trade in report.trades:
        writer.writerow([_plain(trade[column]) for column in TRADE_COLUMNS])
    return buffer.getvalue()


def report_dict(report: RunReport) -> dict[str, Any]:
    """The report as JSON-ready data (Decimals as exact strings, times as ISO UTC)."""
    run = report.run
    return {
        "run_id": run.run_id,
        "name": run.name,
        "status": run.status,
        "config": run.config_path,
        "seed": run.seed,
        "code_version": run.code_version,
        "started": _iso_ns(run.started_ns),
        "data_start": _iso_ns(run.data_start_ns),
        "data_end": _iso_ns(run.data_end_ns),
        "quote": report.quote,
        "start_equity": _plain(run.start_equity),
        "final_equity": _plain(run.final_equity),
        "total_return": _plain(run.total_return),
        "metrics": report.metrics,
        "pnl_split": {k: _plain(v) for k, v in report.pnl_split.items()},
        "monthly_returns": [
            {"month": f"{m.year}-{m.month:02d}", "return": round(m.value, 10)}
            for m in report.monthly
        ],
        "strategies": [{k: _plain(v) for k, v in row.items()} for row in report.strategies],
        "instruments": [{k: _plain(v) for k, v in row.items()} for row in report.instruments],
        "risk_events": [
            {
                "type": e["type"],
                "count": e["count"],
                "first": _iso_ns(e["first_ms"] * NS_PER_MS),
                "last": _iso_ns(e["last_ms"] * NS_PER_MS),
            }
            for e in report.risk_summary
        ],
        "markers": [
            {"time": _iso_ns(m.ts_ms * NS_PER_MS), "kind": m.kind, "label": m.label}
            for m in report.markers
        ],
        "counts": report.counts,
        "trades": [{k: _plain(v) for k, v in t.items()} for t in report.trades],
    }


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return "0" if text == "-0" else text
    return value


def _iso_ns(ts_ns: int | None) -> str | None:
    if ts_ns is None:
        return None
    return f"{utc(ts_ns // NS_PER_MS):%Y-%m-%dT%H:%M:%SZ}"
