"""Binance USDⓈ-M payloads built from the simulated exchange's state and the gateway records.

Numbers are strings, as Binance sends them (exact ``Decimal`` text, never floats); times are
data-clock milliseconds. Field lists follow the wire spec's lists A-D.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from xmargin.gateway.records import AlgoRecord, IncomeRecord, OrderRecord, TradeRecord
from xmargin.margin.base import MarginReport
from xmargin.model.instruments import Instrument
from xmargin.model.numbers import ZERO
from xmargin.model.orders import OrderStatus
from xmargin.venues.sim.exchange import SimulatedExchange

ORDER_TYPES = [
    "LIMIT",
    "MARKET",
    "STOP",
    "STOP_MARKET",
    "TAKE_PROFIT",
    "TAKE_PROFIT_MARKET",
    "TRAILING_STOP_MARKET",
]
TIME_IN_FORCE = ["GTC", "IOC", "FOK", "GTX"]
PERPETUAL_DELIVERY_MS = 4_133_404_800_000
EXPIRED_REASONS = ("post-only", "ioc remainder", "fok remainder", "fill-or-kill")
Json = dict[str, Any]


def symbol_id(symbol: str) -> str:
    """``BTC/USDT:USDT`` → ``BTCUSDT``."""
    base, _, rest = symbol.partition("/")
    return base + rest.partition(":")[0]


def text(value: Decimal | None) -> str:
    """Exact plain decimal text, no exponent (``0`` for None)."""
    if value is None or value == 0:
        return "0"
    return format(value.normalize(), "f")


def decimals(increment: Decimal) -> int:
    exponent = increment.normalize().as_tuple().exponent
    return max(0, -int(exponent))


def order_status(record: OrderRecord) -> str:
    status = record.order.status
    if status is OrderStatus.FILLED:
        return "FILLED"
    if status is OrderStatus.PARTIALLY_FILLED:
        return "PARTIALLY_FILLED"
    if status is OrderStatus.EXPIRED:
        return "EXPIRED"
    if status is OrderStatus.CANCELED:
        return "EXPIRED" if record.reason.startswith(EXPIRED_REASONS) else "CANCELED"
    if status is OrderStatus.REJECTED:
        return "REJECTED"
    return "NEW"


def order_json(record: OrderRecord) -> Json:
    order = record.order
    filled = order.filled_quantity
    return {
        "orderId": record.order_id,
        "symbol": symbol_id(order.instrument),
        "status": order_status(record),
        "clientOrderId": record.client_id,
        "price": text(order.price if order.order_type.has_limit_price else None),
        "avgPrice": text(order.avg_fill_price if filled else None),
        "origQty": text(order.quantity),
        "executedQty": text(filled),
        "cumQty": text(filled),
        "cumQuote": text(record.cum_quote),
        "timeInForce": record.time_in_force,
        "type": record.wire_type,
        "reduceOnly": order.reduce_only,
        "closePosition": False,
        "side": order.side.value.upper(),
        "positionSide": "BOTH",
        "stopPrice": text(order.trigger_price if record.algo is None else None),
        "workingType": record.working_type,
        "priceProtect": False,
        "origType": record.wire_type,
        "priceMatch": "NONE",
        "selfTradePreventionMode": "NONE",
        "goodTillDate": 0,
        "time": record.time_ms,
        "updateTime": record.update_ms,
    }


def algo_json(record: AlgoRecord) -> Json:
    order = record.order
    actual = record.actual
    return {
        "algoId": record.algo_id,
        "clientAlgoId": record.client_algo_id,
        "algoType": "CONDITIONAL",
        "orderType": record.wire_type,
        "symbol": symbol_id(order.instrument),
        "side": order.side.value.upper(),
        "positionSide": "BOTH",
        "timeInForce": "GTC",
        "quantity": text(order.quantity),
        "algoStatus": record.status,
        "actualOrderId": str(actual.order_id) if actual is not None else "",
        "actualPrice": text(order.avg_fill_price if order.filled_quantity else None),
        "triggerPrice": text(order.trigger_price),
        "price": text(order.price if order.order_type.has_limit_price else None),
        "workingType": record.working_type,
        "priceMatch": "NONE",
        "closePosition": False,
        "priceProtect": False,
        "reduceOnly": order.reduce_only,
        "createTime": record.time_ms,
        "updateTime": record.update_ms,
        "triggerTime": actual.time_ms if actual is not None else 0,
        "goodTillDate": 0,
    }


def trade_json(trade: TradeRecord) -> Json:
    return {
        "symbol": trade.symbol,
        "id": trade.trade_id,
        "orderId": trade.order_id,
        "side": trade.side,
        "price": text(trade.price),
        "qty": text(trade.qty),
        "realizedPnl": text(trade.realized_pnl),
        "quoteQty": text(trade.quote_qty),
        "commission": text(trade.commission),
        "commissionAsset": trade.commission_asset,
        "time": trade.time_ms,
        "positionSide": "BOTH",
        "buyer": trade.side == "BUY",
        "maker": trade.maker,
    }


def income_json(item: IncomeRecord) -> Json:
    return {
        "symbol": item.symbol,
        "incomeType": item.income_type,
        "income": text(item.income),
        "asset": item.asset,
        "info": item.income_type,
        "time": item.time_ms,
        "tranId": item.tran_id,
        "tradeId": item.trade_id,
    }


def symbol_json(spec: Instrument, onboard_ms: int) -> Json:
    tick, step = spec.price_increment, spec.size_increment
    min_qty = max(spec.min_size, step)
    return {
        "symbol": symbol_id(spec.symbol),
        "pair": symbol_id(spec.symbol),
        "contractType": "PERPETUAL",
        "deliveryDate": PERPETUAL_DELIVERY_MS,
        "onboardDate": onboard_ms,
        "status": "TRADING",
        "baseAsset": spec.base,
        "quoteAsset": spec.quote,
        "marginAsset": spec.settle,
        "pricePrecision": decimals(tick),
        "quantityPrecision": decimals(step),
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "underlyingType": "COIN",
        "triggerProtect": "0.0500",
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "tickSize": text(tick),
                "minPrice": text(tick),
                "maxPrice": "10000000",
            },
            {
                "filterType": "LOT_SIZE",
                "stepSize": text(step),
                "minQty": text(min_qty),
                "maxQty": "100000000",
            },
            {
                "filterType": "MARKET_LOT_SIZE",
                "stepSize": text(step),
                "minQty": text(min_qty),
                "maxQty": "100000000",
            },
            {"filterType": "MIN_NOTIONAL", "notional": text(spec.min_notional)},
        ],
        "orderTypes": ORDER_TYPES,
        "timeInForce": TIME_IN_FORCE,
    }


def _positions(venue: SimulatedExchange, report: MarginReport, now_ms: int) -> list[Json]:
    rows = []
    for exposure in report.exposures:
        spec = venue.markets[exposure.instrument].spec
        signed_notional = exposure.size * exposure.price
        rows.append(
            {
                "symbol": symbol_id(exposure.instrument),
                "positionSide": "BOTH",
                "positionAmt": text(exposure.size),
                "entryPrice": text(exposure.entry_price),
                "breakEvenPrice": text(exposure.entry_price),
                "markPrice": text(exposure.price),
                "unRealizedProfit": text(exposure.unrealized_pnl),
                "liquidationPrice": text(exposure.liquidation_price),
                "isolatedMargin": "0",
                "notional": text(signed_notional),
                "marginAsset": spec.settle,
                "isolatedWallet": "0",
                "initialMargin": text(exposure.initial_margin),
                "maintMargin": text(exposure.maintenance_margin),
                "positionInitialMargin": text(exposure.initial_margin),
                "openOrderInitialMargin": "0",
                "adl": 0,
                "bidNotional": "0",
                "askNotional": "0",
                "updateTime": now_ms,
            }
        )
    return rows


def position_risk_json(venue: SimulatedExchange, report: MarginReport, now_ms: int) -> list[Json]:
    return _positions(venue, report, now_ms)


def account_json(venue: SimulatedExchange, report: MarginReport, now_ms: int) -> Json:
    """``GET /fapi/v3/account``: the cross account and its settle asset, from the report."""
    wallet = report.details.get("wallet_balance", report.collateral)
    upnl = report.equity - wallet
    position_im = sum((e.initial_margin for e in report.exposures), ZERO)
    order_im = report.initial_margin_required - position_im
    available = max(report.free_collateral, ZERO)
    asset = {
        "asset": report.quote,
        "walletBalance": text(wallet),
        "unrealizedProfit": text(upnl),
        "marginBalance": text(report.equity),
        "maintMargin": text(report.maintenance_margin_required),
        "initialMargin": text(report.initial_margin_required),
        "positionInitialMargin": text(position_im),
        "openOrderInitialMargin": text(order_im),
        "crossWalletBalance": text(wallet),
        "crossUnPnl": text(upnl),
        "availableBalance": text(available),
        "maxWithdrawAmount": text(min(available, wallet)),
        "updateTime": now_ms,
    }
    positions = [
        {
            "symbol": row["symbol"],
            "positionSide": "BOTH",
            "positionAmt": row["positionAmt"],
            "unrealizedProfit": row["unRealizedProfit"],
            "isolatedMargin": "0",
            "notional": row["notional"],
            "isolatedWallet": "0",
            "initialMargin": row["initialMargin"],
            "maintMargin": row["maintMargin"],
            "updateTime": now_ms,
        }
        for row in _positions(venue, report, now_ms)
    ]
    return {
        "totalInitialMargin": text(report.initial_margin_required),
        "totalMaintMargin": text(report.maintenance_margin_required),
        "totalWalletBalance": text(wallet),
        "totalUnrealizedProfit": text(upnl),
        "totalMarginBalance": text(report.equity),
        "totalPositionInitialMargin": text(position_im),
        "totalOpenOrderInitialMargin": text(order_im),
        "totalCrossWalletBalance": text(wallet),
        "totalCrossUnPnl": text(upnl),
        "availableBalance": text(available),
        "maxWithdrawAmount": text(min(available, wallet)),
        "assets": [asset],
        "positions": positions,
    }
