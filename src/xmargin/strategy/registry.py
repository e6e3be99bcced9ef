"""Strategies by name: the built-ins, installed entry points, or a file the user names.

A ``[[strategies]]`` table's ``strategy`` is one of:

- a built-in name (``sma_cross``) or a reference the caller knows (the execution
  algorithms' ``xmargin.execution.algos.twap:Twap``);
- ``file:PATH:Class``: ``Class`` in the Python file ``PATH`` (relative to the config's folder);
- the name of an installed entry point in the group ``xmargin.strategies``.

Nothing else is imported: an arbitrary ``module:Class`` is refused, so validating a config
never runs code the user did not name as a file or install as a strategy.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from collections.abc import Mapping
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType

from xmargin.core.errors import ConfigError
from xmargin.strategy.base import Strategy
from xmargin.strategy.examples.buy_and_hold import BuyAndHold
from xmargin.strategy.examples.funding_carry import FundingCarry
from xmargin.strategy.examples.funding_perp_perp import FundingPerpPerp
from xmargin.strategy.examples.ml_forest import MlForest
from xmargin.strategy.examples.multi_timeframe import MultiTimeframe
from xmargin.strategy.examples.peg_reversion import PegReversion
from xmargin.strategy.examples.qqe import QqeStrategy
from xmargin.strategy.examples.sma_cross import SmaCross
from xmargin.strategy.examples.sma_momentum import SmaMomentum
from xmargin.strategy.examples.spread_arb import SpreadArb

ENTRY_POINT_GROUP = "xmargin.strategies"
FILE_PREFIX = "file:"

BUILT_IN: dict[str, type[Strategy]] = {
    cls.name: cls
    for cls in (
        SmaCross,
        BuyAndHold,
        FundingCarry,
        FundingPerpPerp,
        SpreadArb,
        PegReversion,
        QqeStrategy,
        SmaMomentum,
        MultiTimeframe,
        MlForest,
    )
}


def resolve_strategy(
    name: str,
    where: str = "strategy",
    *,
    base_dir: Path | None = None,
    known: Mapping[str, type[Strategy]] | None = None,
) -> type[Strategy]:
    """Return the strategy class ``name`` names (see the module doc for the forms).

    ``base_dir`` anchors a relative ``file:`` path (the config's folder); ``known`` adds
    references the caller vouches for (the execution algorithms).
    """
    if name in BUILT_IN:
        return BUILT_IN[name]
    if known and name in known:
        return known[name]
    if name.startswith(FILE_PREFIX):
        return _check_class(_from_file(name, where, base_dir), name, where)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name == name:
            try:
                loaded = entry.load()
            except Exception as exc:  # the installed package's own import failed
                raise ConfigError(
                    f"cannot load the installed strategy {name!r} ({entry.value}): "
                    f"{type(exc).__name__}: {exc}",
                    where=where,
                ) from None
            return _check_class(loaded, name, where)
    known_names = ", ".join(sorted(BUILT_IN))
    if ":" in name:
        raise ConfigError(
            f"{name!r} is not imported by module name; name its file "
            f'(strategy = "file:PATH:Class") or install it as an entry point in the group '
            f"{ENTRY_POINT_GROUP!r} (built in: {known_names})",
            where=where,
        )
    raise ConfigError(
        f'unknown strategy {name!r} (built in: {known_names}; or "file:PATH:Class", '
        f"or an installed {ENTRY_POINT_GROUP!r} entry point)",
        where=where,
    )


def _from_file(name: str, where: str, base_dir: Path | None) -> object:
    """Load ``Class`` from ``file:PATH:Class``: the named file only, once per process."""
    path_text, separator, class_name = name[len(FILE_PREFIX) :].rpartition(":")
    if not separator or not path_text or not class_name.isidentifier():
        raise ConfigError(
            f'{name!r} must read "file:PATH:Class", e.g. "file:strategies/mine.py:MyStrategy"',
            where=where,
        )
    path = Path(path_text).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.is_file() or path.suffix != ".py":
        raise ConfigError(f"no Python file {path} (from {name!r})", where=where)
    module = _load_module(path.resolve(), name, where)
    try:
        return getattr(module, class_name)
    except AttributeError:
        raise ConfigError(
            f"{path} defines no {class_name!r} (from {name!r})", where=where
        ) from None


def _load_module(path: Path, name: str, where: str) -> ModuleType:
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    module_name = f"xmargin_strategy_file_{digest}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"cannot load {path} as Python (from {name!r})", where=where)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the user's file failed as it ran: report it, in one line
        del sys.modules[module_name]
        raise ConfigError(f"cannot load {path}: {type(exc).__name__}: {exc}", where=where) from None
    return module


def _check_class(loaded: object, name: str, where: str) -> type[Strategy]:
    if not (isinstance(loaded, type) and issubclass(loaded, Strategy)):
        raise ConfigError(f"{name!r} is not a Strategy subclass", where=where)
    return loaded
