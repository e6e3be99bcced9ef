"""``CcxtVenue``: the VenuePort over unmodified ccxt (``async_support``/``ccxt.pro``), for one
venue account, on an asyncio loop and thread of its own. Commands schedule their request and
return at once; the venue's answers arrive as events on a thread-safe queue the synchronous
kernel drains (:meth:`CcxtVenue.drain`). Reconciliation queries block until answered.

A submit that fails after it may have reached the venue is *unknown*: the order is looked up
by its client order id, and sent again only if the venue says it does not exist, with the
same client id, so one client id never has two live orders. Fills and funding come from
:class:`~xmargin.venues.ccxt.user_data.UserData` (REST polling and, where ccxt.pro has
them, websocket streams gap-filled over REST after every (re)connect).
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine, Iterable, Mapping
from decimal import Decimal
from typing import Any

import ccxt
import ccxt.async_support as ccxt_async
import ccxt.pro as ccxt_pro

from xmargin.core.clock import Clock
from xmargin.core.errors import ConfigError, TerminalVenueError
from xmargin.core.rng import RngStreams
from xmargin.execution.ports import VenueCapabilities
from xmargin.margin.tiers import TierTable
from xmargin.model.balances import Loan
from xmargin.model.events import LoanRequested, OrderFilled, OrderModified
from xmargin.model.instruments import Instrument
from xmargin.model.orders import Order
from xmargin.model.positions import Position
from xmargin.venues.ccxt.backoff import Backoff, RequestBudget
from xmargin.venues.ccxt.capabilities import CcxtCapabilities, capabilities_for
from xmargin.venues.ccxt.credentials import ApiCredentials, keep_out_of_logs
from xmargin.venues.ccxt.cross_margin import CrossMarginDesk
from xmargin.venues.ccxt.endpoints import point_at
from xmargin.venues.ccxt.errors import restore_error_tables
from xmargin.venues.ccxt.instruments import instruments_from_markets, tier_table_from_ccxt
from xmargin.venues.ccxt.loop_thread import LoopThread
from xmargin.venues.ccxt.orders import (
    ALGO_VENUES,
    CROSS_MARGIN,
    account_params,
    create_order_args,
    lookup_params,
)
from xmargin.venues.ccxt.placement import OrderPlacer
from xmargin.venues.ccxt.reports import (
    balances_from_ccxt,
    position_from_ccxt,
    wallet_balances,
)
from xmargin.venues.ccxt.requests import OutcomeUnknownError, RequestRunner, VenueRefusedError
from xmargin.venues.ccxt.tracking import OrderTracker, RequestFailed
from xmargin.venues.ccxt.user_data import UserData

log = logging.getLogger(__name__)


def _shows(order: Mapping[str, Any], quantity: Decimal, price: Decimal | None) -> bool:
    """Whether a venue order carries this quantity and price."""
    return (str(order.get("amount")), str(order.get("price"))) == (
        str(float(quantity)),
        str(float(price or 0)),
    )


class CcxtVenue:
    """One venue account traded through ccxt; see the module doc."""

    def __init__(
        self,
        exchange_id: str,
        account: str,
        credentials: ApiCredentials,
        symbols: Iterable[str],
        clock: Clock,
        *,
        seed: int = 0,
        streams: bool = False,
        poll_interval_s: float = 1.0,
        funding_poll_s: float = 60.0,
        rest_base: str | None = None,
        ws_base: str | None = None,
        ccxt_options: Mapping[str, Any] | None = None,
        exchange: Any = None,
    ) -> None:
        """``exchange``: a ccxt async exchange built by the caller (else built here)."""
        self._caps: CcxtCapabilities = capabilities_for(exchange_id)
        if streams and "user_streams" not in self._caps.features:
            raise ConfigError(f"{exchange_id} has no user-data streams in ccxt.pro")
        self.exchange_id = exchange_id
        self.account = account
        self.symbols = tuple(symbols)
        self.clock = clock
        self._credentials = credentials
        keep_out_of_logs(credentials)
        self._streams = streams
        self._poll_s = (poll_interval_s, funding_poll_s)
        self._rest_base, self._ws_base = rest_base, ws_base
        self._options = dict(ccxt_options or {})
        self._rng = RngStreams(seed).stream(f"ccxt-backoff:{exchange_id}:{account}")
        self._loop = LoopThread(f"ccxt-{exchange_id}-{account}", self._crashed)
        self._events = self._loop.events
        self._book = OrderTracker(account, self._events, clock)
        self.instruments: dict[str, Instrument] = {}
        self.tiers: dict[str, TierTable] = {}
        self._exchange: Any = exchange
        self._runner: RequestRunner | None = None
        self._user_data: UserData | None = None
        self._desk: CrossMarginDesk | None = None
        self._placer: OrderPlacer | None = None

    @property
    def user_data(self) -> UserData:
        assert self._user_data is not None, "start() the adapter first"
        return self._user_data

    def __repr__(self) -> str:
        return f"CcxtVenue({self.exchange_id!r}, account={self.account!r})"

    # -- life cycle -------------------------------------------------------------------------

    @property
    def venue_id(self) -> str:
        return self.exchange_id

    @property
    def capabilities(self) -> VenueCapabilities:
        return self._caps.venue

    def start(self) -> None:
        """Connect, load instruments and tiers, and start hearing user data (blocks until ready)."""
        self._loop.start()
        self._wait(self._start())

    def stop(self) -> None:
        self._loop.stop(self._stop())

    async def _start(self) -> None:
        module = ccxt_pro if self._streams else ccxt_async
        config = {
            **self._credentials.ccxt_config(),
            "enableRateLimit": True,
            "options": {"fetchCurrencies": False, **self._options},
        }
        if self._exchange is None:
            self._exchange = getattr(module, self.exchange_id)(config)
        if self._rest_base:
            point_at(self._exchange, self._rest_base, self._ws_base or self._rest_base)
        restore_error_tables(self._exchange)
        self._runner = RequestRunner(
            self._exchange, Backoff(self._rng), RequestBudget(), self.clock
        )
        markets = await self._runner.call("load_markets")
        self.instruments = instruments_from_markets(
            markets, self._exchange.precisionMode, self.symbols
        )
        if "leverage_tiers" in self._caps.features:
            raw = await self._runner.call("fetch_leverage_tiers", list(self.symbols))
            self.tiers = {s: tier_table_from_ccxt(s, raw[s]) for s in self.symbols if s in raw}
        self._user_data = UserData(
            self._runner,
            self._book,
            self.symbols,
            self._poll_s[0],
            streams=self._streams,
            funding_poll_s=self._poll_s[1],
            funding="funding_history" in self._caps.features,
        )
        if self.exchange_id in CROSS_MARGIN:
            self._desk = CrossMarginDesk(self._runner, self._book, self.clock)
        self._placer = OrderPlacer(self.exchange_id, self._runner, self._book, self._user_data_sync)
        await self._user_data.start()

    async def _stop(self) -> None:
        if self._user_data is not None:
            await self._user_data.stop()
        if self._exchange is not None:
            await self._exchange.close()

    def drain(self) -> list[object]:
        """Every event reported since the last drain, in arrival order."""
        return self._loop.drain()

    def wait_event(self, timeout_s: float) -> object | None:
        """Block up to ``timeout_s`` for the next event (None if none came)."""
        return self._loop.wait_event(timeout_s)

    def _crashed(self, exc: BaseException) -> RequestFailed:
        return RequestFailed(self.clock.now_ns(), self.account, "task", "", str(exc))

    def _schedule(self, coro: Coroutine[Any, Any, None]) -> None:
        self._loop.schedule(coro)

    def _wait(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return self._loop.wait(coro)

    def _need(self, feature: str) -> None:
        if feature not in self._caps.features:
            raise ConfigError(f"{self.exchange_id}: {feature} is not supported by this adapter")

    def _check_account(self, account: str) -> None:
        if account != self.account:
            raise ConfigError(
                f"this {self.exchange_id} adapter serves account {self.account}, not {account}"
            )

    @property
    def runner(self) -> RequestRunner:
        assert self._runner is not None, "start() the adapter first"
        return self._runner

    @property
    def placer(self) -> OrderPlacer:
        assert self._placer is not None, "start() the adapter first"
        return self._placer

    # -- commands ---------------------------------------------------------------------------

    def submit(self, order: Order) -> None:
        self._check_account(order.account)
        reason = self._caps.venue.unsupported(order)
        if reason is not None:
            raise ConfigError(f"{self.exchange_id}: {reason}")
        if order.instrument not in self.instruments:
            raise ConfigError(f"{order.instrument} is not among the adapter's symbols")
        args = create_order_args(self.exchange_id, order)
        self._book.track(order, args.conditional, str(args.params["clientOrderId"]))
        self._schedule(self.placer.place(order))

    async def _user_data_sync(self, symbol: str) -> None:
        if self._user_data is not None:
            await self._user_data.sync_trades(symbol)

    def cancel(self, account: str, client_order_id: str) -> None:
        self._check_account(account)
        tracked = self._book.get(client_order_id)
        self._schedule(self._cancel(client_order_id, tracked.symbol, tracked.conditional))

    async def _cancel(self, client_id: str, symbol: str, conditional: bool) -> None:
        params = lookup_params(self.exchange_id, client_id, conditional=conditional)
        try:
            result = await self.runner.call("cancel_order", None, symbol, params)
        except VenueRefusedError as refused:
            self._book.fail("cancel", client_id, refused.failure.reason)
            found = await self.placer.lookup(client_id, symbol, conditional)
            if found is not None:
                self._book.on_order(found)
                await self._user_data_sync(symbol)
            return
        self._book.on_order(result)

    def cancel_all(self, account: str, instrument: str) -> None:
        """Cancel every working order (plain and conditional) of ``instrument``."""
        self._check_account(account)
        self._need("cancel_all")
        self._schedule(self._cancel_all(instrument))

    async def _cancel_all(self, symbol: str) -> None:
        await self.runner.call("cancel_all_orders", symbol, account_params(self.exchange_id))
        if self.exchange_id in ALGO_VENUES:  # algo orders survive a plain cancel-all
            await self.runner.call("cancel_all_orders", symbol, {"trigger": True})
        for client_id, conditional in self._book.working(symbol):
            found = await self.placer.lookup(client_id, symbol, conditional)
            if found is not None:
                self._book.on_order(found)
        await self._user_data_sync(symbol)

    def modify(
        self,
        account: str,
        client_order_id: str,
        quantity: Decimal | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> None:
        self._check_account(account)
        self._need("modify")
        tracked = self._book.get(client_order_id)
        if tracked.conditional or trigger_price is not None:
            raise TerminalVenueError(f"{self.exchange_id}: conditional orders cannot be modified")
        if not tracked.order.order_type.has_limit_price:
            raise TerminalVenueError(f"{self.exchange_id}: only limit orders can be modified")
        wanted = (quantity or tracked.quantity, price or tracked.price)
        self._schedule(self._modify(tracked.order, *wanted))

    async def _modify(self, order: Order, quantity: Decimal, price: Decimal | None) -> None:
        venue_id = self._book.venue_id(order.client_order_id)
        side = order.side.value
        call = (venue_id, order.instrument, "limit", side, float(quantity), float(price or 0))
        modified = OrderModified(
            self.clock.now_ns(), self.account, order.client_order_id, quantity, price, None
        )
        try:
            result = await self.runner.call("edit_order", *call, places_order=True)
        except (VenueRefusedError, OutcomeUnknownError) as failed:
            # an unanswered edit may have happened: the venue's order says whether it did
            found = await self.placer.lookup(order.client_order_id, order.instrument, False)
            if found is not None and _shows(found, quantity, price):
                self._book.on_modified(modified, found)
                return
            self._book.fail("modify", order.client_order_id, failed.failure.reason)
            if found is not None:
                self._book.on_order(found)
            return
        self._book.on_modified(modified, result)

    def set_leverage(self, account: str, instrument: str, leverage: Decimal) -> None:
        self._check_account(account)
        self._need("set_leverage")
        if leverage != leverage.to_integral_value() or leverage < 1:
            raise ConfigError(
                f"{self.exchange_id} leverage must be a whole number ≥ 1, got {leverage}"
            )
        self._schedule(self._set_leverage(instrument, int(leverage)))

    async def _set_leverage(self, symbol: str, leverage: int) -> None:
        try:
            await self.runner.call("set_leverage", leverage, symbol)
        except VenueRefusedError as refused:
            self._book.fail("set_leverage", symbol, refused.failure.reason)

    def set_margin_mode(self, account: str, instrument: str, mode: str) -> None:
        """Set ``cross`` or ``isolated`` margin; already being in that mode is success."""
        self._check_account(account)
        self._need("margin_mode")
        if mode not in ("cross", "isolated"):
            raise ConfigError(f"margin mode must be cross or isolated, got {mode!r}")
        self._schedule(self._set_margin_mode(instrument, mode))

    async def _set_margin_mode(self, symbol: str, mode: str) -> None:
        try:
            await self.runner.call("set_margin_mode", mode, symbol)
        except VenueRefusedError as refused:
            if not isinstance(refused.original, ccxt.MarginModeAlreadySet):
                self._book.fail("set_margin_mode", symbol, refused.failure.reason)

    def borrow(self, account: str, asset: str, amount: Decimal) -> str:
        """Ask to borrow (spot cross margin): ``LoanRequested`` now, the answer later."""
        self._check_account(account)
        desk = self._cross_margin()
        if amount <= 0:
            raise ConfigError(f"borrow amount must be positive, got {amount}")
        loan_id = desk.next_loan_id()
        self._events.put(LoanRequested(self.clock.now_ns(), account, asset, amount, loan_id))
        self._schedule(desk.borrow(asset, amount, loan_id))
        return loan_id

    def repay(self, account: str, asset: str, amount: Decimal) -> None:
        self._check_account(account)
        if amount <= 0:
            raise ConfigError(f"repay amount must be positive, got {amount}")
        self._schedule(self._cross_margin().repay(asset, amount))

    def _cross_margin(self) -> CrossMarginDesk:
        self._need("borrow")
        assert self._desk is not None, "start() the adapter first"
        return self._desk

    def margin_level(self, account: str) -> Decimal:
        """The venue's cross-margin level (total asset value / total liability)."""
        self._check_account(account)
        return Decimal(self._wait(self._cross_margin().margin_level()))

    def transfer(self, source: str, target: str, asset: str, amount: Decimal) -> None:
        raise TerminalVenueError(f"{self.exchange_id}: transfers are not supported by this adapter")

    # -- reconciliation ---------------------------------------------------------------------

    def open_orders(self, account: str) -> list[Order]:
        self._check_account(account)
        return list(self._wait(self.user_data.open_orders()))

    def positions(self, account: str) -> Mapping[str, Position]:
        self._check_account(account)
        if self.exchange_id in CROSS_MARGIN:
            return {}  # spot margin holds assets and loans, not positions
        rows = self._wait(self.runner.call("fetch_positions", list(self.symbols)))
        held = (position_from_ccxt(row) for row in rows)
        return {p.instrument: p for p in held if p.size}

    def balances(self, account: str) -> Mapping[str, Decimal]:
        """Wallet balances (no unrealised PnL) where the venue reports them, else ccxt totals."""
        self._check_account(account)
        raw = self._wait(self.runner.call("fetch_balance", account_params(self.exchange_id)))
        return wallet_balances(raw) or balances_from_ccxt(raw)

    def loans(self, account: str) -> Mapping[str, Loan]:
        self._check_account(account)
        if self._desk is None:
            return {}
        return dict(self._wait(self._desk.loans()))

    def fills_since(self, account: str, since_ns: int) -> list[OrderFilled]:
        """Every fill of the adapter's symbols at or after ``since_ns``, oldest first."""
        self._check_account(account)
        return list(self._wait(self.user_data.fills_since(since_ns)))
