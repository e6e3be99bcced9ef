"""Iceberg, OCO and bracket orders: exact children, cancels and resizes."""

from __future__ import annotations

from tests.unit.execution.support import BTC, run_algo
from tests.unit.strategy.support import D, events, orders

from xmargin.execution.algos.iceberg import Iceberg, IcebergParams
from xmargin.execution.algos.oco import Bracket, BracketParams, Oco, OcoParams


def bar(close, high=None, low=None, volume=1_000_000.0):
    return (close, high or close, low or close, close, volume)


def submitted(result):
    """(minute, side, order type, quantity, price or trigger) of each child sent."""
    return [
        (
            (e["ts_ms"] - result.grid_ms[0]) // 60_000 + 5,
            e["side"],
            e["order_type"],
            D(e["quantity"]),
            e["price"],
        )
        for e in events(result, "OrderSubmitted")
    ]


def test_iceberg_shows_one_display_quantity_at_a_time_until_filled():
    params = IcebergParams(
        instrument=BTC, side="buy", quantity=D(1), price=D(49950), display=D("0.3")
    )
    # every bar trades down to 49,900 and closes at 50,000: a resting 49,950 bid fills
    parent, result = run_algo(
        lambda listener: Iceberg("ice", params, listener), [bar(50000, 50000, 49900)] * 8
    )

    assert [(m, side, qty) for m, _, _, side, qty in orders(result)] == [
        (5, "buy", D("0.3")),  # shown at the first bar's close, filled in the next bar
        (10, "buy", D("0.3")),
        (15, "buy", D("0.3")),
        (20, "buy", D("0.1")),  # what is left
    ]
    report = parent.reports[-1]
    assert report.done and report.filled == 1 and report.average_price == D(49950)
    assert report.slippage_bps == D(-10)  # 50 below the 50,000 arrival: better, negative


def test_oco_take_profit_fill_cancels_the_stop():
    params = OcoParams(
        instrument=BTC, side="sell", quantity=D(1), take_profit=D(51000), stop=D(49000)
    )
    rows = [bar(50000), bar(50000), bar(50500, 51500, 50400), bar(50500)]
    parent, result = run_algo(
        lambda listener: Oco("oco", params, listener), rows, at_bar=1, buy_first=D(1)
    )

    sent = [
        (e["order_type"], e["side"], D(e["quantity"])) for e in events(result, "OrderSubmitted")
    ]
    assert sent == [
        ("market", "buy", D(1)),  # the parent's position
        ("limit", "sell", D(1)),
        ("stop_market", "sell", D(1)),
    ]
    fills = [(e["client_order_id"], D(e["price"])) for e in events(result, "OrderFilled")]
    take_profit, stop = parent.algo.take_profit_order, parent.algo.stop_order
    assert fills[1:] == [(take_profit.client_order_id, D(51000))]
    canceled = [e["client_order_id"] for e in events(result, "OrderCanceled")]
    assert canceled == [stop.client_order_id]
    assert parent.reports[-1].done and parent.reports[-1].filled == 1


def test_oco_stop_fill_cancels_the_take_profit():
    params = OcoParams(
        instrument=BTC, side="sell", quantity=D(1), take_profit=D(51000), stop=D(49000)
    )
    # the third bar opens at 50,000 and trades down to 48,500: the stop fills at 49,000
    rows = [bar(50000), bar(50000), (50000, 50000, 48500, 48800, 1e6), bar(48800)]
    parent, result = run_algo(
        lambda listener: Oco("oco", params, listener), rows, at_bar=1, buy_first=D(1)
    )

    fills = [(e["client_order_id"], D(e["price"])) for e in events(result, "OrderFilled")]
    assert fills[1:] == [(parent.algo.stop_order.client_order_id, D(49000))]
    canceled = [e["client_order_id"] for e in events(result, "OrderCanceled")]
    assert canceled == [parent.algo.take_profit_order.client_order_id]


def test_bracket_arms_exits_for_the_filled_entry_and_resizes_them_as_it_fills():
    params = BracketParams(
        instrument=BTC,
        side="buy",
        quantity=D(1),
        entry_price=D(50000),
        take_profit=D(51000),
        stop_loss=D(49000),
    )
    # 4 BTC traded per bar: 10 % participation lets 0.4 of the entry fill each bar
    rows = [
        bar(50000, 50000, 49900, 4),
        bar(50000, 50000, 49900, 4),
        bar(50000, 50000, 49900, 4),
        bar(50800, 51200, 50000, 40),
        bar(50800, 50800, 50800, 40),
    ]
    parent, result = run_algo(
        lambda listener: Bracket("bracket", params, listener),
        rows,
        slippage={"kind": "volume", "participation": "0.1"},
    )
    algo = parent.algo

    fills = [
        (e["client_order_id"], D(e["quantity"]), D(e["price"]))
        for e in events(result, "OrderFilled")
    ]
    entry, take_profit, stop = algo.entry, algo.take_profit_order, algo.stop_order
    assert fills == [
        (entry.client_order_id, D("0.4"), D(50000)),  # at the first close, as taker
        (entry.client_order_id, D("0.4"), D(50000)),  # the next bar traded through it
        (entry.client_order_id, D("0.2"), D(50000)),
        (take_profit.client_order_id, D(1), D(51000)),
    ]
    modified = [(e["client_order_id"], D(e["quantity"])) for e in events(result, "OrderModified")]
    assert modified == [
        (take_profit.client_order_id, D("0.8")),
        (stop.client_order_id, D("0.8")),
        (take_profit.client_order_id, D(1)),
        (stop.client_order_id, D(1)),
    ]
    assert [e["client_order_id"] for e in events(result, "OrderCanceled")] == [stop.client_order_id]
    report = parent.reports[-1]
    assert report.done and report.filled == 1 and report.average_price == D(50000)
    assert take_profit.reduce_only and stop.reduce_only
