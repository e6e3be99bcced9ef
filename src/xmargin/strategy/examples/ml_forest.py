"""Random-forest signal: predict the next move from technical features, size by conviction.

On each bar (resampled to ``timeframe``): the bar's features (``ml_features``) are
recorded; the label of the bar ``horizon`` bars back is formed (1 when the close rose by
more than ``label_threshold`` since then). Every ``retrain_every`` bars a random forest is
fitted walk-forward on the purged, embargoed past (``walk_forward.purged_train_range``:
samples whose label window reaches the current bar are left out, plus ``embargo`` more).
The forest's probability of a rise ``p`` becomes the signal ``2p − 1`` (0 when weaker than
``min_edge``), and the strategy's ``sizer`` turns it into a target position: by default
``FractionOfEquity(max_fraction)``; assign another ``Sizer`` (the risk engine's) to
``strategy.sizer`` before the run to change it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np

from xmargin.model.market_data import Bar
from xmargin.model.numbers import ZERO
from xmargin.strategy.base import Strategy
from xmargin.strategy.ml_features import FeatureBuilder
from xmargin.strategy.resample import BarResampler, timeframe_ns
from xmargin.strategy.sizing import FractionOfEquity, RiskEngineSizing, Sizer
from xmargin.strategy.walk_forward import purged_train_range

if TYPE_CHECKING:
    from sklearn.ensemble import RandomForestClassifier  # type: ignore[import-untyped]


@dataclass(frozen=True)
class MlForestParams:
    instrument: str = "BTC/USDT:USDT"
    timeframe: str = "1h"
    horizon: int = 4
    label_threshold: float = 0.0
    embargo: int = 4
    min_train: int = 500
    train_window: int = 2000
    retrain_every: int = 168
    n_estimators: int = 50
    max_depth: int = 4
    min_samples_leaf: int = 20
    seed: int = 7
    min_edge: float = 0.1
    max_fraction: Decimal = Decimal("0.5")
    sizing: str = "risk"
    min_trade_fraction: float = 0.2
    flatten_on_stop: bool = True


FOREST_LIMITS = (
    ("seed", 0, 2**32 - 1),  # scikit-learn's random_state range
    ("n_estimators", 1, 10_000),
    ("max_depth", 1, 64),
    ("min_samples_leaf", 1, 1_000_000),
)


class CompiledForest:
    """A fitted forest's trees as flat lists: one prediction costs microseconds, not the
    milliseconds of ``predict_proba`` on a single row. Same numbers as ``predict_proba``."""

    def __init__(self, model: RandomForestClassifier, positive: int) -> None:
        self.trees = []
        for estimator in model.estimators_:
            tree = estimator.tree_
            values = tree.value[:, 0, :]
            totals = values.sum(axis=1)
            share = np.divide(
                values[:, positive], totals, out=np.zeros_like(totals), where=totals > 0
            )
            self.trees.append(
                (
                    tree.feature.tolist(),
                    tree.threshold.tolist(),
                    tree.children_left.tolist(),
                    tree.children_right.tolist(),
                    share.tolist(),
                )
            )

    def probability(self, x: tuple[float, ...]) -> float:
        total = 0.0
        for feature, threshold, left, right, share in self.trees:
            node = 0
            while left[node] != -1:
                node = left[node] if x[feature[node]] <= threshold[node] else right[node]
            total += share[node]
        return total / len(self.trees)


class MlForest(Strategy):
    """Walk-forward random forest; see the module docstring."""

    name = "ml_forest"
    description = (
        "random forest on technical features, trained walk-forward with purged, embargoed "
        "splits; conviction sizes the position"
    )
    Params = MlForestParams

    def __init__(self, strategy_id: str, params: MlForestParams) -> None:
        super().__init__(strategy_id, params)
        if params.horizon < 1 or params.embargo < 0 or params.retrain_every < 1:
            raise ValueError(f"{strategy_id}: need horizon >= 1, embargo >= 0, retrain >= 1")
        if params.min_train < 10 or params.train_window < params.min_train:
            raise ValueError(f"{strategy_id}: need 10 <= min_train <= train_window")
        for name, low, high in FOREST_LIMITS:
            value = getattr(params, name)
            if not low <= value <= high:
                raise ValueError(
                    f"params.{name}: {value} — expected a whole number from {low} to {high}"
                )
        self._resampler = BarResampler(params.timeframe) if params.timeframe else None
        self.features = FeatureBuilder()
        self.samples: list[tuple[float, ...] | None] = []
        self.closes: list[float] = []
        self.labels: list[int | None] = []
        self.forest: CompiledForest | None = None
        if params.sizing not in ("risk", "fraction"):
            raise ValueError(
                f"{strategy_id}: sizing must be risk or fraction, got {params.sizing!r}"
            )
        self.sizer: Sizer = (
            RiskEngineSizing(self.realised_volatility)
            if params.sizing == "risk"
            else FractionOfEquity(params.max_fraction)
        )
        self.trainings: list[tuple[int, range]] = []
        self.signals: list[tuple[int, float]] = []
        self._last_train = -(10**9)

    def subscriptions(self) -> tuple[tuple[str, str], ...]:
        return (("bar", self.params.instrument),)

    def on_bar(self, bar: Bar) -> None:
        if bar.instrument != self.params.instrument:
            return
        bars = self._resampler.update(bar) if self._resampler is not None else [bar]
        for complete in bars:
            signal = self.step(complete)
            if signal is not None:
                self.signals.append((complete.ts_event, signal))
                self.trade(signal)

    def step(self, bar: Bar) -> float | None:
        """Record ``bar``, form the label that just became known, retrain when due, and
        return the signal for the bar (None before the first model)."""
        p = self.params
        k = len(self.closes)
        self.closes.append(bar.close)
        self.samples.append(self.features.update(bar))
        self.labels.append(None)
        j = k - p.horizon
        if j >= 0 and self.samples[j] is not None:
            self.labels[j] = int(bar.close / self.closes[j] - 1.0 > p.label_threshold)
        if k - self._last_train >= p.retrain_every:
            self.train(k)
        x = self.samples[k]
        if self.forest is None or x is None:
            return None
        signal = 2.0 * self.forest.probability(x) - 1.0
        return signal if abs(signal) >= p.min_edge else 0.0

    def train(self, k: int) -> None:
        """Fit on the purged, embargoed samples before sample ``k`` (the next to predict)."""
        p = self.params
        window = purged_train_range(k, p.horizon, p.embargo, p.train_window)
        rows = [i for i in window if self.samples[i] is not None and self.labels[i] is not None]
        if len(rows) < p.min_train:
            return
        y = np.array([self.labels[i] for i in rows])
        if y.min() == y.max():
            return
        x = np.array([self.samples[i] for i in rows])
        # scikit-learn takes about a second to import: only runs that train pay for it
        from sklearn.ensemble import RandomForestClassifier  # noqa: PLC0415

        model = RandomForestClassifier(
            n_estimators=p.n_estimators,
            max_depth=p.max_depth,
            min_samples_leaf=p.min_samples_leaf,
            random_state=p.seed,
            n_jobs=1,
        )
        model.fit(x, y)
        self.forest = CompiledForest(model, int(np.flatnonzero(model.classes_ == 1)[0]))
        self.trainings.append((k, range(rows[0], rows[-1] + 1)))
        self._last_train = k

    def realised_volatility(self) -> float | None:
        """Annualised volatility of the last 24 bar returns (None until there are 24)."""
        closes = self.closes[-25:]
        if len(closes) < 25:
            return None
        returns = np.diff(np.log(closes))
        bars_per_year = 365 * 86_400 * 10**9 / timeframe_ns(self.params.timeframe or "5m")
        return float(np.std(returns) * np.sqrt(bars_per_year))

    def trade(self, signal: float) -> None:
        """Move to the sizer's target if it differs enough from the position."""
        instrument = self.params.instrument
        target = self.sizer(self.ctx, instrument, signal)
        held = self.ctx.position(instrument)
        step = abs(target - held)
        spec = self.ctx.instrument(instrument)
        threshold = Decimal(repr(self.params.min_trade_fraction)) * max(abs(target), abs(held))
        if step >= max(spec.size_increment, spec.min_size, threshold) and step > 0:
            self.ctx.target_position(instrument, target)

    def on_stop(self) -> None:
        if self.params.flatten_on_stop:
            self.ctx.target_position(self.params.instrument, ZERO)
