"""FTX's automatic conversion of a negative USD balance (spec A.6), booked through the ledger.

Under ``legacy_2020`` (and ``spot_margin_era`` without spot margin) the venue sells the
account's other coins for USD when the ``ftx_cross`` model's triggers hold; the model
computes which coins and how much (``conversion_sales``). Each sale is a market order in the
coin's spot market at its valuation price, paying the taker fee in USD, rounded up to the
market's lot (never past what is held). It runs in the risk pass, before the liquidation check
(spec §0.4 step 3).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from xmargin.margin.ftx import FtxCross
from xmargin.margin.ftx_liquidation import conversion_sales
from xmargin.model.events import CollateralConverted
from xmargin.model.instruments import parse_symbol
from xmargin.model.numbers import round_to_increment
from xmargin.venues.sim.accounts import SimAccount

if TYPE_CHECKING:
    from xmargin.venues.sim.exchange import SimulatedExchange


def may_convert(account: SimAccount) -> bool:
    """Whether the account is an FTX account under a conversion rule with negative USD."""
    return account.converts and account.book.balance(account.model.quote) < 0


def convert_negative_usd(exchange: SimulatedExchange, account: SimAccount) -> bool:
    """Sell coins for USD while the model's conversion triggers hold; return whether it sold."""
    model = account.model
    if not isinstance(model, FtxCross) or not may_convert(account):
        return False
    snapshot = exchange.snapshot(account)
    sales = conversion_sales(model, snapshot)
    if not sales:
        return False
    ts = exchange.clock.now_ns()
    quote, fee_rate = model.quote, exchange.config.fees.taker
    for coin, quantity in sales:
        symbol = f"{coin}/{quote}"
        market = exchange.markets.get(symbol)
        spec = market.spec if market is not None else parse_symbol(symbol)
        held = account.book.balance(coin)
        sold = min(held, round_to_increment(quantity, spec.size_increment, mode="up"))
        if sold <= 0:
            continue
        price = snapshot.price_of(coin, quote)
        fee = sold * price * fee_rate
        exchange.ledger.apply_fill(ts, account.id, spec, -sold, price, fee, quote, "conversion")
        exchange.emit(CollateralConverted(ts, account.id, symbol, sold, price, fee, quote))
    return True
