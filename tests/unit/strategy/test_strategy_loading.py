"""Strategy lookup: built-ins, named files, installed entry points; never an arbitrary import."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from xmargin.core.errors import ConfigError
from xmargin.execution.algos.catalogue import ALGORITHM_REFERENCES
from xmargin.execution.algos.twap import Twap
from xmargin.strategy.examples.sma_cross import SmaCross
from xmargin.strategy.registry import resolve_strategy

STRATEGY_FILE = """
from dataclasses import dataclass

from xmargin.strategy.base import Strategy


@dataclass(frozen=True)
class HoldParams:
    instrument: str = "BTC/USDT:USDT"


class Hold(Strategy):
    name = "hold_from_file"
    Params = HoldParams


class NotAStrategy:
    pass
"""


def write_module(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def test_a_built_in_name_and_a_known_algorithm_reference_resolve():
    assert resolve_strategy("sma_cross") is SmaCross
    twap = "xmargin.execution.algos.twap:Twap"
    assert resolve_strategy(twap, known=ALGORITHM_REFERENCES) is Twap


def test_a_named_file_loads_relative_to_the_config_folder(tmp_path):
    write_module(tmp_path / "strategies", "hold.py", STRATEGY_FILE)
    cls = resolve_strategy("file:strategies/hold.py:Hold", base_dir=tmp_path)
    assert cls.name == "hold_from_file"
    assert cls.Params().instrument == "BTC/USDT:USDT"
    again = resolve_strategy(f"file:{tmp_path / 'strategies' / 'hold.py'}:Hold")
    assert again is cls  # one module per file, however it is named


def test_an_arbitrary_module_reference_is_refused_without_importing_it(tmp_path, monkeypatch):
    marker = tmp_path / "imported.txt"
    write_module(
        tmp_path / "site",
        "side_effect_module.py",
        f"from pathlib import Path\nPath({str(marker)!r}).write_text('ran')\nclass Thing: pass\n",
    )
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    with pytest.raises(ConfigError, match=r"'side_effect_module:Thing' is not imported by module"):
        resolve_strategy("side_effect_module:Thing", "run.toml: strategies[0].strategy")
    assert not marker.exists()
    assert "side_effect_module" not in sys.modules


def test_an_installed_entry_point_is_found_by_its_name(tmp_path, monkeypatch):
    site = tmp_path / "site"
    write_module(site, "hold_plugin.py", STRATEGY_FILE)
    info = site / "hold_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hold-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[xmargin.strategies]\nhold = hold_plugin:Hold\nbroken = hold_plugin:NotAStrategy\n"
    )
    monkeypatch.syspath_prepend(str(site))
    assert resolve_strategy("hold").name == "hold_from_file"
    with pytest.raises(ConfigError, match=r"^s: 'broken' is not a Strategy subclass$"):
        resolve_strategy("broken", "s")
    sys.modules.pop("hold_plugin", None)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("file:hold.py", r"'file:hold.py' must read \"file:PATH:Class\""),
        ("file:missing.py:Hold", r"no Python file .*missing\.py \(from 'file:missing.py:Hold'\)"),
        ("file:hold.py:Absent", r".*/hold\.py defines no 'Absent' \(from 'file:hold.py:Absent'\)"),
        ("file:hold.py:NotAStrategy", r"'file:hold.py:NotAStrategy' is not a Strategy subclass"),
        ("file:boom.py:Hold", r"cannot load .*boom\.py: ZeroDivisionError: division by zero"),
        ("sma_crosss", r"unknown strategy 'sma_crosss' \(built in: buy_and_hold, "),
    ],
)
def test_each_loading_mistake_is_one_clear_error(tmp_path, name, message):
    write_module(tmp_path, "hold.py", STRATEGY_FILE)
    write_module(tmp_path, "boom.py", "1 / 0\n")
    with pytest.raises(ConfigError, match=f"^run.toml: strategies\\[0\\].strategy: {message}"):
        resolve_strategy(name, "run.toml: strategies[0].strategy", base_dir=tmp_path)
