"""The simulated exchange: a ``VenuePort`` that matches, books, settles and liquidates.

It runs the spec's order of operations at each timestamp (§0.4): prices first (with the
matching of resting orders against the new bar, trade or quote), then settlements (funding,
hourly interest), then the risk pass, then the user's new orders. The kernel drives the
phases; each handler here does one of them.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping
from decimal import Decimal

from xmargin.core.clock import Clock
from xmargin.core.ids import IdGenerator
from xmargin.core.rng import RngStreams
from xmargin.execution.ports import VenueCapabilities
from xmargin.margin.base import CrossMarginModel
from xmargin.margin.snapshot import AccountSnapshot
from xmargin.model.balances import Loan
from xmargin.model.events import (
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderRejected,
)
from xmargin.model.instruments import Instrument
from xmargin.model.market_data import Bar, FundingRate, MarkPrice, Quote, Trade
from xmargin.model.orders import Order, OrderStatus, OrderType, TimeInForce, TriggerSource
from xmargin.model.positions import Position
from xmargin.portfolio.account import snapshot_of
from xmargin.portfolio.ledger import Ledger
from xmargin.venues.sim import matching
from xmargin.venues.sim.accounts import SimAccount
from xmargin.venues.sim.config import FILL_AT_CLOSE, SimVenueConfig
from xmargin.venues.sim.fills import FillEngine
from xmargin.venues.sim.loans import LoanDesk
from xmargin.venues.sim.margin_guard import MarginGuard
from xmargin.venues.sim.mark_path import MarkPath
from xmargin.venues.sim.markets import MarketState
from xmargin.venues.sim.port import SimAccountView, SimPortQueries
from xmargin.venues.sim.requests import CancelRequest, ModifyRequest, VenueRequest, reach_venue
from xmargin.venues.sim.settlement import Settlements

Emit = Callable[[object], None]

SIM_CAPABILITIES = VenueCapabilities(
    order_types=frozenset(OrderType),
    time_in_force=frozenset(TimeInForce),
    trigger_sources=frozenset(TriggerSource),
    borrow=True,
)


class SimulatedExchange(SimPortQueries):
    """One simulated venue with any number of accounts sharing its markets."""

    def __init__(
        self,
        config: SimVenueConfig,
        ledger: Ledger,
        instruments: Mapping[str, Instrument],
        clock: Clock,
        rng: RngStreams,
        ids: IdGenerator,
        emit: Emit,
        mark_feeds: frozenset[str] = frozenset(),
    ) -> None:
        self.config = config
        self.ledger = ledger
        self.clock = clock
        self.ids = ids
        self.emit = emit
        self.markets = {s: MarketState(spec, s in mark_feeds) for s, spec in instruments.items()}
        self.accounts: dict[str, SimAccount] = {}
        self._views: dict[str, SimAccountView] = {}
        # Every order sent, by client order id; the open ones also per account.
        self.orders: dict[str, Order] = {}
        self._open_by_account: dict[str, dict[str, Order]] = {}
        self.incoming: list[tuple[int, int, Order | VenueRequest]] = []
        self._sequence = 0
        self._waiting_open: dict[str, list[Order]] = {}
        self._latency_rng = rng.stream(f"latency:{config.venue_id}")
        self._request_rng = rng.stream(f"request-latency:{config.venue_id}")
        self.guard = MarginGuard(self)
        self.fills = FillEngine(self)
        self.desk = LoanDesk(self)
        self.settlements = Settlements(self)
        self._volume_capacity = config.slippage.kind == "volume"
        self.mark_path = MarkPath(self)

    # -- set-up --------------------------------------------------------------------------

    @property
    def venue_id(self) -> str:
        return self.config.venue_id

    @property
    def capabilities(self) -> VenueCapabilities:
        return SIM_CAPABILITIES

    def add_account(
        self,
        account_id: str,
        model: CrossMarginModel,
        balances: Mapping[str, Decimal],
        leverage: Mapping[str, Decimal] | None = None,
    ) -> SimAccount:
        account = SimAccount(account_id, model, self.ledger.book(account_id), leverage)
        self.accounts[account_id] = account
        for asset, amount in balances.items():
            self.ledger.deposit(self.clock.now_ns(), account_id, asset, amount)
        return account

    def start(self, ts: int) -> None:
        """Arm the hourly interest and scheduled funding clocks from the first timestamp."""
        self.settlements.start(ts)

    # -- VenuePort: requests ---------------------------------------------------------------

    def submit(self, order: Order) -> None:
        """Accept an order for matching after the order latency; reject what can never fill."""
        order.transition(OrderStatus.SUBMITTED)
        self.orders[order.client_order_id] = order
        self._open_by_account.setdefault(order.account, {})[order.client_order_id] = order
        reason = self._static_rejection(order)
        if reason is not None:
            self._reject(order, reason)
            return
        now = self.clock.now_ns()
        arrival = now + self.config.latency.order_delay_ns(self._latency_rng)
        self._sequence += 1
        bisect.insort(self.incoming, (arrival, self._sequence, order), key=lambda x: x[:2])

    def cancel(self, account: str, client_order_id: str) -> None:
        """Send a cancel; it acts when it reaches the venue, after the order latency."""
        self._send_request(CancelRequest(account, client_order_id))

    def modify(
        self,
        account: str,
        client_order_id: str,
        quantity: Decimal | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> None:
        """Send a change of a working order's quantity, price or trigger; it applies when it
        reaches the venue, after the order latency (and after the order itself)."""
        self._send_request(ModifyRequest(account, client_order_id, quantity, price, trigger_price))

    def _send_request(self, request: VenueRequest) -> None:
        """Queue a cancel or modify behind the order latency, never ahead of its order."""
        arrival = self.clock.now_ns() + self.config.latency.order_delay_ns(self._request_rng)
        order = self.orders.get(request.client_order_id)
        if order is not None and order.status is OrderStatus.SUBMITTED:
            for due, _, item in self.incoming:
                if item is order:
                    arrival = max(arrival, due)
                    break
        self._sequence += 1
        bisect.insort(self.incoming, (arrival, self._sequence, request), key=lambda x: x[:2])

    def _replace_if_marketable(self, order: Order) -> None:
        """A resting limit repriced through the market takes (or, post-only, expires) as a
        new order would; one still on its side keeps resting."""
        market = self.markets[order.instrument]
        if (
            order.order_type is not OrderType.LIMIT
            or order not in market.resting
            or market.last <= 0
            or not matching.limit_marketable(order, market.last)
        ):
            return
        market.resting.remove(order)
        if self.config.fill_at == FILL_AT_CLOSE:
            self.fills.place(market, order, market.last)
        else:
            self._waiting_open.setdefault(order.instrument, []).append(order)

    def set_leverage(self, account: str, instrument: str, leverage: Decimal) -> None:
        self.accounts[account].leverage[instrument] = leverage
        self.guard.recheck(self.accounts[account], self.clock.now_ns())

    def borrow(self, account: str, asset: str, amount: Decimal) -> str:
        return self.desk.request(self.accounts[account], asset, amount)

    def repay(self, account: str, asset: str, amount: Decimal) -> None:
        self.desk.repay(self.accounts[account], asset, amount)

    def transfer(self, source: str, target: str, asset: str, amount: Decimal) -> None:
        self.desk.transfer(self.accounts[source], target, asset, amount)

    # -- VenuePort: queries ----------------------------------------------------------------

    def open_orders(self, account: str) -> list[Order]:
        """The account's orders sent and not yet closed, in the order they were sent."""
        orders = self._open_by_account.get(account)
        return [o for o in orders.values() if not o.status.is_closed] if orders else []

    def positions(self, account: str) -> Mapping[str, Position]:
        return {p.instrument: p for p in self.accounts[account].book.open_positions()}

    def balances(self, account: str) -> Mapping[str, Decimal]:
        return dict(self.accounts[account].book.balances)

    def loans(self, account: str) -> Mapping[str, Loan]:
        return dict(self.accounts[account].book.loans)

    # -- market data: phase 1 --------------------------------------------------------------

    def on_mark(self, mark: MarkPrice) -> None:
        """A mark price interval completed: move the mark and re-measure its basis; the
        interval's own checks (mark stops, liquidation at its adverse extreme) run at the end
        of this instant's price phase, after its finer steps (decision 0003)."""
        market = self.markets.get(mark.instrument)
        if market is not None:
            self.mark_path.observe(market, mark)

    def on_bar(self, bar: Bar) -> None:
        """A trade bar: match resting orders against its range, then move the last price."""
        market = self.markets.get(bar.instrument)
        if market is None:
            return
        market.touch = None
        if self._volume_capacity:
            market.bar_volume = bar.volume
            market.bar_capacity = self.config.slippage.capacity(bar.volume)
        waiting = self._waiting_open.get(bar.instrument)
        if waiting:
            arrived = waiting[:]
            waiting.clear()
            self.fills.fill_at_open(market, arrived, bar.open)
        if market.resting:
            self.fills.match_bar(market, bar)
        close = bar.close
        market.last = close
        if not market.has_mark_feed:
            market.set_mark(close)
            self.guard.on_price_move(
                bar.instrument, bar.open, bar.low, bar.high, close, bar.ts_open
            )
        else:
            path = (bar.open, bar.low, bar.high, close)
            self.mark_path.step(market, path, bar.ts_open, bar.ts_event)

    def on_trade(self, trade: Trade) -> None:
        market = self.markets.get(trade.instrument)
        if market is None:
            return
        market.touch = None
        market.bar_capacity = trade.quantity
        waiting = self._waiting_open.get(trade.instrument)
        if waiting:
            arrived = waiting[:]
            waiting.clear()
            self.fills.fill_at_open(market, arrived, trade.price)
        if market.resting:
            self.fills.match_trade(market, trade)
        market.last = trade.price
        if not market.has_mark_feed:
            market.set_mark(trade.price)
            self.guard.on_price_move(trade.instrument, *(trade.price,) * 4, trade.ts_event)
        else:
            path = (trade.price,) * 4
            self.mark_path.step(market, path, trade.ts_event, trade.ts_event)

    def on_quote(self, quote: Quote) -> None:
        market = self.markets.get(quote.instrument)
        if market is None:
            return
        self.fills.match_quote(market, quote, self._waiting_open.get(quote.instrument))
        market.last = quote.mid
        if not market.has_mark_feed:
            mid = quote.mid
            market.set_mark(mid)
            self.guard.on_price_move(quote.instrument, mid, mid, mid, mid, quote.ts_event)
        else:
            mid = quote.mid
            self.mark_path.step(market, (mid,) * 4, quote.ts_event, quote.ts_event)

    # -- settlements: phase 2 --------------------------------------------------------------

    def on_funding(self, funding: FundingRate) -> None:
        """Settle funding on every position in the instrument, at the current mark."""
        market = self.markets.get(funding.instrument)
        if market is not None and market.has_price:
            self.settlements.funding(market, Decimal(repr(funding.rate)), funding.ts_event)

    def note_position(self, account_id: str, symbol: str) -> None:
        self.settlements.note_position(account_id, symbol)

    def settle(self, ts: int) -> None:
        """The mark intervals completed at ``ts``, then phases 2 and 3: scheduled settlements
        due by ``ts``, then the risk pass."""
        if self.mark_path.completed:
            self.mark_path.check_completed()
        if ts >= self.settlements.next_due:
            self.settlements.run_due(ts)
        if self.guard.dirty:
            self.guard.risk_pass(ts)

    # -- risk pass: phase 3; new orders: phase 5 -----------------------------------------

    def admit_arrivals(self, before: int) -> None:
        """Admit orders that reached the venue before ``before``, ahead of that step's data.

        They arrived between two timestamps, so market orders take the next bar's open (or
        the next trade or quote) rather than a close that was already past.
        """
        if self.incoming and self.incoming[0][0] < before:
            self._process(before, immediate=False)

    def process_incoming(self, ts: int) -> None:
        """Phase 5: let orders (and loans) whose latency has elapsed by ``ts`` reach the venue."""
        if self.desk.pending:
            self.desk.process(ts)
        if self.incoming and self.incoming[0][0] <= ts:
            self._process(ts, immediate=True)
        if self.guard.dirty:
            self.guard.risk_pass(ts)

    def _process(self, ts: int, *, immediate: bool) -> None:
        incoming = self.incoming
        while incoming and (incoming[0][0] <= ts if immediate else incoming[0][0] < ts):
            arrival, _, item = incoming.pop(0)
            if not isinstance(item, Order):
                reach_venue(self, item, arrival)
            elif item.status is OrderStatus.SUBMITTED:
                self._arrive(item, arrival, immediate and arrival == ts)

    def _arrive(self, order: Order, ts: int, at_close: bool) -> None:
        account = self.accounts[order.account]
        market = self.markets[order.instrument]
        reason = self.fills.admission_rejection(account, market, order)
        if reason is not None:
            self._reject(order, reason)
            return
        order.venue_order_id = self.ids.next(f"{self.venue_id}-V")
        order.transition(OrderStatus.ACCEPTED)
        self.emit(OrderAccepted(ts, order.account, order.client_order_id, order.venue_order_id))
        if not order.status.is_open:
            return  # a listener of OrderAccepted canceled it already
        account.working.add(order)
        at_close = at_close and self.config.fill_at == FILL_AT_CLOSE and market.last > 0
        if order.order_type.has_trigger:
            market.resting.append(order)
        elif not at_close:
            self._waiting_open.setdefault(order.instrument, []).append(order)
        else:
            self._fill_at_close(market, order)

    def _fill_at_close(self, market: MarketState, order: Order) -> None:
        """A market or limit order arriving at the latest price: the last trade or bar
        close, or on a quote feed the opposite best quote and the size left there."""
        touch = market.touch
        reference = market.last
        if touch is not None:
            reference, market.bar_capacity = touch[order.side]
        if order.order_type is OrderType.MARKET:
            self.fills.take(market, order, reference)
            if order.status.is_open:
                market.resting.append(order)
        else:
            self.fills.place(market, order, reference)
        if touch is not None:
            touch[order.side] = (reference, market.bar_capacity or 0.0)

    # -- helpers used by the fill engine, margin guard and loan desk ----------------------

    def snapshot(
        self, account: SimAccount, also: tuple[str, ...] = (), excluding: str | None = None
    ) -> AccountSnapshot:
        """Freeze an account at the current exact marks and asset prices, with the limit
        orders that reserve margin (all working ones but ``excluding``).

        ``also``: assets to price besides those held or owed (one about to be borrowed).
        """
        book = account.book
        markets = self.markets
        marks = {p.instrument: markets[p.instrument].mark_exact() for p in book.open_positions()}
        prices: dict[str, Decimal] = {}
        quote = account.quote
        for asset in (*book.balances, *book.loans, *also):
            if asset != quote and asset not in prices:
                price = self.asset_price(asset, quote)
                if price is not None:
                    prices[asset] = price
        orders, totals = account.working.reserve(excluding)
        for instrument in totals:
            base = markets[instrument].spec.base
            if instrument not in marks and base not in prices:
                prices[base] = markets[instrument].mark_exact()
        return snapshot_of(
            book, marks, prices, leverage=account.leverage, orders=orders, order_totals=totals
        )

    def value_in_quote(self, account_id: str, asset: str, amount: Decimal) -> Decimal:
        """``amount`` of ``asset`` in the account's settle currency at the current price
        (unchanged when there is no price for it)."""
        quote = self.accounts[account_id].quote
        price = None if asset == quote else self.asset_price(asset, quote)
        return amount if price is None else amount * price

    def asset_price(self, asset: str, quote: str) -> Decimal | None:
        market = self.markets.get(f"{asset}/{quote}")
        if market is None or not market.has_price:
            return None
        return market.mark_exact()

    def _reject(self, order: Order, reason: str) -> None:
        order.transition(OrderStatus.REJECTED)
        self.forget(order)
        self.emit(OrderRejected(self.clock.now_ns(), order.account, order.client_order_id, reason))

    def _close(self, order: Order, status: OrderStatus, reason: str, ts: int | None = None) -> None:
        """End a working order as canceled or expired, with the matching event (at ``ts``,
        default now: a cancel request is stamped with its arrival)."""
        order.transition(status)
        self.forget(order)
        market = self.markets.get(order.instrument)
        if market is not None and order in market.resting:
            market.resting.remove(order)
        waiting = self._waiting_open.get(order.instrument)
        if waiting and order in waiting:
            waiting.remove(order)
        closed = OrderExpired if status is OrderStatus.EXPIRED else OrderCanceled
        when = self.clock.now_ns() if ts is None else ts
        self.emit(closed(when, order.account, order.client_order_id, reason))

    def forget(self, order: Order) -> None:
        """Drop a closed order from the open and working orders (not from the books)."""
        cid = order.client_order_id
        orders = self._open_by_account.get(order.account)
        if orders is not None and orders.get(cid) is order:
            del orders[cid]
        account = self.accounts.get(order.account)
        if account is not None:
            account.working.remove(order)

    def cancel_all(self, account: SimAccount, reason: str) -> None:
        for order in self.open_orders(account.id):
            if order.status is OrderStatus.SUBMITTED:
                order.transition(OrderStatus.ACCEPTED)
            self._close(order, OrderStatus.CANCELED, reason)

    def _static_rejection(self, order: Order) -> str | None:
        if order.account not in self.accounts:
            return f"unknown account {order.account!r} on {self.venue_id}"
        market = self.markets.get(order.instrument)
        if market is None:
            return f"unknown instrument {order.instrument} on {self.venue_id}"
        spec = market.spec
        if order.quantity % spec.size_increment:
            return f"quantity {order.quantity} is not a multiple of the lot {spec.size_increment}"
        if order.quantity < spec.min_size:
            return f"quantity {order.quantity} is below the minimum {spec.min_size}"
        for price in (order.price, order.trigger_price):
            if price is not None and price % spec.price_increment:
                return f"price {price} is not on the tick {spec.price_increment}"
        reference = order.price or order.trigger_price
        if reference is None and market.has_price:
            reference = market.last_exact()
        if spec.min_notional and not order.reduce_only and reference is not None:
            notional = order.quantity * reference * spec.contract_size
            if notional < spec.min_notional:
                return f"notional {notional:.2f} is below the minimum {spec.min_notional}"
        return self.capabilities.unsupported(order)
