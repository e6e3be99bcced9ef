"""Every circuit breaker trips at its limit and not just short of it, with its numbers.

Binance USDⓈ-M, 10,000 USDT, no fees: a long of 1 BTC bought at 10,000 makes equity equal
the BTC price, so a price path is an equity path. Breakers value positions at the last trade.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.scenario.harness import HOUR, MINUTE, T0, bars_of, funding, funding_of, ohlcv
from tests.scenario.test_risk_harness import (
    Actor,
    RiskRun,
    buy,
    denials,
    flat_bars,
    risk_config,
    risk_run,
    sell,
)

from xmargin.backtest.feed import FeedSource
from xmargin.model.orders import OrderType

D = Decimal
ETH = "ETH/USDT:USDT"
NO_DEFAULTS = {"daily_loss": False, "max_drawdown": False}


def breaker_run(
    breakers: dict[str, Any],
    closes: list[float],
    script: dict[int, Any] | None = None,
    sources: list[FeedSource] | None = None,
    **risk: Any,
) -> RiskRun:
    document = risk_config(
        {"breakers": {**NO_DEFAULTS, **breakers}, "margin_buffer": 0, **risk}, taker="0"
    )
    actor = Actor("t", script if script is not None else {0: buy("1")})
    return risk_run(document, [flat_bars(*closes), *(sources or [])], actor)


def trips(run: RiskRun) -> list[tuple[float, str, str, Decimal, Decimal]]:
    return [
        ((e["ts_ms"] - T0) / HOUR, e["breaker"], e["action"], D(e["value"]), D(e["limit"]))
        for e in run.of("BreakerTripped")
    ]


def states(run: RiskRun) -> list[tuple[float, str, str]]:
    return [
        ((e["ts_ms"] - T0) / HOUR, e["previous"], e["current"])
        for e in run.of("TradingStateChanged")
    ]


DAILY = {"daily_loss": {"limit": "0.10", "action": "halt"}}


def test_daily_loss_trips_at_the_limit_from_the_utc_days_opening_equity():
    run = breaker_run(DAILY, [10000, 10000, 9500, 9000, 9000, 9000])
    # equity 9,000 at hour 4 is 10 % below the 10,000 of the day's first step
    assert trips(run) == [(4.0, "daily_loss", "halted", D("0.1"), D("0.10"))]
    assert states(run) == [(4.0, "active", "halted")]
    assert run.of("BreakerTripped")[0]["detail"] == (
        "equity 9,000.00 vs 10,000.00 at the start of the UTC day"
    )


def test_daily_loss_does_not_trip_just_above_the_limit():
    run = breaker_run(DAILY, [10000, 10000, 9500, 9000.1, 9000.1])
    assert trips(run) == []


def test_daily_loss_resets_at_the_utc_day_boundary():
    # 24 hourly bars: the day's open is 10,000; the next day opens at 9,200, whose 10 %
    # floor (8,280) the fall to 8,500 does not reach
    closes = [10000.0] * 20 + [9300.0] * 4 + [9200.0, 8500.0, 8500.0]
    assert trips(breaker_run(DAILY, closes)) == []


def test_daily_loss_can_reduce_instead_of_halting():
    run = breaker_run(
        {"daily_loss": {"limit": "0.10", "action": "reducing"}},
        [10000, 10000, 9000, 9000, 9000],
        {0: buy("1"), 3: [sell("0.5"), buy("0.5")]},
    )
    assert states(run) == [(3.0, "active", "reducing")]
    assert [D(f["quantity"]) for f in run.of("OrderFilled")] == [1, D("0.5")]
    assert [rule for rule, _ in denials(run)] == ["reducing"]


def test_max_drawdown_trips_at_the_limit_from_the_equity_peak():
    run = breaker_run(
        {"max_drawdown": {"limit": "0.25"}}, [10000, 10000, 12000, 9000.1, 9000, 9000]
    )
    # peak 12,000; 9,000.1 is 24.9992 % down, 9,000 exactly 25 %
    assert trips(run) == [(5.0, "max_drawdown", "halted", D("0.25"), D("0.25"))]


def test_consecutive_losses_trip_on_the_nth_losing_round_trip():
    lose = [buy("1"), sell("1")]
    closes = [100, 99] * 5
    script = {0: buy("1"), 1: sell("1"), 2: buy("1"), 3: sell("1"), 4: buy("1"), 5: sell("1")}
    run = breaker_run({"consecutive_losses": {"limit": 3}}, closes, script)
    # three round trips bought at 100 and sold at 99: the third trips at hour 6
    assert trips(run) == [(6.0, "consecutive_losses", "halted", D(3), D(3))]
    del lose


def test_a_winning_trade_resets_the_losing_streak():
    closes = [100, 99, 100, 101, 100, 99, 100, 99]
    script = {i: (buy("1") if i % 2 == 0 else sell("1")) for i in range(8)}
    run = breaker_run({"consecutive_losses": {"limit": 3}}, closes, script)
    assert trips(run) == []


def _stale_sources() -> list[FeedSource]:
    eth = ohlcv(T0, "1m", [(2000, 2000, 2000, 2000)] * 10)
    return [bars_of(eth, ETH)]


def _stale_run(limit: int) -> RiskRun:
    document = risk_config(
        {"breakers": {**NO_DEFAULTS, "stale_data": {"limit": limit}}, "margin_buffer": 0},
        taker="0",
    )
    btc = flat_bars(*[10000] * 5, timeframe="1m")
    return risk_run(document, [btc, *_stale_sources()], Actor("t", {0: buy("1")}))


def test_stale_data_trips_when_a_held_instruments_data_is_limit_seconds_old():
    run = _stale_run(120)
    # BTC's last bar is stamped 00:05; at 00:07 it is 120 s old
    [trip] = run.of("BreakerTripped")
    assert (trip["ts_ms"], trip["breaker"], D(trip["value"])) == (
        T0 + 7 * MINUTE,
        "stale_data",
        120,
    )
    assert trip["detail"] == "no data for BTC/USDT:USDT for 120 s"


def test_stale_data_does_not_trip_one_second_short():
    run = _stale_run(121)
    # checked once a minute: at 00:08 it is 180 s old
    [trip] = run.of("BreakerTripped")
    assert trip["ts_ms"] == T0 + 8 * MINUTE


def _depeg_run(low: float) -> RiskRun:
    usdc = bars_of(
        ohlcv(T0, "1h", [(1, 1, 1, 1), (0.99, 0.99, 0.99, 0.99), (low,) * 4]), "USDC/USDT"
    )
    return breaker_run(
        {"stablecoin_depeg": {"limit": "0.98", "assets": ["USDC"]}},
        [10000, 10000, 10000],
        sources=[usdc],
    )


def test_stablecoin_depeg_trips_below_the_peg_threshold():
    run = _depeg_run(0.9799)
    assert trips(run) == [(3.0, "stablecoin_depeg", "halted", D("0.9799"), D("0.98"))]


def test_stablecoin_depeg_does_not_trip_at_the_threshold():
    assert trips(_depeg_run(0.98)) == []


def _funding_run(rate: float) -> RiskRun:
    rates = funding_of(funding([(T0 + 2 * HOUR, 0.0001), (T0 + 3 * HOUR, rate)], 8))
    return breaker_run(
        {"funding_spike": {"limit": "0.003"}}, [10000, 10000, 10000, 10000], sources=[rates]
    )


def test_funding_spike_trips_at_the_limit_per_8_hours_on_a_held_instrument():
    run = _funding_run(-0.003)
    assert trips(run) == [(3.0, "funding_spike", "halted", D("-0.003"), D("0.003"))]


def test_funding_spike_does_not_trip_below_the_limit():
    assert trips(_funding_run(0.0029)) == []


def _reject_run(rejected: int) -> RiskRun:
    # a reduce-only sell with no position passes the risk rules and is rejected by the venue
    reject = sell("0.1", reduce_only=True)
    orders = [reject] * rejected + [buy("0.1")] * (4 - rejected)
    return breaker_run({"reject_rate": {"limit": "0.5", "window": 4}}, [10000, 10000], {0: orders})


def test_reject_rate_trips_when_half_of_the_last_four_orders_are_rejected():
    run = _reject_run(2)
    assert trips(run) == [(1.0, "reject_rate", "halted", D("0.5"), D("0.5"))]


def test_reject_rate_does_not_trip_at_one_in_four():
    assert trips(_reject_run(1)) == []


def test_a_tripped_breaker_latches_until_resume():
    def resume(ctx: Any, actor: Actor) -> None:
        ctx._kernel.risk.resume("checked by hand")

    run = breaker_run(
        DAILY,
        [10000, 10000, 9000, 9500, 9500, 9500],
        {0: buy("1"), 3: buy("0.1"), 4: [resume, buy("0.1")]},
    )
    # the price recovers at hour 4, but trading stays halted until the explicit resume
    assert states(run) == [(3.0, "active", "halted"), (5.0, "halted", "active")]
    assert [rule for rule, _ in denials(run)] == ["halted"]
    assert [f["strategy"] for f in run.of("OrderFilled")] == ["t", "risk", "t"]
    _ = OrderType
