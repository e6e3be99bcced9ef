"""The simulated venue stepped through its data on a paced wall clock.

``data time = start + (wall now - wall start) x speed``. Before answering anything the
gateway steps the kernel through every data timestamp up to the data time, in the
backtest's order of operations (``engine.kernel``); an order that arrives over the wire
then enters at the close of the latest step, as an order sent between two timestamps
does in a backtest with no order latency. Orders do not pass xmargin's risk engine (the
gateway *is* the exchange): the kernel runs with ``NoPreTradeChecks``, and the venue's
own margin, reduce-only and trigger rules decide.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from decimal import Decimal

from xmargin.backtest.feed import FeedSource, MergedFeed, event_feeder
from xmargin.core.clock import NANOS_PER_MILLI, SimClock
from xmargin.core.errors import ConfigError
from xmargin.core.ids import IdGenerator
from xmargin.core.rng import RngStreams
from xmargin.data.series import OhlcvSeries
from xmargin.engine.config import INDEX_NOT_SUPPORTED, RunConfig
from xmargin.engine.kernel import Kernel
from xmargin.engine.risk_hook import NoPreTradeChecks
from xmargin.model.orders import Order
from xmargin.portfolio.ledger import Ledger
from xmargin.venues.sim.accounts import SimAccount
from xmargin.venues.sim.exchange import SimulatedExchange

STREAM_KINDS = {"ohlcv": "bar", "trades": "trade", "quotes": "quote", "funding": "funding"}
StepListener = Callable[[int, list[tuple[FeedSource, int]]], None]


class GatewayRuntime:
    """The kernel, the served venue and the merged feed, paced by the wall clock."""

    def __init__(
        self,
        config: RunConfig,
        sources: Sequence[FeedSource],
        venue_id: str,
        *,
        start_ms: int | None = None,
        speed: float = 1.0,
        wall_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        if speed <= 0:
            raise ConfigError(f"must be positive, got {speed}", where="--speed")
        self.config = config
        self.sources = list(sources)
        self.speed = speed
        self._wall_ns = wall_ns
        self.clock = SimClock(0)
        self.ledger = Ledger(keep_postings=False)
        ids = IdGenerator()
        rng = RngStreams(config.seed)
        venues: dict[str, SimulatedExchange] = {}
        for venue in config.venues:
            instruments = {s: spec for (v, s), spec in config.instruments.items() if v == venue.id}
            marks = frozenset(
                s.instrument for s in self.sources if s.venue == venue.id and s.kind == "mark"
            )
            exchange = SimulatedExchange(
                venue.sim, self.ledger, instruments, self.clock, rng, ids, self._emit, marks
            )
            for account in venue.accounts:
                exchange.add_account(account.id, account.model, account.balances, account.leverage)
            venues[venue.id] = exchange
        self.kernel = Kernel(self.clock, self.ledger, venues, NoPreTradeChecks(), ids)
        self.venue = venues[venue_id]
        self.step_listeners: list[StepListener] = []
        self.start_ns = self._start_ns(start_ms)
        warm_ns = self.start_ns - self._warmup_ns()
        end_ns = None if config.end_ms is None else config.end_ms * NANOS_PER_MILLI
        feed = MergedFeed(self.sources, warm_ns, end_ns)
        if not len(feed):
            raise ConfigError("no market data in the run's time range", where=str(config.path))
        self._ts: list[int] = feed.ts_ns.tolist()
        self._source: list[int] = feed.source_index.tolist()
        self._row: list[int] = feed.row.tolist()
        self._cursor = 0
        self._handlers = [self._handler(s) for s in self.sources]
        self.kernel.start(self._ts[0])
        self.advance(self.start_ns)
        self._wall_start = wall_ns()

    # -- the clocks -------------------------------------------------------------------------

    def _start_ns(self, start_ms: int | None) -> int:
        bars = [s for s in self.sources if isinstance(s.series, OhlcvSeries) and len(s.series)]
        if not bars:
            raise ConfigError(
                "the gateway needs bar data (kind = ohlcv)", where=str(self.config.path)
            )
        first = min(int(s.event_times_ns()[0]) for s in bars)
        last = max(int(s.event_times_ns()[-1]) for s in bars)
        if start_ms is None:
            if self.config.start_ms is None:
                return first
            return max(first, self.config.start_ms * NANOS_PER_MILLI)
        start = start_ms * NANOS_PER_MILLI
        if not first <= start <= last:
            raise ConfigError(
                f"must be inside the data, {_iso(first)} to {_iso(last)}", where="--start"
            )
        return start

    def _warmup_ns(self) -> int:
        """Data stepped at start-up before ``--start``: the longest bar, so every instrument
        has a price (and its mark bar) when the gateway opens."""
        steps = [s.series.step_ms or 0 for s in self.sources if isinstance(s.series, OhlcvSeries)]
        return max(steps, default=0) * NANOS_PER_MILLI

    def data_ns(self) -> int:
        """The data clock now: ``start + elapsed wall time x speed``."""
        return self.start_ns + int((self._wall_ns() - self._wall_start) * self.speed)

    def now_ms(self) -> int:
        return self.data_ns() // NANOS_PER_MILLI

    @property
    def finished(self) -> bool:
        """Every data timestamp has been stepped."""
        return self._cursor >= len(self._ts)

    def last_data_iso(self) -> str:
        return _iso(self._ts[-1])

    # -- stepping ---------------------------------------------------------------------------

    def catch_up(self) -> None:
        """Step the kernel through every data timestamp up to the data clock."""
        self.advance(self.data_ns())

    def advance(self, target_ns: int) -> None:
        times, sources, rows, handlers = self._ts, self._source, self._row, self._handlers
        kernel, i, n = self.kernel, self._cursor, len(self._ts)
        while i < n and times[i] <= target_ns:
            ts = times[i]
            kernel.begin_step(ts)
            seen: list[tuple[FeedSource, int]] = []
            while i < n and times[i] == ts:
                handlers[sources[i]](rows[i])
                seen.append((self.sources[sources[i]], rows[i]))
                i += 1
            kernel.end_step(ts)
            self._cursor = i
            for listener in self.step_listeners:
                listener(ts, seen)

    def _handler(self, source: FeedSource) -> Callable[[int], None]:
        if source.kind == "index":
            raise ConfigError(INDEX_NOT_SUPPORTED, where=f"{source.venue} {source.instrument}")
        kind = STREAM_KINDS.get(source.kind, "mark")
        return event_feeder(source, self.kernel.handler(kind, source.venue, source.instrument))

    def _emit(self, event: object) -> None:
        self.kernel.emit(event)

    # -- requests ---------------------------------------------------------------------------

    def account(self, account_id: str) -> SimAccount:
        return self.venue.accounts[account_id]

    def submit(self, order: Order) -> None:
        """Send ``order`` and let it reach the matching engine at once (at the latest step)."""
        now = self.clock.now_ns()
        order.ts_init = now
        self.venue.submit(order)
        self.venue.process_incoming(now)

    def cancel(self, order: Order) -> None:
        self.venue.cancel(order.account, order.client_order_id)

    def modify(self, order: Order, quantity: Decimal, price: Decimal | None) -> None:
        self.venue.modify(order.account, order.client_order_id, quantity, price)
        self.venue.process_incoming(self.clock.now_ns())

    def set_leverage(self, account_id: str, symbol: str, leverage: Decimal) -> None:
        self.venue.set_leverage(account_id, symbol, leverage)


def _iso(ts_ns: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts_ns // 1_000_000_000))
