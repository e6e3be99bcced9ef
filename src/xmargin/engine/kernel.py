"""The kernel: one clock, the venues, the risk hook and the strategies, stepped by timestamp.

Each timestamp runs the spec's order of operations (§0.4): market data first (venues match
resting orders and move prices), then settlements and the risk pass, then strategy
callbacks, then the orders they sent. The same kernel runs backtests and paper trading;
only the clock, the feed and the venue ports differ.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from xmargin.core.bus import MessageBus
from xmargin.core.clock import SimClock
from xmargin.core.errors import ConfigError
from xmargin.core.ids import IdGenerator
from xmargin.engine.desk import TradingDesk
from xmargin.engine.risk_hook import RiskHook, denial_event
from xmargin.execution.ports import MarketView, SteppedVenue
from xmargin.margin.base import MarginReport
from xmargin.model.commands import CancelOrder, ModifyOrder, VenueCommand
from xmargin.model.events import OrderDenied, OrderSubmitted
from xmargin.model.market_data import Bar, FundingRate, MarkPrice, Quote, Trade
from xmargin.model.orders import Order, OrderSide, OrderStatus, TriggerSource
from xmargin.portfolio.ledger import AccountBook, Ledger
from xmargin.risk.engine import RiskEngine
from xmargin.strategy.base import Strategy
from xmargin.strategy.context import StrategyContext
from xmargin.strategy.reporting import Reporting, SettleCurrency

Callback = Callable[[Any], None]

# the strategy callback each kind of market data reaches
FEED_METHODS = {"bar": "on_bar", "trade": "on_trade", "quote": "on_quote", "funding": "on_funding"}


class Kernel:
    """Wires clock, bus, ledger, venues, risk and strategies; the runtimes drive its steps."""

    def __init__(
        self,
        clock: SimClock,
        ledger: Ledger,
        venues: Mapping[str, SteppedVenue],
        risk: RiskHook,
        ids: IdGenerator,
    ) -> None:
        self.clock = clock
        self.ledger = ledger
        self.venues = dict(venues)
        self.risk = risk
        self.ids = ids
        self.bus = MessageBus()
        self.reporting: Reporting = SettleCurrency()
        self.strategies: dict[str, Strategy] = {}
        self._account_venue: dict[str, SteppedVenue] = {}
        for venue in self.venues.values():
            for account_id in venue.account_ids():
                self._account_venue[account_id] = venue
        self._owners: dict[str, Strategy] = {}
        self._account_strategies: dict[str, list[Strategy]] = {}
        self._subscribers: dict[tuple[str, str, str], list[Callback]] = {}
        self._pending: list[tuple[list[Callback], object]] = []
        self._scheduled: list[tuple[int, int, Callable[[int], None]]] = []
        self._timers: dict[tuple[str, str], int] = {}
        self._sequence = 0
        self._venue_list = list(self.venues.values())
        self.step_ts: int | None = None
        self.last_seen: dict[str, int] = {}
        self.desk = TradingDesk(self)
        if isinstance(risk, RiskEngine):
            risk.attach(self.desk)
        self._risk_step = getattr(risk, "on_step", None)
        self._risk_sent = False
        self._risk_funding = getattr(risk, "on_funding", None)

    # -- set-up ---------------------------------------------------------------------------

    def add_strategy(
        self, strategy: Strategy, account: str, feeds: Iterable[tuple[str, str, str]]
    ) -> None:
        """Attach a strategy to its account and the (kind, venue, instrument) feeds it hears."""
        if account not in self._account_venue:
            raise ConfigError(f"strategy {strategy.id}: unknown account {account!r}")
        if strategy.id in self.strategies:
            raise ConfigError(f"two strategies are called {strategy.id!r}")
        self.strategies[strategy.id] = strategy
        strategy.attach(StrategyContext(self, strategy.id, account))
        self._account_strategies.setdefault(account, []).append(strategy)
        self._subscribe(strategy, feeds)

    def link(self, strategy: Strategy, own_account: str, account: str) -> None:
        """Let ``strategy`` (on ``own_account``) hear ``account``'s events and, when that
        account is on another venue, every stream of that venue, as it hears its own."""
        venue = self._account_venue.get(account)
        if venue is None:
            raise ConfigError(f"strategy {strategy.id}: unknown linked account {account!r}")
        listeners = self._account_strategies.setdefault(account, [])
        if strategy in listeners:
            raise ConfigError(f"strategy {strategy.id}: account {account!r} is linked twice")
        listeners.append(strategy)
        if venue is not self.venue_of(own_account):
            feeds = [(kind, venue.venue_id, s) for s in venue.markets for kind in FEED_METHODS]
            self._subscribe(strategy, feeds)

    def _subscribe(self, strategy: Strategy, feeds: Iterable[tuple[str, str, str]]) -> None:
        """Hand ``strategy`` the (kind, venue, instrument) streams it wants among ``feeds``."""
        wanted = set(strategy.subscriptions())
        for kind, venue, instrument in feeds:
            if wanted and (kind, instrument) not in wanted:
                continue
            callback = getattr(strategy, FEED_METHODS[kind])
            self._subscribers.setdefault((kind, venue, instrument), []).append(callback)

    def start(self, ts: int) -> None:
        """Start the clock and strategies; the risk engine hears events after other listeners."""
        on_event = getattr(self.risk, "on_event", None)
        if on_event is not None:
            self.bus.subscribe(object, on_event)
        self.clock.advance_to(ts)
        for venue in self.venues.values():
            venue.start(ts)
        risk_start = getattr(self.risk, "on_start", None)
        if risk_start is not None:
            risk_start(ts)
        for strategy in tuple(self.strategies.values()):
            strategy.on_start()

    # -- stepping -------------------------------------------------------------------------

    def begin_step(self, ts: int) -> None:
        """Move to ``ts``, first running anything scheduled strictly before it."""
        scheduled = self._scheduled
        while scheduled and scheduled[0][0] < ts:
            due, _, action = heapq.heappop(scheduled)
            self.clock.advance_to(due)
            self.step_ts = due
            action(due)
            self._finish(due)
        self.clock.advance_to(ts)
        self.step_ts = ts
        for venue in self._venue_list:
            incoming = venue.incoming
            if incoming and incoming[0][0] < ts:
                venue.admit_arrivals(ts)

    def on_mark(self, mark: MarkPrice) -> None:
        self.venues[mark.venue].on_mark(mark)

    def on_bar(self, bar: Bar) -> None:
        self.handler("bar", bar.venue, bar.instrument)(bar)

    def on_trade(self, trade: Trade) -> None:
        self.handler("trade", trade.venue, trade.instrument)(trade)

    def on_quote(self, quote: Quote) -> None:
        self.handler("quote", quote.venue, quote.instrument)(quote)

    def on_funding(self, funding: FundingRate) -> None:
        self.handler("funding", funding.venue, funding.instrument)(funding)

    def handler(self, kind: str, venue_id: str, instrument: str) -> Callback:
        """Return the function that takes one ``kind`` event of a stream: the venue sees it
        now (phase 1 or 2), the subscribed strategies after the risk pass (phase 4)."""
        venue = self.venues[venue_id]
        if kind == "mark":
            on_mark = venue.on_mark
            seen_marks = self.last_seen

            def mark(event: Any) -> None:
                seen_marks[instrument] = event.ts_event
                on_mark(event)

            return mark
        routes: dict[str, Callback] = {
            "bar": venue.on_bar,
            "trade": venue.on_trade,
            "quote": venue.on_quote,
            "funding": venue.on_funding,
        }
        to_venue = routes[kind]
        callbacks = self._subscribers.get((kind, venue_id, instrument)) or []
        queue = self._pending.append
        seen = self.last_seen
        if kind == "funding" and self._risk_funding is not None:
            risk_funding = self._risk_funding

            def settle(event: Any) -> None:
                held = any(
                    (position := venue.account(account).book.positions.get(instrument)) is not None
                    and position.size != 0
                    for account in venue.account_ids()
                )
                risk_funding(event, held)
                to_venue(event)
                if callbacks:
                    queue((callbacks, event))

            return settle

        delay = venue.feed_delay_ns()
        if delay and callbacks:
            schedule = self._schedule

            def handle_late(event: Any) -> None:
                seen[instrument] = event.ts_event
                to_venue(event)
                schedule(event.ts_event + delay, lambda _ts: _deliver(callbacks, event))

            return handle_late

        def handle(event: Any) -> None:
            seen[instrument] = event.ts_event
            to_venue(event)
            if callbacks:
                queue((callbacks, event))

        return handle

    def end_step(self, ts: int) -> None:
        """Settle, run the risk pass, deliver callbacks, then let new orders reach venues."""
        scheduled = self._scheduled
        while scheduled and scheduled[0][0] == ts:
            _, _, action = heapq.heappop(scheduled)
            action(ts)
        self._finish(ts)

    def _finish(self, ts: int) -> None:
        """Phases 2 to 5 of one timestamp. The checks inline here keep a quiet step cheap."""
        venues = self._venue_list
        for venue in venues:
            if ts >= venue.settlements.next_due or venue.guard.dirty:
                venue.settle(ts)
        if self._risk_step is not None:
            self._risk_step(ts)
            if self._risk_sent:
                # the risk pass acts before the strategies: its orders (stops firing, the
                # kill switch, reductions) reach the venues before the callbacks
                self._risk_sent = False
                for venue in venues:
                    venue.process_incoming(ts)
        pending = self._pending
        if pending:
            delivered = pending[:]
            pending.clear()
            for callbacks, data in delivered:
                for callback in callbacks:
                    callback(data)
        for venue in venues:
            if venue.incoming or venue.desk.pending or venue.guard.dirty:
                venue.process_incoming(ts)

    def stop(self) -> None:
        """Call every strategy's ``on_stop`` at the last timestamp and execute what it sends."""
        for strategy in self.strategies.values():
            strategy.on_stop()
        ts = self.clock.now_ns()
        for venue in self.venues.values():
            venue.process_incoming(ts)

    # -- orders ---------------------------------------------------------------------------

    def submit(self, order: Order) -> None:
        """Pass the risk hook, then send to the venue; a denial is an event, not an exception."""
        strategy = self.strategies[order.strategy_id]
        self._owners[order.client_order_id] = strategy
        now = self.clock.now_ns()
        denial = self.risk.check(order, self)
        if denial is not None:
            rule, reason = denial
            order.transition(OrderStatus.DENIED)
            self.emit(
                OrderDenied(
                    now,
                    order.account,
                    order.client_order_id,
                    order.instrument,
                    rule,
                    reason,
                    order.strategy_id,
                )
            )
            return
        self.emit(
            OrderSubmitted(
                now,
                order.account,
                order.client_order_id,
                order.instrument,
                order.side,
                order.order_type,
                order.quantity,
                order.price,
                order.strategy_id,
                order.reduce_only,
            )
        )
        self.venue_of(order.account).submit(order)

    def cancel(self, order: Order, requester: str | None = None) -> None:
        """Pass the risk hook, then send the cancel (it acts when it reaches the venue).

        ``requester``: who asks (the order's strategy unless the risk engine does)."""
        command = CancelOrder(
            self.clock.now_ns(),
            order.account,
            order.client_order_id,
            requester or order.strategy_id,
        )
        if self.passes(command):
            self.venue_of(order.account).cancel(order.account, order.client_order_id)

    def modify(
        self,
        order: Order,
        quantity: Decimal | None,
        price: Decimal | None,
        trigger_price: Decimal | None,
        requester: str | None = None,
    ) -> None:
        """Pass the risk hook, then send the change (it applies when it reaches the venue)."""
        command = ModifyOrder(
            self.clock.now_ns(),
            order.account,
            order.client_order_id,
            quantity,
            price,
            trigger_price,
            requester or order.strategy_id,
        )
        if self.passes(command):
            self.venue_of(order.account).modify(
                order.account, order.client_order_id, quantity, price, trigger_price
            )

    def passes(self, command: VenueCommand) -> bool:
        """Whether the risk hook lets ``command`` through; a denial is a ``CommandDenied``.

        Borrows, repayments, transfers and leverage changes (sent by the strategy context)
        and cancels and modifies all pass here before they reach a venue."""
        denial = self.risk.check_command(command, self)
        if denial is None:
            return True
        self.emit(denial_event(command, *denial))
        return False

    # -- events ---------------------------------------------------------------------------

    def emit(self, event: object) -> None:
        """Publish a venue or kernel event and hand it to the strategy it concerns."""
        self.bus.publish(event)
        client_order_id = getattr(event, "client_order_id", None)
        if client_order_id is not None:
            owner = self._owners.get(client_order_id)
            if owner is not None:
                owner.on_order_event(event)
            return
        account = getattr(event, "account", None)
        for strategy in self._account_strategies.get(account or "", ()):
            strategy.on_order_event(event)

    # -- timers ---------------------------------------------------------------------------

    def set_timer(
        self, strategy_id: str, name: str, *, interval_ns: int | None, at_ns: int | None
    ) -> None:
        if (interval_ns is None) == (at_ns is None):
            raise ConfigError(f"timer {name}: give exactly one of interval_ns and at_ns")
        if interval_ns is not None and interval_ns <= 0:
            raise ConfigError(f"timer {name}: interval must be positive")
        key = (strategy_id, name)
        self._sequence += 1
        generation = self._sequence
        self._timers[key] = generation
        strategy = self.strategies[strategy_id]

        def fire(ts: int) -> None:
            if self._timers.get(key) != generation:
                return
            if interval_ns is not None:
                self._schedule(ts + interval_ns, fire)
            else:
                del self._timers[key]
            strategy.on_timer(name, ts)

        self._schedule(
            at_ns if at_ns is not None else self.clock.now_ns() + (interval_ns or 0), fire
        )

    def cancel_timer(self, strategy_id: str, name: str) -> None:
        self._timers.pop((strategy_id, name), None)

    def _schedule(self, ts: int, action: Callable[[int], None]) -> None:
        self._sequence += 1
        heapq.heappush(self._scheduled, (ts, self._sequence, action))

    # -- queries for the strategy context and the risk hook -------------------------------

    def venue_of(self, account: str) -> SteppedVenue:
        try:
            return self._account_venue[account]
        except KeyError:
            raise ConfigError(f"unknown account {account!r}") from None

    def market(self, account: str, symbol: str) -> MarketView:
        market = self.venue_of(account).markets.get(symbol)
        if market is None:
            raise ConfigError(f"unknown instrument {symbol} for account {account}")
        return market

    def book(self, account: str) -> AccountBook:
        self.venue_of(account)
        return self.ledger.book(account)

    def open_orders(self, account: str) -> list[Order]:
        return self.venue_of(account).open_orders(account)

    def margin_report(self, account: str) -> MarginReport:
        view = self.venue_of(account).account(account)
        return view.model.assess(view.snapshot())

    def max_order_quantity(
        self, account: str, symbol: str, side: OrderSide, price: Decimal | None
    ) -> Decimal:
        view = self.venue_of(account).account(account)
        market = self.market(account, symbol)
        reference = price if price is not None else market.last_exact()
        snapshot = view.snapshot(also=(market.spec.base,))
        return view.model.max_additional_size(snapshot, symbol, side, reference)

    def default_trigger(self, account: str) -> TriggerSource:
        return self.venue_of(account).stop_trigger

    def account_ids(self) -> tuple[str, ...]:
        return tuple(self._account_venue)

    def risk_engine(self) -> RiskEngine:
        """The run's risk engine (stops, brackets and sizing need it)."""
        if not isinstance(self.risk, RiskEngine):
            raise ConfigError("stops, brackets and sizing need the risk engine in this run")
        return self.risk


def _deliver(callbacks: list[Callback], event: object) -> None:
    """Hand a market-data event to its strategies (after the venue's feed latency)."""
    for callback in callbacks:
        callback(event)
