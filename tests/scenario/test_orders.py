"""Order types on the simulated exchange: when and at what price each one fills.

Binance USDⓈ-M, BTC/USDT:USDT (tick 0.1, lot 0.001), maker fee 0.0002, taker 0.0005,
hourly bars; ``Submit`` at bar ``i`` is sent at that bar's close, ``T0 + (i+1) h``.
"""

from __future__ import annotations

from tests.scenario.harness import (
    BTC,
    HOUR,
    T0,
    AfterFill,
    Cancel,
    D,
    Modify,
    Submit,
    bars_of,
    config,
    marks,
    marks_of,
    ohlcv,
    run,
    venue,
    view,
)

from xmargin.model.orders import OrderType, TimeInForce, TriggerSource

BARS = ohlcv(
    T0,
    "1h",
    [
        (100, 101, 99, 100),  # 0: 00:00-01:00
        (100.5, 102, 97, 101),  # 1
        (101, 103, 100, 102),  # 2
        (90, 92, 88, 91),  # 3: gaps down
        (91, 95, 90, 94),  # 4
        (94, 96, 93, 95),  # 5
    ],
)
ACCOUNT = "binance.main"
FILL = ("hour", "client_order_id", "side", "quantity", "price", "fee", "liquidity")


def run_orders(steps, **settings):
    return run(config(venue(leverage={BTC: 10}, **settings)), [bars_of(BARS)], steps)


def fills(result):
    return view(result.of("OrderFilled"), "hour", "side", "quantity", "price", "liquidity")


# -- market orders, fill timing, latency -----------------------------------------------------


def test_market_order_fills_at_the_signal_bar_close_as_taker():
    result = run_orders([(0, Submit("m", "buy", "1"))])

    assert view(result.of("OrderFilled"), *FILL) == [
        (1, "O-000001", "buy", D(1), D(100), D("0.05"), "taker")
    ]
    assert result.types() == ["OrderSubmitted", "OrderAccepted", "OrderFilled"]


def test_market_order_fills_at_the_next_bar_open_when_the_venue_fills_at_next_open():
    result = run_orders([(0, Submit("m", "buy", "1"))], fill_at="next_open")

    assert view(result.of("OrderAccepted"), "hour") == [(1,)]
    assert fills(result) == [(2, "buy", D(1), D("100.5"), "taker")]


def test_an_order_reaching_the_venue_after_its_bar_fills_at_the_next_bar_open():
    result = run_orders([(0, Submit("m", "buy", "1"))], latency={"order_ms": 250})

    # sent at 01:00, accepted 250 ms later, filled at the 01:00 bar's open at its close
    [accepted] = result.of("OrderAccepted")
    assert accepted["ts_ms"] == T0 + HOUR + 250
    assert fills(result) == [(2, "buy", D(1), D("100.5"), "taker")]


def test_feed_latency_delays_the_strategys_view_of_each_bar():
    result = run_orders([(0, Submit("m", "buy", "1"))], latency={"feed_ms": 30_000})

    # the 00:00 bar closes at 01:00; the strategy hears of it 30 s later and its market order
    # takes the last price known then (that bar's close, 100)
    [submitted] = result.of("OrderSubmitted")
    assert submitted["ts_ms"] == T0 + HOUR + 30_000
    assert view(result.of("OrderFilled"), "ts_ms", "price") == [(T0 + HOUR + 30_000, D(100))]


def test_fixed_slippage_moves_a_taker_fill_against_the_trader():
    result = run_orders(
        [(0, Submit("b", "buy", "1")), (1, Submit("s", "sell", "1"))],
        slippage={"kind": "fixed_bps", "bps": "10"},
    )

    # 100 × 1.001 = 100.1; 101 × 0.999 = 100.899 → 100.9 on the 0.1 tick
    assert fills(result) == [
        (1, "buy", D(1), D("100.1"), "taker"),
        (2, "sell", D(1), D("100.9"), "taker"),
    ]


# -- limit orders -------------------------------------------------------------------------------


def test_resting_limit_fills_at_its_price_as_maker_when_a_bar_trades_through_it():
    result = run_orders([(0, Submit("l", "buy", "1", OrderType.LIMIT, price="99"))])

    # bar 1 trades down to 97 < 99: filled at 99, maker fee 99 × 0.0002
    assert view(result.of("OrderFilled"), *FILL) == [
        (2, "O-000001", "buy", D(1), D(99), D("0.0198"), "maker")
    ]


def test_a_bar_that_only_touches_the_limit_price_does_not_fill_it():
    # bar 1's low is exactly 97; bar 3 opens below it at 90 (a gap): filled at the open,
    # inside the bar's range, not at the limit
    result = run_orders([(0, Submit("l", "buy", "1", OrderType.LIMIT, price="97"))])

    assert fills(result) == [(4, "buy", D(1), D(90), "maker")]


def test_sell_limit_fills_when_the_bar_trades_above_it():
    result = run_orders(
        [
            (0, Submit("long", "buy", "1")),
            (0, Submit("tp", "sell", "1", OrderType.LIMIT, price="102.5")),
        ]
    )

    assert fills(result) == [
        (1, "buy", D(1), D(100), "taker"),
        (3, "sell", D(1), D("102.5"), "maker"),
    ]


def test_marketable_limit_fills_at_the_close_as_taker():
    result = run_orders([(0, Submit("l", "buy", "1", OrderType.LIMIT, price="105"))])

    assert fills(result) == [(1, "buy", D(1), D(100), "taker")]


def test_a_taker_limit_fill_never_slips_past_its_limit_price():
    result = run_orders(
        [(0, Submit("l", "buy", "1", OrderType.LIMIT, price="100.05"))],
        slippage={"kind": "fixed_bps", "bps": "10"},
    )

    # marketable at 100; 10 bps would make it 100.1, capped at the 100.05 limit… which is
    # off the 0.1 tick, so the order is refused before it can fill
    assert fills(result) == []
    [rejected] = result.of("OrderRejected")
    assert rejected["reason"] == "price 100.05 is not on the tick 0.1"

    result = run_orders(
        [(0, Submit("l", "buy", "1", OrderType.LIMIT, price="100.1"))],
        slippage={"kind": "fixed_bps", "bps": "20"},
    )
    assert fills(result) == [(1, "buy", D(1), D("100.1"), "taker")]


def test_post_only_limit_that_would_take_liquidity_expires():
    result = run_orders(
        [(0, Submit("p", "buy", "1", OrderType.LIMIT, price="105", post_only=True))]
    )

    assert view(result.of("OrderExpired"), "hour", "reason") == [
        (1, "post-only order would take liquidity")
    ]
    assert result.of("OrderFilled") == []
    assert result.strategy.orders["p"].status.value == "expired"


def test_post_only_limit_below_the_market_rests_and_fills_as_maker():
    result = run_orders([(0, Submit("p", "buy", "1", OrderType.LIMIT, price="99", post_only=True))])

    assert fills(result) == [(2, "buy", D(1), D(99), "maker")]


def test_limit_reaching_the_venue_marketable_at_the_next_open_takes_there():
    # sent at 01:00 (close 100), it reaches the venue between bars; bar 1 opens at 100.5 ≤ 101
    result = run_orders(
        [(0, Submit("l", "buy", "1", OrderType.LIMIT, price="101"))], latency={"order_ms": 250}
    )

    assert fills(result) == [(2, "buy", D(1), D("100.5"), "taker")]


def test_limit_with_next_open_fills_never_fills_outside_the_bar_it_meets():
    result = run_orders(
        [(0, Submit("l", "buy", "1", OrderType.LIMIT, price="105"))], fill_at="next_open"
    )

    assert fills(result) == [(2, "buy", D(1), D("100.5"), "taker")]


def test_post_only_reaching_the_venue_through_the_next_open_expires_there():
    result = run_orders(
        [(0, Submit("p", "buy", "1", OrderType.LIMIT, price="101", post_only=True))],
        fill_at="next_open",
    )

    assert view(result.of("OrderExpired"), "hour") == [(2,)]
    assert result.of("OrderFilled") == []


# -- stop and take-profit orders ----------------------------------------------------------------


def test_stop_market_fills_at_its_trigger_when_the_bar_reaches_it():
    result = run_orders(
        [(0, Submit("s", "buy", "1", OrderType.STOP_MARKET, trigger_price="102.5"))]
    )

    assert view(result.of("OrderTriggered"), "hour", "trigger_price") == [(3, D("102.5"))]
    assert fills(result) == [(3, "buy", D(1), D("102.5"), "taker")]


def test_stop_market_gapped_through_fills_at_the_bar_open():
    steps = [
        (0, Submit("long", "buy", "1")),
        (
            0,
            Submit(
                "stop", "sell", "1", OrderType.STOP_MARKET, trigger_price="95", reduce_only=True
            ),
        ),
    ]

    result = run_orders(steps)

    # bar 3 opens at 90, below the 95 trigger: the stop fills at the open
    assert fills(result) == [(1, "buy", D(1), D(100), "taker"), (4, "sell", D(1), D(90), "taker")]
    assert view(result.of("OrderFilled"), "realized_pnl") == [(0,), (D(-10),)]


def test_stop_that_would_trigger_at_once_is_rejected():
    result = run_orders([(0, Submit("s", "sell", "1", OrderType.STOP_MARKET, trigger_price="101"))])

    assert view(result.of("OrderRejected"), "hour", "reason") == [
        (1, "order would immediately trigger")
    ]


def test_stop_limit_rests_as_a_limit_from_the_bar_after_it_triggers():
    steps = [
        (0, Submit("long", "buy", "1")),
        (0, Submit("sl", "sell", "1", OrderType.STOP_LIMIT, price="94", trigger_price="95")),
    ]

    result = run_orders(steps)

    # triggered by bar 3 (88-92, below the 94 limit: no fill); bar 4 trades up to 95 > 94
    assert view(result.of("OrderTriggered"), "hour") == [(4,)]
    assert fills(result)[1:] == [(5, "sell", D(1), D(94), "maker")]


def test_take_profit_market_triggers_on_a_rise_for_a_sell():
    steps = [
        (0, Submit("long", "buy", "1")),
        (0, Submit("tp", "sell", "1", OrderType.TAKE_PROFIT_MARKET, trigger_price="102.5")),
    ]

    result = run_orders(steps)

    assert fills(result)[1:] == [(3, "sell", D(1), D("102.5"), "taker")]


def test_take_profit_limit_of_a_short_fills_at_the_open_that_gapped_below_its_limit():
    steps = [
        (0, Submit("short", "sell", "1")),
        (
            0,
            Submit("tp", "buy", "1", OrderType.TAKE_PROFIT_LIMIT, price="97", trigger_price="97.5"),
        ),
    ]

    result = run_orders(steps)

    # triggered by bar 1 (low 97 ≤ 97.5); bar 2 stays above 97; bar 3 opens at 90
    assert view(result.of("OrderTriggered"), "hour") == [(2,)]
    assert fills(result)[1:] == [(4, "buy", D(1), D(90), "maker")]


def test_stop_on_the_mark_triggers_on_the_mark_path_not_on_trades():
    trades = ohlcv(T0, "1h", [(100, 101, 99, 100)] * 5)
    mark_path = marks(T0, "1h", [(100,) * 4, (100,) * 4, (100, 100, 94, 99), (99,) * 4, (99,) * 4])
    steps = [
        (0, Submit("long", "buy", "2")),
        (
            0,
            Submit(
                "mark-stop",
                "sell",
                "1",
                OrderType.STOP_MARKET,
                trigger_price="95",
                trigger_source=TriggerSource.MARK,
                reduce_only=True,
            ),
        ),
        (
            0,
            Submit(
                "last-stop",
                "sell",
                "1",
                OrderType.STOP_MARKET,
                trigger_price="95",
                trigger_source=TriggerSource.LAST,
                reduce_only=True,
            ),
        ),
    ]

    result = run(config(venue(leverage={BTC: 10})), [bars_of(trades), marks_of(mark_path)], steps)

    # the mark dips to 94 in the 02:00 mark bar; the last trade is still 100, so the
    # triggered stop fills at its 95 trigger; trades never reach 95
    assert view(result.of("OrderTriggered"), "hour", "client_order_id") == [(3, "O-000002")]
    assert fills(result)[1:] == [(3, "sell", D(1), D(95), "taker")]


def test_stop_on_the_mark_without_a_mark_feed_triggers_on_the_bars():
    steps = [
        (0, Submit("long", "buy", "1")),
        (
            0,
            Submit(
                "stop",
                "sell",
                "1",
                OrderType.STOP_MARKET,
                trigger_price="98",
                trigger_source=TriggerSource.MARK,
            ),
        ),
    ]

    result = run_orders(steps)

    assert fills(result)[1:] == [(2, "sell", D(1), D(98), "taker")]


def test_venue_stop_trigger_setting_is_the_default_trigger_source():
    steps = [(0, Submit("stop", "sell", "1", OrderType.STOP_MARKET, trigger_price="98"))]

    result = run_orders(steps, stop_trigger="mark")

    assert result.strategy.orders["stop"].trigger_source is TriggerSource.MARK
    assert fills(result) == [(2, "sell", D(1), D(98), "taker")]


def test_a_fill_that_cancels_its_sibling_inside_the_bar_leaves_the_sibling_unfilled():
    # an OCO by hand: the take-profit fills in bar 2 and its fill cancels the stop, still
    # resting in the same bar's matching; bar 3 gaps through the stop's 96
    steps = [
        (0, Submit("long", "buy", "1")),
        (0, Submit("tp", "sell", "1", OrderType.LIMIT, price="102.5", reduce_only=True)),
        (0, Submit("sl", "sell", "1", OrderType.STOP_MARKET, trigger_price="96", reduce_only=True)),
        (AfterFill("tp"), Cancel("sl")),
    ]

    result = run_orders(steps)

    assert fills(result)[1:] == [(3, "sell", D(1), D("102.5"), "maker")]
    assert view(result.of("OrderCanceled"), "hour", "client_order_id") == [(3, "O-000003")]


# -- cancel and modify --------------------------------------------------------------------------


def test_canceled_limit_never_fills():
    steps = [(0, Submit("l", "buy", "1", OrderType.LIMIT, price="95")), (2, Cancel("l"))]

    result = run_orders(steps)

    assert view(result.of("OrderCanceled"), "hour", "reason") == [(3, "canceled by request")]
    assert result.of("OrderFilled") == []


def test_a_cancel_sent_behind_its_order_reaches_the_venue_after_it_and_cancels_it():
    steps = [(0, Submit("m", "buy", "1")), (0, Cancel("m"))]

    result = run_orders(steps, latency={"order_ms": 250})

    # both travel 250 ms from 01:00; the venue takes the order, then the cancel, before the
    # next bar's open could fill it
    assert result.types() == ["OrderSubmitted", "OrderAccepted", "OrderCanceled"]
    assert view(result.of("OrderAccepted", "OrderCanceled"), "ts_ms") == [
        (T0 + HOUR + 250,),
        (T0 + HOUR + 250,),
    ]


def test_modified_limit_fills_at_its_new_price():
    steps = [
        (0, Submit("l", "buy", "1", OrderType.LIMIT, price="95")),
        (1, Modify("l", price="100.5", quantity="2")),
    ]

    result = run_orders(steps)

    assert view(result.of("OrderModified"), "hour", "quantity", "price") == [(2, D(2), D("100.5"))]
    assert fills(result) == [(3, "buy", D(2), D("100.5"), "maker")]


def test_limit_repriced_through_the_market_takes_at_once():
    steps = [
        (0, Submit("l", "buy", "1", OrderType.LIMIT, price="95")),
        (1, Modify("l", price="105")),
    ]

    result = run_orders(steps)

    assert fills(result) == [(2, "buy", D(1), D(101), "taker")]


def test_post_only_repriced_through_the_market_expires():
    steps = [
        (0, Submit("l", "buy", "1", OrderType.LIMIT, price="95", post_only=True)),
        (1, Modify("l", price="105")),
    ]

    result = run_orders(steps)

    assert view(result.of("OrderExpired"), "hour") == [(2,)]


def test_modifying_a_partly_filled_order_below_its_fill_cancels_it():
    bars = ohlcv(T0, "1h", [(100, 101, 99, 100, 10)] * 4)
    document = config(
        venue(leverage={BTC: 10}, slippage={"kind": "volume", "participation": "0.1"})
    )
    steps = [(0, Submit("m", "buy", "3")), (1, Modify("m", quantity="1.5"))]

    result = run(document, [bars_of(bars)], steps)

    # 1 BTC fills per bar (10 % of a volume of 10): 2 by 02:00, when it is cut to 1.5
    assert view(result.of("OrderFilled"), "hour", "quantity") == [(1, D(1)), (2, D(1))]
    assert view(result.of("OrderCanceled"), "hour", "reason") == [
        (2, "modified below its filled quantity")
    ]


def test_time_in_force_is_kept_by_a_marketable_limit():
    result = run_orders(
        [(0, Submit("i", "buy", "1", OrderType.LIMIT, price="99", time_in_force=TimeInForce.IOC))]
    )

    # not marketable at 100: an IOC limit is canceled at once rather than resting
    assert view(result.of("OrderCanceled"), "hour", "reason") == [(1, "ioc remainder")]
    assert result.of("OrderFilled") == []


def test_an_order_below_the_minimum_notional_is_rejected_but_reduce_only_is_not():
    document = config(venue(leverage={BTC: 10}))
    document["instruments"] = [{"venue": "binance", "symbol": BTC, "min_notional": "100"}]
    steps = [
        (0, Submit("small", "buy", "0.5")),
        (1, Submit("big", "buy", "2")),
        (2, Submit("close", "sell", "0.5", reduce_only=True)),
    ]
    result = run(document, [bars_of(BARS)], steps)

    assert view(result.of("OrderRejected"), "hour", "reason") == [
        (1, "notional 50.00 is below the minimum 100")
    ]
    assert fills(result) == [
        (2, "buy", D(2), D(101), "taker"),
        (3, "sell", D("0.5"), D(102), "taker"),
    ]


def test_a_resting_limit_keeps_its_margin_so_a_second_order_is_refused():
    # 100 USDT at 10x. The resting buy of 5 at 95 reserves 5 × 95 / 10 = 47.5 (spec C.5). The
    # second, 6 at 95, would need 57 of margin and 0.285 of fee: 100 − 0.285 − 57 − 47.5 < 0.
    document = config(venue(leverage={BTC: 10}, balances={"USDT": "100"}))
    steps = [
        (0, Submit("rest", "buy", "5", OrderType.LIMIT, price="95")),
        (0, Submit("more", "buy", "6", OrderType.LIMIT, price="95")),
    ]
    result = run(document, [bars_of(BARS)], steps)

    assert view(result.of("OrderRejected"), "client_order_id", "reason") == [
        ("O-000002", "insufficient margin: free collateral after it would be -4.78 USDT")
    ]
    assert view(result.of("OrderFilled"), "client_order_id", "quantity") == [("O-000001", D(5))]
