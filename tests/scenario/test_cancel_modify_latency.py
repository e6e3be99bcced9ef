"""Cancels and modifies travel with the venue's order latency, like submits.

Binance USDⓈ-M, BTC/USDT:USDT on a hand-made trade feed (maker fee 0.0002). A request sent
at ``t`` reaches the matching engine at ``t`` + the order latency; it never overtakes the
order it names; one that finds its order already filled is rejected with an event.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.scenario.harness import (
    BTC,
    HOUR,
    T0,
    AtMs,
    Cancel,
    D,
    Modify,
    Submit,
    config,
    flat_marks,
    marks_of,
    run,
    trades,
    trades_of,
    venue,
    view,
)

from xmargin.model.orders import OrderType

# results need a price track per instrument: a flat mark, irrelevant to these fills
MARK = marks_of(flat_marks(T0 - HOUR, "1h", [100.0, 100.0]))
# 99.8 at T0 + 5 s trades through a buy limit at 99.9 (not one at 99.0)
FEED = trades(
    [
        (T0 + 1000, 100.0, 1.0),
        (T0 + 2000, 100.2, 1.0),
        (T0 + 5000, 99.8, 5.0),
        (T0 + 6000, 100.0, 1.0),
    ]
)


def run_trades(steps, latency, seed=1):
    document = config(venue(leverage={BTC: 10}, latency=latency), seed=seed)
    return run(document, [trades_of(FEED), MARK], steps)


def limit(tag, price):
    return Submit(tag, "buy", "1", OrderType.LIMIT, price=price, symbol=BTC)


@pytest.mark.parametrize(
    ("request_", "kind", "reason"),
    [
        (Cancel("l"), "OrderCancelRejected", "cancel refused: order O-000001 is already filled"),
        (
            Modify("l", price="99.5"),
            "OrderModifyRejected",
            "modify refused: order O-000001 is already filled",
        ),
    ],
)
def test_a_request_reaching_the_venue_after_its_order_filled_is_rejected(request_, kind, reason):
    # sent at 4.95 s, 100 ms on the way: the order fills at 5 s, the request arrives at 5.05 s
    steps = [(AtMs(T0 + 1000), limit("l", "99.9")), (AtMs(T0 + 4950), request_)]

    result = run_trades(steps, {"order_ms": 100})

    assert view(result.of("OrderFilled"), "ts_ms", "quantity", "price", "fee", "liquidity") == [
        (T0 + 5000, D(1), D("99.9"), D("0.01998"), "maker")
    ]
    assert view(result.of(kind), "ts_ms", "client_order_id", "reason") == [
        (T0 + 5050, "O-000001", reason)
    ]
    assert result.of("OrderCanceled", "OrderModified") == []


def test_a_cancel_that_arrives_before_the_fill_cancels_the_order():
    steps = [(AtMs(T0 + 1000), limit("l", "99.9")), (AtMs(T0 + 4850), Cancel("l"))]

    result = run_trades(steps, {"order_ms": 100})

    assert view(result.of("OrderCanceled"), "ts_ms", "reason") == [
        (T0 + 4950, "canceled by request")
    ]
    assert result.of("OrderFilled") == []


def test_a_modify_sent_while_its_order_is_in_flight_applies_when_it_arrives():
    # both sent at 1 s: the order is accepted at 1.1 s, then repriced to 99.9, so the 99.8
    # trade fills it (at 99.0 it would not have filled)
    steps = [(AtMs(T0 + 1000), limit("l", "99.0")), (AtMs(T0 + 1000), Modify("l", price="99.9"))]

    result = run_trades(steps, {"order_ms": 100})

    assert result.types(skip=("OrderSubmitted",)) == [
        "OrderAccepted",
        "OrderModified",
        "OrderFilled",
    ]
    assert view(result.of("OrderModified"), "ts_ms", "quantity", "price") == [
        (T0 + 1100, D(1), D("99.9"))
    ]
    assert view(result.of("OrderFilled"), "ts_ms", "price") == [(T0 + 5000, D("99.9"))]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_with_jitter_a_request_never_overtakes_its_order(seed):
    # up to 900 ms of jitter on each of the two: whichever draw is shorter, the venue sees
    # the order first and the repricing second, then the cancel of the other order last
    steps = [
        (AtMs(T0 + 1000), limit("a", "99.0")),
        (AtMs(T0 + 1000), Modify("a", price="99.9")),
        (AtMs(T0 + 1000), limit("b", "99.9")),
        (AtMs(T0 + 1000), Cancel("b")),
    ]

    result = run_trades(steps, {"order_ms": 50, "jitter_ms": 900}, seed=seed)

    accepted = {e["client_order_id"]: e["ts_ms"] for e in result.of("OrderAccepted")}
    [modified] = result.of("OrderModified")
    [canceled] = result.of("OrderCanceled")
    assert T0 + 1050 <= accepted["O-000001"] <= modified["ts_ms"] <= T0 + 1950
    assert T0 + 1050 <= accepted["O-000002"] <= canceled["ts_ms"] <= T0 + 1950
    assert view(result.of("OrderFilled"), "client_order_id", "price") == [("O-000001", D("99.9"))]
    assert result.of("OrderCancelRejected", "OrderModifyRejected") == []
