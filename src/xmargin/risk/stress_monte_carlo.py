"""Monte Carlo over a stress kernel: correlated lognormal draws, VaR, expected shortfall.

``correlated_multipliers`` draws ``exp(X − ½ diag Σh)`` with ``X ~ N(0, Σh)``
(lognormal, mean 1: no drift), ``Σ`` the daily covariance of log returns and ``h`` the
horizon in days; assets with zero variance (stablecoins) stay at 1. Draws come from a
numpy generator seeded from ``sha256("{seed}:stress.monte_carlo")`` (the named-stream rule
of ``core.rng``): ``Z = rng.standard_normal((N, k))`` over the ``k`` assets with variance,
``X = Z Lᵀ`` with ``L`` the Cholesky factor of their ``Σh``. ``monte_carlo`` evaluates the
draws with a ``StressKernel``; ``evaluate_draw`` re-evaluates one exactly.

Loss convention: ``loss = base equity − scenario equity`` (positive is a loss). With the
losses sorted from largest and ``k = ⌈(1 − α) N⌉``, ``VaR_α`` is the k-th largest loss and
``ES_α`` the mean of the k largest.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from xmargin.core.errors import ConfigError
from xmargin.margin.base import CrossMarginModel
from xmargin.margin.snapshot import AccountSnapshot
from xmargin.risk.stress import Scenario, ScenarioResult, evaluate
from xmargin.risk.stress_kernels import Bools, Floats, StressKernel

STREAM = "stress.monte_carlo"
DEFAULT_LEVELS = (0.95, 0.99)


def numpy_rng(seed: int, name: str = STREAM) -> np.random.Generator:
    """Return the numpy generator of the named stream ``name`` of run seed ``seed``."""
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


def correlated_multipliers(
    daily_covariance: Floats, n: int, horizon_days: float, rng: np.random.Generator
) -> Floats:
    """Draw ``n`` rows of lognormal price multipliers (mean 1) over ``horizon_days``."""
    covariance = np.asarray(daily_covariance, dtype=np.float64) * horizon_days
    variances = np.diag(covariance)
    active = np.flatnonzero(variances > 0)
    multipliers = np.ones((n, covariance.shape[0]))
    if active.size == 0:
        return multipliers
    sub = covariance[np.ix_(active, active)]
    try:
        loading = np.linalg.cholesky(sub)
    except np.linalg.LinAlgError:  # singular (e.g. a proxy series): symmetric square root
        values, vectors = np.linalg.eigh(sub)
        loading = vectors * np.sqrt(np.clip(values, 0.0, None))
    draws = rng.standard_normal((n, active.size)) @ loading.T
    multipliers[:, active] = np.exp(draws - 0.5 * variances[active])
    return multipliers


@dataclass(frozen=True, slots=True)
class TailRisk:
    """VaR and expected shortfall of the loss at one confidence level."""

    level: float
    value_at_risk: float
    expected_shortfall: float
    tail_count: int


def tail_risk(losses: Floats, levels: Sequence[float] = DEFAULT_LEVELS) -> tuple[TailRisk, ...]:
    """Return VaR and ES at each level (module doc convention)."""
    ordered = np.sort(np.asarray(losses, dtype=np.float64))[::-1]
    rows = []
    for level in levels:
        count = max(1, math.ceil((1 - level) * ordered.size - 1e-9))
        tail = ordered[:count]
        rows.append(TailRisk(level, float(tail[-1]), float(tail.mean()), count))
    return tuple(rows)


@dataclass(frozen=True)
class MonteCarloResult:
    """N correlated scenarios: losses, liquidations, tail risk and the worst draws."""

    assets: tuple[str, ...]
    multipliers: Floats
    base_equity: float
    losses: Floats
    liquidated: Bools
    tails: tuple[TailRisk, ...]
    worst: tuple[int, ...]  # scenario indices, largest loss first

    @property
    def probability_of_liquidation(self) -> float:
        return float(self.liquidated.mean()) if self.liquidated.size else 0.0


def monte_carlo(
    kernel: StressKernel,
    daily_covariance: Floats,
    n: int,
    *,
    horizon_days: float = 1.0,
    seed: int = 1,
    fixed_moves: Mapping[str, float] | None = None,
    levels: Sequence[float] = DEFAULT_LEVELS,
    worst: int = 5,
) -> MonteCarloResult:
    """Run ``n`` correlated scenarios; ``fixed_moves`` multiply in (e.g. a de-peg)."""
    if n < 1:
        raise ConfigError(f"need at least one scenario, got {n}", where="--monte-carlo")
    multipliers = correlated_multipliers(daily_covariance, n, horizon_days, numpy_rng(seed))
    for asset, factor in (fixed_moves or {}).items():
        if asset in kernel.book.column:
            multipliers[:, kernel.book.column[asset]] *= factor
    base = kernel.evaluate(np.ones((1, len(kernel.assets)))).equity[0]
    result = kernel.evaluate(multipliers)
    losses = base - result.equity
    order = np.argsort(-losses, kind="stable")[: max(0, worst)]
    return MonteCarloResult(
        assets=kernel.assets,
        multipliers=multipliers,
        base_equity=float(base),
        losses=losses,
        liquidated=result.liquidated,
        tails=tail_risk(losses, levels),
        worst=tuple(int(i) for i in order),
    )


def evaluate_draw(
    model: CrossMarginModel, account: AccountSnapshot, result: MonteCarloResult, index: int
) -> ScenarioResult:
    """Re-evaluate one Monte Carlo draw exactly through the margin model."""
    moves = {
        asset: Decimal(repr(float(result.multipliers[index, i])))
        for i, asset in enumerate(result.assets)
    }
    return evaluate(model, account, Scenario.from_moves(f"monte_carlo #{index}", moves))
