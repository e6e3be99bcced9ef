"""The USDⓈ-M REST endpoints: (method, path) → handler and its security.

``public`` needs nothing, ``key`` only the ``X-MBX-APIKEY`` header (listen keys), ``signed``
the header, an HMAC-SHA256 signature and a fresh timestamp. A handler takes the service,
the account (``""`` when public) and the parameters, and returns the JSON to send.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from xmargin.gateway import errors, usdm_orders
from xmargin.gateway.binance_json import (
    account_json,
    algo_json,
    income_json,
    order_json,
    position_risk_json,
    symbol_id,
    symbol_json,
    text,
    trade_json,
)
from xmargin.gateway.market_replay import int_param, limit_param
from xmargin.gateway.service import GatewayService

Handler = Callable[[GatewayService, str, Mapping[str, str]], Any]
PUBLIC, KEY, SIGNED = "public", "key", "signed"
ORDER_ENDPOINTS = frozenset({("POST", "/fapi/v1/order"), ("POST", "/fapi/v1/algoOrder")})
MAX_LEVERAGE = 125


@dataclass(frozen=True)
class Route:
    handler: Handler
    security: str


# -- public -----------------------------------------------------------------------------------


def exchange_info(service: GatewayService, _account: str, _params: Mapping[str, str]) -> Any:
    limit = service.settings.weight_limit
    return {
        "timezone": "UTC",
        "serverTime": service.now_ms(),
        "futuresType": "U_MARGINED",
        "rateLimits": [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": limit,
            },
        ],
        "exchangeFilters": [],
        "assets": [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}],
        "symbols": [
            symbol_json(data.spec, int(data.bars.ts_ms[0]))
            for data in service.replay.symbols.values()
        ],
    }


def no_markets(service: GatewayService, _account: str, _params: Mapping[str, str]) -> Any:
    """Spot and coin-margined exchange info: no markets are served there (ccxt's ``binance``
    class, which Freqtrade uses for futures, loads them before the USDⓈ-M ones)."""
    return {
        "timezone": "UTC",
        "serverTime": time.time_ns() // 1_000_000,
        "rateLimits": [],
        "exchangeFilters": [],
        "symbols": [],
    }


def server_time(_service: GatewayService, _account: str, _params: Mapping[str, str]) -> Any:
    """The wall clock, which signed requests' timestamps are checked against."""
    return {"serverTime": time.time_ns() // 1_000_000}


def ping(_service: GatewayService, _account: str, _params: Mapping[str, str]) -> Any:
    return {}


def depth(service: GatewayService, _account: str, params: Mapping[str, str]) -> Any:
    return service.replay.depth(params, service.now_ms())


def klines(service: GatewayService, _account: str, params: Mapping[str, str]) -> Any:
    return service.replay.klines(params, service.now_ms())


def mark_klines(service: GatewayService, _account: str, params: Mapping[str, str]) -> Any:
    return service.replay.klines(params, service.now_ms(), mark=True)


def premium_index(service: GatewayService, _account: str, params: Mapping[str, str]) -> Any:
    now = service.now_ms()
    rows = [
        service.replay.premium_index(d, now) for d in service.replay.chosen(params.get("symbol"))
    ]
    return rows[0] if params.get("symbol") else rows


def funding_rate(service: GatewayService, _account: str, params: Mapping[str, str]) -> Any:
    return service.replay.funding_history(params, service.now_ms())


def ticker_24h(service: GatewayService, _account: str, params: Mapping[str, str]) -> Any:
    now = service.now_ms()
    rows = [service.replay.ticker_24h(d, now) for d in service.replay.chosen(params.get("symbol"))]
    return rows[0] if params.get("symbol") else rows


def book_ticker(service: GatewayService, _account: str, params: Mapping[str, str]) -> Any:
    now = service.now_ms()
    rows = [service.replay.book_ticker(d, now) for d in service.replay.chosen(params.get("symbol"))]
    return rows[0] if params.get("symbol") else rows


# -- account ----------------------------------------------------------------------------------


def account(service: GatewayService, account_id: str, _params: Mapping[str, str]) -> Any:
    return account_json(service.runtime.venue, service.report(account_id), service.now_ms())


def position_risk(service: GatewayService, account_id: str, params: Mapping[str, str]) -> Any:
    rows = position_risk_json(service.runtime.venue, service.report(account_id), service.now_ms())
    wanted = params.get("symbol")
    if wanted:
        service.symbol(wanted)
        rows = [r for r in rows if r["symbol"] == wanted.upper()]
    return rows


def position_risk_v2(service: GatewayService, account_id: str, params: Mapping[str, str]) -> Any:
    """v2 rows (Hummingbot): v3's plus leverage and margin type."""
    model = service.model(account_id)
    sim = service.runtime.account(account_id)
    rows = position_risk(service, account_id, params)
    by_id = {symbol_id(s): s for s in service.runtime.venue.markets}
    for row in rows:
        symbol = by_id[row["symbol"]]
        leverage = sim.leverage.get(symbol) or model.leverage.get(symbol, model.default_leverage)
        row.update(leverage=text(leverage), marginType="cross", isAutoAddMargin="false")
    return rows


def leverage_bracket(service: GatewayService, account_id: str, params: Mapping[str, str]) -> Any:
    model = service.model(account_id)
    rows = []
    for data in service.replay.chosen(params.get("symbol")):
        table = model.table(data.spec.symbol)
        brackets = [
            {
                "bracket": i + 1,
                "initialLeverage": int(tier.max_leverage),
                "notionalCap": _json_number(tier.cap),
                "notionalFloor": _json_number(tier.floor),
                "maintMarginRatio": float(tier.mmr),
                "cum": float(tier.cum),
            }
            for i, tier in enumerate(table.tiers)
        ]
        rows.append({"symbol": symbol_id(data.spec.symbol), "brackets": brackets})
    return rows[0] if params.get("symbol") else rows


def _json_number(value: Decimal) -> int | float:
    if not value.is_finite():
        return 9_223_372_036_854_775_807
    return int(value) if value == value.to_integral_value() else float(value)


def set_leverage(service: GatewayService, account_id: str, params: Mapping[str, str]) -> Any:
    spec = service.symbol(params.get("symbol")).spec
    raw = params.get("leverage", "")
    if not raw:
        raise errors.missing("leverage")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LEVERAGE:
        raise errors.invalid("leverage")
    leverage = Decimal(raw)
    table = service.model(account_id).table(spec.symbol)
    position = service.runtime.account(account_id).book.positions.get(spec.symbol)
    notional = Decimal(0)
    if position is not None and position.size:
        notional = abs(position.size) * service.runtime.venue.markets[spec.symbol].mark_exact()
    if leverage > table.max_leverage(notional):
        raise errors.bad_leverage(raw)
    service.runtime.set_leverage(account_id, spec.symbol, leverage)
    caps = [t.cap for t in table.tiers if t.max_leverage >= leverage]
    return {
        "leverage": int(raw),
        "maxNotionalValue": text(max(caps)),
        "symbol": symbol_id(spec.symbol),
    }


def margin_type(service: GatewayService, _account: str, params: Mapping[str, str]) -> Any:
    service.symbol(params.get("symbol"))
    kind = params.get("marginType", "")
    if not kind:
        raise errors.missing("marginType")
    if kind == "CROSSED":
        raise errors.margin_type_unchanged()
    # the simulated venue margins cross only: isolated margin is not offered
    raise errors.invalid("marginType")


def position_mode(_service: GatewayService, _account: str, _params: Mapping[str, str]) -> Any:
    return {"dualSidePosition": False}


def multi_assets(service: GatewayService, account_id: str, _params: Mapping[str, str]) -> Any:
    return {"multiAssetsMargin": service.model(account_id).multi_assets}


def nothing(_service: GatewayService, _account: str, _params: Mapping[str, str]) -> Any:
    return []


# -- orders and trades ------------------------------------------------------------------------


def get_order(service: GatewayService, account_id: str, params: Mapping[str, str]) -> Any:
    return order_json(usdm_orders.find_order(service, account_id, params, cancel=False))


def open_orders(service: GatewayService, account_id: str, params: Mapping[str, str]) -> Any:
    wanted = params.get("symbol")
    spec = service.symbol(wanted).spec.symbol if wanted else None
    return [
        order_json(r)
        for r in service.account_records(account_id).orders.values()
        if not r.order.status.is_closed and (spec is None or r.order.instrument == spec)
    ]


def all_orders(service: GatewayService, account_id: str, params: Mapping[str, str]) -> Any:
    spec = service.symbol(params.get("symbol")).spec.symbol
    start, end = int_param(params, "startTime"), int_param(params, "endTime")
    from_id = int_param(params, "orderId")
    rows = [
        r
        for r in service.account_records(account_id).orders.values()
        if r.order.instrument == spec
        and (start is None or r.time_ms >= start)
        and (end is None or r.time_ms <= end)
        and (from_id is None or r.order_id >= from_id)
    ]
    return [order_json(r) for r in rows[: limit_param(params, 500, 1000)]]


def get_algo(service: GatewayService, account_id: str, params: Mapping[str, str]) -> Any:
    return algo_json(usdm_orders.find_algo(service, account_id, params))


def open_algos(service: GatewayService, account_id: str, params: Mapping[str, str]) -> Any:
    wanted = params.get("symbol")
    spec = service.symbol(wanted).spec.symbol if wanted else None
    return [
        algo_json(r)
        for r in service.account_records(account_id).algos.values()
        if r.status == "NEW" and (spec is None or r.order.instrument == spec)
    ]


def all_algos(service: GatewayService, account_id: str, params: Mapping[str, str]) -> Any:
    spec = service.symbol(params.get("symbol")).spec.symbol
    rows = [
        r for r in service.account_records(account_id).algos.values() if r.order.instrument == spec
    ]
    return [algo_json(r) for r in rows[: limit_param(params, 500, 1000)]]


def user_trades(service: GatewayService, account_id: str, params: Mapping[str, str]) -> Any:
    symbol = symbol_id(service.symbol(params.get("symbol")).spec.symbol)
    start, end = int_param(params, "startTime"), int_param(params, "endTime")
    from_id, order_id = int_param(params, "fromId"), int_param(params, "orderId")
    rows = [
        t
        for t in service.account_records(account_id).trades
        if t.symbol == symbol
        and (start is None or t.time_ms >= start)
        and (end is None or t.time_ms <= end)
        and (from_id is None or t.trade_id >= from_id)
        and (order_id is None or t.order_id == order_id)
    ]
    limit = limit_param(params, 500, 1000)
    rows = rows[:limit] if start is not None or from_id is not None else rows[-limit:]
    return [trade_json(t) for t in rows]


def income(service: GatewayService, account_id: str, params: Mapping[str, str]) -> Any:
    wanted = params.get("symbol")
    symbol = symbol_id(service.symbol(wanted).spec.symbol) if wanted else None
    kind = params.get("incomeType")
    start, end = int_param(params, "startTime"), int_param(params, "endTime")
    rows = [
        i
        for i in service.account_records(account_id).income
        if (symbol is None or i.symbol == symbol)
        and (not kind or i.income_type == kind)
        and (start is None or i.time_ms >= start)
        and (end is None or i.time_ms <= end)
    ]
    limit = limit_param(params, 100, 1000)
    rows = rows[:limit] if start is not None else rows[-limit:]
    return [income_json(i) for i in rows]


def new_listen_key(service: GatewayService, account_id: str, _params: Mapping[str, str]) -> Any:
    return {"listenKey": service.listen_key(account_id, time.time_ns() // 1_000_000)}


def close_listen_key(service: GatewayService, account_id: str, _params: Mapping[str, str]) -> Any:
    service.close_listen_key(account_id)
    return {}


ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/fapi/v1/exchangeInfo"): Route(exchange_info, PUBLIC),
    ("GET", "/fapi/v1/time"): Route(server_time, PUBLIC),
    ("GET", "/fapi/v1/ping"): Route(ping, PUBLIC),
    ("GET", "/fapi/v1/depth"): Route(depth, PUBLIC),
    ("GET", "/fapi/v1/klines"): Route(klines, PUBLIC),
    ("GET", "/fapi/v1/markPriceKlines"): Route(mark_klines, PUBLIC),
    ("GET", "/fapi/v1/premiumIndex"): Route(premium_index, PUBLIC),
    ("GET", "/fapi/v1/fundingRate"): Route(funding_rate, PUBLIC),
    ("GET", "/fapi/v1/ticker/24hr"): Route(ticker_24h, PUBLIC),
    ("GET", "/fapi/v1/ticker/bookTicker"): Route(book_ticker, PUBLIC),
    ("GET", "/fapi/v3/account"): Route(account, SIGNED),
    ("GET", "/fapi/v2/account"): Route(account, SIGNED),
    ("GET", "/fapi/v3/positionRisk"): Route(position_risk, SIGNED),
    ("GET", "/fapi/v2/positionRisk"): Route(position_risk_v2, SIGNED),
    ("GET", "/fapi/v1/leverageBracket"): Route(leverage_bracket, SIGNED),
    ("POST", "/fapi/v1/leverage"): Route(set_leverage, SIGNED),
    ("POST", "/fapi/v1/marginType"): Route(margin_type, SIGNED),
    ("GET", "/fapi/v1/positionSide/dual"): Route(position_mode, SIGNED),
    ("GET", "/fapi/v1/multiAssetsMargin"): Route(multi_assets, SIGNED),
    ("POST", "/fapi/v1/order"): Route(usdm_orders.place_order, SIGNED),
    ("PUT", "/fapi/v1/order"): Route(usdm_orders.modify_order, SIGNED),
    ("GET", "/fapi/v1/order"): Route(get_order, SIGNED),
    ("DELETE", "/fapi/v1/order"): Route(usdm_orders.cancel_order, SIGNED),
    ("GET", "/fapi/v1/openOrders"): Route(open_orders, SIGNED),
    ("GET", "/fapi/v1/allOrders"): Route(all_orders, SIGNED),
    ("DELETE", "/fapi/v1/allOpenOrders"): Route(usdm_orders.cancel_all, SIGNED),
    ("POST", "/fapi/v1/algoOrder"): Route(usdm_orders.place_algo, SIGNED),
    ("GET", "/fapi/v1/algoOrder"): Route(get_algo, SIGNED),
    ("DELETE", "/fapi/v1/algoOrder"): Route(usdm_orders.cancel_algo, SIGNED),
    ("GET", "/fapi/v1/openAlgoOrders"): Route(open_algos, SIGNED),
    ("GET", "/fapi/v1/allAlgoOrders"): Route(all_algos, SIGNED),
    ("DELETE", "/fapi/v1/algoOpenOrders"): Route(usdm_orders.cancel_all_algos, SIGNED),
    ("GET", "/fapi/v1/userTrades"): Route(user_trades, SIGNED),
    ("GET", "/fapi/v1/income"): Route(income, SIGNED),
    ("POST", "/fapi/v1/listenKey"): Route(new_listen_key, KEY),
    ("PUT", "/fapi/v1/listenKey"): Route(new_listen_key, KEY),
    ("DELETE", "/fapi/v1/listenKey"): Route(close_listen_key, KEY),
    ("GET", "/api/v3/exchangeInfo"): Route(no_markets, PUBLIC),
    ("GET", "/api/v3/time"): Route(server_time, PUBLIC),
    ("GET", "/dapi/v1/exchangeInfo"): Route(no_markets, PUBLIC),
    ("GET", "/sapi/v1/margin/isolated/allPairs"): Route(nothing, SIGNED),
    ("GET", "/sapi/v1/capital/config/getall"): Route(nothing, SIGNED),
    ("GET", "/sapi/v1/margin/allPairs"): Route(nothing, SIGNED),
}
