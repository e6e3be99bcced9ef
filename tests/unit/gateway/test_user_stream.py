"""User-stream messages: order updates, algo updates and the margin call, on hand-made bars."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from tests.unit.gateway.venue_fixture import FIVE_MIN, SYMBOL, T0, service

from xmargin.gateway import usdm_orders
from xmargin.gateway.errors import BinanceError
from xmargin.gateway.faults import FaultInjector
from xmargin.gateway.settings import Faults
from xmargin.gateway.usdm_stream import Connection, StreamHub

ACCOUNT = "binance.main"
NS = 1_000_000


def listening(gateway: object) -> Connection:
    hub = StreamHub(gateway, FaultInjector(Faults(), 0))  # type: ignore[arg-type]
    connection = Connection(None)  # type: ignore[arg-type]
    hub.users[ACCOUNT] = [connection]
    return connection


def heard(connection: Connection) -> list[dict[str, object]]:
    messages = []
    while not connection.queue.empty():
        raw = connection.queue.get_nowait()
        assert raw is not None
        messages.append(json.loads(raw))
    return messages


def test_a_fill_is_an_order_trade_update_and_an_account_update() -> None:
    gateway, _ = service(start_ms=T0 + 2 * FIVE_MIN)
    connection = listening(gateway)
    params = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "1"}
    usdm_orders.place_order(gateway, ACCOUNT, params)
    kinds = [
        (m["e"], m["o"]["x"] if m["e"] == "ORDER_TRADE_UPDATE" else "") for m in heard(connection)
    ]
    assert kinds == [
        ("ORDER_TRADE_UPDATE", "NEW"),
        ("ORDER_TRADE_UPDATE", "TRADE"),
        ("ACCOUNT_UPDATE", ""),
    ]


def test_a_conditional_order_is_an_algo_update() -> None:
    gateway, _ = service(start_ms=T0 + 2 * FIVE_MIN)
    connection = listening(gateway)
    params = {
        "algoType": "CONDITIONAL",
        "symbol": "BTCUSDT",
        "side": "SELL",
        "type": "STOP_MARKET",
        "quantity": "1",
        "triggerPrice": "90",
    }
    placed = usdm_orders.place_algo(gateway, ACCOUNT, params)
    (update,) = heard(connection)
    assert update["e"] == "ALGO_UPDATE"
    assert (update["o"]["aid"], update["o"]["X"], update["o"]["tp"]) == (
        placed["algoId"],
        "NEW",
        "90",
    )


def test_entering_the_margin_call_band_sends_one_margin_call() -> None:
    # flat bars with no wicks: 100, then 97, then 97 again
    rows = [
        (100.0, 100.0, 100.0, 100.0, 1000.0),
        (100.0, 100.0, 97.0, 97.0, 1000.0),
        (97.0, 97.0, 97.0, 97.0, 1000.0),
    ]
    gateway, wall = service(speed=60, rows=rows)
    gateway.runtime.set_leverage(ACCOUNT, SYMBOL, Decimal(100))
    params = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "290"}
    usdm_orders.place_order(gateway, ACCOUNT, params)
    connection = listening(gateway)
    wall.ns += 10_000 * NS  # ten wall seconds at 60x: both later bars close
    gateway.runtime.catch_up()
    calls = [m for m in heard(connection) if m["e"] == "MARGIN_CALL"]
    # by hand at 97: wallet 1000 - 290 x 100 x 0.0005 (fee) - 290 x 97 x 0.0001 (the 00:10
    # funding) = 982.687, unrealised -870, so the margin balance is 112.687; maintenance
    # 290 x 97 x 0.4 % = 112.52; ratio 0.9985, inside the margin-call band [0.8, 1)
    assert len(calls) == 1
    (position,) = calls[0]["p"]  # type: ignore[misc]
    assert (calls[0]["cw"], position["mm"], position["up"]) == ("982.687", "112.52", "-870")


def test_listen_keys_expire_after_an_hour_without_keepalive() -> None:
    gateway, _ = service(start_ms=T0 + 2 * FIVE_MIN)
    connection = listening(gateway)
    key = gateway.listen_key(ACCOUNT, 0)
    assert gateway.listen_key(ACCOUNT, 1_800_000) == key  # a keepalive: same key, 60 min more
    gateway.expire_listen_keys(5_399_999)
    assert gateway.account_of_listen_key(key) == ACCOUNT
    gateway.expire_listen_keys(5_400_000)
    with pytest.raises(BinanceError, match="This listenKey does not exist"):
        gateway.account_of_listen_key(key)
    (expired,) = heard_until_closed(connection)
    assert expired["e"] == "listenKeyExpired"
    assert gateway.listen_key(ACCOUNT, 5_400_001) != key


def heard_until_closed(connection: Connection) -> list[dict[str, object]]:
    messages = []
    while True:
        raw = connection.queue.get_nowait()
        if raw is None:
            return messages
        messages.append(json.loads(raw))
