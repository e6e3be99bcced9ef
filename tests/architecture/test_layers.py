"""The layer contracts and banned APIs hold for the whole source tree."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "xmargin"
INNER_LAYERS = ("core", "model", "margin", "portfolio", "risk", "strategy", "execution")
BELOW_RUNTIMES = (*INNER_LAYERS, "engine", "venues", "data", "storage")


def python_files(*packages: str) -> list[Path]:
    return sorted(p for pkg in packages for p in (SRC / pkg).rglob("*.py") if (SRC / pkg).exists())


def test_import_linter_contracts_are_kept():
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint_imports, "import-linter is not installed in the environment"
    result = subprocess.run(
        [lint_imports], cwd=SRC.parents[1], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_kernel_risk_strategies_and_execution_are_forbidden_the_venues():
    pyproject = tomllib.loads((SRC.parents[1] / "pyproject.toml").read_text())
    contracts = pyproject["tool"]["importlinter"]["contracts"]
    forbidding_venues = [c for c in contracts if c.get("forbidden_modules") == ["xmargin.venues"]]
    assert len(forbidding_venues) == 1
    contract = forbidding_venues[0]
    assert contract["type"] == "forbidden"
    assert set(contract["source_modules"]) == {
        "xmargin.engine",
        "xmargin.risk",
        "xmargin.strategy",
        "xmargin.execution",
    }
    assert not contract.get("allow_indirect_imports", False)
    # only the run config may name the simulated venues' settings
    assert {line.split(" -> ")[0] for line in contract["ignore_imports"]} == {
        "xmargin.engine.config"
    }


def _venue_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name for name in names if name.startswith("xmargin.venues")}


@pytest.mark.parametrize(
    "path",
    python_files("engine", "risk", "strategy", "execution"),
    ids=lambda p: str(p.relative_to(SRC)),
)
def test_no_venue_module_is_named_even_for_type_checking(path: Path):
    """import-linter skips ``if TYPE_CHECKING:`` imports; the ports stand in for those too."""
    if path == SRC / "engine" / "config.py":
        return
    assert not _venue_imports(path), f"{path.name} imports {sorted(_venue_imports(path))}"


def _calls(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            value = node.func.value
            if isinstance(value, ast.Name):
                names.append(f"{value.id}.{node.func.attr}")
            elif isinstance(value, ast.Attribute):
                names.append(f"{value.attr}.{node.func.attr}")
    return names


BANNED_TIME = {"datetime.now", "datetime.utcnow", "time.time", "date.today", "time.monotonic"}


@pytest.mark.parametrize(
    "path", python_files(*BELOW_RUNTIMES), ids=lambda p: str(p.relative_to(SRC))
)
def test_time_comes_only_from_the_injected_clock(path: Path):
    if path == SRC / "core" / "clock.py":
        return
    banned = BANNED_TIME & set(_calls(ast.parse(path.read_text())))
    assert not banned, f"{path.name} reads the wall clock directly: {sorted(banned)}"


@pytest.mark.parametrize(
    "path", python_files(*BELOW_RUNTIMES), ids=lambda p: str(p.relative_to(SRC))
)
def test_randomness_comes_only_from_named_streams(path: Path):
    if path == SRC / "core" / "rng.py":
        return
    tree = ast.parse(path.read_text())
    imports = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert "random" not in imports, f"{path.name} imports random; use core.rng.RngStreams"


@pytest.mark.parametrize(
    "path", python_files("margin", "portfolio"), ids=lambda p: str(p.relative_to(SRC))
)
def test_money_layers_never_build_floats(path: Path):
    tree = ast.parse(path.read_text())
    floats = [
        node.lineno
        for node in ast.walk(tree)
        if (isinstance(node, ast.Constant) and isinstance(node.value, float))
        or (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "float"
        )
    ]
    assert not floats, f"{path.name} uses floats at lines {floats}"


def test_no_grab_bag_modules():
    grab_bags = {"utils", "helpers", "misc", "common"}
    offenders = [p for p in SRC.rglob("*") if p.stem in grab_bags]
    assert not offenders, offenders
