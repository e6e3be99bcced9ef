"""The paced runtime: the data clock, stepping, and order entry at the latest step."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.unit.gateway.venue_fixture import FIVE_MIN, T0, service

from xmargin.core.errors import ConfigError
from xmargin.gateway import usdm_orders
from xmargin.gateway.errors import BinanceError

NS = 1_000_000
ACCOUNT = "binance.main"


def test_the_data_clock_runs_at_speed_from_the_start() -> None:
    gateway, wall = service(speed=60, start_ms=T0 + FIVE_MIN)
    assert gateway.now_ms() == T0 + FIVE_MIN
    wall.ns += 2_500 * NS  # 2.5 wall seconds = 150 data seconds
    assert gateway.now_ms() == T0 + FIVE_MIN + 150_000
    gateway.runtime.catch_up()
    assert gateway.runtime.clock.now_ns() == (T0 + FIVE_MIN) * NS  # the next bar closes later
    wall.ns += 2_500 * NS
    gateway.runtime.catch_up()
    assert gateway.runtime.clock.now_ns() == (T0 + 2 * FIVE_MIN) * NS


def test_a_start_outside_the_data_is_refused() -> None:
    with pytest.raises(ConfigError, match="--start: must be inside the data"):
        service(start_ms=T0 - FIVE_MIN)


def order(gateway: object, **params: str) -> dict[str, object]:
    base = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "1"}
    return usdm_orders.place_order(gateway, ACCOUNT, {**base, **params})  # type: ignore[arg-type]


def test_a_market_order_fills_at_the_latest_close_with_the_taker_fee() -> None:
    gateway, _ = service(start_ms=T0 + 2 * FIVE_MIN)
    placed = order(gateway)
    assert (placed["status"], placed["avgPrice"], placed["executedQty"]) == ("FILLED", "101.5", "1")
    trade = gateway.account_records(ACCOUNT).trades[0]
    assert trade.commission == Decimal("101.5") * Decimal("0.0005")
    income = gateway.account_records(ACCOUNT).income
    assert [(i.income_type, i.income) for i in income] == [("COMMISSION", -trade.commission)]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"quantity": "0.0001"}, -1111),  # more decimals than the lot
        ({"quantity": "0"}, -4003),
        ({"type": "LIMIT", "price": "100.05", "timeInForce": "GTC"}, -1111),
        ({"type": "LIMIT", "price": "100.3", "timeInForce": "GTX", "quantity": "0.001"}, -4164),
        ({"type": "LIMIT", "price": "100", "quantity": "1"}, -1102),  # no timeInForce
        ({"type": "STOP_MARKET"}, -4120),
        ({"type": "OCO"}, -1116),
        ({"side": "LONG"}, -1117),
        ({"symbol": "DOGEUSDT"}, -1121),
        ({"quantity": "100"}, -2019),  # 10,150 USDT at 10x on 1,000
        ({"reduceOnly": "true"}, -2022),  # nothing to reduce
        ({"type": "LIMIT", "price": "200", "timeInForce": "GTX"}, -5022),
        ({"newClientOrderId": "bad id!"}, -4015),
    ],
)
def test_bad_orders_get_binances_codes(params: dict[str, str], code: int) -> None:
    gateway, _ = service(start_ms=T0 + 2 * FIVE_MIN)
    with pytest.raises(BinanceError) as refused:
        order(gateway, **params)
    assert refused.value.code == code
    assert gateway.account_records(ACCOUNT).orders == {}  # a rejected order is not kept


def test_client_ids_are_unique_among_open_orders_only() -> None:
    gateway, _ = service(start_ms=T0 + 2 * FIVE_MIN)
    rest = {"type": "LIMIT", "price": "90", "timeInForce": "GTC", "newClientOrderId": "c-1"}
    first = order(gateway, **rest)
    with pytest.raises(BinanceError, match="ClientOrderId is duplicated"):
        order(gateway, **rest)
    usdm_orders.cancel_order(
        gateway, ACCOUNT, {"symbol": "BTCUSDT", "orderId": str(first["orderId"])}
    )
    again = order(gateway, **rest)
    assert again["orderId"] != first["orderId"]
    found = usdm_orders.find_order(
        gateway, ACCOUNT, {"symbol": "BTCUSDT", "origClientOrderId": "c-1"}, cancel=False
    )
    assert found.order_id == again["orderId"]
    with pytest.raises(BinanceError, match="Unknown order sent"):
        usdm_orders.cancel_order(
            gateway, ACCOUNT, {"symbol": "BTCUSDT", "orderId": str(first["orderId"])}
        )


def test_funding_is_income_at_the_settlement() -> None:
    gateway, wall = service(speed=60, start_ms=T0 + FIVE_MIN)
    order(gateway)  # 1 BTC long at 100.5
    wall.ns += 10 * 1000 * NS  # ten wall seconds: the 00:10 funding settles
    gateway.runtime.catch_up()
    funding = [i for i in gateway.account_records(ACCOUNT).income if i.income_type == "FUNDING_FEE"]
    # 1 BTC x the mark at 00:10 (the 00:05 bar's close, 101.5) x 0.0001, paid by the long
    assert [(i.time_ms, i.income) for i in funding] == [(T0 + 600_000, -Decimal("0.01015"))]


def test_a_rejected_reuse_of_a_client_id_leaves_the_earlier_order_findable() -> None:
    gateway, _ = service(start_ms=T0 + 2 * FIVE_MIN)
    rest = {"type": "LIMIT", "price": "90", "timeInForce": "GTC", "newClientOrderId": "c-2"}
    first = order(gateway, **rest)
    usdm_orders.cancel_order(
        gateway, ACCOUNT, {"symbol": "BTCUSDT", "orderId": str(first["orderId"])}
    )
    with pytest.raises(BinanceError, match="Margin is insufficient"):
        order(gateway, **{**rest, "quantity": "200"})
    found = usdm_orders.find_order(
        gateway, ACCOUNT, {"symbol": "BTCUSDT", "origClientOrderId": "c-2"}, cancel=False
    )
    assert (found.order_id, found.order.status.value) == (first["orderId"], "canceled")
