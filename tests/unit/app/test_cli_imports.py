"""Heavy libraries are imported only by the commands that use them (checked in a new process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
from tests.tiny_run import write_tiny_run

from xmargin.app.cli import LAZY_COMMANDS, cli

ROOT = Path(__file__).resolve().parents[3]
ACCOUNT = ROOT / "examples" / "accounts" / "binance_usdm_two_positions.toml"
HEAVY = {"ccxt", "sqlalchemy", "alembic", "sklearn", "pyarrow", "numba", "matplotlib"}

PROBE = """
import json, sys
from xmargin.app.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code or 0
else:
    code = 0
top = sorted({name.split(".")[0] for name in sys.modules})
print("\\n" + json.dumps({"code": code, "modules": top}), file=sys.stderr)
"""


def imported_by(*args: str, cwd: Path = ROOT) -> tuple[int, set[str]]:
    """Run ``xmargin ARGS`` in a fresh interpreter; return its exit code and top-level modules."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return report["code"], set(report["modules"])


def test_help_imports_no_heavy_library():
    code, modules = imported_by("--help")
    assert code == 0
    assert modules & HEAVY == set()
    assert "numpy" not in modules


def test_margin_imports_no_heavy_library_nor_numpy():
    code, modules = imported_by("margin", str(ACCOUNT), "--what-if", "sell 50 BTC/USDT:USDT")
    assert code == 0
    assert modules & HEAVY == set()
    assert "numpy" not in modules


def test_backtest_without_the_database_imports_neither_ccxt_nor_sqlalchemy(tmp_path):
    write_tiny_run(tmp_path)
    code, modules = imported_by(
        "backtest", "run.toml", "--no-db", "--json", "--data-dir", ".", cwd=tmp_path
    )
    assert code == 0
    assert {"ccxt", "sqlalchemy", "alembic"} & modules == set()
    assert "numpy" in modules  # the probe really ran the backtest


def test_lazy_summaries_are_the_commands_own_help():
    """``xmargin --help`` lists stored summaries; each must be its command's own first line."""
    context = click.Context(cli, info_name="xmargin")
    for name, (_module, _attribute, summary) in LAZY_COMMANDS.items():
        command = cli.get_command(context, name)
        assert command is not None and command.name == name
        assert command.get_short_help_str(1000) == summary


def test_help_lists_every_command_with_its_summary():
    done = subprocess.run(
        [sys.executable, "-m", "xmargin.app.cli", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    listed = done.stdout.split("Commands:\n", 1)[1].splitlines()
    names = [line.split()[0] for line in listed if line.strip()]
    assert done.returncode == 0
    assert names == sorted([*LAZY_COMMANDS, "margin"])
    assert "  margin      Assess a cross-margin account" in done.stdout


def test_a_stored_backtest_imports_sqlalchemy_but_not_ccxt(tmp_path):
    write_tiny_run(tmp_path)
    database = tmp_path / "runs.db"
    code, modules = imported_by(
        "backtest", "run.toml", "--json", "--data-dir", ".", "--db", f"sqlite:///{database}",
        cwd=tmp_path,
    )  # fmt: skip
    assert code == 0
    assert "sqlalchemy" in modules and "ccxt" not in modules
    assert database.is_file()
