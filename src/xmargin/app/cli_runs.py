"""``xmargin runs``, ``xmargin report`` and ``xmargin db``: stored runs, reports, migrations."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from xmargin.app.database_url import DB_HELP, resolve_database_url
from xmargin.app.provenance import code_version
from xmargin.app.runs_view import (
    compare_dict,
    compare_table,
    list_table,
    print_report,
    run_dict,
    show_table,
)
from xmargin.backtest.replay import replay_run
from xmargin.core.errors import ConfigError
from xmargin.core.output_file import check_output_dir, make_output_dir, write_text
from xmargin.research.report import build_report, report_dict, trades_csv
from xmargin.research.report_html import render_html
from xmargin.storage import (
    Database,
    RunRepository,
    ensure_schema,
    head_revision,
    inspect_schema,
    open_database,
)

EXIT_MISMATCH = 1
db_option = click.option("--db", "db_url", metavar="URL", help=DB_HELP)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def _console() -> Console:
    console = Console()
    return console if console.is_terminal else Console(width=160)


def _open(db_url: str | None) -> Database:
    db = open_database(resolve_database_url(db_url))
    if db.upgraded_from is not None:
        click.echo(f"note: upgraded {db.display_url} from schema {db.upgraded_from}", err=True)
    return db


def _echo_json(document: Any) -> None:
    click.echo(json.dumps(document, indent=2))


@click.group("runs")
def runs_group() -> None:
    """List, inspect, compare and replay stored runs."""


@runs_group.command("list")
@db_option
@json_option
@click.option("--limit", type=click.IntRange(min=1), help="Show only the newest N runs.")
def list_command(db_url: str | None, as_json: bool, limit: int | None) -> None:
    """List stored runs, newest first (incomplete ones were interrupted)."""
    db = _open(db_url)
    runs = RunRepository(db).list_runs(limit=limit)
    if as_json:
        _echo_json([run_dict(run) for run in runs])
    elif not runs:
        click.echo(f"no runs stored yet in {db.display_url}")
    else:
        _console().print(list_table(runs))


@runs_group.command("show")
@click.argument("run")
@db_option
@json_option
def show_command(run: str, db_url: str | None, as_json: bool) -> None:
    """Show RUN (an id, a unique prefix of one, or 'last')."""
    repo = RunRepository(_open(db_url))
    stored = repo.get(run)
    counts = repo.counts(stored.run_id)
    if as_json:
        _echo_json({**run_dict(stored), "summary": stored.summary, "rows": counts})
    else:
        _console().print(show_table(stored, counts))


@runs_group.command("compare")
@click.argument("runs", nargs=-1, required=True)
@db_option
@json_option
def compare_command(runs: tuple[str, ...], db_url: str | None, as_json: bool) -> None:
    """Set two or more RUNS side by side: returns, risk, costs, event-log hashes."""
    if len(runs) < 2:
        raise ConfigError("give at least two runs to compare", where="runs compare")
    repo = RunRepository(_open(db_url))
    stored = [repo.get(reference) for reference in runs]
    if as_json:
        _echo_json([compare_dict(run) for run in stored])
    else:
        _console().print(compare_table(stored))


@runs_group.command("replay")
@click.argument("run")
@db_option
@json_option
@click.option(
    "--data-dir", type=click.Path(file_okay=False), help="Where the data is now, if it moved."
)
def replay_command(run: str, db_url: str | None, as_json: bool, data_dir: str | None) -> None:
    """Re-run RUN from its stored config and seed; exit 1 unless the event log is identical."""
    outcome = replay_run(_open(db_url), run, data_dir=Path(data_dir) if data_dir else None)
    if outcome.synthetic_data and not as_json:
        click.echo(
            f"note: run {outcome.run_id} used synthetic data, not real market data, for "
            + "; ".join(outcome.synthetic_data)
            + " (the synthetic market of xmargin/data/synthetic.py, replayed as recorded)"
        )
    if as_json:
        _echo_json({"matched": outcome.matched, **vars(outcome)})
    elif outcome.matched:
        click.echo(
            f"run {outcome.run_id} replayed: {outcome.replayed_events:,} events, event log "
            f"sha256 {outcome.replayed_sha256} — identical"
        )
    else:
        click.echo(
            f"run {outcome.run_id} replayed: MISMATCH — stored {outcome.stored_events:,} events "
            f"(sha256 {outcome.stored_sha256[:16]}…), replayed {outcome.replayed_events:,} "
            f"(sha256 {outcome.replayed_sha256[:16]}…)"
        )
        click.echo(f"first difference at event {outcome.first_difference}:")
        click.echo(f"  stored:   {outcome.stored_line}")
        click.echo(f"  replayed: {outcome.replayed_line}")
        for change in outcome.changed_data:
            click.echo(f"  data file changed since the run: {change}")
        current = code_version()
        if outcome.stored_code_version and outcome.stored_code_version != current:
            click.echo(f"  stored with code {outcome.stored_code_version}, replayed with {current}")
    if not outcome.matched:
        sys.exit(EXIT_MISMATCH)


@click.command("report")
@click.argument("run")
@db_option
@click.option("--html", "html_file", type=click.Path(dir_okay=False), help="Write the HTML here.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
    help="table: terminal summary; json: the whole report; csv: the trade list (one row a fill).",
)
def report_command(run: str, db_url: str | None, html_file: str | None, output_format: str) -> None:
    """Report RUN: a terminal summary, and with --html a self-contained page with charts."""
    path = Path(html_file) if html_file else None
    if path is not None:
        check_output_dir(path.parent, (path.name,))
    report = build_report(_open(db_url), run)
    if path is not None:
        make_output_dir(path.parent)
        write_text(path, render_html(report))
    if output_format == "json":
        _echo_json(report_dict(report))
    elif output_format == "csv":
        click.echo(trades_csv(report), nl=False)
    else:
        print_report(_console(), report)
    if html_file:
        click.echo(f"wrote {html_file}", err=True)


@click.group("db")
def db_group() -> None:
    """The run database: schema status and migrations."""


@db_group.command("upgrade")
@db_option
def upgrade_command(db_url: str | None) -> None:
    """Create the schema, or upgrade an older one in place (data kept)."""
    db = open_database(resolve_database_url(db_url), migrate=False)
    before, after = ensure_schema(db)
    if before == after:
        click.echo(f"{db.display_url}: schema already at revision {after} (the newest)")
    elif before is None:
        click.echo(f"{db.display_url}: created the schema at revision {after}")
    else:
        click.echo(f"{db.display_url}: upgraded the schema from revision {before} to {after}")


@db_group.command("status")
@db_option
@json_option
def status_command(db_url: str | None, as_json: bool) -> None:
    """Show the database, its schema revision and how many runs it holds."""
    db = open_database(resolve_database_url(db_url), migrate=False)
    revision, _tables = inspect_schema(db)
    head = head_revision()
    runs = len(RunRepository(db).list_runs()) if revision == head else None
    document = {"url": db.display_url, "revision": revision, "head": head, "runs": runs}
    if as_json:
        _echo_json(document)
    else:
        state = "up to date" if revision == head else "needs `xmargin db upgrade`"
        click.echo(
            f"{db.display_url}: schema revision {revision or 'none'} ({state}), runs: {runs}"
        )
