"""The ``xmargin`` command line."""

from __future__ import annotations

import importlib
import json
import re
import sys
from typing import TYPE_CHECKING, Any

import click
from click.formatting import HelpFormatter

from xmargin import __version__
from xmargin.core.errors import ConfigError, DataError, InvariantError, XmarginError

if TYPE_CHECKING:
    from rich.console import Console

EXIT_BAD_INPUT = 2
EXIT_FAILURE = 1
EXIT_BUG = 3

# Each command's module is imported only when that command runs, so ``xmargin --help`` and
# ``xmargin margin`` do not pay for ccxt, SQLAlchemy or pyarrow. The summary is the
# command's own one-line help (tests/unit/app/test_cli_imports.py keeps them equal).
LAZY_COMMANDS: dict[str, tuple[str, str, str]] = {
    "backtest": (
        "xmargin.app.cli_backtest",
        "backtest_command",
        "Backtest CONFIG_FILE under its venues' cross-margin rules and store the run.",
    ),
    "data": (
        "xmargin.app.cli_data",
        "data",
        "Import, list and download market data in the Parquet catalog.",
    ),
    "db": (
        "xmargin.app.cli_runs",
        "db_group",
        "The run database: schema status and migrations.",
    ),
    "gateway": (
        "xmargin.app.cli_gateway",
        "gateway_command",
        "Serve CONFIG_FILE's accounts over Binance USDⓈ-M REST and websockets.",
    ),
    "report": (
        "xmargin.app.cli_runs",
        "report_command",
        "Report RUN: a terminal summary, and with --html a self-contained page with charts.",
    ),
    "runs": (
        "xmargin.app.cli_runs",
        "runs_group",
        "List, inspect, compare and replay stored runs.",
    ),
    "strategies": (
        "xmargin.app.cli_strategies",
        "strategies",
        "The strategies a run config can name, and the execution algorithms.",
    ),
    "stress": (
        "xmargin.app.cli_stress",
        "stress_command",
        "Stress an account: price shocks, de-pegs, funding, haircuts, cascades, Monte Carlo.",
    ),
}


class LazyGroup(click.Group):
    """A group whose subcommands in ``LAZY_COMMANDS`` are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(LAZY_COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in LAZY_COMMANDS:
            module_name, attribute, _summary = LAZY_COMMANDS[cmd_name]
            command = getattr(importlib.import_module(module_name), attribute)
            self.add_command(command, cmd_name)
        return command

    def format_commands(self, ctx: click.Context, formatter: HelpFormatter) -> None:
        """List the commands with their summaries, importing none of the lazy ones."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            loaded = self.commands.get(name)
            if loaded is not None and loaded.hidden:
                continue
            described = loaded or click.Command(name, help=LAZY_COMMANDS[name][2])
            rows.append((name, described.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
    # Imported here, not at the top, so that ``xmargin --help`` does not pay for them.
    from xmargin.app.account_file import load_account_file  # noqa: PLC0415
    from xmargin.app.margin_view import print_report, report_dict  # noqa: PLC0415
    from xmargin.app.what_if_text import apply_what_ifs  # noqa: PLC0415
    from xmargin.margin.what_if import is_acceptable  # noqa: PLC0415

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


def _console() -> Console:
    """A console that stays wide enough for the position table when output is piped."""
    from rich.console import Console  # noqa: PLC0415

    console = Console()
    return console if console.is_terminal else Console(width=150)


def _print_json(document: dict[str, Any]) -> None:
    click.echo(json.dumps(document, indent=2))


def usage_line(exc: click.UsageError, args: list[str]) -> str:
    """One line for a usage mistake: the command, what is wrong, where to read more."""
    path = exc.ctx.command_path if exc.ctx is not None else _command_path(args)
    return f"{path}: {_sentence(exc.format_message())} (try '{path} --help')"


def _command_path(args: list[str]) -> str:
    """The command the arguments name (click's parser errors do not carry it)."""
    names = ["xmargin"]
    command: click.Command = cli
    context = click.Context(cli, info_name="xmargin")
    for arg in args:
        if not isinstance(command, click.Group):
            break
        if arg.startswith("-"):
            continue
        sub = command.get_command(context, arg)
        if sub is None:
            break
        names.append(arg)
        command = sub
    return " ".join(names)


def _sentence(message: str) -> str:
    """Click's message on one line, lower-cased like the rest of the CLI, no final stop."""
    text = re.sub(r"\s+", " ", message).strip().rstrip(".")
    if text[:1].isupper() and text[1:2].islower():
        text = text[0].lower() + text[1:]
    return text


def main(argv: list[str] | None = None) -> None:
    """Run the CLI: user mistakes print one line and exit 2; ``--debug`` shows tracebacks."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        cli.main(args=args, prog_name="xmargin", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        exc.show()
        sys.exit(EXIT_BAD_INPUT)
    except click.UsageError as exc:
        click.echo(usage_line(exc, args), err=True)
        sys.exit(EXIT_BAD_INPUT)
    except click.ClickException as exc:
        click.echo(f"xmargin: error: {_sentence(exc.format_message())}", err=True)
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


if __name__ == "__main__":
    main()
