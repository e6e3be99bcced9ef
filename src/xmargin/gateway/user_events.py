"""The USDⓈ-M user-stream events built from venue events: ``ORDER_TRADE_UPDATE`` (liquidation
fills with ``x = CALCULATED`` and an ``autoclose-`` client id), ``ALGO_UPDATE`` for conditional
orders, ``ACCOUNT_UPDATE`` after fills, liquidations and funding, and ``MARGIN_CALL`` (which the
stream hub sends when an account enters the margin-call band)."""

from __future__ import annotations

from typing import Any

from xmargin.core.clock import NANOS_PER_MILLI
from xmargin.gateway.binance_json import order_status, symbol_id, text
from xmargin.gateway.records import AlgoRecord, OrderRecord
from xmargin.gateway.service import GatewayService
from xmargin.model.events import (
    FundingSettled,
    Liquidated,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderModified,
)

Json = dict[str, Any]
EXECUTION = {
    OrderAccepted: "NEW",
    OrderFilled: "TRADE",
    OrderCanceled: "CANCELED",
    OrderExpired: "EXPIRED",
    OrderModified: "AMENDMENT",
}


def user_messages(
    service: GatewayService,
    account: str,
    event: object,
    record: OrderRecord | AlgoRecord | None,
) -> list[Json]:
    """The user-stream messages one venue event makes (none for most events)."""
    now = getattr(event, "ts_event", 0) // NANOS_PER_MILLI
    if isinstance(record, AlgoRecord):
        return [algo_update(record, now)]
    if record is not None and (type(event) in EXECUTION or isinstance(event, Liquidated)):
        messages = [order_update(service, event, record, now)]
        if isinstance(event, (OrderFilled, Liquidated)):
            messages.append(account_update(service, account, "ORDER", now))
        return messages
    if isinstance(event, FundingSettled):
        return [account_update(service, account, "FUNDING_FEE", now)]
    return []


def algo_update(record: AlgoRecord, now: int) -> Json:
    order = record.order
    actual = record.actual
    return {
        "e": "ALGO_UPDATE",
        "T": now,
        "E": now,
        "o": {
            "caid": record.client_algo_id,
            "aid": record.algo_id,
            "at": "CONDITIONAL",
            "o": record.wire_type,
            "s": symbol_id(order.instrument),
            "S": order.side.value.upper(),
            "ps": "BOTH",
            "f": "GTC",
            "q": text(order.quantity),
            "X": record.status,
            "ai": str(actual.order_id) if actual is not None else "",
            "tp": text(order.trigger_price),
            "p": text(order.price),
            "wt": record.working_type,
            "pm": "NONE",
            "cp": False,
            "pP": False,
            "R": order.reduce_only,
            "tt": actual.time_ms if actual is not None else 0,
            "gtd": 0,
        },
    }


def order_update(service: GatewayService, event: object, record: OrderRecord, now: int) -> Json:
    order = record.order
    status = order_status(record)
    liquidation = isinstance(event, Liquidated)
    execution = "CALCULATED" if liquidation else EXECUTION[type(event)]
    if isinstance(event, OrderCanceled) and status == "EXPIRED":
        execution = "EXPIRED"
    fill: Json = {"l": "0", "L": "0", "n": "0", "N": "USDT", "t": 0, "m": False, "rp": "0"}
    if isinstance(event, (OrderFilled, Liquidated)):
        trade = service.account_records(record.account).trades[-1]
        fill = {
            "l": text(trade.qty),
            "L": text(trade.price),
            "n": text(trade.commission),
            "N": trade.commission_asset,
            "t": trade.trade_id,
            "m": trade.maker,
            "rp": text(trade.realized_pnl),
        }
    return {
        "e": "ORDER_TRADE_UPDATE",
        "E": now,
        "T": now,
        "o": {
            "s": symbol_id(order.instrument),
            "c": record.client_id,
            "S": order.side.value.upper(),
            "o": record.wire_type,
            "f": record.time_in_force,
            "q": text(order.quantity),
            "p": text(order.price),
            "ap": text(order.avg_fill_price),
            "sp": text(order.trigger_price),
            "x": execution,
            "X": status,
            "i": record.order_id,
            "z": text(order.filled_quantity),
            "T": now,
            "b": "0",
            "a": "0",
            "R": order.reduce_only,
            "wt": record.working_type,
            "ot": record.wire_type,
            "ps": "BOTH",
            "cp": False,
            **fill,
        },
    }


def account_update(service: GatewayService, account: str, reason: str, now: int) -> Json:
    sim = service.runtime.account(account)
    markets = service.runtime.venue.markets
    balances = [
        {"a": asset, "wb": text(amount), "cw": text(amount), "bc": "0"}
        for asset, amount in sim.book.balances.items()
    ]
    positions = []
    for position in sim.book.positions.values():
        market = markets[position.instrument]
        mark = market.mark_exact() if market.has_price else position.entry_price
        positions.append(
            {
                "s": symbol_id(position.instrument),
                "pa": text(position.size),
                "ep": text(position.entry_price),
                "bep": text(position.entry_price),
                "cr": "0",
                "up": text(position.unrealized_pnl(mark)),
                "mt": "cross",
                "iw": "0",
                "ps": "BOTH",
            }
        )
    return {
        "e": "ACCOUNT_UPDATE",
        "E": now,
        "T": now,
        "a": {"m": reason, "B": balances, "P": positions},
    }


def margin_call(service: GatewayService, account: str, now: int) -> Json:
    report = service.report(account)
    wallet = report.details.get("wallet_balance", report.collateral)
    return {
        "e": "MARGIN_CALL",
        "E": now,
        "cw": text(wallet),
        "p": [
            {
                "s": symbol_id(e.instrument),
                "ps": "BOTH",
                "pa": text(e.size),
                "mt": "CROSSED",
                "iw": "0",
                "mp": text(e.price),
                "up": text(e.unrealized_pnl),
                "mm": text(e.maintenance_margin),
            }
            for e in report.exposures
        ],
    }
