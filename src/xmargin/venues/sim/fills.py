"""The fill engine of the simulated exchange: admission, placement, matching and booking fills."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from xmargin.margin.base import MarginState
from xmargin.model.events import OrderFilled, OrderTriggered
from xmargin.model.instruments import Instrument, InstrumentKind
from xmargin.model.market_data import Bar, Quote, Trade
from xmargin.model.numbers import ZERO
from xmargin.model.orders import (
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
    TriggerSource,
)
from xmargin.venues.sim import matching
from xmargin.venues.sim.accounts import SimAccount
from xmargin.venues.sim.markets import MarketState

if TYPE_CHECKING:
    from xmargin.venues.sim.exchange import SimulatedExchange

MAKER = "maker"
TAKER = "taker"


class FillEngine:
    """Decides what fills, at which price, and books it through the ledger."""

    def __init__(self, exchange: SimulatedExchange) -> None:
        self.exchange = exchange
        self._fill_ids = 0
        # The last order admitted on margin: (id, quantity, price, fills booked by then). A
        # fill of all of it at that price with nothing booked since needs no second check.
        self._admitted: tuple[str, Decimal, Decimal, int] | None = None

    # -- admission and placement -------------------------------------------------------------

    def admission_rejection(
        self, account: SimAccount, market: MarketState, order: Order
    ) -> str | None:
        """Return why the venue refuses ``order`` on arrival, or None."""
        if account.state in (MarginState.LIQUIDATING, MarginState.AUTO_CLOSE, MarginState.BACKSTOP):
            return "the account is being liquidated"
        signed = order.signed_quantity
        if order.reduce_only and self._reducible(account, order) == 0:
            return "reduce-only order would increase the position"
        if order.order_type.has_trigger:
            reference = market.mark if order.trigger_source.value == "mark" else market.last
            if reference > 0 and matching.would_trigger_now(order, reference):
                return "order would immediately trigger"
        if market.spec.kind is InstrumentKind.SPOT:
            return self.exchange.guard.spot_rejection(account, market, signed, order.price)
        if order.reduce_only:
            return None
        price = order.price or order.trigger_price or market.last_exact()
        reason = self.exchange.guard.margin_rejection(account, market.spec, signed, price)
        if reason is None:
            self._admitted = (order.client_order_id, order.quantity, price, self._fill_ids)
        return reason

    def place(self, market: MarketState, order: Order, reference: float) -> None:
        """Handle a limit order meeting the price ``reference``: take what is marketable there
        (a post-only order expires instead), cancel an IOC/FOK remainder, rest the rest."""
        marketable = reference > 0 and matching.limit_marketable(order, reference)
        if marketable and order.post_only:
            self.exchange._close(order, OrderStatus.EXPIRED, "post-only order would take liquidity")
            return
        if marketable:
            self.take(market, order, reference)
            if order.status.is_closed:
                return
        if order.time_in_force is not TimeInForce.GTC:
            self.exchange._close(
                order, OrderStatus.CANCELED, f"{order.time_in_force.value} remainder"
            )
            return
        market.resting.append(order)

    # -- matching ------------------------------------------------------------------------------

    def take(self, market: MarketState, order: Order, reference: float) -> None:
        """Fill ``order`` as taker at ``reference`` plus slippage, within the bar's capacity.

        A limit order never fills past its limit price, whatever the slippage.
        """
        quantity = self._capped(market, order, order.leaves_quantity)
        if order.time_in_force is TimeInForce.FOK and quantity < order.leaves_quantity:
            self.exchange._close(order, OrderStatus.CANCELED, "fill-or-kill could not fill in full")
            return
        if quantity > 0:
            slipped = self.exchange.config.slippage.adjust(
                reference, order.side.sign, float(quantity), market.bar_volume
            )
            price = market.spec.make_price(slipped)
            if order.price is not None and order.order_type.has_limit_price:
                buying = order.side is OrderSide.BUY
                price = min(price, order.price) if buying else max(price, order.price)
            self.execute(market, order, quantity, price, TAKER)
        if order.status.is_open and order.time_in_force is not TimeInForce.GTC:
            self.exchange._close(
                order, OrderStatus.CANCELED, f"{order.time_in_force.value} remainder"
            )

    def fill_at_open(self, market: MarketState, orders: list[Order], price: float) -> None:
        """Orders that reached the venue since the last price meet this one (a bar's open or
        the next trade): market orders take it and keep working; limits are placed at it."""
        for order in tuple(orders):
            if not order.status.is_open:
                continue
            if order.order_type is OrderType.MARKET:
                self.take(market, order, price)
                if order.status.is_open:
                    market.resting.append(order)
            else:
                self.place(market, order, price)

    def match_bar(self, market: MarketState, bar: Bar) -> None:
        """Match resting orders against one bar's range (see ``matching``'s assumptions);
        only those whose price the range reaches are visited."""
        for order in market.resting.matching_pass(bar.low, bar.high):
            if not order.status.is_open:
                if order in market.resting:  # an event callback may have closed it already
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
                and (
                    order.order_type is OrderType.STOP_MARKET
                    or order.order_type is OrderType.TAKE_PROFIT_MARKET
                )
            ):
                self.take(market, order, bar.open)
            elif matching.limit_traded_through(order, bar.low, bar.high):
                gapped = matching.limit_marketable(order, bar.open)
                self._make(market, order, bar.open if gapped else order.price)

    def match_trade(self, market: MarketState, trade: Trade) -> None:
        for order in market.resting.matching_pass(trade.price, trade.price):
            if not order.status.is_open:
                if order in market.resting:  # an event callback may have closed it already
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
        """Market orders take the opposite best price up to its size; limits that just
        arrived are placed at it; resting limits fill when it reaches their price.

        Of the resting orders, only those the quote can reach are visited; the capacity left
        is that of the last order a visit of every order would have found open.
        Leaves ``market.touch``: each side's price and the size still left there.
        """
        room = {OrderSide.BUY: quote.ask_size, OrderSide.SELL: quote.bid_size}
        arrived = tuple(waiting or ())
        if waiting:
            waiting.clear()
        resting = market.resting
        prices = (quote.bid, quote.ask, quote.mid)
        visit = resting.begin_pass(min(prices), max(prices))
        try:
            last_arrived: Order | None = None
            for order in arrived:
                if self._quote_visit(market, quote, order, room, arrived):
                    last_arrived = order
            opened: dict[int, bool] = {}
            for sequence, order in resting.visits(visit):
                opened[sequence] = self._quote_visit(market, quote, order, room, arrived)
            last = resting.last_open_at_visit(visit, opened) or last_arrived
        finally:
            resting.end_pass(visit)
        if last is not None:
            market.bar_capacity = room[last.side]
        market.touch = {
            OrderSide.BUY: (quote.ask, room[OrderSide.BUY]),
            OrderSide.SELL: (quote.bid, room[OrderSide.SELL]),
        }

    def _quote_visit(
        self,
        market: MarketState,
        quote: Quote,
        order: Order,
        room: dict[OrderSide, float],
        arrived: tuple[Order, ...],
    ) -> bool:
        """Meet one order with a quote; return whether it was open."""
        if not order.status.is_open:
            if order in market.resting:
                market.resting.remove(order)
            return False
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
        return True

    def trigger_on_mark(
        self,
        market: MarketState,
        low: float,
        high: float,
        *,
        before_liquidation: bool = False,
        placed_by: int | None = None,
    ) -> None:
        """Trigger the stops on the mark that a mark interval ``[low, high]`` reached.

        ``before_liquidation``: only those the mark reaches before it would liquidate their
        account (a protective stop above a long's liquidation price goes first).
        ``placed_by``: only stops submitted by then (a coarse interval's open); a later one
        cannot be triggered by a price the interval may have reached before it existed.
        """
        guard = self.exchange.guard
        accounts = self.exchange.accounts
        for order in market.resting.matching_pass(low, high, triggers_only=True):
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

    def _trigger(self, market: MarketState, order: Order, bar_open: float) -> None:
        order.transition(OrderStatus.TRIGGERED)
        market.resting.reindex(order)
        self.exchange.accounts[order.account].working.refresh(order)
        now = self.exchange.clock.now_ns()
        self.exchange.emit(
            OrderTriggered(now, order.account, order.client_order_id, order.trigger_price or ZERO)
        )
        if order.order_type in (OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET):
            self.take(market, order, matching.triggered_fill_price(order, bar_open))

    def _make(self, market: MarketState, order: Order, price: Decimal | float | None) -> None:
        """Fill a resting limit as maker at ``price`` (its limit, or a better bar open)."""
        quantity = self._capped(market, order, order.leaves_quantity)
        if quantity <= 0 or price is None:
            return
        exact = price if isinstance(price, Decimal) else market.spec.make_price(price)
        self.execute(market, order, quantity, exact, MAKER)

    @staticmethod
    def _triggers_on_last(market: MarketState, order: Order) -> bool:
        """Trades trigger stops on the last price, and on the mark when trades are the mark."""
        return order.trigger_source is TriggerSource.LAST or not market.has_mark_feed

    def _capped(self, market: MarketState, order: Order, wanted: Decimal) -> Decimal:
        capacity = market.bar_capacity
        if capacity is None:
            return wanted
        room = market.spec.make_qty(max(capacity, 0.0))
        return min(wanted, room)

    # -- booking -------------------------------------------------------------------------------

    def _reducible(self, account: SimAccount, order: Order) -> Decimal:
        """Return how much of ``order`` only reduces the position (spot: the balance held)."""
        spec = self.exchange.markets[order.instrument].spec
        if spec.kind is InstrumentKind.SPOT:
            held = account.book.balance(spec.base)
            return min(order.leaves_quantity, held) if order.side is OrderSide.SELL else ZERO
        position = account.book.positions.get(order.instrument)
        size = position.size if position is not None else ZERO
        if size * order.side.sign >= 0:
            return ZERO
        return min(order.leaves_quantity, abs(size))

    def execute(
        self, market: MarketState, order: Order, quantity: Decimal, price: Decimal, liquidity: str
    ) -> None:
        """Book a fill: reduce-only cap, the venue's margin check, ledger, order, event."""
        exchange = self.exchange
        account = exchange.accounts[order.account]
        if order.reduce_only:
            quantity = min(quantity, self._reducible(account, order))
            if quantity == 0:
                exchange._close(
                    order, OrderStatus.CANCELED, "reduce-only order has nothing to reduce"
                )
                return
        spec = market.spec
        signed = quantity if order.side is OrderSide.BUY else -quantity
        unchanged = self._admitted == (order.client_order_id, quantity, price, self._fill_ids)
        if not order.reduce_only and not unchanged:
            reason = (
                exchange.guard.spot_rejection(account, market, signed, price)
                if spec.kind is InstrumentKind.SPOT
                else exchange.guard.margin_rejection(
                    account, spec, signed, price, order.client_order_id
                )
            )
            if reason is not None:
                exchange._close(order, OrderStatus.CANCELED, f"at fill: {reason}")
                return
        fee_rate = exchange.config.fees.rate(liquidity)
        fee, fee_asset = quantity * price * fee_rate, spec.settle
        if signed > 0 and spec.kind is InstrumentKind.SPOT and _fee_in_base(account):
            fee, fee_asset = quantity * fee_rate, spec.base
        ts = exchange.clock.now_ns()
        self._fill_ids += 1
        trade_id = f"{exchange.venue_id}-T-{self._fill_ids:07d}"
        exchange.note_position(account.id, spec.symbol)
        if _grows(account, spec, signed):
            account.grown_ns[spec.symbol] = ts
        realized = exchange.ledger.apply_fill(
            ts, account.id, spec, signed, price, fee, fee_asset, trade_id
        )
        order.fill(quantity, price)
        if order.status.is_closed:
            exchange.forget(order)
        else:
            account.working.refresh(order)
        if market.bar_capacity is not None:
            market.bar_capacity -= float(quantity)
        exchange.emit(
            OrderFilled(
                ts,
                account.id,
                order.client_order_id,
                spec.symbol,
                order.side,
                quantity,
                price,
                fee,
                fee_asset,
                liquidity,
                realized,
                order.strategy_id,
                trade_id,
            )
        )
        if order.status.is_closed and order in market.resting:
            market.resting.remove(order)
        if order.reduce_only and order.status.is_open and self._reducible(account, order) == 0:
            exchange._close(order, OrderStatus.CANCELED, "reduce-only order has nothing to reduce")
        exchange.desk.settle_spot_shortfall(account)
        exchange.guard.after_fill(account)


def _fee_in_base(account: SimAccount) -> bool:
    """Whether spot buys pay their fee in the asset received (Binance margin, spec B.5)."""
    return bool(getattr(account.model, "fee_in_received_asset", False))


def _grows(account: SimAccount, spec: Instrument, signed: Decimal) -> bool:
    """Whether a fill of ``signed`` opens or grows the account's exposure to ``spec``: its
    position, or on spot its net holding of the base asset (balance less what it owes)."""
    book = account.book
    if spec.kind is InstrumentKind.SPOT:
        held = book.balance(spec.base) - book.liability(spec.base)
    else:
        position = book.positions.get(spec.symbol)
        held = position.size if position is not None else ZERO
    return held * signed >= 0 or abs(signed) > abs(held)
