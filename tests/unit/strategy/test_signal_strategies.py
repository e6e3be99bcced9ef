"""QQE, SMA/momentum and the multi-timeframe combiner: exact orders on small series."""

from __future__ import annotations

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
from tests.unit.strategy.test_indicators import CLOSES, qqe_reference

from xmargin.testing.series import ohlcv

BTC = "BTC/USDT:USDT"
ACCOUNT = "binance.main"


def run_signal(strategy, params, closes, timeframe="1h"):
    venues = [
        venue("binance", "binance_usdm_cross", {"main": {"USDT": "1000000"}}, leverage={BTC: 5})
    ]
    series = ohlcv(T0, timeframe, [(c, c, c, c) for c in closes])
    table = {"id": "s", "strategy": strategy, "account": ACCOUNT, "params": params}
    return run_strategies(venues, [bars("binance", BTC, series)], [table], risk={})


def sides(result, bar_minutes=60):
    """Orders as (index of the bar whose close sent it, side, quantity)."""
    return [(m // bar_minutes - 1, side, qty) for m, _, _, side, qty in orders(result)]


def test_qqe_goes_long_on_the_up_cross_and_reverses_on_the_down_cross():
    closes = [c * 1000 for c in CLOSES]
    params = {"instrument": BTC, "quantity": "0.1", "rsi_period": 3, "smoothing": 2}
    _, result = run_signal("qqe", {**params, "factor": 1.5}, closes)

    trends = qqe_reference(CLOSES, 3, 2, 1.5)
    up, down = trends.index(1), trends.index(-1)
    assert (up, down) == (10, 17)
    assert sides(result) == [
        (10, "buy", D("0.1")),
        (17, "sell", D("0.2")),
        (19, "buy", D("0.1")),  # the run ends: flatten
    ]


def test_qqe_on_resampled_bars_only_acts_at_their_close():
    # the same closes as 4-hour bars built from 1-hour bars (each 4h bar: four equal hours)
    hourly = [c * 1000 for c in CLOSES for _ in range(4)]
    params = {"instrument": BTC, "quantity": "0.1", "rsi_period": 3, "smoothing": 2}
    _, result = run_signal("qqe", {**params, "factor": 1.5, "timeframe": "4h"}, hourly)

    assert sides(result, bar_minutes=240) == [
        (10, "buy", D("0.1")),
        (17, "sell", D("0.2")),
        (19, "buy", D("0.1")),
    ]


def test_sma_momentum_trades_only_when_trend_and_momentum_agree():
    closes = [c * 1000 for c in (100, 101, 102, 103, 104, 100, 96, 95, 99, 103, 104, 104)]
    params = {"instrument": BTC, "quantity": "0.1", "sma_period": 3, "momentum_period": 2}
    _, result = run_signal("sma_momentum", {**params, "min_momentum": 0.01}, closes)

    assert sides(result) == [
        (2, "buy", D("0.1")),  # 102 > SMA 101, +2.0 % over 2 bars
        (5, "sell", D("0.2")),  # 100 < SMA 102.33, -2.9 %
        (8, "buy", D("0.2")),  # 99 > SMA 96.67, +3.1 %
        (11, "sell", D("0.1")),  # 104 > SMA 103.67 but only +0.97 %: flat
    ]


def five_minute_path():
    """36 bars up by 1 from 1000, then 36 bars down by 1: a 3-hour rise, a 3-hour fall."""
    up = [1000.0 + i for i in range(36)]
    down = [1035.0 - i for i in range(1, 37)]
    return up + down


def test_multi_timeframe_acts_only_on_completed_bars_and_weighs_the_votes():
    params = {
        "instrument": BTC,
        "quantity": "0.1",
        "timeframes": "15m,1h",
        "weights": "1,1",
        "fast": 2,
        "slow": 3,
        "threshold": 0.5,
    }
    backtest, result = run_signal("multi_timeframe", params, five_minute_path(), "5m")

    # minutes after T0 at which orders were sent
    assert [(m, side, qty) for m, _, _, side, qty in orders(result)] == [
        # 3 h: the third hourly bar completes; both timeframes vote up: score 1
        (180, "buy", D("0.1")),
        # 3 h 30: the 15-minute vote turns down (1029 after 1032 and 1035); score 0: flat
        (210, "sell", D("0.1")),
        # 5 h: the fifth hourly bar (close 1011) turns the hourly vote down too: short
        (300, "sell", D("0.1")),
        (360, "buy", D("0.1")),  # the run ends: flatten
    ]
    strategy = strategy_of(backtest, "s")
    assert strategy.votes == {"15m": -1, "1h": -1}


def test_the_combiner_never_sees_a_bar_before_its_last_five_minutes_closed():
    params = {"instrument": BTC, "timeframes": "15m,1h", "weights": "1,1", "fast": 2, "slow": 3}
    venues = [venue("binance", "binance_usdm_cross", {"main": {"USDT": "1000000"}})]
    series = ohlcv(T0, "5m", [(c, c, c, c) for c in five_minute_path()])
    table = {"id": "s", "strategy": "multi_timeframe", "account": ACCOUNT, "params": params}
    backtest = build(venues, [bars("binance", BTC, series)], [table], risk={})
    strategy = strategy_of(backtest, "s")
    seen = []
    vote = strategy._vote

    def spy(bar):
        seen.append((bar.timeframe, bar.ts_event, strategy.ctx.now_ns))
        return vote(bar)

    strategy._vote = spy
    backtest.run()

    assert [(tf, (ts - T0 * 10**6) // (HOUR * 10**6)) for tf, ts, _ in seen if tf == "1h"] == [
        ("1h", h) for h in range(1, 7)
    ]
    # each higher-timeframe bar is seen at the very moment its last 5-minute bar closed
    assert all(ts_event == now for _, ts_event, now in seen)
    assert len([tf for tf, _, _ in seen if tf == "15m"]) == 24
