"""Plain data and terminal tables for stored runs: ``runs list/show/compare`` and ``report``."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

from xmargin.backtest.provenance import synthetic_tables
from xmargin.research.report import RunReport
from xmargin.storage import StoredRun

NS_PER_S = 1_000_000_000
COMPARED_METRICS = (
    ("cagr", "CAGR", "pct"),
    ("sharpe", "Sharpe", "num"),
    ("sortino", "Sortino", "num"),
    ("max_drawdown", "max drawdown", "pct"),
    ("trades", "round trips", "int"),
    ("win_rate", "win rate", "pct"),
    ("profit_factor", "profit factor", "num"),
    ("average_leverage", "average leverage", "num"),
)
COMPARED_TOTALS = (
    ("fees_paid", "fees paid"),
    ("funding_paid", "funding paid"),
    ("interest_paid", "interest paid"),
    ("liquidation_fees", "liquidation fees"),
)


def iso(ts_ns: int | None) -> str | None:
    """``2025-01-01T00:00:00Z`` (seconds) or None."""
    if ts_ns is None:
        return None
    return f"{datetime.fromtimestamp(ts_ns / NS_PER_S, UTC):%Y-%m-%dT%H:%M:%SZ}"


def plain(value: Any) -> Any:
    """Decimals as exact strings without exponent; everything else unchanged."""
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return "0" if text == "-0" else text
    return value


def run_dict(run: StoredRun) -> dict[str, Any]:
    """One run as listed by ``runs list --json``."""
    summary = run.summary
    return {
        "run_id": run.run_id,
        "started": iso(run.started_ns),
        "finished": iso(run.finished_ns),
        "status": run.shown_status,
        "name": run.name,
        "config": run.config_path,
        "seed": run.seed,
        "code_version": run.code_version,
        "data_start": iso(run.data_start_ns),
        "data_end": iso(run.data_end_ns),
        "start_equity": plain(run.start_equity),
        "final_equity": plain(run.final_equity),
        "total_return": plain(run.total_return),
        "fills": summary.get("fills"),
        "liquidations": len(summary.get("liquidations", [])) if summary else None,
        "events": run.event_count,
        "event_log_sha256": run.event_log_sha256,
        "synthetic_data": synthetic_tables(run.data_manifest),
    }


def compare_dict(run: StoredRun) -> dict[str, Any]:
    """The figures ``runs compare`` sets side by side."""
    metrics = run.summary.get("metrics", {}) if run.summary else {}
    return {
        **run_dict(run),
        **{key: metrics.get(key) for key, _, _ in COMPARED_METRICS},
        **{key: run.summary.get(key) for key, _ in COMPARED_TOTALS},
        "orders_denied": run.summary.get("orders_denied"),
    }


def list_table(runs: list[StoredRun]) -> Table:
    table = Table(title="stored runs (newest first)", title_justify="left")
    for header, justify in (
        ("run id", "left"),
        ("started (UTC)", "left"),
        ("status", "left"),
        ("name", "left"),
        ("seed", "right"),
        ("final equity", "right"),
        ("return", "right"),
        ("events", "right"),
    ):
        table.add_column(header, justify=justify)  # type: ignore[arg-type]
    for run in runs:
        shown = run.shown_status
        status = shown if run.complete or shown == "running" else f"[bold red]{shown}[/]"
        table.add_row(
            run.run_id,
            (iso(run.started_ns) or "")[:16].replace("T", " "),
            status,
            run.name,
            str(run.seed),
            money(run.final_equity),
            pct(run.total_return),
            f"{run.event_count:,}" if run.event_count is not None else "—",
        )
    return table


def show_table(run: StoredRun, counts: dict[str, int]) -> Table:
    table = Table(title=f"run {run.run_id}", show_header=False, title_justify="left")
    table.add_column("", style="dim")
    table.add_column("")
    info = run_dict(run)
    for key in ("name", "status", "config", "seed", "code_version", "started", "finished"):
        table.add_row(key.replace("_", " "), str(info[key]))
    if run.error:
        table.add_row("error", f"[red]{run.error}[/]")
    table.add_row("data", f"{info['data_start']} → {info['data_end']}")
    if info["synthetic_data"]:
        table.add_row(
            "synthetic data",
            "[bold yellow]not real market data:[/] " + "; ".join(info["synthetic_data"]),
        )
    table.add_row("start / final equity", f"{money(run.start_equity)} / {money(run.final_equity)}")
    table.add_row("total return", pct(run.total_return))
    metrics = run.summary.get("metrics", {}) if run.summary else {}
    for key, label, kind in COMPARED_METRICS:
        table.add_row(label, _metric(metrics.get(key), kind))
    for key, label in COMPARED_TOTALS:
        table.add_row(label, money(run.summary.get(key)))
    table.add_row("event log sha256", run.event_log_sha256 or "—")
    table.add_row("stored rows", ", ".join(f"{name} {n:,}" for name, n in counts.items()))
    return table


def compare_table(runs: list[StoredRun]) -> Table:
    table = Table(title="runs compared", title_justify="left")
    table.add_column("", style="dim")
    for run in runs:
        table.add_column(run.run_id, justify="right")
    rows: list[tuple[str, list[str]]] = [
        ("name", [r.name for r in runs]),
        ("status", [r.status for r in runs]),
        ("seed", [str(r.seed) for r in runs]),
        ("code", [r.code_version for r in runs]),
        ("data from", [(iso(r.data_start_ns) or "—")[:10] for r in runs]),
        ("data to", [(iso(r.data_end_ns) or "—")[:10] for r in runs]),
        ("start equity", [money(r.start_equity) for r in runs]),
        ("final equity", [money(r.final_equity) for r in runs]),
        ("total return", [pct(r.total_return) for r in runs]),
    ]
    for key, label, kind in COMPARED_METRICS:
        rows.append((label, [_metric(r.summary.get("metrics", {}).get(key), kind) for r in runs]))
    for key, label in COMPARED_TOTALS:
        rows.append((label, [money(r.summary.get(key)) for r in runs]))
    rows.append(("liquidations", [str(len(r.summary.get("liquidations", []))) for r in runs]))
    rows.append(("event log", [(r.event_log_sha256 or "—")[:12] for r in runs]))
    for label, values in rows:
        table.add_row(label, *values)
    return table


def print_report(console: Console, report: RunReport) -> None:
    """The terminal summary of ``xmargin report``."""
    run, quote = report.run, report.quote
    console.print(show_table(run, report.counts))
    split = Table(title=f"PnL split ({quote})", title_justify="left")
    split.add_column("source")
    split.add_column("amount", justify="right")
    for key, value in report.pnl_split.items():
        split.add_row(key.replace("_", " "), plain(value) if value is not None else "—")
    console.print(split)
    monthly = Table(title="monthly returns", title_justify="left")
    monthly.add_column("month")
    monthly.add_column("return", justify="right")
    for month in report.monthly:
        monthly.add_row(f"{month.year}-{month.month:02d}", f"{month.value * 100:+.2f} %")
    console.print(monthly)
    for title, rows, key in (
        ("by strategy", report.strategies, "strategy"),
        ("by instrument", report.instruments, "instrument"),
    ):
        if not rows:
            continue
        table = Table(title=f"{title} ({quote})", title_justify="left")
        columns = list(rows[0])
        for column in columns:
            table.add_column(column.replace("_", " "), justify="left" if column == key else "right")
        for row in rows:
            table.add_row(
                *(money(row[c]) if isinstance(row[c], Decimal) else str(row[c]) for c in columns)
            )
        console.print(table)
    for marker in report.markers:
        colour = "red" if marker.kind == "liquidation" else "yellow"
        when = datetime.fromtimestamp(marker.ts_ms / 1000, UTC)
        console.print(f"[{colour}]{marker.kind}[/] {when:%Y-%m-%d %H:%M} UTC — {marker.label}")


def money(value: Any) -> str:
    if value is None:
        return "—"
    return f"{Decimal(str(value)).quantize(Decimal('0.01')):,}"


def pct(value: Any) -> str:
    return "—" if value is None else f"{float(value) * 100:,.2f} %"


def _metric(value: Any, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "pct":
        return pct(value)
    if kind == "int":
        return f"{int(value):,}"
    return f"{float(value):,.2f}"
