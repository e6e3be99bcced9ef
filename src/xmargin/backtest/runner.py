"""Run a backtest: build venues, accounts, strategies and the feed from a config, then step."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path

import numpy as np

from xmargin.backtest.equity import PriceTrack
from xmargin.backtest.event_log import EventSink
from xmargin.backtest.feed import FeedSource, MergedFeed, event_feeder
from xmargin.backtest.results import AccountSample, BacktestResult, ResultsRecorder, build_result
from xmargin.backtest.sources import load_sources
from xmargin.core.clock import NANOS_PER_MILLI, SimClock
from xmargin.core.errors import ConfigError
from xmargin.core.ids import IdGenerator
from xmargin.core.rng import RngStreams
from xmargin.data.series import OhlcvSeries
from xmargin.engine.config import RunConfig
from xmargin.engine.kernel import Kernel
from xmargin.engine.risk_hook import RiskHook
from xmargin.margin.base import MarginReport
from xmargin.model.numbers import ZERO
from xmargin.portfolio.ledger import Ledger
from xmargin.risk.engine import RiskEngine
from xmargin.strategy.base import Strategy, build_params
from xmargin.strategy.registry import resolve_strategy
from xmargin.venues.sim.exchange import SimulatedExchange

Progress = Callable[[int, int], None]
STRATEGY_FEEDS = {"ohlcv": "bar", "trades": "trade", "quotes": "quote", "funding": "funding"}
STREAM_KINDS = {**STRATEGY_FEEDS, "mark": "mark"}
PROGRESS_EVERY = 65_536
DAY_NS = 86_400 * 1_000_000_000


class Backtest:
    """One configured run: the kernel, its venues and strategies, and the merged feed."""

    def __init__(
        self,
        config: RunConfig,
        sources: list[FeedSource],
        risk: RiskHook | None = None,
        *,
        keep_events: bool = True,
        event_sinks: Sequence[EventSink] = (),
    ) -> None:
        """Without ``keep_events`` each event goes only to ``event_sinks`` (and the running
        hash) as it happens; no record is held in memory."""
        self.config = config
        self.sources = sources
        self.clock = SimClock(0)
        self.ledger = Ledger(keep_postings=False)
        ids = IdGenerator()
        rng = RngStreams(config.seed)
        self.venues: dict[str, SimulatedExchange] = {}
        emit = self._emit
        for venue in config.venues:
            instruments = {s: spec for (v, s), spec in config.instruments.items() if v == venue.id}
            marks = frozenset(
                src.instrument for src in sources if src.venue == venue.id and src.kind == "mark"
            )
            exchange = SimulatedExchange(
                venue.sim, self.ledger, instruments, self.clock, rng, ids, emit, marks
            )
            for account in venue.accounts:
                exchange.add_account(account.id, account.model, account.balances, account.leverage)
            self.venues[venue.id] = exchange
        self.account_samples: dict[str, list[AccountSample]] = {}
        self._sampled_day = -1
        self.risk = risk if risk is not None else RiskEngine(config.risk)
        self.kernel = Kernel(self.clock, self.ledger, self.venues, self.risk, ids)
        self.recorder = ResultsRecorder(
            self.ledger,
            list(config.accounts),
            self._in_quote,
            keep_events=keep_events,
            sinks=event_sinks,
        )
        self.kernel.bus.subscribe(object, self.recorder.on_event)
        for strategy, account_id in build_strategies(config):
            self.attach(strategy, account_id)
        start_ns = None if config.start_ms is None else config.start_ms * NANOS_PER_MILLI
        end_ns = None if config.end_ms is None else config.end_ms * NANOS_PER_MILLI
        self.feed = MergedFeed(sources, start_ns, end_ns)
        if not len(self.feed):
            raise ConfigError("no market data in the run's time range", where=str(config.path))

    def attach(self, strategy: Strategy, account: str) -> None:
        """Add a strategy trading ``account``; it hears that account's venue's streams."""
        venue_id = self.config.accounts[account]
        feeds = [
            (STRATEGY_FEEDS[s.kind], s.venue, s.instrument)
            for s in self.sources
            if s.venue == venue_id and s.kind in STRATEGY_FEEDS
        ]
        self.kernel.add_strategy(strategy, account, feeds)

    def _in_quote(self, account_id: str, asset: str, amount: Decimal) -> Decimal:
        """Value ``amount`` of ``asset`` in the account's quote at the current price."""
        venue = self.venues[self.config.accounts[account_id]]
        quote = venue.accounts[account_id].quote
        price = None if asset == quote else venue.asset_price(asset, quote)
        return amount if price is None else amount * price

    def _emit(self, event: object) -> None:
        self.kernel.emit(event)

    def run(self, progress: Progress | None = None) -> BacktestResult:
        """Step through the whole feed; return the results."""
        started = time.perf_counter()
        kernel, feed = self.kernel, self.feed
        handlers = [self._handler(s) for s in self.sources]
        first_ts = int(feed.ts_ns[0])
        kernel.start(first_ts)
        self.recorder.checkpoint_all(first_ts)
        sample_every = self.config.margin_curve_ms * NANOS_PER_MILLI
        next_sample = first_ts
        total = len(feed)
        step: int | None = None
        start_equity: Decimal | None = None
        begin, end = kernel.begin_step, kernel.end_step
        next_progress = 0
        for done, (ts, source, row) in enumerate(feed):
            if ts != step:
                if step is not None:
                    if start_equity is None:
                        start_equity = self._equity()
                    end(step)
                    if step >= next_sample:
                        self._sample_margin(step)
                        next_sample = step - step % sample_every + sample_every
                    if progress is not None and done >= next_progress:
                        progress(done, total)
                        next_progress = done + PROGRESS_EVERY
                begin(ts)
                step = ts
            handlers[source](row)
        if step is not None:
            if start_equity is None:
                start_equity = self._equity()
            kernel.end_step(step)
            kernel.stop()
            self._sampled_day = -1
            self._sample_margin(step)
        if progress is not None:
            progress(total, total)
        tracks = self._tracks()
        result = build_result(
            self.recorder,
            feed.curve_times_ns(),
            tracks,
            self._asset_tracks(tracks),
            {a.id: a.model.quote for v in self.config.venues for a in v.accounts},
            start_equity or ZERO,
            self._equity(),
        )
        result.account_samples = self.account_samples
        result.risk_controls = self.config.risk.describe()
        result.strategy_results = {
            strategy.id: dict(strategy.results())
            for strategy in self.kernel.strategies.values()
            if strategy.results()
        }
        result.wall_seconds = time.perf_counter() - started
        result.events_processed = total
        return result

    def _handler(self, source: FeedSource) -> Callable[[int], None]:
        """Return the function turning one row of ``source`` into an event for the kernel."""
        if source.kind == "index":
            return lambda _row: None
        kind = STREAM_KINDS[source.kind]
        return event_feeder(source, self.kernel.handler(kind, source.venue, source.instrument))

    def _equity(self) -> Decimal:
        total = ZERO
        for venue in self.venues.values():
            for account in venue.accounts.values():
                total += account.model.assess(venue.snapshot(account)).equity
        return total

    def _sample_margin(self, ts: int) -> None:
        """The hourly margin-ratio curve; once per UTC day (and at the end) every account's
        equity, free collateral and notional as well."""
        daily = ts // DAY_NS != self._sampled_day
        self._sampled_day = ts // DAY_NS
        for venue in self.venues.values():
            for account in venue.accounts.values():
                snapshot = venue.snapshot(account)
                if daily:
                    self._sample_account(account.id, ts, account.model.summary(snapshot))
                elif account.has_exposure():
                    ratio = account.model.headline(snapshot)[1]
                    self.recorder.sample_margin(account.id, ts, ratio)

    def _sample_account(self, account_id: str, ts: int, report: MarginReport) -> None:
        self.recorder.sample_margin(account_id, ts, report.margin_ratio)
        notional = sum((row.notional for row in report.exposures), ZERO)
        sample = AccountSample(
            ts // NANOS_PER_MILLI,
            report.equity,
            report.free_collateral,
            notional,
            report.margin_ratio,
        )
        self.account_samples.setdefault(account_id, []).append(sample)

    def _tracks(self) -> dict[str, PriceTrack]:
        """Price tracks per instrument, valued as the venue does: the mark feed where there is
        one (bar closes until its first value), else the bar closes."""
        tracks: dict[str, PriceTrack] = {}
        for kind in ("ohlcv", "mark"):
            for source in self.sources:
                if source.kind == kind and isinstance(source.series, OhlcvSeries):
                    times = source.event_times_ns() // NANOS_PER_MILLI
                    prices = source.series.close
                    earlier = tracks.get(source.instrument)
                    if earlier is not None and len(times):
                        before = earlier.ts_ms < times[0]
                        times = np.concatenate((earlier.ts_ms[before], times))
                        prices = np.concatenate((earlier.price[before], prices))
                    tracks[source.instrument] = PriceTrack(times, prices)
        return tracks

    def _asset_tracks(
        self, instrument_tracks: dict[str, PriceTrack] | None = None
    ) -> dict[str, PriceTrack]:
        """Spot base assets priced by their pair's track (shared, not rebuilt, when given)."""
        tracks: dict[str, PriceTrack] = {}
        for symbol, track in (instrument_tracks or self._tracks()).items():
            if ":" not in symbol:
                tracks[symbol.split("/")[0]] = track
        return tracks


def build_strategies(config: RunConfig) -> list[tuple[Strategy, str]]:
    """Resolve and construct every configured strategy (validating its parameters)."""
    built = []
    for item in config.strategies:
        cls = resolve_strategy(item.strategy, f"{item.where}.strategy")
        params = build_params(cls, item.params, f"{item.where}.params")
        try:
            built.append((cls(item.id, params), item.account))
        except ValueError as exc:
            raise ConfigError(str(exc), where=item.where) from None
    return built


def run_backtest(
    config: RunConfig,
    *,
    progress: Progress | None = None,
    data_dir: Path | None = None,
    fallback: bool = False,
    notices: Callable[[str], None] | None = None,
    keep_events: bool = True,
    event_sinks: Sequence[EventSink] = (),
) -> BacktestResult:
    """Load the config's data and run it (strategies are validated before any data loads).

    Without ``keep_events`` the events are streamed to ``event_sinks`` and not kept."""
    build_strategies(config)
    sources = load_sources(config, data_dir=data_dir, fallback=fallback, notices=notices)
    backtest = Backtest(config, sources, keep_events=keep_events, event_sinks=event_sinks)
    return backtest.run(progress)
