"""``xmargin backtest``: run a config, store it, show a progress bar and a summary.

The run is stored in the database (``--db``, ``$XMARGIN_DATABASE_URL`` or the embedded SQLite
file) unless ``--no-db``: the database is opened (and migrated) before the run starts, the
run's row is written ``running`` first, its events are committed in segments as they happen,
and it is marked ``complete`` only after all of them (``failed``, or ``interrupted`` on
Ctrl-C, otherwise). No event is held in memory: each goes, as its JSON line, to the running
hash, to the store and to the event-log files (``--events-out``, ``--out``/events.jsonl),
which are written to temporary files and renamed into place only when the run succeeds.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from xmargin.app.database_url import DB_HELP, resolve_database_url
from xmargin.app.provenance import code_version
from xmargin.backtest.event_log import EventLogFile, EventSink
from xmargin.backtest.provenance import data_manifest, synthetic_tables
from xmargin.backtest.results import BacktestResult
from xmargin.backtest.runner import build_strategies, run_backtest
from xmargin.backtest.sources import SYNTHETIC, data_root
from xmargin.core.output_file import (
    check_output_dir,
    check_output_file,
    make_output_dir,
    write_text,
)
from xmargin.engine.config import RunConfig, load_run_config

if TYPE_CHECKING:
    from xmargin.storage import RunWriter

OUTPUT_FILES = ("summary.json", "events.jsonl", "equity.csv", "margin_ratio.csv")


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
@click.option("--db", "db_url", metavar="URL", help=DB_HELP)
@click.option("--no-db", is_flag=True, help="Do not store the run in a database.")
def backtest_command(
    config_file: str,
    as_json: bool,
    events_out: str | None,
    out_dir: str | None,
    data_dir: str | None,
    data_fallback: bool,
    db_url: str | None,
    no_db: bool,
) -> None:
    """Backtest CONFIG_FILE under its venues' cross-margin rules and store the run."""
    config = load_run_config(config_file)
    if events_out:
        check_output_file(events_out)
    if out_dir:
        check_output_dir(out_dir, OUTPUT_FILES)
    build_strategies(config)  # a bad strategy is refused before the database is touched
    err = Console(stderr=True)
    root = Path(data_dir) if data_dir else None
    log_paths = [Path(events_out)] if events_out else []
    if out_dir:
        log_paths.append(Path(out_dir) / "events.jsonl")
    writer = None if no_db else begin_stored_run(config, root, db_url, err, quiet=as_json)
    synthetic: list[str] = []

    def loaded(origins: list[str]) -> None:
        if SYNTHETIC not in origins and writer is None:
            return
        manifest = data_manifest(config, root, origins)
        synthetic[:] = synthetic_tables(manifest)
        if writer is not None:
            writer.record_data_manifest(manifest)

    files: list[EventLogFile] = []
    try:
        if out_dir:
            make_output_dir(Path(out_dir))
        files = [EventLogFile(path) for path in log_paths]
        sinks: list[EventSink] = [*files, *([writer] if writer is not None else [])]
        result = _run(config, root, data_fallback, err, as_json, sinks, writer, loaded)
        if writer is not None:
            writer.complete(result)
        summary = result.summary()
        summary["run_id"] = None if writer is None else writer.run_id
        if synthetic:
            summary["synthetic_data"] = synthetic
        for file in files:
            file.commit()
    except BaseException as exc:
        for file in files:
            file.discard()
        if writer is not None and not writer.finished:
            _mark_failed(writer, exc)
        raise
    if out_dir:
        write_outputs(result, summary, Path(out_dir))
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        print_summary(Console(), config.name or config.path.name, result, summary)
        if synthetic:
            err.print(
                "[bold yellow]warning:[/] not real data: the synthetic market stood in for "
                + "; ".join(synthetic)
            )
        if writer is not None:
            err.print(f"stored as run [bold]{writer.run_id}[/] in {writer.db.display_url}")


def _mark_failed(writer: RunWriter, exc: BaseException) -> None:
    """Record the run as failed (interrupted on Ctrl-C); if the store itself is what failed,
    the original error is the one reported."""
    from xmargin.storage import FAILED, INTERRUPTED  # noqa: PLC0415

    interrupted = isinstance(exc, KeyboardInterrupt)
    reason = "interrupted (SIGINT)" if interrupted else f"{type(exc).__name__}: {exc}"
    with contextlib.suppress(Exception):
        writer.fail(reason, INTERRUPTED if interrupted else FAILED)


def begin_stored_run(
    config: RunConfig, data_dir: Path | None, db_url: str | None, err: Console, quiet: bool
) -> RunWriter:
    """Open (and migrate) the database and write the run's header, before the run starts."""
    # Only stored runs pay for SQLAlchemy and Alembic.
    from xmargin.storage import RunHeader, RunWriter, open_database  # noqa: PLC0415

    db = open_database(resolve_database_url(db_url))
    if db.upgraded_from is not None and not quiet:
        err.print(f"[yellow]note:[/] upgraded {db.display_url} from schema {db.upgraded_from}")
    root = data_root(config, data_dir)
    header = RunHeader(
        name=config.name or config.path.name,
        config_path=str(config.path.resolve()),
        config_text=config.path.read_text(encoding="utf-8"),
        seed=config.seed,
        code_version=code_version(),
        data_dir=None if root is None else str(root.resolve()),
        data_manifest=data_manifest(config, data_dir),
    )
    return RunWriter.begin(db, header)


def _run(
    config: RunConfig,
    data_dir: Path | None,
    fallback: bool,
    err: Console,
    as_json: bool,
    sinks: list[EventSink],
    writer: RunWriter | None,
    origins: Callable[[list[str]], None],
) -> BacktestResult:
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

        def report(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)
            if writer is not None:
                writer.tick()

        return run_backtest(
            config,
            progress=report,
            data_dir=data_dir,
            fallback=fallback,
            notices=lambda message: err.print(f"[yellow]note:[/] {message}"),
            origins=origins,
            keep_events=False,
            event_sinks=sinks,
        )


def write_outputs(result: BacktestResult, summary: dict[str, Any], out: Path) -> None:
    """Write summary.json, equity.csv and margin_ratio.csv into ``out`` (and events.jsonl
    when the run kept its events; a streamed run wrote it as it went)."""
    make_output_dir(out)
    write_text(out / "summary.json", json.dumps(summary, indent=2))
    if result.recorder.keep_events:
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
    write_text(out / "equity.csv", "\n".join(lines) + "\n")
    margin = ["ts_ms,account,margin_ratio"]
    for account, samples in result.margin_curves.items():
        margin += [f"{ts},{account},{'' if ratio is None else ratio}" for ts, ratio in samples]
    write_text(out / "margin_ratio.csv", "\n".join(margin) + "\n")


def _figure(value: str) -> str:
    """A strategy's figure for the terminal: amounts to cents, counts and text as they are."""
    return (
        _fmt(value) if "." in value and value.lstrip("-").replace(".", "", 1).isdigit() else value
    )


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
    currency = summary.get("reporting_currency", "")
    effect = metrics.get("pnl_split", {}).get("currency", "0")
    rows = [
        ("start equity", f"{_fmt(summary['start_equity'])} {currency}".rstrip()),
        ("final equity", f"{_fmt(summary['final_equity'])} {currency}".rstrip()),
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
        *([("currency effect", _fmt(effect))] if Decimal(effect) else []),
        ("risk", _risk_line(summary["risk"])),
        ("events / wall time", f"{result.events_processed:,} in {result.wall_seconds:.2f} s"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    for strategy, figures in summary.get("strategies", {}).items():
        details = ", ".join(f"{name} {_figure(value)}" for name, value in figures.items())
        console.print(f"[bold]{strategy}[/]: {details}")
    for liquidation in summary["liquidations"]:
        console.print(
            f"[bold red]liquidated[/] {liquidation['instrument']} {liquidation['size']} at "
            f"{liquidation['price']} ({liquidation['stage']}, ts_ms {liquidation['ts_ms']})"
        )


def _risk_line(risk: dict[str, Any]) -> str:
    """Trading state, breakers tripped, orders denied, stops and fences, in one line."""
    breakers = ", ".join(b["breaker"] for b in risk["breakers_tripped"]) or "no breaker"
    parts = [risk["state"], breakers, f"{risk['orders_denied']} denied"]
    if risk.get("commands_denied"):
        parts.append(f"{risk['commands_denied']} commands denied")
    if risk["stops_triggered"]:
        parts.append(f"{risk['stops_triggered']} stops")
    if risk["strategies_fenced"]:
        parts.append("fenced " + ", ".join(risk["strategies_fenced"]))
    return " · ".join(parts)


def _pct(value: Any) -> str:
    return "—" if value is None else f"{float(value) * 100:,.2f} %"
