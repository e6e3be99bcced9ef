"""Visiting only the resting orders a price reaches gives the event log of visiting them all.

``FullVisitFills`` is the fill engine with its matching loops as they were before the price
indexes: every resting order, in arrival order, for every bar, trade, quote and mark interval.
Random backtests (the scenarios of ``test_matching``: every order type, cancels, repricing
modifications, latency, volume caps, mark feeds, liquidations; with trades or quotes inside
the bars or not) must give byte-identical event logs with it and with the indexed engine.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.property.test_matching import BTC, HOUR, T0, scenarios, sources_of

from xmargin.backtest.feed import FeedSource
from xmargin.model.market_data import Bar, Quote, Trade
from xmargin.model.numbers import ZERO
from xmargin.model.orders import Order, OrderSide, OrderStatus, OrderType, TriggerSource
from xmargin.testing.scenario import build_scenario
from xmargin.testing.series import quotes, trades
from xmargin.venues.sim import matching
from xmargin.venues.sim.fills import FillEngine
from xmargin.venues.sim.markets import MarketState


class FullVisitFills(FillEngine):
    """The fill engine visiting every resting order (the reference)."""

    def match_bar(self, market: MarketState, bar: Bar) -> None:
        for order in tuple(market.resting):
            if not order.status.is_open:
                if order in market.resting:
                    market.resting.remove(order)
                continue
            if order.order_type.has_trigger and order.status is OrderStatus.ACCEPTED:
                if self._triggers_on_last(market, order) and matching.trigger_crossed(
                    order, bar.low, bar.high
                ):
                    self._trigger(market, order, bar.open)
                continue
            if order.order_type is OrderType.MARKET or (
                order.status is OrderStatus.TRIGGERED
                and order.order_type in (OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET)
            ):
                self.take(market, order, bar.open)
            elif matching.limit_traded_through(order, bar.low, bar.high):
                gapped = matching.limit_marketable(order, bar.open)
                self._make(market, order, bar.open if gapped else order.price)

    def match_trade(self, market: MarketState, trade: Trade) -> None:
        for order in tuple(market.resting):
            if not order.status.is_open:
                if order in market.resting:
                    market.resting.remove(order)
                continue
            if order.order_type.has_trigger and order.status is OrderStatus.ACCEPTED:
                if self._triggers_on_last(market, order) and matching.trigger_crossed(
                    order, trade.price, trade.price
                ):
                    self._trigger(market, order, trade.price)
                continue
            if order.order_type.has_limit_price and matching.limit_traded_through(
                order, trade.price, trade.price
            ):
                self._make(market, order, order.price)
            elif not order.order_type.has_limit_price:
                self.take(market, order, trade.price)

    def match_quote(self, market: MarketState, quote: Quote, waiting: list[Order] | None) -> None:
        room = {OrderSide.BUY: quote.ask_size, OrderSide.SELL: quote.bid_size}
        arrived = tuple(waiting or ())
        if waiting:
            waiting.clear()
        for order in arrived + tuple(market.resting):
            if not order.status.is_open:
                if order in market.resting:
                    market.resting.remove(order)
                continue
            opposite = quote.ask if order.side is OrderSide.BUY else quote.bid
            market.bar_capacity = room[order.side]
            if order.order_type.has_trigger and order.status is OrderStatus.ACCEPTED:
                if matching.trigger_crossed(order, quote.mid, quote.mid):
                    self._trigger(market, order, quote.mid)
            elif order.order_type is OrderType.LIMIT and order in arrived:
                self.place(market, order, opposite)
            elif order.order_type.has_limit_price:
                if matching.limit_marketable(order, opposite):
                    self._make(market, order, order.price)
            else:
                self.take(market, order, opposite)
                if order.status.is_open and order not in market.resting:
                    market.resting.append(order)
            room[order.side] = market.bar_capacity or 0.0
        market.touch = {
            OrderSide.BUY: (quote.ask, room[OrderSide.BUY]),
            OrderSide.SELL: (quote.bid, room[OrderSide.SELL]),
        }

    def trigger_on_mark(
        self,
        market: MarketState,
        low: float,
        high: float,
        *,
        before_liquidation: bool = False,
        placed_by: int | None = None,
    ) -> None:
        guard = self.exchange.guard
        accounts = self.exchange.accounts
        for order in tuple(market.resting):
            if (
                order.status is OrderStatus.ACCEPTED
                and order.order_type.has_trigger
                and order.trigger_source is TriggerSource.MARK
                and (placed_by is None or order.ts_init <= placed_by)
                and matching.trigger_crossed(order, low, high)
            ):
                trigger = order.trigger_price or ZERO
                account = accounts[order.account]
                if before_liquidation and guard.liquidates_at(account, market.spec.symbol, trigger):
                    continue
                self._trigger(market, order, market.last or float(trigger))


def ticks_of(example: dict[str, Any], kind: str) -> list[FeedSource]:
    """Trades (or best bid/offer updates) inside each bar, at its high, then low, then close."""
    if kind == "bars":
        return []
    rows = []
    for i, (_, high, low, close, volume) in enumerate(example["rows"]):
        start = T0 + i * HOUR
        for k, price in enumerate((high, low, close)):
            ts = start + (k + 1) * 900_000
            size = volume / 4
            rows.append(
                (ts, price, size)
                if kind == "trades"
                else (ts, price - 0.1, size, price + 0.1, size)
            )
    if kind == "trades":
        return [FeedSource("trades", "binance", BTC, trades(rows))]
    return [FeedSource("quotes", "binance", BTC, quotes(rows))]


def event_log(example: dict[str, Any], ticks: str, *, full_visit: bool) -> str:
    sources = sources_of(example) + ticks_of(example, ticks)
    backtest, _ = build_scenario(example["document"], sources, example["steps"])
    if full_visit:
        exchange = backtest.venues["binance"]
        exchange.fills = FullVisitFills(exchange)
    return backtest.run().recorder.event_log_text()


@settings(max_examples=200, deadline=None)
@given(scenarios(), st.sampled_from(["bars", "trades", "quotes"]))
def test_indexed_matching_gives_the_event_log_of_visiting_every_resting_order(example, ticks):
    indexed = event_log(example, ticks, full_visit=False)
    assert indexed == event_log(example, ticks, full_visit=True)
    assert indexed.count("\n") >= 1


def resting_book(closed_last: bool) -> tuple[MarketState, FillEngine, FullVisitFills]:
    """A market with a buy far below and a sell far above the quotes (neither can trade),
    then a buy limit the quotes reach, closed already when ``closed_last``."""
    example = {"rows": [(100.0, 100.0, 100.0, 100.0, 1.0)], "funding": [], "marks": False}
    venue = {
        "id": "binance",
        "model": "binance_usdm_cross",
        "accounts": [{"id": "main", "balances": {"USDT": "1000"}}],
    }
    document = {"seed": 0, "run": {}, "venues": [venue]}
    backtest, _ = build_scenario(document, sources_of(example), [])
    exchange = backtest.venues["binance"]
    market = exchange.markets[BTC]
    for n, (side, price) in enumerate([(OrderSide.BUY, "50"), (OrderSide.SELL, "150")]):
        order = Order(f"O-{n}", BTC, side, Decimal(1), OrderType.LIMIT, price=Decimal(price))
        order.transition(OrderStatus.SUBMITTED)
        order.transition(OrderStatus.ACCEPTED)
        market.resting.append(order)
    if closed_last:
        order = Order("O-2", BTC, OrderSide.BUY, Decimal(1), OrderType.LIMIT, price=Decimal(101))
        order.transition(OrderStatus.SUBMITTED)
        order.transition(OrderStatus.ACCEPTED)
        market.resting.append(order)
        order.transition(OrderStatus.CANCELED)  # closed, not yet taken off the book
    return market, exchange.fills, FullVisitFills(exchange)


def test_a_quote_leaves_the_capacity_of_the_last_order_a_full_visit_finds_open():
    quote = Quote("binance", BTC, T0, 99.5, 5.0, 100.5, 2.0)
    for closed_last in (False, True):
        # visiting all: the buy sets the capacity to the ask's 2.0, then the sell to the
        # bid's 5.0; a closed order after them changes nothing (it leaves the book)
        market, indexed, full = resting_book(closed_last)
        full.match_quote(market, quote, None)
        assert market.bar_capacity == 5.0
        assert len(market.resting) == 2
        market, indexed, full = resting_book(closed_last)
        indexed.match_quote(market, quote, None)
        assert market.bar_capacity == 5.0
        assert len(market.resting) == 2
