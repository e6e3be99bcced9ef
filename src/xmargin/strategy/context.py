"""The strategy's only window on the world: time, market state, its accounts and orders."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from xmargin.margin.base import MarginReport
from xmargin.model.commands import Borrow, Repay, SetLeverage, Transfer
from xmargin.model.instruments import Instrument
from xmargin.model.orders import (
    Order,
    OrderSide,
    OrderType,
    TimeInForce,
    TriggerSource,
)
from xmargin.model.positions import Position

if TYPE_CHECKING:
    from xmargin.engine.kernel import Kernel
    from xmargin.risk.sizing import Sizing
    from xmargin.risk.stops import OcoGroup, StopGroup
    from xmargin.strategy.base import Strategy


class StrategyContext:
    """What a strategy may read and do; the same in backtest, paper and live.

    ``account`` arguments default to the strategy's own account. Orders, cancels, modifies,
    borrows, repayments, transfers and leverage changes go through the risk engine before
    they reach a venue; a denial arrives as an ``OrderDenied`` (orders) or ``CommandDenied``
    event.
    """

    __slots__ = ("_kernel", "account", "strategy_id")

    def __init__(self, kernel: Kernel, strategy_id: str, account: str) -> None:
        self._kernel = kernel
        self.strategy_id = strategy_id
        self.account = account

    # -- time and market ----------------------------------------------------------------

    @property
    def now_ns(self) -> int:
        return self._kernel.clock.now_ns()

    def instrument(self, symbol: str, account: str | None = None) -> Instrument:
        return self._kernel.market(account or self.account, symbol).spec

    def last_price(self, symbol: str, account: str | None = None) -> float:
        return self._kernel.market(account or self.account, symbol).last

    def mark_price(self, symbol: str, account: str | None = None) -> float:
        market = self._kernel.market(account or self.account, symbol)
        return market.mark or market.last

    # -- account state --------------------------------------------------------------------

    def position(self, symbol: str, account: str | None = None) -> Decimal:
        held = self._kernel.book(account or self.account).positions.get(symbol)
        return held.size if held is not None else Decimal(0)

    def positions(self, account: str | None = None) -> dict[str, Position]:
        book = self._kernel.book(account or self.account)
        return {p.instrument: p for p in book.open_positions()}

    def balance(self, asset: str, account: str | None = None) -> Decimal:
        return self._kernel.book(account or self.account).balance(asset)

    def liability(self, asset: str, account: str | None = None) -> Decimal:
        return self._kernel.book(account or self.account).liability(asset)

    def margin(
        self, account: str | None = None, *, liquidation_prices: bool = True
    ) -> MarginReport:
        """The account's margin report from its venue model, at current marks.

        ``liquidation_prices=False`` skips solving each exposure's liquidation price (the
        costly part) when only equity and requirements are needed.
        """
        account = account or self.account
        if liquidation_prices:
            return self._kernel.margin_report(account)
        view = self._kernel.venue_of(account).account(account)
        return view.model.summary(view.snapshot())

    def value_in_quote(self, asset: str, amount: Decimal, account: str | None = None) -> Decimal:
        """``amount`` of ``asset`` in the account's settle currency at the venue's own price
        (as the venue values a balance); unchanged when the venue has no price for it."""
        account = account or self.account
        return self._kernel.venue_of(account).value_in_quote(account, asset, amount)

    def in_reporting_currency(self, amount: Decimal, account: str | None = None) -> Decimal:
        """``amount`` in the account's settle currency, in the run's reporting currency now."""
        return self._kernel.reporting.value(account or self.account, amount)

    def currency_effect(self, account: str | None = None) -> Decimal:
        """The account's currency effect so far (its equity revalued by rate moves)."""
        return self._kernel.reporting.currency_effect(account or self.account)

    def max_order_quantity(
        self, symbol: str, side: OrderSide, price: Decimal | None = None, account: str | None = None
    ) -> Decimal:
        """The largest quantity the venue's margin model would accept now (fees included)."""
        account = account or self.account
        spec = self.instrument(symbol, account)
        limit = self._kernel.max_order_quantity(account, symbol, side, price)
        return spec.round_qty(limit)

    def open_orders(self, symbol: str | None = None, account: str | None = None) -> list[Order]:
        orders = self._kernel.open_orders(account or self.account)
        return [o for o in orders if symbol is None or o.instrument == symbol]

    # -- orders ---------------------------------------------------------------------------

    def order(
        self,
        symbol: str,
        side: OrderSide,
        quantity: Decimal,
        order_type: OrderType = OrderType.MARKET,
        *,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
        trigger_source: TriggerSource | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        reduce_only: bool = False,
        post_only: bool = False,
        account: str | None = None,
    ) -> Order:
        """Create and submit an order; returns it at once (its fate arrives as events)."""
        kernel = self._kernel
        account = account or self.account
        order = Order(
            kernel.ids.next("O"),
            symbol,
            side,
            quantity,
            order_type,
            price=price,
            trigger_price=trigger_price,
            trigger_source=trigger_source or kernel.default_trigger(account),
            time_in_force=time_in_force,
            reduce_only=reduce_only,
            post_only=post_only,
            account=account,
            strategy_id=self.strategy_id,
            ts_init=kernel.clock.now_ns(),
        )
        kernel.submit(order)
        return order

    def buy(self, symbol: str, quantity: Decimal, **kwargs: object) -> Order:
        return self.order(symbol, OrderSide.BUY, quantity, **kwargs)  # type: ignore[arg-type]

    def sell(self, symbol: str, quantity: Decimal, **kwargs: object) -> Order:
        return self.order(symbol, OrderSide.SELL, quantity, **kwargs)  # type: ignore[arg-type]

    def target_position(
        self, symbol: str, target: Decimal, account: str | None = None
    ) -> Order | None:
        """Send one market order moving the position to ``target``; None if already there."""
        delta = target - self.position(symbol, account)
        if delta == 0:
            return None
        side = OrderSide.BUY if delta > 0 else OrderSide.SELL
        return self.order(symbol, side, abs(delta), account=account)

    def cancel(self, order: Order) -> None:
        self._kernel.cancel(order)

    def modify(
        self,
        order: Order,
        *,
        quantity: Decimal | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> None:
        self._kernel.modify(order, quantity, price, trigger_price)

    # -- loans, transfers, leverage --------------------------------------------------------

    def borrow(self, asset: str, amount: Decimal, account: str | None = None) -> str | None:
        """Ask to borrow; the loan id (its answer arrives as an event), or None when the risk
        engine denied the request (a ``CommandDenied`` event says why)."""
        kernel = self._kernel
        account = account or self.account
        command = Borrow(kernel.clock.now_ns(), account, asset, amount, "", self.strategy_id)
        if not kernel.passes(command):
            return None
        return kernel.venue_of(account).borrow(account, asset, amount)

    def repay(self, asset: str, amount: Decimal, account: str | None = None) -> None:
        kernel = self._kernel
        account = account or self.account
        command = Repay(kernel.clock.now_ns(), account, asset, amount, "", self.strategy_id)
        if kernel.passes(command):
            kernel.venue_of(account).repay(account, asset, amount)

    def transfer(
        self, asset: str, amount: Decimal, to_account: str, account: str | None = None
    ) -> None:
        kernel = self._kernel
        source = account or self.account
        command = Transfer(
            kernel.clock.now_ns(), source, to_account, asset, amount, "", self.strategy_id
        )
        if kernel.passes(command):
            kernel.venue_of(source).transfer(source, to_account, asset, amount)

    def set_leverage(self, symbol: str, leverage: Decimal, account: str | None = None) -> None:
        """Change the venue's leverage setting for ``symbol``; the risk engine checks it
        against its caps and the venue's tier maximum (a denial is a ``CommandDenied``)."""
        kernel = self._kernel
        account = account or self.account
        command = SetLeverage(kernel.clock.now_ns(), account, symbol, leverage, self.strategy_id)
        if kernel.passes(command):
            kernel.venue_of(account).set_leverage(account, symbol, leverage)

    # -- timers ---------------------------------------------------------------------------

    def set_timer(
        self, name: str, *, interval_ns: int | None = None, at_ns: int | None = None
    ) -> None:
        """Call ``on_timer(name, ts)`` every ``interval_ns``, or once at ``at_ns``."""
        self._kernel.set_timer(self.strategy_id, name, interval_ns=interval_ns, at_ns=at_ns)

    def cancel_timer(self, name: str) -> None:
        self._kernel.cancel_timer(self.strategy_id, name)

    # -- other accounts and helper strategies ---------------------------------------------

    def venue_id(self, account: str | None = None) -> str:
        """The id of the venue ``account`` (default: the strategy's own) trades on."""
        return self._kernel.venue_of(account or self.account).venue_id

    def link_account(self, owner: Strategy, account: str) -> None:
        """Deliver ``account``'s account events to ``owner`` too, and its venue's market data
        when that is another venue than the strategy's own account's.

        Call it while the strategy is being attached (``Strategy.linked_accounts`` does),
        before the run starts.
        """
        self._kernel.link(owner, self.account, account)

    def spawn(self, child: Strategy, account: str | None = None) -> None:
        """Run ``child`` (an execution algorithm, say) as a helper strategy on ``account``.

        The child gets its own context: its orders, their events and its timers are its own.
        It hears no market data; it is told to begin through its own ``on_start``.
        """
        self._kernel.add_strategy(child, account or self.account, ())
        child.on_start()

    # -- protection and sizing (run by the risk engine) -----------------------------------

    def protect(
        self,
        symbol: str,
        *,
        stop_loss: Decimal | None = None,
        take_profit: Decimal | None = None,
        trailing: Decimal | None = None,
        account: str | None = None,
    ) -> StopGroup:
        """Protect the position held now with a stop-loss, a take-profit and/or a trailing
        stop (a fraction below the best mark since now, for a long), all on the mark price.

        The legs are one OCO group: the first to fire closes the whole position with a
        reduce-only market order and cancels the others; the group follows the position's
        size and ends when it is flat. Native venue stop orders where the venue has them,
        emulated otherwise (``[risk.stops] mode``); the same triggers and fills either way.
        A level already crossed fires at once. Raises ``ValueError`` with no position.
        """
        return self._kernel.risk_engine().protect(
            self.strategy_id,
            account or self.account,
            symbol,
            stop_loss=stop_loss,
            take_profit=take_profit,
            trailing=trailing,
        )

    def bracket(
        self,
        symbol: str,
        side: OrderSide,
        quantity: Decimal,
        *,
        stop_loss: Decimal | None = None,
        take_profit: Decimal | None = None,
        trailing: Decimal | None = None,
        price: Decimal | None = None,
        account: str | None = None,
    ) -> StopGroup:
        """Enter with a market order (a limit order at ``price``) and protect the position
        it opens with an OCO stop-loss / take-profit / trailing group once it fills.

        The group's ``entry`` is the entry order; if the entry is denied or never fills the
        group ends without placing anything.
        """
        engine = self._kernel.risk_engine()
        order_type = OrderType.LIMIT if price is not None else OrderType.MARKET
        entry = self.order(symbol, side, quantity, order_type, price=price, account=account)
        return engine.bracket(
            self.strategy_id,
            entry,
            stop_loss=stop_loss,
            take_profit=take_profit,
            trailing=trailing,
        )

    def oco(self, *orders: Order) -> OcoGroup:
        """Link working orders: the first to fill (even in part) cancels the others at the
        end of that step."""
        return self._kernel.risk_engine().oco(list(orders))

    def cancel_protection(self, group: StopGroup) -> None:
        """Stop protecting: cancel a group's stops (the position stays open)."""
        self._kernel.risk_engine().cancel_protection(group)

    def size(
        self,
        symbol: str,
        side: OrderSide,
        *,
        stop: Decimal | None = None,
        method: str = "kelly",
        volatility: Decimal | None = None,
        account: str | None = None,
    ) -> Decimal:
        """The quantity to trade: fractional Kelly from this strategy's closed trades (with
        a small fixed risk until it has enough trades) or volatility targeting
        (``method="volatility"``, ``volatility`` annualised), capped by the risk per trade at
        ``stop``, a fraction of equity and the venue's free margin (``[risk.sizing]``)."""
        return self.sizing(
            symbol, side, stop=stop, method=method, volatility=volatility, account=account
        ).quantity

    def sizing(
        self,
        symbol: str,
        side: OrderSide,
        *,
        stop: Decimal | None = None,
        method: str = "kelly",
        volatility: Decimal | None = None,
        account: str | None = None,
    ) -> Sizing:
        """Like :meth:`size`, with the figures: each limit's quantity and which one bound."""
        return self._kernel.risk_engine().size(
            self.strategy_id,
            account or self.account,
            symbol,
            side,
            stop=stop,
            method=method,
            volatility=volatility,
        )
