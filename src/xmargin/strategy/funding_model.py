"""Expected funding of a perpetual over a holding horizon, learned from settled rates only.

Rates are compared per hour (``rate / interval_hours``), so an 8-hourly venue and an
hourly one are on one scale. The model is a mean-reverting AR(1) per hour:

* ``mean``: the long-run level, an exponentially weighted mean with a half-life in hours;
* ``level``: the current level, the same with a short half-life;
* ``persistence``: the lag-one autocorrelation of the settled rates over the last
  ``window`` settlements (clamped to [0, 0.999]), turned into a per-hour factor
  ``φ = ρ^(1 / interval_hours)``.

The expected funding over the next ``H`` hours (a fraction of notional, positive = longs
pay) is ``H·mean + (level − mean)·φ(1 − φ^H)/(1 − φ)``. Every number comes from rates that
have settled, so nothing is known before its settlement time.
"""

from __future__ import annotations

from collections import deque
from itertools import pairwise


class FundingEstimator:
    """Learn one perpetual's funding from its settlements; see the module docstring."""

    __slots__ = (
        "_pairs",
        "_rates",
        "count",
        "interval_hours",
        "last_rate",
        "level",
        "long_half_life",
        "mean",
        "min_settlements",
        "short_half_life",
        "window",
    )

    def __init__(
        self,
        *,
        long_half_life_hours: float = 168.0,
        short_half_life_hours: float = 8.0,
        window: int = 90,
        min_settlements: int = 9,
    ) -> None:
        self.long_half_life = long_half_life_hours
        self.short_half_life = short_half_life_hours
        self.window = window
        self.min_settlements = min_settlements
        self.mean = 0.0
        self.level = 0.0
        self.count = 0
        self.interval_hours = 8
        self.last_rate = 0.0
        self._rates: deque[float] = deque(maxlen=window + 1)
        self._pairs = 0

    @property
    def ready(self) -> bool:
        return self.count >= self.min_settlements

    def observe(self, rate: float, interval_hours: int) -> None:
        """Add a settled rate (a fraction for the interval of ``interval_hours`` ending now)."""
        hours = max(int(interval_hours), 1)
        hourly = rate / hours
        self.interval_hours = hours
        self.last_rate = rate
        if self.count == 0:
            self.mean = self.level = hourly
        else:
            self.mean += _weight(hours, self.long_half_life) * (hourly - self.mean)
            self.level += _weight(hours, self.short_half_life) * (hourly - self.level)
        self.count += 1
        self._rates.append(hourly)

    @property
    def autocorrelation(self) -> float:
        """Lag-one autocorrelation of the last ``window`` settled rates, clamped to [0, 0.999]."""
        rates = list(self._rates)
        if len(rates) < 3:
            return 0.0
        mean = sum(rates) / len(rates)
        deviations = [r - mean for r in rates]
        variance = sum(d * d for d in deviations)
        if variance <= 0.0:
            return 0.999
        covariance = sum(a * b for a, b in pairwise(deviations))
        return min(max(covariance / variance, 0.0), 0.999)

    @property
    def persistence(self) -> float:
        """The per-hour AR(1) factor φ."""
        rho = self.autocorrelation
        return rho ** (1.0 / self.interval_hours) if rho > 0.0 else 0.0

    def expected(self, horizon_hours: float) -> float:
        """Expected funding over the next ``horizon_hours`` (fraction; positive: longs pay)."""
        phi = self.persistence
        decay = 0.0
        if phi > 0.0:
            decay = phi * (1.0 - phi**horizon_hours) / (1.0 - phi)
        return horizon_hours * self.mean + (self.level - self.mean) * decay


def _weight(hours: int, half_life: float) -> float:
    """The EWMA weight of an observation covering ``hours`` with a half-life in hours."""
    return 1.0 - 0.5 ** (hours / half_life) if half_life > 0 else 1.0
