"""The ``xmargin`` command line."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from rich.console import Console

from xmargin import __version__
from xmargin.app.account_file import load_account_file
from xmargin.app.cli_backtest import backtest_command
from xmargin.app.cli_data import data as data_group
from xmargin.app.cli_runs import db_group, report_command, runs_group
from xmargin.app.cli_strategies import strategies as strategies_group
from xmargin.app.cli_stress import stress_command
from xmargin.app.margin_view import print_report, report_dict
from xmargin.app.what_if_text import apply_what_ifs
from xmargin.core.errors import ConfigError, DataError, InvariantError, XmarginError
from xmargin.margin.what_if import is_acceptable

EXIT_BAD_INPUT = 2
EXIT_FAILURE = 1
EXIT_BUG = 3


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="xmargin")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
def cli(debug: bool) -> None:
    """Cross-margin trading: exact venue margin models, backtests and risk."""


@cli.command("margin")
@click.argument("account_file", type=click.Path(dir_okay=False))
@click.option(
    "--what-if",
    "what_ifs",
    multiple=True,
    metavar='"buy|sell QTY SYMBOL [@ PRICE]"',
    help="A hypothetical fill (taker fee included); repeat to chain several.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def margin_command(account_file: str, what_ifs: tuple[str, ...], as_json: bool) -> None:
    """Assess a cross-margin account: equity, requirements, ratio, liquidation prices."""
    loaded = load_account_file(account_file)
    model, before = loaded.model, loaded.snapshot
    orders, after = apply_what_ifs(model, before, what_ifs)
    report_before = model.assess(before)
    if not orders:
        if as_json:
            _print_json(report_dict(report_before))
        else:
            print_report(_console(), report_before, f"{loaded.name} — {model.venue}")
        return
    report_after = model.assess(after)
    accepted = is_acceptable(model, before, after)
    if as_json:
        _print_json(
            {
                "venue": model.venue,
                "what_if": [str(order) for order in orders],
                "accepted": accepted,
                "before": report_dict(report_before),
                "after": report_dict(report_after),
            }
        )
        return
    console = _console()
    print_report(console, report_before, f"{loaded.name} — before")
    console.print()
    print_report(console, report_after, "after " + "; ".join(str(o) for o in orders))
    verdict = "[green]accepted[/]" if accepted else "[bold red]rejected: not enough free margin[/]"
    console.print(f"\nthe venue's initial-margin check: {verdict}")


cli.add_command(backtest_command)
cli.add_command(data_group)
cli.add_command(stress_command)
cli.add_command(runs_group)
cli.add_command(report_command)
cli.add_command(db_group)
cli.add_command(strategies_group)


def _console() -> Console:
    """A console that stays wide enough for the position table when output is piped."""
    console = Console()
    return console if console.is_terminal else Console(width=150)


def _print_json(document: dict[str, Any]) -> None:
    click.echo(json.dumps(document, indent=2))


def main(argv: list[str] | None = None) -> None:
    """Run the CLI: user mistakes print one line and exit 2; ``--debug`` shows tracebacks."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        cli.main(args=args, prog_name="xmargin", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except (ConfigError, DataError) as exc:
        if debug:
            raise
        click.echo(f"xmargin: error: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except InvariantError as exc:
        if debug:
            raise
        click.echo(f"xmargin: internal invariant broken (a bug): {exc}", err=True)
        sys.exit(EXIT_BUG)
    except XmarginError as exc:
        if debug:
            raise
        click.echo(f"xmargin: error: {exc}", err=True)
        sys.exit(EXIT_FAILURE)
