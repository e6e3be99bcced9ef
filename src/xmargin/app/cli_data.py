"""``xmargin data``: import files into the Parquet catalog, list it, download from exchanges."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn
from rich.table import Table

from xmargin.core.clock import WallClock, ns_to_ms
from xmargin.data.catalog import Catalog, CatalogEntry
from xmargin.data.download import (
    DownloadProgress,
    ExchangeLike,
    download,
    make_exchange,
    parse_kinds,
)
from xmargin.data.loaders import Loaded, load_file
from xmargin.data.series import BAR_KINDS, SERIES_BY_KIND
from xmargin.data.validation import Gap, gap_report

EXCHANGE_FACTORY: Callable[[str], ExchangeLike] = make_exchange
"""Creates the exchange for ``data download``; tests replace it with a fake."""

_catalog_option = click.option(
    "--catalog",
    "catalog_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Catalog directory [default: $XMARGIN_CATALOG or ~/.local/share/xmargin/catalog].",
)


@click.group("data")
def data() -> None:
    """Import, list and download market data in the Parquet catalog."""


@data.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--venue", help="ccxt exchange id, when the file name does not tell.")
@click.option("--symbol", help="ccxt symbol; for funding files, import only this symbol.")
@click.option("--kind", type=click.Choice(sorted(SERIES_BY_KIND)), help="What the file holds.")
@click.option("--timeframe", help="Bar length such as 5m or 1h (funding: its interval).")
@click.option(
    "--repair", is_flag=True, help="Repair bad rows (documented rules) instead of failing."
)
@_catalog_option
def import_command(
    paths: tuple[Path, ...],
    venue: str | None,
    symbol: str | None,
    kind: str | None,
    timeframe: str | None,
    repair: bool,
    catalog_dir: Path | None,
) -> None:
    """Validate CSV files of the data pack (or alike) and merge them into the catalog."""
    catalog = Catalog(catalog_dir)
    catalog.check_writable()
    options = {"venue": venue, "symbol": symbol, "kind": kind, "timeframe": timeframe}
    loaded = [(path, item) for path in paths for item in load_file(path, **options, repair=repair)]
    console = _console()
    table = Table(title=f"imported into {catalog.root}")
    table.add_column("file", overflow="fold")
    for header in ("venue", "symbol", "kind", "tf", "rows", "from", "to", "gaps"):
        table.add_column(header, justify="right" if header == "rows" else "left")
    if repair:
        table.add_column("repaired", justify="right")
    notes: list[str] = []
    for path, item in loaded:
        catalog.write(item.venue, item.symbol, item.kind, item.series, item.timeframe)
        gaps = _gaps(item)
        row = [
            path.name,
            item.venue,
            item.symbol,
            item.kind,
            item.timeframe or "",
            f"{len(item.series):,}",
            _time(item.series.first_ms),
            _time(item.series.last_ms),
            _gap_summary(gaps),
        ]
        table.add_row(*row, *([str(item.report.repaired_rows)] if repair else []))
        if gaps:
            shown = ", ".join(f"{_time(g.start_ms)} ({g.missing_bars})" for g in gaps[:5])
            more = f", … {len(gaps) - 5} more" if len(gaps) > 5 else ""
            notes.append(f"gaps in {path.name} {item.symbol}: {shown}{more}")
        if item.report.repairs:
            notes.append(str(item.report))
    console.print(table)
    for note in notes:
        console.print(note, highlight=False, markup=False)


@data.command("list")
@_catalog_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_command(catalog_dir: Path | None, as_json: bool) -> None:
    """List the series stored in the catalog."""
    catalog = Catalog(catalog_dir)
    entries = catalog.entries()
    if as_json:
        click.echo(json.dumps([_entry_dict(entry) for entry in entries], indent=2))
        return
    if not entries:
        click.echo(f"the catalog at {catalog.root} is empty")
        return
    table = Table(title=f"catalog {catalog.root}")
    for header in ("venue", "symbol", "kind", "tf", "rows", "from", "to", "file"):
        table.add_column(header, justify="right" if header == "rows" else "left")
    for entry in entries:
        table.add_row(
            entry.venue,
            entry.symbol,
            entry.kind,
            entry.timeframe or "",
            f"{entry.rows:,}",
            _time(entry.first_ms),
            _time(entry.last_ms),
            str(entry.path.relative_to(catalog.root)),
        )
    _console().print(table)


@data.command("download")
@click.option("--exchange", "exchange_id", required=True, help="ccxt exchange id (binanceusdm …).")
@click.option("--symbol", required=True, help="ccxt symbol such as BTC/USDT:USDT.")
@click.option("--since", required=True, type=click.DateTime(["%Y-%m-%d"]), help="UTC start date.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="UTC end date [default: now].")
@click.option("--kinds", required=True, help="Comma-separated: ohlcv:5m,mark:1h,index:1h,funding.")
@click.option("--limit", type=click.IntRange(min=1), help="Page size to request.")
@_catalog_option
def download_command(
    exchange_id: str,
    symbol: str,
    since: datetime,
    until: datetime | None,
    kinds: str,
    limit: int | None,
    catalog_dir: Path | None,
) -> None:
    """Download from an exchange through ccxt, resuming where the catalog stops."""
    specs = parse_kinds(kinds)
    catalog = Catalog(catalog_dir)
    catalog.check_writable()
    until_ms = _ms(until) if until else ns_to_ms(WallClock().now_ns())
    exchange = EXCHANGE_FACTORY(exchange_id)
    console = _console()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rows]:,} rows"),
        console=Console(stderr=True),
        transient=False,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def show(update: DownloadProgress) -> None:
            if update.label not in tasks:
                total = max(1, update.end_ms - update.start_ms)
                tasks[update.label] = bar.add_task(update.label, total=total, rows=0)
            completed = max(0, update.at_ms - update.start_ms)
            bar.update(tasks[update.label], completed=completed, rows=update.rows)

        results = download(
            exchange, symbol, _ms(since), specs, catalog, until_ms, show, limit=limit
        )
    table = Table(title=f"downloaded {exchange_id} {symbol} into {catalog.root}")
    for header in ("kind", "rows", "pages", "from", "to"):
        table.add_column(header, justify="right" if header in ("rows", "pages") else "left")
    for result in results:
        table.add_row(
            result.label,
            f"{result.rows:,}",
            str(result.pages),
            _time(result.first_ms),
            _time(result.last_ms),
        )
    console.print(table)


def _gaps(item: Loaded) -> list[Gap] | None:
    if item.kind in BAR_KINDS or item.kind == "funding":
        return gap_report(item.series)
    return None


def _gap_summary(gaps: list[Gap] | None) -> str:
    if gaps is None:
        return "-"
    if not gaps:
        return "none"
    return f"{len(gaps)} ({sum(g.missing_bars for g in gaps):,} missing)"


def _entry_dict(entry: CatalogEntry) -> dict[str, Any]:
    return {
        "venue": entry.venue,
        "symbol": entry.symbol,
        "kind": entry.kind,
        "timeframe": entry.timeframe,
        "rows": entry.rows,
        "first_ms": entry.first_ms,
        "last_ms": entry.last_ms,
        "first": _iso(entry.first_ms),
        "last": _iso(entry.last_ms),
        "path": str(entry.path),
    }


def _ms(day: datetime) -> int:
    return int(day.replace(tzinfo=UTC).timestamp() * 1000)


def _time(ts_ms: int | None) -> str:
    if ts_ms is None:
        return ""
    return datetime.fromtimestamp(ts_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def _iso(ts_ms: int | None) -> str | None:
    if ts_ms is None:
        return None
    return datetime.fromtimestamp(ts_ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def _console() -> Console:
    """A console that stays wide enough for the tables when output is piped."""
    console = Console()
    return console if console.is_terminal else Console(width=160)
