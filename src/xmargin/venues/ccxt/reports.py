"""ccxt's unified order, trade, balance, position and income dicts as xmargin objects and events.

Quantities are in ccxt's amount unit (contracts; ``Instrument.contract_size`` carries the
multiplier), times are ccxt milliseconds turned into nanoseconds. Every number goes through
:func:`~xmargin.venues.ccxt.instruments.exact`.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from xmargin.core.clock import ms_to_ns
from xmargin.core.errors import DataError
from xmargin.model.events import (
    FundingSettled,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
)
from xmargin.model.orders import Order, OrderSide, OrderStatus, OrderType, TimeInForce
from xmargin.model.positions import Position, entry_cost
from xmargin.venues.ccxt.instruments import exact, optional

OrderEvent = OrderAccepted | OrderCanceled | OrderExpired | OrderRejected
_TIF = {
    "GTC": TimeInForce.GTC,
    "IOC": TimeInForce.IOC,
    "FOK": TimeInForce.FOK,
    "PO": TimeInForce.GTC,
}


def _venue_number(item: Mapping[str, Any], raw_key: str, unified_key: str, source: str) -> Decimal:
    """The venue's own decimal string when it sent one (ccxt's float may have lost digits)."""
    info = item.get("info")
    raw = info.get(raw_key) if isinstance(info, Mapping) else None
    if isinstance(raw, str) and raw:
        return exact(raw, raw_key, source=source)
    return exact(item.get(unified_key), unified_key, source=source)


def _ts_ns(item: Mapping[str, Any], fallback_ns: int) -> int:
    stamp = item.get("timestamp")
    return ms_to_ns(int(stamp)) if isinstance(stamp, int | float) and stamp > 0 else fallback_ns


def order_event(order: Mapping[str, Any], account: str, now_ns: int) -> OrderEvent | None:
    """The status event of a ccxt order: open → accepted, canceled, expired, rejected.

    A ``closed`` order has filled: its fills arrive as trades, so it yields no status event
    here. A status ccxt passes through raw (``NEW_ADL``, ``NEW_INSURANCE``) yields none.
    """
    client_id = str(order.get("clientOrderId") or "")
    ts = _ts_ns(order, now_ns)
    status = order.get("status")
    if status == "open":
        return OrderAccepted(ts, account, client_id, str(order.get("id") or ""))
    if status == "canceled":
        return OrderCanceled(ts, account, client_id, "canceled at the venue")
    if status == "expired":
        return OrderExpired(ts, account, client_id, "expired at the venue")
    if status == "rejected":
        return OrderRejected(ts, account, client_id, "rejected by the venue")
    return None


def fill_from_trade(
    trade: Mapping[str, Any], account: str, client_order_id: str, now_ns: int
) -> OrderFilled:
    """One ccxt trade as a fill, keyed by the venue's trade id for de-duplication."""
    source = f"trade {trade.get('id')}"
    trade_id = str(trade.get("id") or "")
    if not trade_id:
        raise DataError("trade has no id", source=source)
    fee = trade.get("fee") or {}
    info = trade.get("info") or {}
    fee_cost = optional(fee.get("cost"), "fee.cost", source=source) or Decimal(0)
    if isinstance(info.get("commission"), str) and info["commission"]:
        fee_cost = exact(info["commission"], "commission", source=source)
    raw_pnl = info.get("realizedPnl", info.get("closedPnl"))  # Binance; Hyperliquid
    pnl = optional(raw_pnl, "realized pnl", source=source) or Decimal(0)
    side = OrderSide(str(trade.get("side")))
    return OrderFilled(
        ts_event=_ts_ns(trade, now_ns),
        account=account,
        client_order_id=client_order_id,
        instrument=str(trade.get("symbol")),
        side=side,
        quantity=_venue_number(trade, "qty", "amount", source),
        price=_venue_number(trade, "price", "price", source),
        fee=fee_cost,
        fee_asset=str(fee.get("currency") or ""),
        liquidity=str(trade.get("takerOrMaker") or ""),
        realized_pnl=pnl,
        trade_id=trade_id,
    )


def order_from_ccxt(order: Mapping[str, Any], account: str) -> Order:
    """A working venue order as an xmargin order (reconciliation's open-orders view):
    accepted, and partially filled at its average price when the venue says so."""
    source = f"order {order.get('id')}"
    trigger = optional(order.get("triggerPrice"), "triggerPrice", source=source)
    limit_price = optional(order.get("price"), "price", source=source)
    raw_type = str(order.get("type") or "").lower()
    order_type = _order_type(raw_type, trigger is not None, bool(limit_price))
    tif = _TIF.get(str(order.get("timeInForce") or "GTC"), TimeInForce.GTC)
    result = Order(
        str(order.get("clientOrderId") or order.get("id")),
        str(order.get("symbol")),
        OrderSide(str(order.get("side"))),
        exact(order.get("amount"), "amount", source=source),
        order_type,
        price=limit_price if order_type.has_limit_price else None,
        trigger_price=trigger if order_type.has_trigger else None,
        time_in_force=tif,
        reduce_only=bool(order.get("reduceOnly")),
        post_only=bool(order.get("postOnly")) and order_type is OrderType.LIMIT,
        account=account,
    )
    result.venue_order_id = str(order.get("id") or "")
    result.transition(OrderStatus.SUBMITTED)
    result.transition(OrderStatus.ACCEPTED)
    filled = optional(order.get("filled"), "filled", source=source)
    average = optional(order.get("average"), "average", source=source)
    if filled and average:
        result.fill(filled, average)
    return result


def _order_type(raw: str, has_trigger: bool, has_price: bool) -> OrderType:
    if raw in ("take_profit_market", "take_profit"):
        return (
            OrderType.TAKE_PROFIT_MARKET if raw.endswith("market") else OrderType.TAKE_PROFIT_LIMIT
        )
    if raw in ("stop_market", "stop", "stop_loss") or (has_trigger and raw == "market"):
        return OrderType.STOP_MARKET
    if raw in ("stop_limit", "stop_loss_limit") or (has_trigger and raw == "limit"):
        return OrderType.STOP_LIMIT
    if raw == "limit" or (has_price and raw != "market"):
        return OrderType.LIMIT
    return OrderType.MARKET


def balances_from_ccxt(balance: Mapping[str, Any]) -> dict[str, Decimal]:
    """The total of every asset in a ccxt balance (``total``; ``None`` totals are skipped)."""
    totals = balance.get("total") or {}
    return {
        asset: exact(value, f"total {asset}", source="balance")
        for asset, value in sorted(totals.items())
        if value is not None
    }


def wallet_balances(balance: Mapping[str, Any]) -> dict[str, Decimal]:
    """Binance USDⓈ-M wallet balances (``info.assets[].walletBalance``, without unrealised
    PnL, which ccxt's ``total`` includes); empty when the venue reports no such field."""
    assets = (balance.get("info") or {}).get("assets")
    if not isinstance(assets, list):
        return {}
    found: dict[str, Decimal] = {}
    for row in assets:
        if isinstance(row, Mapping) and row.get("walletBalance") is not None:
            asset = str(row.get("asset"))
            found[asset] = exact(row["walletBalance"], f"walletBalance {asset}", source="balance")
    return dict(sorted(found.items()))


def position_from_ccxt(position: Mapping[str, Any]) -> Position:
    """A ccxt position as a signed size (contracts) with its cost basis at the entry price."""
    symbol = str(position.get("symbol"))
    source = f"position {symbol}"
    contracts = exact(position.get("contracts") or 0, "contracts", source=source)
    side = position.get("side")
    if contracts and side not in ("long", "short"):
        raise DataError(f"side {side!r} is neither long nor short", source=source)
    size = -contracts if side == "short" else contracts
    entry = optional(position.get("entryPrice"), "entryPrice", source=source) or Decimal(0)
    return Position(symbol, size, entry_cost(size, entry))


def funding_from_income(
    income: Mapping[str, Any],
    account: str,
    *,
    rate: Decimal,
    position_size: Decimal,
    mark_price: Decimal | None = None,
) -> FundingSettled:
    """A funding income row (``fetch_funding_history``) as a settlement.

    The venue's income is signed from the account's side (positive = received);
    ``FundingSettled.amount`` is what the position paid, so the sign flips. Binance's income
    carries neither the rate nor the mark: ``rate`` comes from the venue's funding-rate
    history, ``position_size`` from the position held then, and the mark, when the venue does
    not report it, is the one the settlement implies, ``paid / (size × rate)``.
    """
    source = f"funding {income.get('id')}"
    paid = -_venue_number(income, "income", "amount", source)
    if mark_price is None:
        if not rate or not position_size:
            raise DataError(
                "cannot imply the mark of a funding with zero rate or size", source=source
            )
        mark_price = paid / (position_size * rate)
    return FundingSettled(
        ts_event=_ts_ns(income, 0),
        account=account,
        instrument=str(income.get("symbol")),
        rate=rate,
        mark_price=mark_price,
        position_size=position_size,
        amount=paid,
        asset=str(income.get("code") or ""),
    )
