"""``xmargin backtest``: run a config, show a progress bar and a summary."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from xmargin.backtest.results import BacktestResult
from xmargin.backtest.runner import run_backtest
from xmargin.engine.config import load_run_config


@click.command("backtest")
@click.argument("config_file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option(
    "--events-out", type=click.Path(dir_okay=False), help="Write the event log (JSON lines)."
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    help="Write summary, curves and events here.",
)
@click.option(
    "--data-dir", type=click.Path(file_okay=False), help="Where relative data paths point."
)
@click.option(
    "--data-fallback",
    is_flag=True,
    help="Download missing data through ccxt, else use the synthetic market.",
)
def backtest_command(
    config_file: str,
    as_json: bool,
    events_out: str | None,
    out_dir: str | None,
    data_dir: str | None,
    data_fallback: bool,
) -> None:
    """Backtest CONFIG_FILE under its venues' cross-margin rules."""
    config = load_run_config(config_file)
    err = Console(stderr=True)
    with Progress(
        TextColumn("[bold]backtest[/] {task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,} events"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=as_json or not err.is_terminal,
    ) as progress:
        task = progress.add_task(config.name or config.path.name, total=None)
        result = run_backtest(
            config,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
            data_dir=Path(data_dir) if data_dir else None,
            fallback=data_fallback,
            notices=lambda message: err.print(f"[yellow]note:[/] {message}"),
        )
    summary = result.summary()
    if events_out:
        result.recorder.write_event_log(Path(events_out))
    if out_dir:
        write_outputs(result, summary, Path(out_dir))
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        print_summary(Console(), config.name or config.path.name, result, summary)


def write_outputs(result: BacktestResult, summary: dict[str, Any], out: Path) -> None:
    """Write summary.json, events.jsonl, equity.csv and margin_ratio.csv into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    result.recorder.write_event_log(out / "events.jsonl")
    lines = ["ts_ms,equity,gross_notional"]
    lines += [
        f"{t},{e:.6f},{g:.6f}"
        for t, e, g in zip(
            result.grid_ms.tolist(),
            result.equity.tolist(),
            result.gross_notional.tolist(),
            strict=True,
        )
    ]
    (out / "equity.csv").write_text("\n".join(lines) + "\n")
    margin = ["ts_ms,account,margin_ratio"]
    for account, samples in result.margin_curves.items():
        margin += [f"{ts},{account},{'' if ratio is None else ratio}" for ts, ratio in samples]
    (out / "margin_ratio.csv").write_text("\n".join(margin) + "\n")


def _fmt(value: Any, places: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        value = Decimal(value)
    if isinstance(value, Decimal):
        return f"{value.quantize(Decimal(1).scaleb(-places)):,}"
    return f"{value:,.{places}f}"


def print_summary(
    console: Console, title: str, result: BacktestResult, summary: dict[str, Any]
) -> None:
    metrics = summary["metrics"]
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("", style="dim")
    table.add_column("", justify="right")
    rows = [
        ("start equity", _fmt(summary["start_equity"])),
        ("final equity", _fmt(summary["final_equity"])),
        ("total return", _pct(metrics.get("total_return"))),
        ("CAGR", _pct(metrics.get("cagr"))),
        ("Sharpe / Sortino", f"{_fmt(metrics.get('sharpe'))} / {_fmt(metrics.get('sortino'))}"),
        ("max drawdown", _pct(metrics.get("max_drawdown"))),
        ("orders / fills", f"{summary['orders']} / {summary['fills']}"),
        ("round trips (win rate)", f"{metrics.get('trades')} ({_pct(metrics.get('win_rate'))})"),
        ("fees paid", _fmt(summary["fees_paid"])),
        ("funding paid (net)", _fmt(summary["funding_paid"])),
        ("interest paid", _fmt(summary["interest_paid"])),
        ("liquidations", str(len(summary["liquidations"]))),
        ("events / wall time", f"{result.events_processed:,} in {result.wall_seconds:.2f} s"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    for liquidation in summary["liquidations"]:
        console.print(
            f"[bold red]liquidated[/] {liquidation['instrument']} {liquidation['size']} at "
            f"{liquidation['price']} ({liquidation['stage']}, ts_ms {liquidation['ts_ms']})"
        )


def _pct(value: Any) -> str:
    return "—" if value is None else f"{float(value) * 100:,.2f} %"
