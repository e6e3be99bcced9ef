"""Binance's numbers, ids and order statuses."""

from __future__ import annotations

from decimal import Decimal

import pytest

from xmargin.gateway.binance_json import decimals, order_status, symbol_id, text
from xmargin.gateway.records import OrderRecord
from xmargin.model.orders import Order, OrderSide, OrderStatus, OrderType


def test_symbols_and_numbers_are_binances() -> None:
    assert symbol_id("BTC/USDT:USDT") == "BTCUSDT"
    assert symbol_id("ETH/USDT") == "ETHUSDT"
    assert text(Decimal("1E+2")) == "100"
    assert text(Decimal("0.00010000")) == "0.0001"
    assert text(Decimal("-0")) == "0"
    assert text(None) == "0"
    assert (decimals(Decimal("0.1")), decimals(Decimal("1")), decimals(Decimal("0.0001"))) == (
        1,
        0,
        4,
    )


def record(status: OrderStatus, reason: str = "") -> OrderRecord:
    order = Order(
        "gw-1", "BTC/USDT:USDT", OrderSide.BUY, Decimal(1), OrderType.LIMIT, price=Decimal(100)
    )
    order.status = status
    return OrderRecord(1, "c", "a", order, "LIMIT", "IOC", "CONTRACT_PRICE", 0, 0, reason=reason)


@pytest.mark.parametrize(
    ("status", "reason", "binance"),
    [
        (OrderStatus.ACCEPTED, "", "NEW"),
        (OrderStatus.TRIGGERED, "", "NEW"),
        (OrderStatus.PARTIALLY_FILLED, "", "PARTIALLY_FILLED"),
        (OrderStatus.FILLED, "", "FILLED"),
        (OrderStatus.CANCELED, "canceled by request", "CANCELED"),
        (OrderStatus.CANCELED, "ioc remainder", "EXPIRED"),
        (OrderStatus.CANCELED, "fill-or-kill could not fill in full", "EXPIRED"),
        (OrderStatus.EXPIRED, "post-only order would take liquidity", "EXPIRED"),
    ],
)
def test_order_statuses_map_as_binance_reports_them(
    status: OrderStatus, reason: str, binance: str
) -> None:
    assert order_status(record(status, reason)) == binance
