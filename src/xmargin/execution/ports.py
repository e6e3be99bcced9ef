"""The ports every venue adapter implements: the simulated exchange, ccxt, the gateway.

Calls return at once; outcomes come back later as events (fills, rejections, loans...).
Capabilities are declared up front so an unsupported operation fails at start-up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Sized
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from xmargin.margin.base import MarginModel
from xmargin.margin.snapshot import AccountSnapshot
from xmargin.model.balances import Loan
from xmargin.model.instruments import Instrument
from xmargin.model.market_data import Bar, FundingRate, MarkPrice, Quote, Trade
from xmargin.model.orders import Order, OrderType, TimeInForce, TriggerSource
from xmargin.model.positions import Position
from xmargin.portfolio.ledger import AccountBook


@dataclass(frozen=True, slots=True)
class VenueCapabilities:
    """What a venue supports; checked when a run starts, not when an order is sent."""

    order_types: frozenset[OrderType]
    time_in_force: frozenset[TimeInForce]
    trigger_sources: frozenset[TriggerSource]
    reduce_only: bool = True
    post_only: bool = True
    modify: bool = True
    borrow: bool = False
    transfer: bool = True
    sub_accounts: bool = True

    def unsupported(self, order: Order) -> str | None:
        """Return why ``order`` cannot be sent here, or None."""
        if order.order_type not in self.order_types:
            return f"order type {order.order_type.value} is not supported"
        if order.time_in_force not in self.time_in_force:
            return f"time in force {order.time_in_force.value} is not supported"
        if order.order_type.has_trigger and order.trigger_source not in self.trigger_sources:
            return f"triggers on {order.trigger_source.value} price are not supported"
        if order.reduce_only and not self.reduce_only:
            return "reduce-only orders are not supported"
        if order.post_only and not self.post_only:
            return "post-only orders are not supported"
        return None


class VenuePort(Protocol):
    """Trading and reconciliation on one venue, for any number of its accounts."""

    @property
    def venue_id(self) -> str: ...
    @property
    def capabilities(self) -> VenueCapabilities: ...

    def submit(self, order: Order) -> None: ...
    def cancel(self, account: str, client_order_id: str) -> None: ...
    def modify(
        self,
        account: str,
        client_order_id: str,
        quantity: Decimal | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> None: ...
    def set_leverage(self, account: str, instrument: str, leverage: Decimal) -> None: ...
    def borrow(self, account: str, asset: str, amount: Decimal) -> str: ...
    def repay(self, account: str, asset: str, amount: Decimal) -> None: ...
    def transfer(self, source: str, target: str, asset: str, amount: Decimal) -> None: ...

    def open_orders(self, account: str) -> list[Order]: ...
    def positions(self, account: str) -> Mapping[str, Position]: ...
    def balances(self, account: str) -> Mapping[str, Decimal]: ...
    def loans(self, account: str) -> Mapping[str, Loan]: ...


class MarketView(Protocol):
    """One instrument's live prices on a venue, as strategies and the risk engine read them.

    ``mark`` and ``last`` are floats for the hot paths (0.0 until the first price); the
    exact figures are ``mark_exact()`` and ``last_exact()``.
    """

    @property
    def spec(self) -> Instrument: ...
    @property
    def mark(self) -> float: ...
    @property
    def last(self) -> float: ...
    @property
    def has_price(self) -> bool: ...

    def mark_exact(self) -> Decimal: ...
    def last_exact(self) -> Decimal: ...


class MarketDataPort(Protocol):
    """A venue's side of the market-data streams: it hears each event before strategies do."""

    @property
    def markets(self) -> Mapping[str, MarketView]: ...

    def on_mark(self, mark: MarkPrice) -> None: ...
    def on_bar(self, bar: Bar) -> None: ...
    def on_trade(self, trade: Trade) -> None: ...
    def on_quote(self, quote: Quote) -> None: ...
    def on_funding(self, funding: FundingRate) -> None: ...
    def feed_delay_ns(self) -> int:
        """How long market data takes to reach the strategies (0: at once)."""
        ...


class AccountView(Protocol):
    """One account on a venue as the margin model sees it: its rules, book and snapshot."""

    @property
    def model(self) -> MarginModel: ...
    @property
    def quote(self) -> str:
        """The settle currency the venue values the account in."""
        ...

    @property
    def book(self) -> AccountBook: ...
    @property
    def leverage(self) -> Mapping[str, Decimal]: ...

    def snapshot(self, also: tuple[str, ...] = ()) -> AccountSnapshot:
        """The account at current exact marks; ``also`` prices assets it does not hold."""
        ...

    def has_exposure(self) -> bool:
        """Whether it holds a position, a loan or a negative balance (margin can move)."""
        ...


class SettlementSchedule(Protocol):
    """When a venue next settles funding or interest (nanoseconds)."""

    @property
    def next_due(self) -> int: ...


class MarginRecheck(Protocol):
    """Truthy while some account's margin must be checked again before the step ends."""

    @property
    def dirty(self) -> Sized: ...


class LoanQueue(Protocol):
    """Borrows and repayments on their way to a venue (truthy while any are)."""

    @property
    def pending(self) -> Sized: ...


class SteppedVenue(VenuePort, MarketDataPort, Protocol):
    """A venue the kernel steps by timestamp: commands, queries, market data and the phases.

    ``incoming``, ``settlements``, ``guard`` and ``desk`` are read on every step, so they are
    plain attributes: the kernel calls ``settle``/``process_incoming`` only when they say so.
    """

    @property
    def incoming(self) -> Sequence[tuple[int, int, object]]:
        """Commands on their way, ordered by arrival time (the first item)."""
        ...

    @property
    def settlements(self) -> SettlementSchedule: ...
    @property
    def guard(self) -> MarginRecheck: ...
    @property
    def desk(self) -> LoanQueue: ...
    @property
    def orders(self) -> Mapping[str, Order]:
        """Every order sent to the venue in this run (working or ended), by client id."""
        ...

    @property
    def stop_trigger(self) -> TriggerSource:
        """The price stop orders trigger on unless the order says otherwise."""
        ...

    def account_ids(self) -> tuple[str, ...]: ...
    def account(self, account_id: str) -> AccountView: ...
    def taker_fee(self, account_id: str) -> Decimal: ...
    def value_in_quote(self, account_id: str, asset: str, amount: Decimal) -> Decimal: ...
    def asset_price(self, asset: str, quote: str) -> Decimal | None: ...

    def start(self, ts: int) -> None: ...
    def admit_arrivals(self, before: int) -> None:
        """Let the commands that arrive strictly before ``before`` reach the venue."""
        ...

    def settle(self, ts: int) -> None: ...
    def process_incoming(self, ts: int) -> None: ...
