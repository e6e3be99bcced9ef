"""xmargin orders as ccxt ``create_order`` arguments, per venue.

The client order id is the idempotency key: it travels as ccxt's unified ``clientOrderId``
(Binance ``newClientOrderId`` — or ``clientAlgoId`` for conditional orders —, Bybit
``orderLinkId``, OKX ``clOrdId``, Hyperliquid ``cloid``). Stops and take-profits use
ccxt's unified ``stopLossPrice`` / ``takeProfitPrice``, which each venue routes to its own
conditional-order endpoint (Binance's algo-order API): on a sell a stop fires as the price
falls, on a buy as it rises, and a take-profit the other way round.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from xmargin.core.errors import ConfigError
from xmargin.model.orders import Order, OrderType, TimeInForce, TriggerSource

BINANCE_FAMILY = frozenset({"binance", "binanceusdm"})
ALGO_VENUES = frozenset({"binanceusdm"})
"""Venues whose conditional orders live apart (Binance USDⓈ-M's algo orders), reached with
``{"trigger": True}``."""
CROSS_MARGIN = frozenset({"binance"})
"""ccxt ids this adapter trades as spot cross margin: every call carries ``marginMode``."""
_TIF = {TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC", TimeInForce.FOK: "FOK"}
_WORKING_TYPE = {TriggerSource.LAST: "CONTRACT_PRICE", TriggerSource.MARK: "MARK_PRICE"}
_BYBIT_TRIGGER_BY = {TriggerSource.LAST: "LastPrice", TriggerSource.MARK: "MarkPrice"}
_OKX_TRIGGER_TYPE = {TriggerSource.LAST: "last", TriggerSource.MARK: "mark"}
_STOPS = frozenset({OrderType.STOP_MARKET, OrderType.STOP_LIMIT})
_TAKE_PROFITS = frozenset({OrderType.TAKE_PROFIT_MARKET, OrderType.TAKE_PROFIT_LIMIT})


@dataclass(frozen=True, slots=True)
class CreateOrderArgs:
    """The positional arguments and params of one ``exchange.create_order`` call."""

    symbol: str
    type: str
    side: str
    amount: float
    price: float | None
    params: dict[str, Any] = field(default_factory=dict)
    conditional: bool = False
    """The order lives in the venue's separate conditional namespace."""


def account_params(venue: str) -> dict[str, Any]:
    """The params every account call on ``venue`` carries (spot cross margin's mode)."""
    return {"marginMode": "cross"} if venue in CROSS_MARGIN else {}


def _float(value: Decimal) -> float:
    """ccxt takes floats; it formats them back with the market's precision (exact for ticks)."""
    return float(value)


def create_order_args(venue: str, order: Order) -> CreateOrderArgs:
    """The ``create_order`` call that places ``order`` on ``venue`` (a ccxt exchange id)."""
    params: dict[str, Any] = {
        "clientOrderId": venue_client_id(venue, order.client_order_id),
        **account_params(venue),
    }
    kind = "limit" if order.order_type.has_limit_price else "market"
    if order.post_only:
        if order.time_in_force is not TimeInForce.GTC:
            raise ConfigError(
                f"order {order.client_order_id}: a post-only order rests (time in force gtc), "
                f"not {order.time_in_force.value}"
            )
        params["postOnly"] = True  # ccxt picks the venue's flavour (Binance GTX); no TIF here
    elif order.order_type.has_limit_price:
        params["timeInForce"] = _TIF[order.time_in_force]
    if order.reduce_only:
        params["reduceOnly"] = True
    if order.order_type.has_trigger:
        assert order.trigger_price is not None  # Order's constructor requires it
        name = "stopLossPrice" if order.order_type in _STOPS else "takeProfitPrice"
        params[name] = _float(order.trigger_price)
        params.update(_trigger_source(venue, order.trigger_source))
    price = _float(order.price) if order.price is not None else None
    conditional = order.order_type.has_trigger and venue not in CROSS_MARGIN
    return CreateOrderArgs(
        order.instrument, kind, order.side.value, _float(order.quantity), price, params, conditional
    )


def _trigger_source(venue: str, source: TriggerSource) -> dict[str, str]:
    if venue in ALGO_VENUES:
        return {"workingType": _WORKING_TYPE[source]}
    if venue == "bybit":
        return {"triggerBy": _BYBIT_TRIGGER_BY[source]}
    if venue == "okx":
        return {"slTriggerPxType": _OKX_TRIGGER_TYPE[source]}
    return {}


def venue_client_id(venue: str, client_order_id: str) -> str:
    """The id the venue stores: Hyperliquid takes only a 128-bit hex ``cloid``, derived here."""
    if venue == "hyperliquid":
        return "0x" + hashlib.sha256(client_order_id.encode()).hexdigest()[:32]
    return client_order_id


def lookup_params(venue: str, client_order_id: str, *, conditional: bool) -> dict[str, Any]:
    """The params that find (or cancel) an order by its client id on ``venue``."""
    wire_id = venue_client_id(venue, client_order_id)
    if venue in BINANCE_FAMILY:
        key = "clientAlgoId" if conditional else "origClientOrderId"
        extra = {"trigger": True} if conditional else account_params(venue)
        return {key: wire_id, **extra}
    params: dict[str, Any] = {"clientOrderId": wire_id}
    if conditional:
        params["trigger"] = True
    return params
