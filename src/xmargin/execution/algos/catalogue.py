"""The execution algorithms a run config may name, by their ``module:Class`` reference."""

from __future__ import annotations

from xmargin.execution.algos.iceberg import Iceberg
from xmargin.execution.algos.oco import Bracket, Oco
from xmargin.execution.algos.twap import Twap
from xmargin.execution.algos.vwap import Vwap
from xmargin.strategy.base import Strategy

ALGORITHMS: tuple[type[Strategy], ...] = (Twap, Vwap, Iceberg, Oco, Bracket)
ALGORITHM_REFERENCES: dict[str, type[Strategy]] = {
    f"{cls.__module__}:{cls.__name__}": cls for cls in ALGORITHMS
}
