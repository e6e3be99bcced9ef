"""Run a backtest: build venues, accounts, strategies and the feed from a config, then step."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path

import numpy as np

from xmargin.backtest.currency import check_rate_streams, reporting_currency
from xmargin.backtest.equity import PriceTrack
from xmargin.backtest.event_log import EventSink
from xmargin.backtest.feed import FeedSource, MergedFeed, event_feeder
from xmargin.backtest.mark_estimate import mark_estimate_track
from xmargin.backtest.results import (
    AccountSample,
    BacktestResult,
    Conversion,
    ResultsRecorder,
    build_result,
)
from xmargin.backtest.sources import load_sources
from xmargin.core.clock import NANOS_PER_MILLI, SimClock
from xmargin.core.errors import ConfigError
from xmargin.core.ids import IdGenerator
from xmargin.core.rng import RngStreams
from xmargin.data.series import OhlcvSeries
from xmargin.engine.config import INDEX_NOT_SUPPORTED, RunConfig
from xmargin.engine.kernel import Kernel
from xmargin.engine.risk_hook import RiskHook
from xmargin.execution.algos.catalogue import ALGORITHM_REFERENCES
from xmargin.execution.ports import SteppedVenue
from xmargin.margin.base import MarginReport
from xmargin.model.events import OrderFilled
from xmargin.model.instruments import parse_symbol
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
        self.venues: dict[str, SteppedVenue] = {}
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
            self._in_reporting,
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
        self.reporting = reporting_currency(
            config, sources, int(self.feed.ts_ns[0]), int(self.feed.ts_ns[-1])
        )
        self.kernel.reporting = self.reporting
        self.kernel.bus.subscribe(OrderFilled, self.reporting.on_fill)

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
        return venue.value_in_quote(account_id, asset, amount)

    def _in_reporting(self, account_id: str, amount: Decimal) -> Decimal:
        return self.reporting.value(account_id, amount)

    def _emit(self, event: object) -> None:
        self.kernel.emit(event)

    def run(self, progress: Progress | None = None) -> BacktestResult:
        """Step through the whole feed; return the results."""
        started = time.perf_counter()
        kernel, feed = self.kernel, self.feed
        handlers = [self._handler(s) for s in self.sources]
        first_ts = int(feed.ts_ns[0])
        revalue = self._revalue if self.reporting.active else None
        self._revalue(first_ts, counting=False)
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
                if revalue is not None:
                    revalue(ts, counting=start_equity is not None)
                step = ts
            handlers[source](row)
        if step is not None:
            if start_equity is None:
                start_equity = self._equity()
            kernel.end_step(step)
            kernel.stop()
            if revalue is not None:
                revalue(step, counting=True)  # the last step's moves
            self._sampled_day = -1
            self._sample_margin(step)
        if progress is not None:
            progress(total, total)
        result = self._result(start_equity or ZERO)
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

    def _result(self, start_equity: Decimal) -> BacktestResult:
        reporting = self.reporting
        tracks = self._tracks()
        return build_result(
            self.recorder,
            self.feed.curve_times_ns(),
            tracks,
            self._asset_tracks(tracks),
            {a.id: a.model.quote for v in self.config.venues for a in v.accounts},
            start_equity,
            self._equity(),
            Conversion(reporting.currency, reporting.tracks(), reporting.total_effect),
        )

    def _handler(self, source: FeedSource) -> Callable[[int], None]:
        """Return the function turning one row of ``source`` into an event for the kernel."""
        if source.kind == "index":
            where = f"{source.venue} {source.instrument} index"
            raise ConfigError(INDEX_NOT_SUPPORTED, where=where)
        kind = STREAM_KINDS[source.kind]
        return event_feeder(source, self.kernel.handler(kind, source.venue, source.instrument))

    def _equity(self) -> Decimal:
        """All accounts' equity in the reporting currency now."""
        total = ZERO
        for venue in self.venues.values():
            for account_id in venue.account_ids():
                account = venue.account(account_id)
                equity = account.model.assess(account.snapshot()).equity
                total += self.reporting.value(account_id, equity)
        return total

    def _account_equity(self, account_id: str) -> Decimal:
        """One account's equity in its settle currency now."""
        account = self.venues[self.config.accounts[account_id]].account(account_id)
        return account.model.assess(account.snapshot()).equity

    def _revalue(self, ts: int, *, counting: bool) -> None:
        """Move the conversion rates to ``ts``; once ``counting`` (the start equity is taken)
        book the currency effect."""
        equity_of = self._account_equity if counting else None
        self.reporting.advance(ts, equity_of, self._holding)

    def _holding(self, account_id: str, asset: str) -> tuple[Decimal, Decimal | None]:
        """An account's balance of ``asset`` and its venue's price of it now."""
        venue = self.venues[self.config.accounts[account_id]]
        account = venue.account(account_id)
        return account.book.balance(asset), venue.asset_price(asset, account.quote)

    def _sample_margin(self, ts: int) -> None:
        """The hourly margin-ratio curve; once per UTC day (and at the end) every account's
        equity, free collateral and notional as well."""
        daily = ts // DAY_NS != self._sampled_day
        self._sampled_day = ts // DAY_NS
        for venue in self.venues.values():
            for account_id in venue.account_ids():
                account = venue.account(account_id)
                snapshot = account.snapshot()
                if daily:
                    self._sample_account(account_id, ts, account.model.summary(snapshot))
                elif account.has_exposure():
                    ratio = account.model.headline(snapshot)[1]
                    self.recorder.sample_margin(account_id, ts, ratio)

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
        """Price tracks per instrument, valued as the venue does: with a mark feed, its closes
        and between them the bar closes carried by the basis (decision 0003); else the bar
        closes; only the values the run saw (none from before ``run.start``)."""
        tracks: dict[str, PriceTrack] = {}
        for kind in ("ohlcv", "mark"):
            for source in self.sources:
                if source.kind == kind and isinstance(source.series, OhlcvSeries):
                    times = source.event_times_ns() // NANOS_PER_MILLI
                    seen = _in_run(self.config, times)
                    prices = source.series.close
                    if not seen.all():  # else the whole series, not a copy of it
                        times, prices = times[seen], prices[seen]
                    earlier = tracks.get(source.instrument)
                    if earlier is not None and not len(times):
                        continue
                    if kind == "mark" and earlier is not None:
                        mark = PriceTrack(times, prices)
                        tracks[source.instrument] = mark_estimate_track(earlier, mark)
                        continue
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


def _in_run(config: RunConfig, bar_closes_ms: np.ndarray) -> np.ndarray:
    """Which bar closes fall in the run (after ``run.start``, up to ``run.end``): the prices
    the venues see."""
    keep = np.ones(len(bar_closes_ms), dtype=bool)
    if config.start_ms is not None:
        keep &= bar_closes_ms > config.start_ms
    if config.end_ms is not None:
        keep &= bar_closes_ms <= config.end_ms
    return keep


def build_strategies(config: RunConfig) -> list[tuple[Strategy, str]]:
    """Resolve and construct every configured strategy (validating its parameters)."""
    built = []
    for item in config.strategies:
        cls = resolve_strategy(
            item.strategy,
            f"{item.where}.strategy",
            base_dir=config.path.parent,
            known=ALGORITHM_REFERENCES,
        )
        params = build_params(cls, item.params, f"{item.where}.params")
        try:
            strategy = cls(item.id, params)
        except ValueError as exc:
            raise ConfigError(str(exc), where=item.where) from None
        _check_strategy_data(strategy, config, item.where)
        built.append((strategy, item.account))
    return built


def _check_strategy_data(strategy: Strategy, config: RunConfig, where: str) -> None:
    """Every instrument a strategy subscribes to or names in its parameters needs data."""
    streamed = {item.symbol for item in config.data}
    wanted = [(instrument, f"wants {kind}s of") for kind, instrument in strategy.subscriptions()]
    if dataclasses.is_dataclass(strategy.params):
        for field in dataclasses.fields(strategy.params):
            value = getattr(strategy.params, field.name)
            if isinstance(value, str) and "/" in value and _is_symbol(value):
                wanted.append((value, f"trades (params.{field.name})"))
    for instrument, how in wanted:
        if instrument not in streamed:
            raise ConfigError(
                f"strategy {strategy.id!r} {how} {instrument}, which no [[data]] table gives: "
                f'add one with symbol = "{instrument}" (or trade an instrument that has data)',
                where=where,
            )


def _is_symbol(text: str) -> bool:
    try:
        parse_symbol(text)
    except ValueError:
        return False
    return True


def run_backtest(
    config: RunConfig,
    *,
    progress: Progress | None = None,
    data_dir: Path | None = None,
    fallback: bool = False,
    notices: Callable[[str], None] | None = None,
    recorded: Sequence[str | None] = (),
    origins: Callable[[list[str]], None] | None = None,
    keep_events: bool = True,
    event_sinks: Sequence[EventSink] = (),
) -> BacktestResult:
    """Load the config's data and run it (strategies and the streams converting settle
    currencies are checked before any data loads).

    ``recorded`` and ``origins``: where each data table came from, as ``load_sources``.
    Without ``keep_events`` the events are streamed to ``event_sinks`` and not kept.
    """
    build_strategies(config)
    check_rate_streams(config)
    sources = load_sources(
        config,
        data_dir=data_dir,
        fallback=fallback,
        notices=notices,
        recorded=recorded,
        origins=origins,
    )
    backtest = Backtest(config, sources, keep_events=keep_events, event_sinks=event_sinks)
    return backtest.run(progress)
