"""``xmargin strategies list``: the built-in strategies and execution algorithms."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from xmargin.execution.algos.catalogue import ALGORITHMS
from xmargin.strategy.base import Strategy, params_table
from xmargin.strategy.registry import BUILT_IN


def catalogue() -> dict[str, list[dict[str, Any]]]:
    """Every built-in strategy and algorithm: name, description, parameters."""

    def entry(cls: type[Strategy], reference: str) -> dict[str, Any]:
        return {
            "name": cls.name,
            "reference": reference,
            "description": cls.description,
            "parameters": [
                {"name": name, "type": kind, "default": default}
                for name, kind, default in params_table(cls)
            ],
        }

    return {
        "strategies": [entry(cls, name) for name, cls in BUILT_IN.items()],
        "algorithms": [entry(cls, f"{cls.__module__}:{cls.__name__}") for cls in ALGORITHMS],
    }


@click.group("strategies")
def strategies() -> None:
    """The strategies a run config can name, and the execution algorithms."""


@strategies.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def list_command(as_json: bool) -> None:
    """List each strategy with a one-line description and its parameters."""
    listing = catalogue()
    if as_json:
        click.echo(json.dumps(listing, indent=2))
        return
    console = Console() if Console().is_terminal else Console(width=160)
    for title, key in (("strategies", "strategies"), ("execution algorithms", "algorithms")):
        table = Table(title=title, show_lines=True, title_justify="left")
        table.add_column("name", style="bold", no_wrap=True)
        table.add_column("description")
        table.add_column("parameters (type = default)")
        for item in listing[key]:
            parameters = "\n".join(
                f"{p['name']}: {p['type']} = {p['default']}" for p in item["parameters"]
            )
            table.add_row(item["reference"], item["description"], parameters or "—")
        console.print(table)
