"""USDⓈ-M websockets: market streams on ``/public/ws``, ``/market/ws`` and ``/ws`` (SUBSCRIBE
acknowledged with the request's ``id``), and the user stream on ``/private/ws?listenKey=``.

Market pushes happen at each data step that moves an instrument. From bar data the gateway
synthesises one trade per bar (at the close, with the bar's volume; the taker side is the
bar's direction) and the one-level book of ``market_replay``, whose depth diffs carry
``U = u = pu + 1`` per step; trade data in the config is pushed as recorded instead.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from xmargin.backtest.feed import FeedSource
from xmargin.core.clock import NANOS_PER_MILLI
from xmargin.data.series import TradeSeries
from xmargin.gateway import errors
from xmargin.gateway.binance_json import symbol_id
from xmargin.gateway.faults import FaultInjector
from xmargin.gateway.market_replay import SymbolData, float_text
from xmargin.gateway.records import AlgoRecord, OrderRecord
from xmargin.gateway.service import GatewayService
from xmargin.gateway.user_events import margin_call, user_messages
from xmargin.margin.base import MarginState

Json = dict[str, Any]
QUEUE_LIMIT = 10_000


class Connection:
    """One websocket and what it listens to; pushes go through a bounded queue."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.streams: set[str] = set()
        self.wanted: set[str] = set()  # the same, lower-cased
        self.queue: asyncio.Queue[str | None] = asyncio.Queue(QUEUE_LIMIT)

    def subscribe(self, names: Iterable[str]) -> None:
        self.streams.update(names)
        self.wanted = {s.lower() for s in self.streams}

    def unsubscribe(self, names: Iterable[str]) -> None:
        self.streams.difference_update(names)
        self.wanted = {s.lower() for s in self.streams}

    def push(self, message: Json) -> None:
        if not self.queue.full():
            self.queue.put_nowait(json.dumps(message, separators=(",", ":")))

    def close(self) -> None:
        """Close after what is queued (a dropped connection, injected by the faults)."""
        if not self.queue.full():
            self.queue.put_nowait(None)


class StreamHub:
    def __init__(self, service: GatewayService, faults: FaultInjector) -> None:
        self.service = service
        self.faults = faults
        self.market: list[Connection] = []
        self.users: dict[str, list[Connection]] = {}
        self._books: dict[str, tuple[str, str, str, str]] = {}
        self._trade_ids: dict[str, int] = {}
        self._states: dict[str, MarginState] = {}
        service.runtime.step_listeners.append(self.on_step)
        service.records.listeners.append(self.on_user_event)
        service.listen_key_closed.append(self.on_listen_key_closed)

    # -- market streams ---------------------------------------------------------------------

    def on_step(self, ts: int, seen: list[tuple[FeedSource, int]]) -> None:
        now = ts // NANOS_PER_MILLI
        if self.users:
            self._margin_calls(now)
        if not self.market:
            return
        replay = self.service.replay
        for source, row in seen:
            data = replay.symbols.get(symbol_id(source.instrument))
            if data is None:
                continue
            lower = symbol_id(source.instrument).lower()
            if source.kind == "ohlcv":
                self._bar_messages(data, lower, row, now)
            elif source.kind == "trades" and isinstance(source.series, TradeSeries):
                series = source.series
                self._trade(
                    lower,
                    now,
                    float(series.price[row]),
                    float(series.qty[row]),
                    bool(series.buyer_is_maker[row]),
                )
            if source.kind in ("ohlcv", "mark"):
                mark = replay.premium_index(data, now)
                self._send(
                    f"{lower}@markPrice",
                    {
                        "e": "markPriceUpdate",
                        "E": now,
                        "s": mark["symbol"],
                        "p": mark["markPrice"],
                        "i": mark["indexPrice"],
                        "P": mark["estimatedSettlePrice"],
                        "r": mark["lastFundingRate"],
                        "T": mark["nextFundingTime"],
                    },
                )

    def _bar_messages(self, data: SymbolData, lower: str, row: int, now: int) -> None:
        bars = data.bars
        has_trades = any(
            s.kind == "trades" and s.instrument == data.spec.symbol
            for s in self.service.runtime.sources
        )
        if not has_trades:
            close, open_ = float(bars.close[row]), float(bars.open[row])
            self._trade(lower, now, close, float(bars.volume[row]), close < open_)
        symbol = symbol_id(data.spec.symbol)
        for stream in {
            s for c in self.market for s in c.streams if s.lower().startswith(f"{lower}@kline_")
        }:
            interval = stream.partition("@kline_")[2]
            try:
                rows = self.service.replay.klines(
                    {"symbol": symbol, "interval": interval, "endTime": str(now), "limit": "1"}, now
                )
            except errors.BinanceError:
                continue
            if rows:
                k = rows[-1]
                self._send(
                    stream,
                    {
                        "e": "kline",
                        "E": now,
                        "s": symbol,
                        "k": {
                            "t": k[0],
                            "T": k[6],
                            "s": symbol,
                            "i": interval,
                            "o": k[1],
                            "h": k[2],
                            "l": k[3],
                            "c": k[4],
                            "v": k[5],
                            "q": "0",
                            "n": 0,
                            "x": k[6] < now,
                            "V": "0",
                            "Q": "0",
                            "B": "0",
                        },
                    },
                )
        bid, bid_qty, ask, ask_qty = self.service.replay.book(data, now)
        update = data.updates
        self._send(
            f"{lower}@bookTicker",
            {
                "e": "bookTicker",
                "u": update,
                "s": symbol,
                "b": bid,
                "B": bid_qty,
                "a": ask,
                "A": ask_qty,
                "T": now,
                "E": now,
            },
        )
        before = self._books.get(symbol, ("0", "0", "0", "0"))
        bids = [[bid, bid_qty]] + ([[before[0], "0"]] if before[0] not in ("0", bid) else [])
        asks = [[ask, ask_qty]] + ([[before[2], "0"]] if before[2] not in ("0", ask) else [])
        self._books[symbol] = (bid, bid_qty, ask, ask_qty)
        self._send(
            f"{lower}@depth",
            {
                "e": "depthUpdate",
                "E": now,
                "T": now,
                "s": symbol,
                "U": update,
                "u": update,
                "pu": update - 1,
                "b": bids,
                "a": asks,
            },
        )
        ticker = self.service.replay.ticker_24h(data, now)
        self._send(
            f"{lower}@miniTicker",
            {
                "e": "24hrMiniTicker",
                "E": now,
                "s": symbol,
                "c": ticker["lastPrice"],
                "o": ticker["openPrice"],
                "h": ticker["highPrice"],
                "l": ticker["lowPrice"],
                "v": ticker["volume"],
                "q": ticker["quoteVolume"],
            },
        )

    def _trade(self, lower: str, now: int, price: float, qty: float, buyer_maker: bool) -> None:
        trade_id = self._trade_ids.get(lower, 0) + 1
        self._trade_ids[lower] = trade_id
        symbol = lower.upper()
        body = {
            "E": now,
            "T": now,
            "s": symbol,
            "p": float_text(price),
            "q": float_text(qty),
            "m": buyer_maker,
        }
        self._send(f"{lower}@trade", {"e": "trade", "t": trade_id, "X": "MARKET", **body})
        self._send(
            f"{lower}@aggTrade",
            {"e": "aggTrade", "a": trade_id, "f": trade_id, "l": trade_id, **body},
        )

    def _send(self, stream: str, message: Json) -> None:
        """Push to the connections subscribed to ``stream`` (or a variant: ``@depth@100ms``);
        stream names compare case-insensitively, as Binance's do."""
        wanted = stream.lower()
        for connection in self.market:
            if any(s == wanted or s.startswith(wanted + "@") for s in connection.wanted):
                self._deliver(connection, message)

    def _deliver(self, connection: Connection, message: Json) -> None:
        if self.faults.drop_websocket():
            connection.close()
        else:
            connection.push(message)

    # -- the user stream --------------------------------------------------------------------

    def on_listen_key_closed(self, account: str, expired: bool) -> None:
        for connection in self.users.get(account, []):
            if expired:
                now = self.service.now_ms()
                connection.push({"e": "listenKeyExpired", "E": now, "listenKey": ""})
            connection.close()

    def _margin_calls(self, now: int) -> None:
        """``MARGIN_CALL`` when a listened-to account enters the model's margin-call band
        (the simulated venue tracks only liquidation states, so the gateway asks the model)."""
        venue = self.service.runtime.venue
        for account, connections in self.users.items():
            if not connections:
                continue
            sim = venue.accounts[account]
            state = MarginState.OK
            if sim.has_exposure():
                state = sim.model.headline(venue.snapshot(sim))[0]
            before = self._states.get(account, MarginState.OK)
            self._states[account] = state
            if state is MarginState.MARGIN_CALL and before is not MarginState.MARGIN_CALL:
                message = margin_call(self.service, account, now)
                for connection in connections:
                    self._deliver(connection, message)

    def on_user_event(
        self, account: str, event: object, record: OrderRecord | AlgoRecord | None
    ) -> None:
        connections = self.users.get(account)
        if not connections:
            return
        messages = user_messages(self.service, account, event, record)
        for connection in connections:
            for message in messages:
                self._deliver(connection, message)

    # -- connections ------------------------------------------------------------------------

    async def market_socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, heartbeat=None)
        connection = Connection(ws)
        tail = request.match_info.get("tail", "").strip("/")
        if tail and not tail.isdigit():
            connection.subscribe(s for s in tail.split("/") if "@" in s)
        self.market.append(connection)  # before the handshake: nothing after it is missed
        try:
            await ws.prepare(request)
            await self._pump(connection, self._on_market_message)
        finally:
            self.market.remove(connection)
        return ws

    def _on_market_message(self, connection: Connection, raw: str) -> None:
        try:
            message = json.loads(raw)
            method, ident = message.get("method"), message.get("id")
            params = message.get("params", [])
        except (ValueError, AttributeError):
            connection.push({"error": {"code": 3, "msg": "Invalid JSON"}})
            return
        if method == "SUBSCRIBE" and isinstance(params, list):
            connection.subscribe(str(p) for p in params)
            connection.push({"result": None, "id": ident})
        elif method == "UNSUBSCRIBE" and isinstance(params, list):
            connection.unsubscribe(str(p) for p in params)
            connection.push({"result": None, "id": ident})
        elif method == "LIST_SUBSCRIPTIONS":
            connection.push({"result": sorted(connection.streams), "id": ident})
        else:
            connection.push(
                {"error": {"code": 2, "msg": f"Invalid request: method {method}"}, "id": ident}
            )

    async def user_socket(self, request: web.Request) -> web.WebSocketResponse:
        key = request.query.get("listenKey", "")
        try:
            account = self.service.account_of_listen_key(key)
        except errors.BinanceError as error:
            raise web.HTTPBadRequest(
                text=json.dumps(error.body()), content_type="application/json"
            ) from None
        ws = web.WebSocketResponse(autoping=True, heartbeat=None)
        connection = Connection(ws)
        self.users.setdefault(account, []).append(connection)
        try:
            await ws.prepare(request)
            await self._pump(connection, lambda _c, _raw: None)
        finally:
            self.users[account].remove(connection)
        return ws

    async def _pump(
        self, connection: Connection, on_text: Callable[[Connection, str], None]
    ) -> None:
        ws = connection.ws

        async def send() -> None:
            while True:
                message = await connection.queue.get()
                if message is None:
                    await ws.close()
                    return
                await ws.send_str(message)

        sender = asyncio.create_task(send())
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    on_text(connection, message.data)
                elif message.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                    break
        finally:
            sender.cancel()


async def _close_all(hub: StreamHub) -> None:
    for connection in [*hub.market, *(c for cs in hub.users.values() for c in cs)]:
        if not connection.ws.closed:
            await connection.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")


def add_stream_routes(
    app: web.Application, service: GatewayService, faults: FaultInjector
) -> StreamHub:
    hub = StreamHub(service, faults)
    for prefix in ("/public/ws", "/market/ws", "/ws", "/stream/ws"):
        app.router.add_get(prefix + "{tail:.*}", hub.market_socket)
    app.router.add_get("/private/ws{tail:.*}", hub.user_socket)

    async def close_websockets(_app: web.Application) -> None:
        """On shutdown close every websocket first: their handlers never end by themselves."""
        await _close_all(hub)

    app.on_shutdown.append(close_websockets)
    return hub
