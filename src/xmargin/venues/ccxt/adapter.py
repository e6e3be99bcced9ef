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

import asyncio
import logging
import queue
import threading
from collections.abc import Coroutine, Iterable, Mapping
from concurrent.futures import Future
from decimal import Decimal
from typing import Any

import ccxt
import ccxt.async_support as ccxt_async
import ccxt.pro as ccxt_pro

from xmargin.core.clock import Clock
from xmargin.core.errors import ConfigError, TerminalVenueError
from xmargin.core.rng import RngStreams
from xmargin.margin.tiers import TierTable
from xmargin.model.balances import Loan
from xmargin.model.events import OrderFilled, OrderModified
from xmargin.model.instruments import Instrument
from xmargin.model.orders import Order
from xmargin.model.positions import Position
from xmargin.venues.ccxt.backoff import Backoff, RequestBudget
from xmargin.venues.ccxt.capabilities import CcxtCapabilities, capabilities_for
from xmargin.venues.ccxt.credentials import ApiCredentials
from xmargin.venues.ccxt.endpoints import point_at
from xmargin.venues.ccxt.errors import restore_error_tables
from xmargin.venues.ccxt.instruments import instruments_from_markets, tier_table_from_ccxt
from xmargin.venues.ccxt.orders import BINANCE_FAMILY, create_order_args, lookup_params
from xmargin.venues.ccxt.reports import (
    balances_from_ccxt,
    position_from_ccxt,
    wallet_balances,
)
from xmargin.venues.ccxt.requests import OutcomeUnknownError, RequestRunner, VenueRefusedError
from xmargin.venues.ccxt.tracking import OrderTracker, RequestFailed
from xmargin.venues.ccxt.user_data import UserData

log = logging.getLogger(__name__)
QUERY_TIMEOUT_S = 60.0
_DUPLICATE_CLIENT_ID = -4116


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
        self._streams = streams
        self._poll_s = (poll_interval_s, funding_poll_s)
        self._rest_base, self._ws_base = rest_base, ws_base
        self._options = dict(ccxt_options or {})
        self._rng = RngStreams(seed).stream(f"ccxt-backoff:{exchange_id}:{account}")
        self._events: queue.Queue[object] = queue.Queue()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, daemon=True, name=f"ccxt-{exchange_id}-{account}"
        )
        self._book = OrderTracker(account, self._events, clock)
        self.instruments: dict[str, Instrument] = {}
        self.tiers: dict[str, TierTable] = {}
        self._exchange: Any = exchange
        self._runner: RequestRunner | None = None
        self._user_data: UserData | None = None

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
    def capabilities(self) -> Any:
        return self._caps.venue

    def start(self) -> None:
        """Connect, load instruments and tiers, and start hearing user data (blocks until ready)."""
        self._thread.start()
        self._wait(self._start())

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        self._wait(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

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
        )
        await self._user_data.start()

    async def _stop(self) -> None:
        if self._user_data is not None:
            await self._user_data.stop()
        if self._exchange is not None:
            await self._exchange.close()
        current = asyncio.current_task()
        leftovers = [t for t in asyncio.all_tasks() if t is not current]
        for task in leftovers:  # ccxt's throttler loop outlives close()
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)

    def drain(self) -> list[object]:
        """Every event reported since the last drain, in arrival order."""
        events: list[object] = []
        while True:
            try:
                events.append(self._events.get_nowait())
            except queue.Empty:
                return events

    def wait_event(self, timeout_s: float) -> object | None:
        """Block up to ``timeout_s`` for the next event (None if none came)."""
        try:
            return self._events.get(timeout=timeout_s)
        except queue.Empty:
            return None

    def _schedule(self, coro: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coro, self._loop).add_done_callback(self._report_crash)

    def _report_crash(self, future: Future[None]) -> None:
        exc = None if future.cancelled() else future.exception()
        if exc is not None:
            log.error("ccxt adapter task failed: %s", exc)
            self._events.put(RequestFailed(self.clock.now_ns(), self.account, "task", "", str(exc)))

    def _wait(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(QUERY_TIMEOUT_S)

    def _check_account(self, account: str) -> None:
        if account != self.account:
            raise ConfigError(
                f"this {self.exchange_id} adapter serves account {self.account}, not {account}"
            )

    @property
    def runner(self) -> RequestRunner:
        assert self._runner is not None, "start() the adapter first"
        return self._runner

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
        self._schedule(self._submit(order))

    async def _submit(self, order: Order) -> None:
        args = create_order_args(self.exchange_id, order)
        call = (args.symbol, args.type, args.side, args.amount, args.price, args.params)
        resent = False
        for _attempt in range(self.runner.backoff.max_attempts):
            try:
                result = await self.runner.call("create_order", *call, places_order=True)
            except OutcomeUnknownError as unknown:
                log.warning("order %s: %s; looking it up", order.client_order_id, unknown)
            except VenueRefusedError as refused:
                if not (resent and refused.failure.code == _DUPLICATE_CLIENT_ID):
                    self._book.reject(order.client_order_id, refused.failure.reason)
                    return
            else:
                self._book.on_order(result)
                await self._user_data_sync(order.instrument)
                return
            found = await self._lookup(order.client_order_id, args.symbol, args.conditional)
            if found is not None:
                self._book.on_order(found)
                await self._user_data_sync(order.instrument)
                return
            resent = True
        self._book.reject(order.client_order_id, "outcome unknown after every retry; not resent")

    async def _lookup(
        self, client_id: str, symbol: str, conditional: bool
    ) -> dict[str, Any] | None:
        """The venue's order with this client id, or None when the venue says it has none."""
        params = lookup_params(self.exchange_id, client_id, conditional=conditional)
        try:
            found: dict[str, Any] = await self.runner.call("fetch_order", None, symbol, params)
        except VenueRefusedError as refused:
            if isinstance(refused.original, ccxt.OrderNotFound):
                return None
            raise
        return found

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
            found = await self._lookup(client_id, symbol, conditional)
            if found is not None:
                self._book.on_order(found)
                await self._user_data_sync(symbol)
            return
        self._book.on_order(result)

    def cancel_all(self, account: str, instrument: str) -> None:
        """Cancel every working order (plain and conditional) of ``instrument``."""
        self._check_account(account)
        if "cancel_all" not in self._caps.features:
            raise ConfigError(f"{self.exchange_id} has no cancel-all in ccxt")
        self._schedule(self._cancel_all(instrument))

    async def _cancel_all(self, symbol: str) -> None:
        await self.runner.call("cancel_all_orders", symbol)
        if self.exchange_id in BINANCE_FAMILY:  # algo orders survive a plain cancel-all
            await self.runner.call("cancel_all_orders", symbol, {"trigger": True})
        for client_id, conditional in self._book.working(symbol):
            found = await self._lookup(client_id, symbol, conditional)
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
        tracked = self._book.get(client_order_id)
        if tracked.conditional or trigger_price is not None:
            raise TerminalVenueError(f"{self.exchange_id}: conditional orders cannot be modified")
        if not tracked.order.order_type.has_limit_price:
            raise TerminalVenueError(f"{self.exchange_id}: only limit orders can be modified")
        self._schedule(
            self._modify(
                tracked.order, quantity or tracked.order.quantity, price or tracked.order.price
            )
        )

    async def _modify(self, order: Order, quantity: Decimal, price: Decimal | None) -> None:
        venue_id = self._book.venue_id(order.client_order_id)
        side = order.side.value
        call = (venue_id, order.instrument, "limit", side, float(quantity), float(price or 0))
        try:
            result = await self.runner.call("edit_order", *call, places_order=True)
        except (VenueRefusedError, OutcomeUnknownError) as failed:
            self._book.fail("modify", order.client_order_id, failed.failure.reason)
            found = await self._lookup(order.client_order_id, order.instrument, False)
            if found is not None:
                self._book.on_order(found)
            return
        self._book.on_modified(
            OrderModified(
                self.clock.now_ns(), self.account, order.client_order_id, quantity, price, None
            ),
            result,
        )

    def set_leverage(self, account: str, instrument: str, leverage: Decimal) -> None:
        self._check_account(account)
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
        raise TerminalVenueError(f"{self.exchange_id}: borrowing is not supported by this adapter")

    def repay(self, account: str, asset: str, amount: Decimal) -> None:
        raise TerminalVenueError(f"{self.exchange_id}: repaying is not supported by this adapter")

    def transfer(self, source: str, target: str, asset: str, amount: Decimal) -> None:
        raise TerminalVenueError(f"{self.exchange_id}: transfers are not supported by this adapter")

    # -- reconciliation ---------------------------------------------------------------------

    def open_orders(self, account: str) -> list[Order]:
        self._check_account(account)
        return list(self._wait(self.user_data.open_orders()))

    def positions(self, account: str) -> Mapping[str, Position]:
        self._check_account(account)
        rows = self._wait(self.runner.call("fetch_positions", list(self.symbols)))
        held = (position_from_ccxt(row) for row in rows)
        return {p.instrument: p for p in held if p.size}

    def balances(self, account: str) -> Mapping[str, Decimal]:
        """Wallet balances (no unrealised PnL) where the venue reports them, else ccxt totals."""
        self._check_account(account)
        raw = self._wait(self.runner.call("fetch_balance"))
        return wallet_balances(raw) or balances_from_ccxt(raw)

    def loans(self, account: str) -> Mapping[str, Loan]:
        self._check_account(account)
        return {}

    def fills_since(self, account: str, since_ns: int) -> list[OrderFilled]:
        """Every fill of the adapter's symbols at or after ``since_ns``, oldest first."""
        self._check_account(account)
        return list(self._wait(self.user_data.fills_since(since_ns)))
