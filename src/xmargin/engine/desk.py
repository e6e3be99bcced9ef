"""The desk through which the risk engine reads the trading system and acts on it."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from xmargin.execution.ports import MarketView
from xmargin.margin.base import MarginModel, MarginReport
from xmargin.margin.snapshot import AccountSnapshot
from xmargin.model.instruments import Instrument
from xmargin.model.numbers import ZERO
from xmargin.model.orders import Order, OrderSide, OrderType, TriggerSource
from xmargin.portfolio.ledger import AccountBook
from xmargin.risk.engine import RISK_STRATEGY, EquityTerms
from xmargin.strategy.base import Strategy

if TYPE_CHECKING:
    from xmargin.engine.kernel import Kernel


class TradingDesk:
    """The ``RiskDesk`` of a kernel: accounts, prices and orders as the risk engine sees them."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    def now_ns(self) -> int:
        return self.kernel.clock.now_ns()

    def book(self, account: str) -> AccountBook:
        return self.kernel.book(account)

    def max_order_quantity(
        self, account: str, symbol: str, side: OrderSide, price: Decimal | None
    ) -> Decimal:
        return self.kernel.max_order_quantity(account, symbol, side, price)

    def account_ids(self) -> tuple[str, ...]:
        return tuple(self.kernel.account_ids())

    def instrument_spec(self, account: str, symbol: str) -> Instrument:
        return self.kernel.market(account, symbol).spec

    def mark_of(self, account: str, symbol: str) -> Decimal:
        return self.kernel.market(account, symbol).mark_exact()

    def mark_float(self, account: str, symbol: str) -> float:
        market = self.kernel.market(account, symbol)
        return market.mark or market.last

    def model_of(self, account: str) -> MarginModel:
        return self.kernel.venue_of(account).account(account).model

    def snapshot(self, account: str, also: tuple[str, ...] = ()) -> AccountSnapshot:
        """The account at current marks; ``also`` prices assets it does not hold yet."""
        return self.kernel.venue_of(account).account(account).snapshot(also)

    def equity_terms(self, account: str) -> EquityTerms:
        """The account's equity as float terms over live market states."""
        venue = self.kernel.venue_of(account)
        book = self.kernel.ledger.book(account)
        quote = venue.account(account).quote
        cash = 0.0
        legs: list[tuple[Any, float, float]] = []
        holdings = dict(book.balances)
        for asset, loan in book.loans.items():
            holdings[asset] = holdings.get(asset, ZERO) - loan.liability
        for asset, amount in holdings.items():
            if asset == quote:
                cash += float(amount)
            elif amount:
                market = venue.markets.get(f"{asset}/{quote}")
                if market is not None:
                    legs.append((market, float(amount), 0.0))
        for position in book.open_positions():
            legs.append(
                (venue.markets[position.instrument], float(position.size), float(position.cost))
            )
        return EquityTerms(cash, legs)

    def float_equity(self, account: str) -> tuple[float, float]:
        return self.equity_terms(account).equity_and_gross()

    def all_open_orders(self) -> list[Order]:
        return [
            o
            for venue in self.kernel._venue_list
            for a in venue.account_ids()
            for o in venue.open_orders(a)
        ]

    def find_order(self, account: str, client_order_id: str) -> Order | None:
        """An order the account sent to its venue (working or ended), by its client id."""
        order = self.kernel.venue_of(account).orders.get(client_order_id)
        return order if order is not None and order.account == account else None

    def cancel_order(self, order: Order) -> None:
        self.kernel.cancel(order, requester=RISK_STRATEGY)

    def submit_risk_order(
        self,
        account: str,
        symbol: str,
        side: OrderSide,
        quantity: Decimal,
        *,
        strategy: str = RISK_STRATEGY,
        order_type: OrderType = OrderType.MARKET,
        trigger_price: Decimal | None = None,
        reduce_only: bool = True,
    ) -> Order:
        """Send an order on the risk engine's behalf: its own (``strategy="risk"``), or a
        protective order of a strategy (a stop, a fence's close-out), triggered on the mark."""
        if strategy not in self.kernel.strategies:
            self.kernel.strategies[strategy] = _RiskOwner(strategy, None)
        self.kernel._risk_sent = True
        order = Order(
            self.kernel.ids.next("O"),
            symbol,
            side,
            quantity,
            order_type,
            trigger_price=trigger_price,
            trigger_source=TriggerSource.MARK,
            reduce_only=reduce_only,
            account=account,
            strategy_id=strategy,
            ts_init=self.kernel.clock.now_ns(),
        )
        self.kernel.submit(order)
        return order

    def modify_order(
        self, order: Order, quantity: Decimal | None, trigger_price: Decimal | None
    ) -> None:
        self.kernel.modify(order, quantity, None, trigger_price, requester=RISK_STRATEGY)

    def market_state(self, account: str, symbol: str) -> MarketView:
        return self.kernel.market(account, symbol)

    def native_stops(self, account: str) -> bool:
        """Whether the venue takes reduce-only stop and take-profit orders triggered on mark."""
        caps = self.kernel.venue_of(account).capabilities
        return (
            OrderType.STOP_MARKET in caps.order_types
            and OrderType.TAKE_PROFIT_MARKET in caps.order_types
            and TriggerSource.MARK in caps.trigger_sources
            and caps.reduce_only
            and caps.modify
        )

    def margin_summary(self, account: str) -> MarginReport:
        """The account's margin report without liquidation prices (the cheap part)."""
        view = self.kernel.venue_of(account).account(account)
        return view.model.summary(view.snapshot())

    def taker_fee(self, account: str) -> Decimal:
        return self.kernel.venue_of(account).taker_fee(account)

    def strategy_accounts(self) -> dict[str, str]:
        """Each strategy's account (the risk engine's order owners left out)."""
        return {
            sid: s.ctx.account
            for sid, s in self.kernel.strategies.items()
            if not isinstance(s, _RiskOwner) and s._ctx is not None
        }

    def price_of(self, account: str, symbol: str) -> Decimal:
        """The last trade price (the mark where nothing has traded), exact."""
        return self.kernel.market(account, symbol).last_exact()

    def open_derivative_positions(self) -> list[tuple[str, str, Decimal]]:
        return [
            (account, p.instrument, p.size)
            for account in self.kernel.account_ids()
            for p in self.kernel.ledger.book(account).open_positions()
        ]

    def last_seen(self) -> dict[str, int]:
        """When each instrument with an open position last had market data."""
        held = {
            p.instrument
            for a in self.kernel.account_ids()
            for p in self.kernel.ledger.book(a).open_positions()
        }
        return {symbol: ts for symbol, ts in self.kernel.last_seen.items() if symbol in held}

    def asset_prices(self, assets: Iterable[str]) -> dict[str, float]:
        """Prices of assets against each venue's quote (stablecoin pairs such as USDC/USDT)."""
        prices: dict[str, float] = {}
        for venue in self.kernel._venue_list:
            for account_id in venue.account_ids():
                quote = venue.account(account_id).quote
                for asset in assets:
                    market = venue.markets.get(f"{asset}/{quote}")
                    if market is not None and market.has_price:
                        prices[asset] = market.mark or market.last
        return prices

    def publish(self, event: object) -> None:
        self.kernel.emit(event)


class _RiskOwner(Strategy):
    """Stands in as the owner of the risk engine's own orders (their events go nowhere)."""

    name = RISK_STRATEGY
