"""The machine-learning strategy: features without look-ahead, purged walk-forward
training, the compiled forest, and pluggable sizing."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from tests.unit.strategy.support import (
    HOUR,
    T0,
    D,
    bars,
    build,
    orders,
    run_strategies,
    strategy_of,
    venue,
)

from xmargin.model.instruments import parse_symbol
from xmargin.model.market_data import Bar
from xmargin.strategy.examples.ml_forest import CompiledForest
from xmargin.strategy.ml_features import FEATURE_NAMES, FeatureBuilder
from xmargin.strategy.sizing import FractionOfEquity
from xmargin.strategy.walk_forward import (
    purged_train_range,
    train_end,
    walk_forward_splits,
)
from xmargin.testing.series import ohlcv

BTC = "BTC/USDT:USDT"
NS_HOUR = HOUR * 1_000_000


def random_bars(n, seed=3):
    rng = np.random.default_rng(seed)
    closes = 50000 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    volumes = rng.uniform(10, 100, n)
    result = []
    for i, (close, volume) in enumerate(zip(closes, volumes, strict=True)):
        start = T0 * 1_000_000 + i * NS_HOUR
        high, low = close * 1.004, close * 0.996
        result.append(Bar("v", BTC, "1h", start, start + NS_HOUR, close, high, low, close, volume))
    return result


def features_of(series):
    builder = FeatureBuilder()
    return [builder.update(bar) for bar in series]


def test_no_feature_at_time_t_uses_data_after_t():
    series = random_bars(200)
    full = features_of(series)
    other_future = random_bars(200, seed=99)
    for t in range(len(series)):
        # computed from the bars up to t only ...
        assert features_of(series[: t + 1])[t] == full[t]
        # ... and unchanged whatever comes after t
        changed = series[: t + 1] + other_future[t + 1 :]
        assert features_of(changed)[t] == full[t]
    # the slowest feature, the 48-bar SMA, exists from the 48th bar (index 47)
    assert full[46] is None and len(full[47]) == len(FEATURE_NAMES)


def test_features_by_hand_for_one_bar():
    series = random_bars(60)
    x = features_of(series)[59]
    closes = [b.close for b in series]
    assert x[0] == pytest.approx(closes[59] / closes[58] - 1)
    assert x[1] == pytest.approx(closes[59] / closes[55] - 1)
    assert x[3] == pytest.approx(closes[59] / np.mean(closes[48:60]) - 1)
    returns = [closes[i] / closes[i - 1] - 1 for i in range(36, 60)]
    assert x[6] == pytest.approx(np.std(returns))
    assert x[8] == pytest.approx((series[59].high - series[59].low) / closes[59])


def test_training_samples_are_purged_and_embargoed():
    # test block at 100, labels 4 ahead, embargo 2: the last allowed sample is 93
    assert train_end(100, 4, 2) == 94
    assert purged_train_range(100, 4, 2) == range(0, 94)
    assert purged_train_range(100, 4, 2, max_train=50) == range(44, 94)
    splits = list(walk_forward_splits(20, 5, 2, 1, min_train=3))
    # the block at 5 would train on 0-1 only (fewer than 3): skipped
    assert splits == [(range(0, 7), range(10, 15)), (range(0, 12), range(15, 20))]
    for train, test in splits:
        assert max(train) + 2 < min(test) - 1  # label window ends before the embargo gap


def test_the_compiled_forest_gives_predict_probas_numbers():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(300, 4))
    y = (x[:, 0] + 0.5 * rng.normal(size=300) > 0).astype(int)
    model = RandomForestClassifier(n_estimators=7, max_depth=3, random_state=1).fit(x, y)
    forest = CompiledForest(model, 1)
    probe = rng.normal(size=(50, 4))
    expected = model.predict_proba(probe)[:, 1]
    got = [forest.probability(tuple(row)) for row in probe]
    assert got == pytest.approx(expected.tolist(), abs=1e-12)


PARAMS = {
    "instrument": BTC,
    "timeframe": "",
    "horizon": 2,
    "embargo": 1,
    "min_train": 30,
    "train_window": 60,
    "retrain_every": 20,
    "n_estimators": 5,
    "max_depth": 3,
    "min_samples_leaf": 3,
    "min_edge": 0.0,
    "min_trade_fraction": 0.0,
}


def ml_run(params=None, n=160):
    series = random_bars(n)
    rows = [(b.open, b.high, b.low, b.close, b.volume) for b in series]
    venues = [
        venue("binance", "binance_usdm_cross", {"main": {"USDT": "100000"}}, leverage={BTC: 5})
    ]
    table = {
        "id": "ml",
        "strategy": "ml_forest",
        "account": "binance.main",
        "params": {**PARAMS, **(params or {})},
    }
    return venues, [bars("binance", BTC, ohlcv(T0, "1h", rows))], [table]


def test_the_strategy_trains_walk_forward_only_on_labels_known_before_the_embargo():
    backtest, result = run_strategies(*ml_run())
    strategy = strategy_of(backtest, "ml")

    # first fit at bar 80: samples 47 (first features) to 76 = 80 - 2 - 1 - 1 are the
    # 30 needed; then every 20 bars
    assert [k for k, _ in strategy.trainings] == [80, 100, 120, 140]
    for k, rows in strategy.trainings:
        # trained at bar k (before predicting it): every label ended by k - 1 - embargo
        assert max(rows) + 2 <= k - 1 - 1
        assert len(rows) <= 60
    assert strategy.signals and orders(result)


def test_the_sizer_is_pluggable():
    venues, sources, tables = ml_run()
    backtest = build(venues, sources, tables)
    strategy = strategy_of(backtest, "ml")
    strategy.sizer = lambda ctx, symbol, signal: D("0.01") if signal > 0 else D("-0.02")
    result = backtest.run()

    targets = []
    held = D(0)
    for _, _, _, side, quantity in orders(result):
        held += quantity if side == "buy" else -quantity
        targets.append(held)
    assert set(targets[:-1]) <= {D("0.01"), D("-0.02")} and targets[-1] == 0


class FakeContext:
    """Just what ``FractionOfEquity`` reads."""

    def __init__(self, equity, price, position=None, room=None):
        self.equity, self.price = equity, price
        self.held = D(0) if position is None else position
        self.room = D(100) if room is None else room

    def last_price(self, symbol):
        return self.price

    def margin(self, liquidation_prices=True):
        return type("Report", (), {"equity": self.equity})()

    def position(self, symbol):
        return self.held

    def max_order_quantity(self, symbol, side):
        return self.room

    def instrument(self, symbol):
        return parse_symbol(symbol, size_increment=Decimal("0.001"))


def test_fraction_of_equity_scales_with_the_signal_and_is_capped_by_the_venue():
    sizer = FractionOfEquity(D("0.5"))
    # 0.6 × 0.5 × 10,000 / 50,000 = 0.06
    assert sizer(FakeContext(D(10000), 50000.0), BTC, 0.6) == D("0.06")
    assert sizer(FakeContext(D(10000), 50000.0), BTC, -1.0) == D("-0.1")
    assert sizer(FakeContext(D(10000), 50000.0), BTC, 0.0) == 0
    # the venue would accept only 0.02 more on top of a 0.01 long: the target is 0.03
    capped = FakeContext(D(10000), 50000.0, position=D("0.01"), room=D("0.02"))
    assert sizer(capped, BTC, 1.0) == D("0.03")
