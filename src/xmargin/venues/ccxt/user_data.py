"""User data: fills, order statuses and funding, from REST polling and ccxt.pro streams.

REST polling runs on every venue (it is the only source of funding income, which ccxt does
not stream). With ``streams`` on, ``watch_orders`` and ``watch_my_trades`` deliver orders
and fills as they happen; after every (re)connect the same REST sync fills the gap
(``fetch_open_orders``, ``fetch_my_trades`` since the last trade seen). Overlaps are
harmless: fills are de-duplicated by trade id and status events by order and kind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import ccxt

from xmargin.core.clock import ns_to_ms
from xmargin.core.errors import DataError, VenueError
from xmargin.model.events import OrderFilled
from xmargin.model.orders import Order
from xmargin.venues.ccxt.instruments import exact, optional
from xmargin.venues.ccxt.orders import ALGO_VENUES, account_params, lookup_params
from xmargin.venues.ccxt.reports import funding_from_income, order_from_ccxt, position_from_ccxt
from xmargin.venues.ccxt.requests import RequestRunner, VenueRefusedError, python_decimal_context
from xmargin.venues.ccxt.tracking import OrderTracker

log = logging.getLogger(__name__)
RECONNECT_SETTLE_S = 0.2


class UserData:
    """Keeps the tracker in step with the venue for a set of symbols."""

    def __init__(
        self,
        runner: RequestRunner,
        tracker: OrderTracker,
        symbols: Iterable[str],
        poll_interval_s: float,
        *,
        streams: bool,
        funding_poll_s: float = 60.0,
        funding: bool = True,
    ) -> None:
        self.runner = runner
        self.tracker = tracker
        self.symbols = tuple(symbols)
        self.poll_interval_s = poll_interval_s
        self.funding_poll_s = funding_poll_s
        self.funding = funding
        self.extra = account_params(runner.exchange.id)
        self.streams = streams
        self._trades_since: dict[str, int | None] = {}
        self._funding_since: dict[str, int | None] = {}
        self._funding_seen: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self.reconnects = 0

    async def start(self) -> None:
        """Take the venue's latest fills and funding as history (not news), then start hearing.

        The venue's own records mark the start, not its clock: a venue may stamp fills with
        another clock than ``/time`` (the gateway replays data time), and a client's clock
        skews; new records are then asked for from the latest one seen.
        """
        for symbol in self.symbols:
            trades = await self.runner.call("fetch_my_trades", symbol, None, None, self.extra)
            self.tracker.mark_history(str(t["id"]) for t in trades)
            self._trades_since[symbol] = max((int(t["timestamp"]) for t in trades), default=None)
            incomes = await self._incomes(symbol, None)
            self._funding_seen.update(str(i["id"]) for i in incomes)
            self._funding_since[symbol] = max((int(i["timestamp"]) for i in incomes), default=None)
        self._tasks.append(asyncio.create_task(self._poll()))
        if self.streams:
            for symbol in self.symbols:
                self._tasks.append(asyncio.create_task(self._watch("watch_orders", symbol)))
                self._tasks.append(asyncio.create_task(self._watch("watch_my_trades", symbol)))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _poll(self) -> None:
        """Orders and fills every ``poll_interval_s``; funding (a costly endpoint, weight 30
        on Binance, changing a few times a day) every ``funding_poll_s``."""
        loop = asyncio.get_running_loop()
        funding_due = loop.time()
        while True:
            funding = self.funding and loop.time() >= funding_due
            if funding:
                funding_due = loop.time() + self.funding_poll_s
            for symbol in self.symbols:
                try:
                    await self.gap_fill(symbol)
                    if funding:
                        await self.sync_funding(symbol)
                except Exception as exc:
                    log.warning("user-data poll of %s failed: %s", symbol, exc)
            await asyncio.sleep(self.poll_interval_s)

    async def gap_fill(self, symbol: str) -> None:
        """One REST catch-up of ``symbol``: order statuses, then fills."""
        await self.sync_orders(symbol)
        await self.sync_trades(symbol)

    async def sync_orders(self, symbol: str) -> None:
        """Learn the fate of every tracked working order the venue no longer lists as open."""
        working = self.tracker.working(symbol)
        if not working:
            return
        exchange_id = self.runner.exchange.id
        open_ids: set[str] = set()
        for conditional in sorted({c for _, c in working}):
            params = {"trigger": True} if conditional else self.extra
            for raw in await self.runner.call("fetch_open_orders", symbol, None, None, params):
                self.tracker.on_order(raw)
                open_ids.add(str(raw.get("clientOrderId") or ""))
        for client_id, conditional in working:
            tracked = self.tracker.get(client_id)
            if tracked.wire_id in open_ids:
                continue
            params = lookup_params(exchange_id, client_id, conditional=conditional)
            try:
                self.tracker.on_order(await self.runner.call("fetch_order", None, symbol, params))
            except VenueRefusedError as refused:
                if not isinstance(refused.original, ccxt.OrderNotFound):
                    raise

    async def sync_trades(self, symbol: str) -> None:
        since = self._trades_since[symbol]
        trades = await self.runner.call("fetch_my_trades", symbol, since, None, self.extra)
        for trade in sorted(trades, key=lambda t: (t["timestamp"], str(t["id"]))):
            self.tracker.on_trade(trade)
            self._trades_since[symbol] = max(since or 0, int(trade["timestamp"]))
            since = self._trades_since[symbol]

    async def sync_funding(self, symbol: str) -> None:
        since = self._funding_since[symbol]
        for income in await self._incomes(symbol, since):
            key = str(income.get("id"))
            if key in self._funding_seen:
                continue
            self._funding_seen.add(key)
            self.tracker.emit(await self._funding_event(symbol, income))
            self._funding_since[symbol] = since = max(since or 0, int(income["timestamp"]))

    async def _incomes(self, symbol: str, since: int | None) -> list[dict[str, Any]]:
        if not self.funding:
            return []
        rows: list[dict[str, Any]] = await self.runner.call("fetch_funding_history", symbol, since)
        return rows

    async def _funding_event(self, symbol: str, income: dict[str, Any]) -> Any:
        at_ms = int(income["timestamp"])
        rates = await self.runner.call("fetch_funding_rate_history", symbol, at_ms, 1)
        entry = next((r for r in rates if int(r["timestamp"]) == at_ms), None)
        source = f"funding {income.get('id')}"
        if entry is None:
            raise DataError(
                f"the venue's funding-rate history has no rate at {at_ms}", source=source
            )
        rate = exact(entry["fundingRate"], "fundingRate", source=source)
        mark = optional((entry.get("info") or {}).get("markPrice"), "markPrice", source=source)
        size = await self._position_at(symbol, at_ms)
        return funding_from_income(
            income, self.tracker.account, rate=rate, position_size=size, mark_price=mark or None
        )

    async def _position_at(self, symbol: str, at_ms: int) -> Decimal:
        """The position held at ``at_ms``: today's, less every fill at or after that time."""
        rows = await self.runner.call("fetch_positions", [symbol])
        now = sum((position_from_ccxt(r).size for r in rows if r["symbol"] == symbol), Decimal(0))
        later = await self.runner.call("fetch_my_trades", symbol, at_ms, None, self.extra)
        fills = [self.tracker.fill(t) for t in later]
        moved = sum((f.quantity * f.side.sign for f in fills), Decimal(0))
        return now - moved

    async def open_orders(self) -> list[Order]:
        """Every working order of the symbols, plain and (Binance algo) conditional."""
        conditional = [{"trigger": True}] if self.runner.exchange.id in ALGO_VENUES else []
        found: list[Order] = []
        for symbol in self.symbols:
            for params in [self.extra, *conditional]:
                rows = await self.runner.call("fetch_open_orders", symbol, None, None, params)
                found += [order_from_ccxt(row, self.tracker.account) for row in rows]
        return found

    async def fills_since(self, since_ns: int) -> list[OrderFilled]:
        fills: list[OrderFilled] = []
        for symbol in self.symbols:
            trades = await self.runner.call(
                "fetch_my_trades", symbol, ns_to_ms(since_ns), None, self.extra
            )
            fills += [self.tracker.fill(t) for t in trades]
        return sorted(fills, key=lambda f: (f.ts_event, f.trade_id))

    async def _watch(self, method: str, symbol: str) -> None:
        """Hear one stream forever; after every (re)connect, gap-fill over REST."""
        handle = self.tracker.on_order if method == "watch_orders" else self.tracker.on_trade
        exchange = self.runner.exchange
        attempt = 0
        while True:
            pending = asyncio.ensure_future(getattr(exchange, method)(symbol))
            await asyncio.sleep(RECONNECT_SETTLE_S)
            try:
                await self.gap_fill(symbol)
                items = await pending
                python_decimal_context()
                for item in items:
                    handle(item)
                attempt = 0
                while True:
                    items = await getattr(exchange, method)(symbol)
                    python_decimal_context()
                    for item in items:
                        handle(item)
            except (ccxt.BaseError, VenueError) as exc:
                pending.cancel()
                self.reconnects += 1
                wait = self.runner.backoff.delay(attempt)
                attempt += 1
                log.warning("%s %s dropped (%s); reconnecting in %.2fs", method, symbol, exc, wait)
                await asyncio.sleep(wait)
