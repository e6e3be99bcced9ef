"""Partial fills, time in force and reduce-only orders on the simulated exchange.

Binance USDⓈ-M BTC/USDT:USDT, taker 0.0005, maker 0.0002. With ``volume`` slippage at a
participation of 10 %, a bar of volume 10 lets 1 BTC fill; the rest waits for later bars.
"""

from __future__ import annotations

from tests.scenario.harness import (
    BTC,
    HOUR,
    T0,
    AtMs,
    D,
    Submit,
    bars_of,
    config,
    flat_marks,
    marks_of,
    ohlcv,
    quotes,
    quotes_of,
    run,
    trades,
    trades_of,
    venue,
    view,
)

from xmargin.model.orders import OrderType, TimeInForce

ACCOUNT = "binance.main"
BARS = ohlcv(
    T0,
    "1h",
    [
        (100, 101, 99, 100, 10),
        (100.5, 102, 97, 101, 10),
        (101, 103, 100, 102, 10),
        (102, 103, 101, 102, 10),
    ],
)
VOLUME = {"kind": "volume", "participation": "0.1"}


def run_fills(steps, slippage=VOLUME, bars=BARS):
    return run(config(venue(leverage={BTC: 10}, slippage=slippage)), [bars_of(bars)], steps)


def fills(result):
    return view(result.of("OrderFilled"), "hour", "client_order_id", "quantity", "price")


# -- volume participation -------------------------------------------------------------------


def test_market_order_larger_than_a_bars_participation_fills_over_several_bars():
    result = run_fills([(0, Submit("big", "buy", "2.5"))])

    # 1 at the signal bar's close, then 1 and 0.5 at the next bars' opens
    assert fills(result) == [
        (1, "O-000001", D(1), D(100)),
        (2, "O-000001", D(1), D("100.5")),
        (3, "O-000001", D("0.5"), D(101)),
    ]
    assert result.strategy.orders["big"].status.value == "filled"
    assert result.position(ACCOUNT, BTC) == D("2.5")


def test_orders_in_one_bar_share_its_participation():
    result = run_fills([(0, Submit("a", "buy", "0.6")), (0, Submit("b", "buy", "0.6"))])

    assert fills(result) == [
        (1, "O-000001", D("0.6"), D(100)),
        (1, "O-000002", D("0.4"), D(100)),
        (2, "O-000002", D("0.2"), D("100.5")),
    ]


def test_limit_order_larger_than_a_bars_participation_fills_at_its_price_over_bars():
    result = run_fills([(0, Submit("l", "buy", "1.5", OrderType.LIMIT, price="99"))])

    # only bar 1 trades below 99; the rest waits for a bar that does
    assert fills(result) == [(2, "O-000001", D(1), D(99))]
    assert result.strategy.orders["l"].status.value == "partially_filled"


def test_volume_impact_moves_the_price_by_the_share_of_the_bar_taken():
    slippage = {"kind": "volume", "participation": "0.1", "impact_bps": "100"}

    result = run_fills([(0, Submit("m", "buy", "1"))], slippage=slippage)

    # 1 of a volume of 10 at 100 bps per 100 %: 100 × (1 + 0.01 × 0.1) = 100.1
    assert fills(result) == [(1, "O-000001", D(1), D("100.1"))]


def test_ioc_market_order_cancels_what_the_bar_cannot_fill():
    result = run_fills([(0, Submit("i", "buy", "2.5", time_in_force=TimeInForce.IOC))])

    assert fills(result) == [(1, "O-000001", D(1), D(100))]
    assert view(result.of("OrderCanceled"), "hour", "reason") == [(1, "ioc remainder")]


def test_fok_order_that_cannot_fill_in_full_fills_nothing():
    result = run_fills([(0, Submit("f", "buy", "2.5", time_in_force=TimeInForce.FOK))])

    assert result.of("OrderFilled") == []
    assert view(result.of("OrderCanceled"), "hour", "reason") == [
        (1, "fill-or-kill could not fill in full")
    ]
    assert result.position(ACCOUNT, BTC) == 0


def test_fok_order_that_fits_fills_in_full():
    result = run_fills([(0, Submit("f", "buy", "1", time_in_force=TimeInForce.FOK))])

    assert fills(result) == [(1, "O-000001", D(1), D(100))]


def test_ioc_limit_takes_what_is_marketable_and_cancels_the_rest():
    steps = [
        (0, Submit("i", "buy", "2", OrderType.LIMIT, price="100", time_in_force=TimeInForce.IOC))
    ]

    result = run_fills(steps)

    assert view(result.of("OrderFilled"), "quantity", "price", "liquidity") == [
        (D(1), D(100), "taker")
    ]
    assert view(result.of("OrderCanceled"), "reason") == [("ioc remainder",)]


# -- trades and quotes --------------------------------------------------------------------------

# results need a price track per instrument: a flat mark, irrelevant to these fills
MARK = marks_of(flat_marks(T0 - HOUR, "1h", [100.0, 100.0]))


def test_orders_on_a_trade_feed_share_each_trades_quantity():
    feed = trades([(T0 + 1000, 100.0, 0.5), (T0 + 2000, 101.0, 0.3), (T0 + 3000, 102.0, 1.0)])
    steps = [
        (AtMs(T0 + 1000), Submit("a", "buy", "1", symbol=BTC)),
        (AtMs(T0 + 1000), Submit("b", "buy", "1", symbol=BTC)),
    ]

    result = run(config(venue(leverage={BTC: 10})), [trades_of(feed), MARK], steps)

    # a trade's quantity is all it can fill, whichever orders take it
    assert view(result.of("OrderFilled"), "ts_ms", "client_order_id", "quantity", "price") == [
        (T0 + 1000, "O-000001", D("0.5"), D(100)),
        (T0 + 2000, "O-000001", D("0.3"), D(101)),
        (T0 + 3000, "O-000001", D("0.2"), D(102)),
        (T0 + 3000, "O-000002", D("0.8"), D(102)),
    ]


def test_market_orders_on_a_quote_feed_take_the_opposite_side_up_to_its_size():
    feed = quotes(
        [
            (T0 + 1000, 99.0, 2.0, 100.0, 0.5),
            (T0 + 2000, 99.5, 2.0, 100.5, 2.0),
        ]
    )
    steps = [(AtMs(T0 + 1000), Submit("m", "buy", "1", symbol=BTC))]

    result = run(config(venue(leverage={BTC: 10})), [quotes_of(feed), MARK], steps)

    # sent at the first quote: 0.5 at its ask; the rest at the next quote's ask
    assert view(result.of("OrderFilled"), "ts_ms", "quantity", "price", "liquidity") == [
        (T0 + 1000, D("0.5"), D(100), "taker"),
        (T0 + 2000, D("0.5"), D("100.5"), "taker"),
    ]


# -- reduce-only --------------------------------------------------------------------------------


def test_reduce_only_order_larger_than_the_position_is_capped_at_it():
    steps = [(0, Submit("long", "buy", "1")), (1, Submit("exit", "sell", "3", reduce_only=True))]

    result = run_fills(steps, slippage={"kind": "none"})

    assert fills(result) == [(1, "O-000001", D(1), D(100)), (2, "O-000002", D(1), D(101))]
    assert view(result.of("OrderCanceled"), "hour", "client_order_id", "reason") == [
        (2, "O-000002", "reduce-only order has nothing to reduce")
    ]
    assert result.position(ACCOUNT, BTC) == 0


def test_reduce_only_order_without_a_position_is_rejected():
    result = run_fills([(0, Submit("exit", "sell", "1", reduce_only=True))])

    assert view(result.of("OrderRejected"), "hour", "reason") == [
        (1, "reduce-only order would increase the position")
    ]


def test_reduce_only_order_on_the_same_side_as_the_position_is_rejected():
    steps = [(0, Submit("long", "buy", "1")), (1, Submit("more", "buy", "1", reduce_only=True))]

    result = run_fills(steps, slippage={"kind": "none"})

    assert view(result.of("OrderRejected"), "hour", "client_order_id") == [(2, "O-000002")]
    assert result.position(ACCOUNT, BTC) == 1


def test_resting_reduce_only_order_is_canceled_once_another_order_closed_the_position():
    steps = [
        (0, Submit("long", "buy", "1")),
        (0, Submit("tp", "sell", "1", OrderType.LIMIT, price="102.5", reduce_only=True)),
        (1, Submit("exit", "sell", "1")),
    ]

    result = run_fills(steps, slippage={"kind": "none"})

    # the exit closes the position at 02:00; bar 2 would fill the take-profit, which now
    # has nothing to reduce
    assert fills(result) == [(1, "O-000001", D(1), D(100)), (2, "O-000003", D(1), D(101))]
    assert view(result.of("OrderCanceled"), "hour", "client_order_id", "reason") == [
        (3, "O-000002", "reduce-only order has nothing to reduce")
    ]
    assert result.position(ACCOUNT, BTC) == 0


def test_reduce_only_order_never_flips_a_position_filled_over_several_bars():
    steps = [(0, Submit("long", "buy", "1")), (0, Submit("exit", "sell", "5", reduce_only=True))]

    result = run_fills(steps)

    # the long takes the whole 1 of bar 0; the reduce-only sell gets 1 at bar 1's open
    assert fills(result) == [(1, "O-000001", D(1), D(100)), (2, "O-000002", D(1), D("100.5"))]
    assert result.position(ACCOUNT, BTC) == 0
