"""Order entry for USDⓈ-M: parse and check Binance's parameters, then trade on the venue.

The API layer's checks come first, with Binance's codes (bad symbol, side, type, precision,
tick, minimum notional, client id, duplicates); what the matching engine decides (margin,
reduce-only, immediate trigger, post-only) comes back from the simulated exchange and is
mapped by ``errors.venue_rejection``. A rejected order is not kept, as on Binance.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from xmargin.gateway import errors
from xmargin.gateway.binance_json import algo_json, order_json
from xmargin.gateway.market_replay import SymbolData
from xmargin.gateway.records import AlgoRecord, OrderRecord
from xmargin.gateway.service import GatewayService
from xmargin.model.instruments import Instrument
from xmargin.model.orders import (
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
    TriggerSource,
)

CLIENT_ID = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")
REGULAR_TYPES = {"LIMIT": OrderType.LIMIT, "MARKET": OrderType.MARKET}
ALGO_TYPES = {
    "STOP_MARKET": OrderType.STOP_MARKET,
    "TAKE_PROFIT_MARKET": OrderType.TAKE_PROFIT_MARKET,
    "STOP": OrderType.STOP_LIMIT,
    "TAKE_PROFIT": OrderType.TAKE_PROFIT_LIMIT,
}
TIME_IN_FORCE = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK}
WORKING_TYPES = {"CONTRACT_PRICE": TriggerSource.LAST, "MARK_PRICE": TriggerSource.MARK}
Json = dict[str, Any]


def _decimal(params: Mapping[str, str], name: str, required: bool = True) -> Decimal | None:
    raw = params.get(name, "")
    if raw == "":
        if required:
            raise errors.missing(name)
        return None
    if len(raw) > 40:
        raise errors.invalid(name)
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise errors.invalid(name) from None
    if not value.is_finite():
        raise errors.invalid(name)
    return value


def _places(value: Decimal) -> int:
    return max(0, -int(value.as_tuple().exponent))


def _quantity(params: Mapping[str, str], spec: Instrument, name: str = "quantity") -> Decimal:
    quantity = _decimal(params, name)
    assert quantity is not None
    if quantity <= 0:
        raise errors.bad_quantity()
    step = spec.size_increment
    if _places(quantity.normalize()) > _places(step.normalize()) or quantity % step:
        raise errors.bad_precision()
    return quantity


def _price(
    params: Mapping[str, str], spec: Instrument, name: str, required: bool
) -> Decimal | None:
    price = _decimal(params, name, required)
    if price is None:
        return None
    if price <= 0:
        raise errors.invalid(name)
    tick = spec.price_increment
    if _places(price.normalize()) > _places(tick.normalize()):
        raise errors.bad_precision()
    if price % tick:
        raise errors.bad_tick()
    return price


def _side(params: Mapping[str, str]) -> OrderSide:
    raw = params.get("side", "")
    if not raw:
        raise errors.missing("side")
    if raw not in ("BUY", "SELL"):
        raise errors.bad_side()
    return OrderSide.BUY if raw == "BUY" else OrderSide.SELL


def _flag(params: Mapping[str, str], name: str) -> bool:
    raw = params.get(name, "false").lower()
    if raw not in ("true", "false"):
        raise errors.invalid(name)
    return raw == "true"


def _position_side(params: Mapping[str, str]) -> None:
    if params.get("positionSide", "BOTH") != "BOTH":
        raise errors.BinanceError(-4061, "Order's position side does not match user's setting.")


def _client_id(service: GatewayService, raw: str | None, prefix: str) -> str:
    if raw is None or raw == "":
        return f"{prefix}{service.records.next_order_id()}"
    if not CLIENT_ID.match(raw):
        raise errors.bad_client_id()
    return raw


def _check_notional(
    service: GatewayService,
    data: SymbolData,
    quantity: Decimal,
    price: Decimal | None,
    reduce_only: bool,
) -> None:
    spec = data.spec
    if reduce_only or not spec.min_notional:
        return
    market = service.runtime.venue.markets[spec.symbol]
    reference = price if price is not None else (market.last_exact() if market.has_price else None)
    if reference is not None and quantity * reference * spec.contract_size < spec.min_notional:
        raise errors.min_notional(format(spec.min_notional.normalize(), "f"))


def place_order(service: GatewayService, account: str, params: Mapping[str, str]) -> Json:
    """``POST /fapi/v1/order``: a market or limit order (GTC, IOC, FOK, GTX post-only)."""
    data = service.symbol(params.get("symbol"))
    spec = data.spec
    side = _side(params)
    raw_type = params.get("type", "")
    if not raw_type:
        raise errors.missing("type")
    if raw_type in ALGO_TYPES or raw_type == "TRAILING_STOP_MARKET":
        raise errors.use_algo_api()
    order_type = REGULAR_TYPES.get(raw_type)
    if order_type is None:
        raise errors.bad_order_type()
    _position_side(params)
    quantity = _quantity(params, spec)
    price = _price(params, spec, "price", order_type is OrderType.LIMIT)
    raw_tif = params.get("timeInForce", "")
    if order_type is OrderType.LIMIT and not raw_tif:
        raise errors.missing("timeInForce")
    if raw_tif and raw_tif not in (*TIME_IN_FORCE, "GTX"):
        raise errors.bad_time_in_force()
    post_only = raw_tif == "GTX"
    reduce_only = _flag(params, "reduceOnly")
    records = service.account_records(account)
    client_id = _client_id(service, params.get("newClientOrderId"), "gw")
    if records.open_by_client_id(client_id) is not None:
        raise errors.duplicate_client_id()
    _check_notional(
        service, data, quantity, price if order_type is OrderType.LIMIT else None, reduce_only
    )
    order = Order(
        service.records.internal_id(),
        spec.symbol,
        side,
        quantity,
        order_type,
        price=price if order_type is OrderType.LIMIT else None,
        time_in_force=TIME_IN_FORCE.get(raw_tif, TimeInForce.GTC),
        reduce_only=reduce_only,
        post_only=post_only,
        account=account,
    )
    now = service.runtime.clock.now_ns() // 1_000_000
    record = OrderRecord(
        service.records.next_order_id(),
        client_id,
        account,
        order,
        raw_type,
        raw_tif or "GTC",
        "CONTRACT_PRICE",
        now,
        now,
    )
    previous = records.by_client_id(client_id)
    service.records.add_order(record)
    service.runtime.submit(order)
    if order.status is OrderStatus.REJECTED:
        records.forget_order(record, previous)
        raise errors.venue_rejection(record.reason)
    if post_only and order.status is OrderStatus.EXPIRED and not order.filled_quantity:
        records.forget_order(record, previous)
        raise errors.post_only_rejected()
    return order_json(record)


def place_algo(service: GatewayService, account: str, params: Mapping[str, str]) -> Json:
    """``POST /fapi/v1/algoOrder``: a conditional order (stop or take-profit)."""
    if params.get("algoType", "") != "CONDITIONAL":
        raise errors.invalid("algoType") if params.get("algoType") else errors.missing("algoType")
    data = service.symbol(params.get("symbol"))
    spec = data.spec
    side = _side(params)
    raw_type = params.get("type", "")
    order_type = ALGO_TYPES.get(raw_type)
    if order_type is None:
        raise errors.bad_order_type() if raw_type else errors.missing("type")
    _position_side(params)
    if _flag(params, "closePosition"):
        raise errors.invalid("closePosition")
    quantity = _quantity(params, spec)
    trigger = _price(params, spec, "triggerPrice", True)
    price = _price(params, spec, "price", order_type.has_limit_price)
    working = params.get("workingType", "CONTRACT_PRICE")
    if working not in WORKING_TYPES:
        raise errors.invalid("workingType")
    reduce_only = _flag(params, "reduceOnly")
    records = service.account_records(account)
    client_id = _client_id(service, params.get("clientAlgoId"), "gwalgo")
    known = records.algo_by_client_id(client_id)
    if known is not None and not known.order.status.is_closed:
        raise errors.duplicate_client_id()
    _check_notional(service, data, quantity, price or trigger, reduce_only)
    order = Order(
        service.records.internal_id(),
        spec.symbol,
        side,
        quantity,
        order_type,
        price=price if order_type.has_limit_price else None,
        trigger_price=trigger,
        trigger_source=WORKING_TYPES[working],
        reduce_only=reduce_only,
        account=account,
    )
    now = service.runtime.clock.now_ns() // 1_000_000
    record = AlgoRecord(
        service.records.next_algo_id(), client_id, account, order, raw_type, working, now, now
    )
    service.records.add_algo(record)
    service.runtime.submit(order)
    if order.status is OrderStatus.REJECTED:
        records.forget_algo(record, known)
        raise errors.venue_rejection(record.reason)
    return algo_json(record)


def find_order(
    service: GatewayService, account: str, params: Mapping[str, str], *, cancel: bool
) -> OrderRecord:
    service.symbol(params.get("symbol"))
    records = service.account_records(account)
    raw_id, raw_client = params.get("orderId", ""), params.get("origClientOrderId", "")
    record: OrderRecord | None = None
    if raw_id:
        if not raw_id.isdigit():
            raise errors.invalid("orderId")
        record = records.orders.get(int(raw_id))
    elif raw_client:
        record = records.by_client_id(raw_client)
    else:
        raise errors.BinanceError(
            -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!"
        )
    symbol = params.get("symbol", "").upper()
    if record is None or record.order.instrument != service.symbol(symbol).spec.symbol:
        raise errors.unknown_order() if cancel else errors.no_such_order()
    return record


def cancel_order(service: GatewayService, account: str, params: Mapping[str, str]) -> Json:
    record = find_order(service, account, params, cancel=True)
    if record.order.status.is_closed:
        raise errors.unknown_order()
    service.runtime.cancel(record.order)
    return order_json(record)


def modify_order(service: GatewayService, account: str, params: Mapping[str, str]) -> Json:
    """``PUT /fapi/v1/order``: a resting limit order's quantity and price."""
    record = find_order(service, account, params, cancel=False)
    order = record.order
    spec = service.symbol(params.get("symbol")).spec
    if order.order_type is not OrderType.LIMIT:
        raise errors.invalid("orderId")  # only limit orders can be modified
    if _side(params) is not order.side:
        raise errors.invalid("side")
    quantity = _quantity(params, spec)
    price = _price(params, spec, "price", True)
    if order.status.is_closed:
        raise errors.no_such_order()
    if quantity == order.quantity and price == order.price:
        raise errors.BinanceError(-5027, "No need to modify the order.")
    service.runtime.modify(order, quantity, price)
    return order_json(record)


def cancel_all(service: GatewayService, account: str, params: Mapping[str, str]) -> Json:
    spec = service.symbol(params.get("symbol")).spec
    for record in list(service.account_records(account).orders.values()):
        if record.order.instrument == spec.symbol and not record.order.status.is_closed:
            service.runtime.cancel(record.order)
    return {"code": 200, "msg": "The operation of cancel all open order is done."}


def find_algo(service: GatewayService, account: str, params: Mapping[str, str]) -> AlgoRecord:
    records = service.account_records(account)
    raw_id, raw_client = params.get("algoId", ""), params.get("clientAlgoId", "")
    record: AlgoRecord | None = None
    if raw_id:
        if not raw_id.isdigit():
            raise errors.invalid("algoId")
        record = records.algos.get(int(raw_id))
    elif raw_client:
        record = records.algo_by_client_id(raw_client)
    else:
        raise errors.BinanceError(
            -1102, "Param 'clientAlgoId' or 'algoId' must be sent, but both were empty/null!"
        )
    if record is None:
        raise errors.no_such_order()
    return record


def cancel_algo(service: GatewayService, account: str, params: Mapping[str, str]) -> Json:
    record = find_algo(service, account, params)
    if record.status not in ("NEW",):
        raise errors.unknown_order()
    service.runtime.cancel(record.order)
    return {**algo_json(record), "code": "200", "msg": "success"}


def cancel_all_algos(service: GatewayService, account: str, params: Mapping[str, str]) -> Json:
    spec = service.symbol(params.get("symbol")).spec
    for record in list(service.account_records(account).algos.values()):
        if record.order.instrument == spec.symbol and record.status == "NEW":
            service.runtime.cancel(record.order)
    return {"code": 200, "msg": "The operation of cancel all open order is done."}
