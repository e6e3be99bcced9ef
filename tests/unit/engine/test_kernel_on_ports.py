"""The kernel drives any ``SteppedVenue``: a venue that is not the simulated exchange plugs in."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from xmargin.core.clock import SimClock
from xmargin.core.errors import ConfigError
from xmargin.core.ids import IdGenerator
from xmargin.engine.kernel import Kernel
from xmargin.engine.risk_hook import NoPreTradeChecks
from xmargin.execution.ports import VenueCapabilities
from xmargin.model.events import OrderSubmitted
from xmargin.model.instruments import parse_symbol
from xmargin.model.market_data import Bar
from xmargin.model.orders import Order, OrderSide, OrderType, TimeInForce, TriggerSource
from xmargin.portfolio.ledger import Ledger
from xmargin.strategy.base import NoParams, Strategy

BTC = "BTC/USDT:USDT"
NEVER = 2**62


class PaperMarket:
    """A ``MarketView`` with fixed prices."""

    def __init__(self) -> None:
        self.spec = parse_symbol(BTC)
        self.mark = 101.0
        self.last = 100.0

    @property
    def has_price(self) -> bool:
        return True

    def mark_exact(self) -> Decimal:
        return Decimal("101")

    def last_exact(self) -> Decimal:
        return Decimal("100")


class PaperAccount:
    """An ``AccountView`` whose model answers with what it was asked about."""

    def __init__(self, book: Any) -> None:
        self.quote = "USDT"
        self.book = book
        self.leverage: dict[str, Decimal] = {}
        self.model = SimpleNamespace(
            assess=lambda snapshot: ("assessed", snapshot),
            summary=lambda snapshot: ("summarised", snapshot),
            max_additional_size=lambda snapshot, symbol, side, price: (snapshot, symbol, price),
        )

    def snapshot(self, also: tuple[str, ...] = ()) -> Any:
        return ("snapshot", also)

    def has_exposure(self) -> bool:
        return False


class PaperVenue:
    """A ``SteppedVenue`` that records what the kernel asks of it, in order."""

    venue_id = "paper"

    def __init__(self, ledger: Ledger) -> None:
        self.capabilities = VenueCapabilities(
            frozenset(OrderType), frozenset(TimeInForce), frozenset(TriggerSource)
        )
        self.calls: list[tuple[Any, ...]] = []
        self.markets = {BTC: PaperMarket()}
        self.incoming: list[tuple[int, int, object]] = []
        self.settlements = SimpleNamespace(next_due=NEVER)
        self.guard = SimpleNamespace(dirty={})
        self.desk = SimpleNamespace(pending=[])
        self.orders: dict[str, Order] = {}
        self.stop_trigger = TriggerSource.MARK
        self._account = PaperAccount(ledger.book("paper.main"))

    def account_ids(self) -> tuple[str, ...]:
        return ("paper.main",)

    def account(self, account_id: str) -> PaperAccount:
        return self._account

    def feed_delay_ns(self) -> int:
        return 0

    def taker_fee(self, account_id: str) -> Decimal:
        return Decimal("0.0005")

    def start(self, ts: int) -> None:
        self.calls.append(("start", ts))

    def on_bar(self, bar: Bar) -> None:
        self.calls.append(("bar", bar.ts_event))

    def on_trade(self, trade: object) -> None:
        self.calls.append(("trade", trade))

    def on_quote(self, quote: object) -> None:
        self.calls.append(("quote", quote))

    def on_funding(self, funding: object) -> None:
        self.calls.append(("funding", funding))

    def on_mark(self, mark: object) -> None:
        self.calls.append(("mark", mark))

    def submit(self, order: Order) -> None:
        self.calls.append(("submit", order.client_order_id))
        self.incoming.append((order.ts_init, 0, order))

    def settle(self, ts: int) -> None:
        self.calls.append(("settle", ts))

    def admit_arrivals(self, before: int) -> None:
        self.calls.append(("admit", before))

    def process_incoming(self, ts: int) -> None:
        self.calls.append(("process", ts))
        self.incoming.clear()


class BuyOnBar(Strategy):
    name = "buy_on_bar"

    def __init__(self, venue: PaperVenue) -> None:
        super().__init__("buyer", NoParams())
        self.venue = venue

    def on_bar(self, bar: Bar) -> None:
        self.venue.calls.append(("strategy hears bar", bar.ts_event))
        self.ctx.buy(BTC, Decimal("0.5"))


def _kernel() -> tuple[Kernel, PaperVenue]:
    ledger = Ledger()
    venue = PaperVenue(ledger)
    kernel = Kernel(SimClock(0), ledger, {"paper": venue}, NoPreTradeChecks(), IdGenerator())
    return kernel, venue


def _bar(ts: int) -> Bar:
    return Bar("paper", BTC, "1m", ts - 60, ts, 100.0, 100.0, 100.0, 100.0, 1.0)


def test_a_step_reaches_the_venue_first_the_strategy_after_and_its_order_last():
    kernel, venue = _kernel()
    events: list[object] = []
    kernel.bus.subscribe(OrderSubmitted, events.append)
    kernel.add_strategy(BuyOnBar(venue), "paper.main", [("bar", "paper", BTC)])
    handle = kernel.handler("bar", "paper", BTC)
    kernel.start(1_000)
    kernel.begin_step(2_000)
    handle(_bar(2_000))
    kernel.end_step(2_000)

    assert venue.calls == [
        ("start", 1_000),
        ("bar", 2_000),
        ("strategy hears bar", 2_000),
        ("submit", "O-000001"),
        ("process", 2_000),
    ]
    assert [(e.client_order_id, e.quantity) for e in events] == [("O-000001", Decimal("0.5"))]


def test_settle_and_arrivals_run_only_when_the_venue_says_they_are_due():
    kernel, venue = _kernel()
    kernel.start(0)
    kernel.begin_step(10)
    kernel.end_step(10)
    assert venue.calls == [("start", 0)]

    venue.settlements.next_due = 20
    venue.incoming.append((15, 0, "a command on its way"))
    kernel.begin_step(20)
    kernel.end_step(20)
    assert venue.calls[1:] == [("admit", 20), ("settle", 20), ("process", 20)]


def test_queries_go_through_the_account_view_and_the_market_view():
    kernel, _ = _kernel()
    assert kernel.margin_report("paper.main") == ("assessed", ("snapshot", ()))
    assert kernel.desk.margin_summary("paper.main") == ("summarised", ("snapshot", ()))
    # no price given: the last trade price, with the instrument's base priced too
    assert kernel.max_order_quantity("paper.main", BTC, OrderSide.BUY, None) == (
        ("snapshot", ("BTC",)),
        BTC,
        Decimal("100"),
    )
    assert kernel.desk.mark_of("paper.main", BTC) == Decimal("101")
    assert kernel.desk.taker_fee("paper.main") == Decimal("0.0005")
    assert kernel.default_trigger("paper.main") is TriggerSource.MARK
    with pytest.raises(ConfigError, match="unknown instrument ETH/USDT:USDT for account"):
        kernel.market("paper.main", "ETH/USDT:USDT")
