"""One reporting currency per run: convert every account's figures into it, point in time.

Each account keeps its books in its venue's settle currency (its model's quote); the venue
values any other asset the account holds (a coin, FDUSD) in that currency at its own prices.
The run reports in one currency (``run.reporting_currency``, default the first venue's settle
currency). An account settling in another currency ``C`` is converted with a price stream of
the run's own data: a spot pair ``C/R`` (or ``R/C``, inverted), else a perpetual's mark or
bars quoted in ``R``. The rate at time ``t`` is the last value of that stream known at ``t``
(a bar counts from its close; one that closed before ``run.start`` counts too), made exact
by the pair's price gate; an inverted rate is ``1 / price`` at 28 significant digits. A run
that settles in or holds a currency it cannot price stops at start-up with a
``ConfigError`` naming the currency and the stream to add.

The currency effect has two parts. Translation: whenever the rate of ``C`` changes at a step
(from ``r`` to ``r'``), each account settling in ``C`` adds ``E × (r' − r)``, ``E`` its exact
equity in ``C`` just before the step's market data. Holdings: an asset besides its settle
currency that an account starts with (collateral such as USDC in a USDT account) adds, over
each step, its balance before the step × the move of the venue's price of it during the step,
converted at the step's rate; once the account trades it in a spot pair (as the base) it is a
position and its moves are trading PnL. Everything else an account earns is converted at the
rate of the moment it happens; trading PnL is the rest, so the split sums to the equity change
exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np

from xmargin.backtest.equity import PriceTrack
from xmargin.backtest.feed import FeedSource
from xmargin.core.clock import NANOS_PER_MILLI
from xmargin.core.errors import ConfigError
from xmargin.data.series import OhlcvSeries
from xmargin.engine.config import RunConfig
from xmargin.model.events import OrderFilled
from xmargin.model.instruments import Instrument, InstrumentKind
from xmargin.model.numbers import ZERO

ONE = Decimal(1)
PRICED_KINDS = frozenset({"ohlcv", "mark", "trades", "quotes"})


@dataclass(frozen=True, eq=False)
class RateStream:
    """The price of ``currency`` in the reporting currency, from one of the run's streams."""

    currency: str
    symbol: str
    venue: str
    inverse: bool
    spec: Instrument
    ts_ms: np.ndarray
    price: np.ndarray

    def exact(self, index: int) -> Decimal:
        """The exact rate at row ``index`` (through the pair's price gate)."""
        price = self.spec.make_mark(float(self.price[index]))
        return ONE / price if self.inverse else price

    def track(self) -> PriceTrack:
        """The rate as floats for the equity curve."""
        return PriceTrack(self.ts_ms, 1.0 / self.price if self.inverse else self.price)


class ReportingCurrency:
    """The reporting currency, the held rate of every other settle currency of the run, and
    each account's currency effect so far (see the module docstring)."""

    def __init__(
        self,
        currency: str,
        streams: Mapping[str, RateStream],
        quotes: Mapping[str, str],
        holdings: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """``holdings``: per account, the assets besides its settle currency it starts with."""
        self.currency = currency
        self.streams = dict(streams)
        self.quotes = dict(quotes)
        self.rates: dict[str, Decimal] = {}
        self._rows: dict[str, int] = dict.fromkeys(self.streams, -1)
        self._effect: dict[str, Decimal] = dict.fromkeys(self.quotes, ZERO)
        self.foreign = tuple(a for a, q in self.quotes.items() if q != currency)
        self._held: dict[tuple[str, str], tuple[Decimal, Decimal | None]] = {
            (account, asset): (ZERO, None)
            for account, assets in (holdings or {}).items()
            for asset in assets
        }
        self.active = bool(self.foreign or self._held)

    def value(self, account: str, amount: Decimal) -> Decimal:
        """``amount`` in ``account``'s settle currency, in the reporting currency now."""
        quote = self.quotes[account]
        return amount if quote == self.currency else amount * self.rates[quote]

    def currency_effect(self, account: str) -> Decimal:
        """The account's currency effect since the run's start equity was taken."""
        return self._effect.get(account, ZERO)

    @property
    def total_effect(self) -> Decimal:
        return sum(self._effect.values(), ZERO)

    def on_fill(self, fill: OrderFilled) -> None:
        """A holding the account trades in a spot pair (as its base) is a position from then
        on: its price moves are trading PnL."""
        if ":" not in fill.instrument:
            self._held.pop((fill.account, fill.instrument.split("/", maxsplit=1)[0]), None)

    def advance(
        self,
        ts_ns: int,
        equity_of: Callable[[str], Decimal] | None,
        holding_of: Callable[[str, str], tuple[Decimal, Decimal | None]],
    ) -> None:
        """Move every rate to its value at ``ts_ns``; with ``equity_of`` (once the start
        equity is taken) book the revaluation of each holding over the previous step and of
        each foreign account's equity. ``holding_of(account, asset)`` is the balance and the
        venue's price of it in the account's settle currency now."""
        counting = equity_of is not None
        for key, (balance, price) in self._held.items():
            now = holding_of(*key)
            if counting and balance and price is not None and now[1] is not None:
                self._effect[key[0]] += self.value(key[0], balance * (now[1] - price))
            self._held[key] = now
        ts_ms = ts_ns // NANOS_PER_MILLI
        for currency, stream in self.streams.items():
            row = self._rows[currency]
            last = row
            times = stream.ts_ms
            while last + 1 < len(times) and times[last + 1] <= ts_ms:
                last += 1
            if last == row:
                continue
            self._rows[currency] = last
            new = stream.exact(last)
            old = self.rates.get(currency)
            self.rates[currency] = new
            if old is None or old == new or equity_of is None:
                continue
            for account in self.foreign:
                if self.quotes[account] == currency:
                    self._effect[account] += equity_of(account) * (new - old)

    def tracks(self) -> dict[str, PriceTrack]:
        return {currency: stream.track() for currency, stream in self.streams.items()}


def reporting_currency(
    config: RunConfig, sources: Sequence[FeedSource], first_ns: int, last_ns: int
) -> ReportingCurrency:
    """Find a rate stream for every settle currency besides the reporting one and check it
    covers the run; check every asset an account starts with has a price on its venue."""
    _check_priced_balances(config, sources)
    target = config.reporting_currency
    quotes = {a.id: a.model.quote for v in config.venues for a in v.accounts}
    streams: dict[str, RateStream] = {}
    for account, currency in quotes.items():
        if currency == target or currency in streams:
            continue
        stream = _rate_stream(config, sources, currency, target)
        if stream is None:
            raise _no_rate(config, account, currency)
        _check_coverage(config, stream, first_ns // NANOS_PER_MILLI, last_ns // NANOS_PER_MILLI)
        streams[currency] = stream
    holdings = {
        a.id: [asset for asset, amount in a.balances.items() if amount and asset != quotes[a.id]]
        for v in config.venues
        for a in v.accounts
    }
    return ReportingCurrency(target, streams, quotes, {k: v for k, v in holdings.items() if v})


def check_rate_streams(config: RunConfig) -> None:
    """Before any data loads: every settle currency besides the reporting one has a
    ``[[data]]`` stream that can price it."""
    target = config.reporting_currency
    pairs = {
        (spec.base, spec.quote)
        for d in config.data
        if d.kind in ("ohlcv", "mark")
        and (spec := config.instruments.get((d.venue, d.symbol))) is not None
    }
    for venue in config.venues:
        for account in venue.accounts:
            currency = account.model.quote
            if currency != target and not {(currency, target), (target, currency)} & pairs:
                raise _no_rate(config, account.id, currency)


def _no_rate(config: RunConfig, account: str, currency: str) -> ConfigError:
    target = config.reporting_currency
    return ConfigError(
        f"{account} settles in {currency} but the run has no price of {currency} in the "
        f"reporting currency {target}: add a [[data]] stream for {currency}/{target} (kind "
        "ohlcv), or set run.reporting_currency",
        where=f"{config.path}: run.reporting_currency",
    )


def _rate_stream(
    config: RunConfig, sources: Sequence[FeedSource], currency: str, target: str
) -> RateStream | None:
    """The best stream pricing ``currency`` in ``target``: a spot pair, else a perpetual's
    mark, else its bars; in config order within each kind."""
    candidates: list[tuple[int, int, RateStream]] = []
    for order, source in enumerate(sources):
        if source.kind not in ("ohlcv", "mark") or not isinstance(source.series, OhlcvSeries):
            continue
        spec = config.instruments.get((source.venue, source.instrument))
        if spec is None:
            continue
        if (spec.base, spec.quote) == (currency, target):
            inverse = False
        elif (spec.base, spec.quote) == (target, currency):
            inverse = True
        else:
            continue
        spot = spec.kind is InstrumentKind.SPOT
        rank = 0 if spot else (1 if source.kind == "mark" else 2)
        times = source.event_times_ns() // NANOS_PER_MILLI
        price = np.asarray(source.series.close, dtype=np.float64)
        known = times <= config.end_ms if config.end_ms is not None else slice(None)
        times, price = times[known], price[known]
        if not len(times):
            continue
        stream = RateStream(currency, source.instrument, source.venue, inverse, spec, times, price)
        candidates.append((rank, order, stream))
    return min(candidates, key=lambda c: (c[0], c[1]))[2] if candidates else None


def _check_coverage(config: RunConfig, stream: RateStream, first_ms: int, last_ms: int) -> None:
    """The rate must be known at the first event and not end a bar before the last one."""
    where = f"{config.path}: run"
    times = stream.ts_ms
    step = int(times[1] - times[0]) if len(times) > 1 else 0
    if times[0] > first_ms:
        raise ConfigError(
            f"{stream.symbol} (to convert {stream.currency}) starts at {_utc(times[0])}, "
            f"after the run's first event at {_utc(first_ms)}: set run.start to "
            f"{_utc(times[0])} or later, or add data",
            where=f"{where}.start",
        )
    if times[-1] + step < last_ms:
        raise ConfigError(
            f"{stream.symbol} (to convert {stream.currency}) ends at {_utc(times[-1])}, "
            f"before the run's last event at {_utc(last_ms)}: set run.end to "
            f"{_utc(times[-1])} or earlier, or add data",
            where=f"{where}.end",
        )


def _check_priced_balances(config: RunConfig, sources: Sequence[FeedSource]) -> None:
    """Every asset an account starts with, besides its settle currency, needs a price on its
    venue (the venue values it in the settle currency)."""
    priced = {(s.venue, s.instrument) for s in sources if s.kind in PRICED_KINDS}
    for venue in config.venues:
        for account in venue.accounts:
            quote = account.model.quote
            for asset, amount in account.balances.items():
                pair = f"{asset}/{quote}"
                if asset == quote or not amount or (venue.id, pair) in priced:
                    continue
                raise ConfigError(
                    f"{account.id} holds {asset} but venue {venue.id} has no {pair} price to "
                    f"value it in {quote}: add a [[data]] stream for {pair} on venue {venue.id}",
                    where=f"{config.path}: {account.id}.balances.{asset}",
                )


def _utc(ts_ms: int | np.integer) -> str:
    return datetime.fromtimestamp(int(ts_ms) / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
