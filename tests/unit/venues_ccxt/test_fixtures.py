"""Recorded venue responses parse through the adapter into exact xmargin objects.

``api_fixtures/ccxt/*.selected.json`` hold, per method, the raw ``httpResponse`` and ccxt's
``parsedResponse``; the adapter reads the parsed one, and every expected value below is the
raw payload's own string. Markets come from NautilusTrader's recorded Binance exchangeInfo,
parsed by unmodified ccxt.
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from typing import Any

import ccxt
import pytest
from tests.pack import DATA_PACK, needs_pack

from xmargin.core.errors import DataError
from xmargin.model.events import FundingSettled, OrderAccepted, OrderCanceled, OrderFilled
from xmargin.model.instruments import InstrumentKind
from xmargin.model.orders import OrderSide, OrderStatus, OrderType, TimeInForce
from xmargin.venues.ccxt.instruments import instrument_from_market, tier_table_from_ccxt
from xmargin.venues.ccxt.reports import (
    balances_from_ccxt,
    fill_from_trade,
    funding_from_income,
    order_event,
    order_from_ccxt,
    position_from_ccxt,
    wallet_balances,
)

pytestmark = needs_pack
FIXTURES = DATA_PACK / "api_fixtures"


@cache
def methods(exchange: str) -> dict[str, list[dict[str, Any]]]:
    path = FIXTURES / "ccxt" / f"{exchange}.selected.json"
    loaded: dict[str, list[dict[str, Any]]] = json.loads(path.read_text())["methods"]
    return loaded


def case(exchange: str, method: str, index: int = 0) -> tuple[Any, Any]:
    entry = methods(exchange)[method][index]
    return entry["httpResponse"], entry["parsedResponse"]


def binance_symbols() -> list[dict[str, Any]]:
    files = json.loads((FIXTURES / "nautilus_raw" / "binance_usdm.json").read_text())["files"]
    name = next(k for k in files if k.endswith("http_futures_market_exchange_info.json"))
    symbols: list[dict[str, Any]] = files[name]["symbols"]
    return symbols


def test_binance_markets_become_instruments_with_the_filters_increments() -> None:
    exchange = ccxt.binanceusdm()
    raw = {s["symbol"]: s for s in binance_symbols()}
    btc = instrument_from_market(exchange.parse_market(raw["BTCUSDT"]), exchange.precisionMode)
    filters = {f["filterType"]: f for f in raw["BTCUSDT"]["filters"]}
    assert (btc.symbol, btc.kind, btc.settle) == (
        "BTC/USDT:USDT",
        InstrumentKind.LINEAR_PERPETUAL,
        raw["BTCUSDT"]["marginAsset"],
    )
    assert btc.price_increment == Decimal(filters["PRICE_FILTER"]["tickSize"])  # "0.10"
    assert btc.size_increment == Decimal(filters["LOT_SIZE"]["stepSize"])
    assert btc.min_size == Decimal(filters["LOT_SIZE"]["minQty"])
    assert btc.min_notional == Decimal(filters["MIN_NOTIONAL"]["notional"])
    assert btc.contract_size == 1
    dated = instrument_from_market(
        exchange.parse_market(raw["BTCUSDT_220325"]), exchange.precisionMode
    )
    assert (dated.symbol, dated.kind, dated.expiry) == (
        "BTC/USDT:USDT-220325",
        InstrumentKind.DATED_FUTURE,
        "220325",
    )


def test_a_market_whose_type_disagrees_with_its_symbol_is_refused() -> None:
    exchange = ccxt.binanceusdm()
    market = exchange.parse_market(binance_symbols()[0])
    with pytest.raises(DataError, match="symbol says linear_perpetual, ccxt says type 'spot'"):
        instrument_from_market({**market, "type": "spot"}, exchange.precisionMode)
    with pytest.raises(DataError, match="precision mode 2 is not tick sizes"):
        instrument_from_market(market, 2)


def test_binance_swap_fill_keeps_trade_id_fee_and_exact_numbers() -> None:
    raw, parsed = case("binance", "fetchMyTrades")
    fill = fill_from_trade(parsed[0], "main", "cid-1", now_ns=0)
    assert fill == OrderFilled(
        ts_event=int(raw[0]["time"]) * 1_000_000,
        account="main",
        client_order_id="cid-1",
        instrument="BTC/USDT:USDT",
        side=OrderSide.BUY,
        quantity=Decimal("0.010"),
        price=Decimal("36567.10"),
        fee=Decimal("0.14626840"),
        fee_asset="USDT",
        liquidity="taker",  # raw "maker": false
        realized_pnl=Decimal("0"),
        trade_id="272536245",
    )


@pytest.mark.parametrize(
    ("exchange", "quantity", "price", "fee", "fee_asset", "trade_id"),
    [
        ("bybit", "1.2", "72.25", "0.00867", "USDT", "6dff7827-9774-4881-b275-d2b9eec1ce9b"),
        ("hyperliquid", "0.5", "132.31", "0.023154", "USDC", "566849930446139"),
    ],
)
def test_other_venues_fills_parse(
    exchange: str, quantity: str, price: str, fee: str, fee_asset: str, trade_id: str
) -> None:
    raw, parsed = case(exchange, "fetchMyTrades")
    fill = fill_from_trade(parsed[0], "acct", "", now_ns=0)
    assert (fill.quantity, fill.price, fill.fee, fill.fee_asset, fill.trade_id) == (
        Decimal(quantity),
        Decimal(price),
        Decimal(fee),
        fee_asset,
        trade_id,
    )
    raw_row = raw["result"]["list"][0] if exchange == "bybit" else raw[0]
    assert str(raw_row.get("execPrice", raw_row.get("px"))) == price


def test_a_trade_without_an_id_is_refused() -> None:
    _, parsed = case("binance", "fetchMyTrades")
    with pytest.raises(DataError, match="trade has no id"):
        fill_from_trade({**parsed[0], "id": None}, "main", "", now_ns=0)


def test_binance_funding_income_becomes_a_settlement_paid_by_the_position() -> None:
    raw, parsed = case("binance", "fetchFundingHistory")
    rate, size = Decimal("0.0001"), Decimal("0.009")
    event = funding_from_income(parsed[0], "main", rate=rate, position_size=size)
    paid = Decimal("0.04618913")  # raw income "-0.04618913": the account paid
    assert event == FundingSettled(
        ts_event=int(raw[0]["time"]) * 1_000_000,
        account="main",
        instrument="BTC/USDT:USDT",
        rate=rate,
        mark_price=paid / (size * rate),
        position_size=size,
        amount=paid,
        asset="USDT",
    )
    given = funding_from_income(
        parsed[0], "m", rate=rate, position_size=size, mark_price=Decimal(5)
    )
    assert given.mark_price == 5
    with pytest.raises(DataError, match="cannot imply the mark"):
        funding_from_income(parsed[0], "m", rate=Decimal(0), position_size=size)


@pytest.mark.parametrize(
    ("exchange", "index", "symbol", "size", "entry"),
    [
        ("binance", 0, "BTC/USDT:USDT", "0.009", "67445.9"),
        ("bybit", 0, "LTC/USDT:USDT", "1.2", "64.59947917"),
        ("okx", 0, "LTC/USDT:USDT", "1", "68.24"),
        ("hyperliquid", 0, "SOL/USDC:USDC", "3.34", "112.0945"),
        ("hyperliquid", 1, "SOL/USDC:USDC", "-0.5", "138.76"),  # raw szi "-0.5"
    ],
)
def test_positions_parse_to_signed_size_and_cost(
    exchange: str, index: int, symbol: str, size: str, entry: str
) -> None:
    _, parsed = case(exchange, "fetchPositions", index)
    position = position_from_ccxt(parsed[0])
    assert (position.instrument, position.size) == (symbol, Decimal(size))
    assert position.cost == Decimal(size) * Decimal(entry)
    assert position.entry_price == Decimal(entry)


def test_a_position_with_no_side_is_refused() -> None:
    _, parsed = case("binance", "fetchPositions")
    with pytest.raises(DataError, match="side None is neither long nor short"):
        position_from_ccxt({**parsed[0], "side": None})


def test_binance_balance_is_the_wallet_without_unrealised_pnl() -> None:
    raw, parsed = case("binance", "fetchBalance")
    assert wallet_balances(parsed) == {"USDT": Decimal(raw["assets"][0]["walletBalance"])}
    assert balances_from_ccxt(parsed) == {"USDT": Decimal("31.022612")}


def test_bybit_unified_balance_totals() -> None:
    raw, parsed = case("bybit", "fetchBalance")
    coins = {c["coin"]: c["walletBalance"] for c in raw["result"]["list"][0]["coin"]}
    balances = balances_from_ccxt(parsed)
    assert wallet_balances(parsed) == {}
    assert balances == {asset: Decimal(coins[asset]) for asset in balances}
    assert sorted(balances) == ["ADA", "BTC", "ETH", "LTC", "USDC", "USDT", "XRP"]


def test_binance_open_post_only_order_is_accepted_and_reconciled() -> None:
    raw, parsed = case("binance", "fetchOpenOrder")
    event = order_event(parsed, "main", now_ns=0)
    assert event == OrderAccepted(
        int(raw["time"]) * 1_000_000, "main", raw["clientOrderId"], "664082074"
    )
    order = order_from_ccxt(parsed, "main")
    assert (order.order_type, order.price, order.quantity) == (
        OrderType.LIMIT,
        Decimal(raw["price"]),
        Decimal(raw["origQty"]),
    )
    assert (order.post_only, order.time_in_force, order.status) == (
        True,  # raw timeInForce "GTX"
        TimeInForce.GTC,
        OrderStatus.ACCEPTED,
    )
    assert order.venue_order_id == raw["orderId"]


def test_hyperliquid_trigger_order_reconciles_as_a_stop_limit() -> None:
    raw, parsed = case("hyperliquid", "fetchOpenOrders")
    order = order_from_ccxt(parsed[0], "acct")
    info = raw[0]
    assert (order.order_type, order.price, order.trigger_price, order.quantity) == (
        OrderType.STOP_LIMIT,
        Decimal(info["limitPx"]),
        Decimal(info["triggerPx"]),
        Decimal(info["origSz"]),
    )


def test_status_events_follow_ccxt_statuses() -> None:
    _, parsed = case("binance", "fetchOpenOrder")
    canceled = order_event({**parsed, "status": "canceled"}, "main", now_ns=0)
    assert canceled == OrderCanceled(
        int(parsed["timestamp"]) * 1_000_000,
        "main",
        parsed["clientOrderId"],
        "canceled at the venue",
    )
    assert order_event({**parsed, "status": "closed"}, "main", now_ns=0) is None
    assert order_event({**parsed, "status": "NEW_ADL"}, "main", now_ns=0) is None


def test_leverage_tiers_fill_the_tier_table_with_derived_cum() -> None:
    # the first BTC brackets of the binance fixture's options.leverageBrackets, as ccxt rows
    brackets = json.loads((FIXTURES / "ccxt" / "binance.selected.json").read_text())
    floors = brackets["options"]["leverageBrackets"]["BTC/USDT:USDT"][:3]
    rows = [
        {
            "minNotional": float(floor),
            "maxNotional": float(floors[i + 1][0]) if i + 1 < len(floors) else 1e9,
            "maintenanceMarginRate": float(mmr),
            "maxLeverage": 125 // (i + 1),
            "info": {},
        }
        for i, (floor, mmr) in enumerate(floors)
    ]
    table = tier_table_from_ccxt("BTC/USDT:USDT", rows)
    # cum by hand: 0; 50000 x (0.005 - 0.004) = 50; 50 + 250000 x (0.01 - 0.005) = 1300
    assert [t.cum for t in table.tiers] == [0, 50, 1300]
    assert table.maintenance(Decimal(100_000)) == Decimal(100_000) * Decimal("0.005") - 50
    rows[1]["info"] = {"cum": "49"}
    with pytest.raises(DataError, match="cum 49 disagrees with the recurrence"):
        tier_table_from_ccxt("BTC/USDT:USDT", rows)
    with pytest.raises(DataError, match="does not continue the table"):
        tier_table_from_ccxt("BTC/USDT:USDT", rows[1:])
