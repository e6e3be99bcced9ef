"""xmargin orders become the Binance wire requests unmodified ccxt builds from our arguments.

The request is built offline by ccxt's own ``create_order_request`` on markets parsed from a
recorded exchangeInfo, so what is checked is what would go on the wire.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import ccxt
import pytest
from tests.pack import DATA_PACK, needs_pack

from xmargin.core.errors import ConfigError
from xmargin.model.orders import Order, OrderSide, OrderType, TimeInForce, TriggerSource
from xmargin.venues.ccxt.orders import create_order_args, lookup_params, venue_client_id

pytestmark = needs_pack
BTC = "BTC/USDT:USDT"


def binance() -> ccxt.binanceusdm:
    path = DATA_PACK / "api_fixtures" / "nautilus_raw" / "binance_usdm.json"
    files = json.loads(path.read_text())["files"]
    info = next(v for k, v in files.items() if k.endswith("http_futures_market_exchange_info.json"))
    exchange = ccxt.binanceusdm()
    exchange.set_markets([exchange.parse_market(s) for s in info["symbols"]])
    return exchange


def wire(order: Order) -> dict[str, Any]:
    exchange = binance()
    args = create_order_args("binanceusdm", order)
    algo = exchange.is_conditional_order(args.params)
    request: dict[str, Any] = exchange.create_order_request(
        args.symbol,
        args.type,
        args.side,
        args.amount,
        args.price,
        {**args.params, "isAlgoOrder": algo},
    )
    return {**request, "algo": algo}


def test_market_order_carries_the_client_id_as_new_client_order_id() -> None:
    request = wire(Order("cid-m1", BTC, OrderSide.BUY, Decimal("0.5")))
    assert {k: request[k] for k in ("symbol", "side", "type", "quantity", "newClientOrderId")} == {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "MARKET",
        "quantity": "0.5",
        "newClientOrderId": "cid-m1",
    }
    assert request["algo"] is False
    assert "clientOrderId" not in request


@pytest.mark.parametrize(
    ("tif", "post_only", "wire_tif"),
    [
        (TimeInForce.GTC, False, "GTC"),
        (TimeInForce.IOC, False, "IOC"),
        (TimeInForce.FOK, False, "FOK"),
        (TimeInForce.GTC, True, "GTX"),
    ],
)
def test_limit_orders_time_in_force_and_post_only(
    tif: TimeInForce, post_only: bool, wire_tif: str
) -> None:
    order = Order(
        "cid-l",
        BTC,
        OrderSide.SELL,
        Decimal("0.002"),
        OrderType.LIMIT,
        price=Decimal("65000.1"),
        time_in_force=tif,
        post_only=post_only,
    )
    request = wire(order)
    assert (request["type"], request["price"], request["quantity"], request["timeInForce"]) == (
        "LIMIT",
        "65000.1",
        "0.002",
        wire_tif,
    )


@pytest.mark.parametrize(
    ("order_type", "side", "wire_type", "source", "working"),
    [
        (OrderType.STOP_MARKET, OrderSide.SELL, "STOP_MARKET", TriggerSource.MARK, "MARK_PRICE"),
        (OrderType.STOP_MARKET, OrderSide.BUY, "STOP_MARKET", TriggerSource.LAST, "CONTRACT_PRICE"),
        (
            OrderType.TAKE_PROFIT_MARKET,
            OrderSide.SELL,
            "TAKE_PROFIT_MARKET",
            TriggerSource.LAST,
            "CONTRACT_PRICE",
        ),
    ],
)
def test_stops_go_through_the_algo_api_with_client_algo_id(
    order_type: OrderType, side: OrderSide, wire_type: str, source: TriggerSource, working: str
) -> None:
    order = Order(
        "cid-s",
        BTC,
        side,
        Decimal("0.5"),
        order_type,
        trigger_price=Decimal("60000"),
        trigger_source=source,
        reduce_only=True,
    )
    request = wire(order)
    assert request["algo"] is True
    assert {k: request[k] for k in ("type", "triggerPrice", "clientAlgoId", "workingType")} == {
        "type": wire_type,
        "triggerPrice": "60000",
        "clientAlgoId": "cid-s",
        "workingType": working,
    }
    assert request["reduceOnly"] is True
    assert "newClientOrderId" not in request


def test_a_post_only_order_that_would_not_rest_is_refused() -> None:
    order = Order(
        "p",
        BTC,
        OrderSide.BUY,
        Decimal(1),
        OrderType.LIMIT,
        price=Decimal(1),
        post_only=True,
        time_in_force=TimeInForce.IOC,
    )
    with pytest.raises(
        ConfigError, match=r"a post-only order rests \(time in force gtc\), not ioc"
    ):
        create_order_args("binanceusdm", order)


def test_lookups_use_the_namespace_the_order_lives_in() -> None:
    assert lookup_params("binanceusdm", "c1", conditional=False) == {"origClientOrderId": "c1"}
    assert lookup_params("binanceusdm", "c1", conditional=True) == {
        "clientAlgoId": "c1",
        "trigger": True,
    }
    assert lookup_params("bybit", "c1", conditional=True) == {
        "clientOrderId": "c1",
        "trigger": True,
    }


def test_hyperliquid_client_ids_are_derived_128_bit_hex() -> None:
    cloid = venue_client_id("hyperliquid", "cid-1")
    assert cloid == venue_client_id("hyperliquid", "cid-1")
    assert len(cloid) == 34 and cloid.startswith("0x") and int(cloid, 16) >= 0
    assert venue_client_id("okx", "cid-1") == "cid-1"
    args = create_order_args(
        "bybit",
        Order(
            "c",
            BTC,
            OrderSide.SELL,
            Decimal(1),
            OrderType.STOP_MARKET,
            trigger_price=Decimal(9),
            trigger_source=TriggerSource.MARK,
        ),
    )
    assert args.params == {"clientOrderId": "c", "stopLossPrice": 9.0, "triggerBy": "MarkPrice"}


@pytest.mark.parametrize(
    ("order_type", "side", "wire_type"),
    [
        (OrderType.STOP_LIMIT, OrderSide.SELL, "STOP"),
        (OrderType.TAKE_PROFIT_LIMIT, OrderSide.SELL, "TAKE_PROFIT"),
    ],
)
def test_stop_and_take_profit_limits_carry_both_prices_to_the_algo_api(
    order_type: OrderType, side: OrderSide, wire_type: str
) -> None:
    order = Order(
        "cid-sl",
        BTC,
        side,
        Decimal("0.5"),
        order_type,
        price=Decimal("59990.5"),
        trigger_price=Decimal("60000"),
    )
    request = wire(order)
    assert request["algo"] is True
    assert {k: request[k] for k in ("type", "price", "triggerPrice", "timeInForce")} == {
        "type": wire_type,
        "price": "59990.5",
        "triggerPrice": "60000",
        "timeInForce": "GTC",
    }
