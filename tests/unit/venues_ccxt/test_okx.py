"""OKX as far as ccxt's unified API carries it: a recorded swap instrument (NautilusTrader's
``http_get_instruments_swap.json``) parsed by unmodified ccxt, and the conditional-order
request ccxt builds from the adapter's arguments."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import ccxt
from tests.pack import DATA_PACK, needs_pack

from xmargin.model.instruments import InstrumentKind
from xmargin.model.orders import Order, OrderSide, OrderType, TriggerSource
from xmargin.venues.ccxt.instruments import instrument_from_market
from xmargin.venues.ccxt.orders import create_order_args

pytestmark = needs_pack


def recorded_swap() -> dict[str, Any]:
    files = json.loads((DATA_PACK / "api_fixtures" / "nautilus_raw" / "okx.json").read_text())
    name = next(k for k in files["files"] if k.endswith("http_get_instruments_swap.json"))
    row: dict[str, Any] = files["files"][name]["data"][0]
    return row


def test_an_okx_inverse_swap_keeps_its_contract_value() -> None:
    raw = recorded_swap()
    exchange = ccxt.okx()
    instrument = instrument_from_market(exchange.parse_market(raw), exchange.precisionMode)
    assert (instrument.symbol, instrument.kind, instrument.settle) == (
        "BTC/USD:BTC",
        InstrumentKind.INVERSE_PERPETUAL,
        raw["settleCcy"],
    )
    assert instrument.contract_size == Decimal(raw["ctVal"])  # 100 USD a contract
    assert instrument.price_increment == Decimal(raw["tickSz"])
    assert instrument.size_increment == Decimal(raw["lotSz"])
    assert instrument.min_size == Decimal(raw["minSz"])
    # an inverse contract's notional is its USD face value, whatever the price
    assert instrument.notional(Decimal(3), Decimal(60000)) == 300


def test_an_okx_stop_is_a_conditional_algo_order_on_the_mark_with_the_client_id() -> None:
    exchange = ccxt.okx()
    exchange.set_markets([exchange.parse_market(recorded_swap())])
    order = Order(
        "c-1",
        "BTC/USD:BTC",
        OrderSide.SELL,
        Decimal(2),
        OrderType.STOP_MARKET,
        trigger_price=Decimal(60000),
        trigger_source=TriggerSource.MARK,
        reduce_only=True,
    )
    args = create_order_args("okx", order)
    request = exchange.create_order_request(
        args.symbol, args.type, args.side, args.amount, args.price, args.params
    )
    assert args.conditional is True
    assert request == {
        "instId": "BTC-USD-SWAP",
        "side": "sell",
        "ordType": "conditional",
        "sz": "2",
        "tdMode": "cross",
        "slTriggerPx": "60000",
        "slOrdPx": "-1",  # market on trigger
        "slTriggerPxType": "mark",
        "clOrdId": "c-1",
        "reduceOnly": True,
    }
