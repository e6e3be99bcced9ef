"""Download bars, mark/index prices and funding through ccxt into the catalog, resumably.

Kinds are written ``ohlcv:<tf>``, ``mark:<tf>``, ``index:<tf>`` and ``funding``. Bars come
from ``fetch_ohlcv`` (``params={"price": "mark"|"index"}`` for mark and index), funding
from ``fetch_funding_rate_history``. Pages start after the catalog's last timestamp (so a
second run resumes), advance by the last timestamp plus one bar (plus 1 ms for funding),
and each page is merged into the catalog atomically before the next is fetched. Only
complete bars are kept: a bar opening at ``t`` is stored when ``t + bar <= until_ms``.
A page that reaches ``until_ms`` or brings nothing new ends the download.

A page shorter than the page size ends the download only when the page size is known to be
honoured: given by the caller, or the exchange's ccxt ``features`` limit for OHLCV. Funding
caps vary by venue and ccxt does not publish them, so funding otherwise runs until an empty
page. The funding interval is the median spacing of a page's settlements in whole hours.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

import numpy as np

from xmargin.core.clock import Clock, WallClock, ns_to_ms
from xmargin.core.errors import ConfigError, DataError, TerminalVenueError, TransientVenueError
from xmargin.data.catalog import Catalog
from xmargin.data.series import BAR_KINDS, MS_PER_HOUR, FundingSeries, OhlcvSeries, timeframe_ms

DEFAULT_PAGE = 1000
_PRICE_PARAM = {"mark": "mark", "index": "index"}


class ExchangeLike(Protocol):
    """The part of a ccxt exchange that downloads use."""

    id: str

    def fetch_ohlcv(
        self,
        symbol: str,
        timeframe: str = ...,
        since: int | None = ...,
        limit: int | None = ...,
        params: dict[str, Any] = ...,
    ) -> list[list[Any]]: ...

    def fetch_funding_rate_history(
        self,
        symbol: str | None = ...,
        since: int | None = ...,
        limit: int | None = ...,
        params: dict[str, Any] = ...,
    ) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class KindSpec:
    """One requested data kind and, for bars, its timeframe."""

    kind: str
    timeframe: str | None = None

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.timeframe}" if self.timeframe else self.kind


@dataclass(frozen=True)
class DownloadProgress:
    """Where one kind's download stands: ``at_ms`` within ``[start_ms, end_ms]``."""

    label: str
    start_ms: int
    end_ms: int
    at_ms: int
    rows: int


@dataclass(frozen=True)
class DownloadResult:
    """What one kind's download stored."""

    label: str
    start_ms: int
    end_ms: int
    rows: int
    pages: int
    first_ms: int | None
    last_ms: int | None


def parse_kinds(kinds: str | Iterable[str | KindSpec]) -> list[KindSpec]:
    """Parse ``"ohlcv:5m,funding,mark:1h"`` (or a list of such items) into kind specs."""
    items = kinds.split(",") if isinstance(kinds, str) else list(kinds)
    specs: list[KindSpec] = []
    for item in items:
        if isinstance(item, KindSpec):
            specs.append(item)
            continue
        kind, _, timeframe = item.strip().partition(":")
        if kind in BAR_KINDS:
            if not timeframe:
                raise ConfigError(f"{kind} needs a timeframe, e.g. {kind}:5m", where="kinds")
            timeframe_ms(timeframe)
            specs.append(KindSpec(kind, timeframe))
        elif kind == "funding":
            if timeframe:
                raise ConfigError("funding takes no timeframe; write just 'funding'", where="kinds")
            specs.append(KindSpec("funding"))
        else:
            raise ConfigError(
                f"unknown kind {item.strip()!r}; use ohlcv:<tf>, mark:<tf>, index:<tf> or funding",
                where="kinds",
            )
    if not specs:
        raise ConfigError("no kinds given; e.g. ohlcv:5m,funding", where="kinds")
    return specs


def make_exchange(exchange_id: str) -> ExchangeLike:
    """Create a rate-limited ccxt exchange by id (``binanceusdm``, ``bybit``, ``okx`` …)."""
    # ccxt takes a quarter of a second to import: only downloads pay for it.
    import ccxt  # noqa: PLC0415

    if exchange_id not in ccxt.exchanges:
        raise ConfigError(f"unknown ccxt exchange id {exchange_id!r}", where="exchange")
    exchange: ExchangeLike = getattr(ccxt, exchange_id)({"enableRateLimit": True})
    return exchange


def download(
    exchange: ExchangeLike,
    symbol: str,
    since_ms: int,
    kinds: str | Iterable[str | KindSpec],
    catalog: Catalog,
    until_ms: int | None = None,
    progress: Callable[[DownloadProgress], None] | None = None,
    *,
    clock: Clock | None = None,
    limit: int | None = None,
) -> list[DownloadResult]:
    """Download each kind of ``symbol`` from ``since_ms`` (or where the catalog stops)."""
    specs = parse_kinds(kinds)
    end = until_ms if until_ms is not None else ns_to_ms((clock or WallClock()).now_ns())
    if end <= since_ms:
        raise ConfigError("the end of the download must be after its start", where="until")
    report = progress or (lambda _: None)
    return [
        _download_bars(exchange, symbol, since_ms, end, spec, catalog, report, limit)
        if spec.kind in BAR_KINDS
        else _download_funding(exchange, symbol, since_ms, end, catalog, report, limit)
        for spec in specs
    ]


def _download_bars(
    exchange: ExchangeLike,
    symbol: str,
    since_ms: int,
    end_ms: int,
    spec: KindSpec,
    catalog: Catalog,
    report: Callable[[DownloadProgress], None],
    limit: int | None,
) -> DownloadResult:
    assert spec.timeframe is not None
    step = timeframe_ms(spec.timeframe)
    stored = catalog.last_timestamp(exchange.id, symbol, spec.kind, spec.timeframe)
    start = since_ms if stored is None else max(since_ms, stored + step)
    cap = _ohlcv_cap(exchange, symbol, spec.kind)
    page_size = min(x for x in (limit, cap, DEFAULT_PAGE) if x is not None)
    trust_short = limit is not None or cap is not None
    params = {"price": _PRICE_PARAM[spec.kind]} if spec.kind in _PRICE_PARAM else {}
    cursor, rows, pages, first = start, 0, 0, None
    report(DownloadProgress(spec.label, start, end_ms, start, 0))
    while cursor + step <= end_ms:
        fetch = partial(exchange.fetch_ohlcv, symbol, spec.timeframe, cursor, page_size, params)
        page = _call(exchange.id, symbol, spec, fetch)
        pages += 1
        kept = [row for row in page if cursor <= int(row[0]) and int(row[0]) + step <= end_ms]
        if kept:
            series = _bars(kept, spec, f"{exchange.id} {symbol} {spec.label}")
            catalog.write(exchange.id, symbol, spec.kind, series, spec.timeframe)
            first = first if first is not None else series.first_ms
            rows += len(series)
            cursor = int(series.ts_ms[-1]) + step
        report(DownloadProgress(spec.label, start, end_ms, min(cursor, end_ms), rows))
        reached_end = any(int(row[0]) + step > end_ms for row in page)
        if not kept or reached_end or (trust_short and len(page) < page_size):
            break
    last = cursor - step if rows else None
    return DownloadResult(spec.label, start, end_ms, rows, pages, first, last)


def _download_funding(
    exchange: ExchangeLike,
    symbol: str,
    since_ms: int,
    end_ms: int,
    catalog: Catalog,
    report: Callable[[DownloadProgress], None],
    limit: int | None,
) -> DownloadResult:
    spec = KindSpec("funding")
    stored = catalog.last_timestamp(exchange.id, symbol, "funding")
    start = since_ms if stored is None else max(since_ms, stored + 1)
    page_size = limit or DEFAULT_PAGE
    cursor, rows, pages, first, previous = start, 0, 0, None, stored
    report(DownloadProgress(spec.label, start, end_ms, start, 0))
    while cursor < end_ms:
        fetch = partial(exchange.fetch_funding_rate_history, symbol, cursor, page_size)
        page = _call(exchange.id, symbol, spec, fetch)
        pages += 1
        kept = [item for item in page if cursor <= int(item["timestamp"]) < end_ms]
        if kept:
            series = _funding(kept, previous, f"{exchange.id} {symbol} funding")
            catalog.write(exchange.id, symbol, "funding", series)
            first = first if first is not None else series.first_ms
            rows += len(series)
            previous = int(series.ts_ms[-1])
            cursor = previous + 1
        report(DownloadProgress(spec.label, start, end_ms, min(cursor, end_ms), rows))
        reached_end = any(int(item["timestamp"]) >= end_ms for item in page)
        if not kept or reached_end or (limit is not None and len(page) < page_size):
            break
    return DownloadResult(spec.label, start, end_ms, rows, pages, first, previous if rows else None)


def _call(venue: str, symbol: str, spec: KindSpec, fetch: Callable[[], Any]) -> Any:
    """Fetch one page, turning ccxt errors into xmargin's error families."""
    import ccxt  # noqa: PLC0415

    try:
        return fetch()
    except (ccxt.BadSymbol, ccxt.NotSupported) as exc:
        raise ConfigError(
            f"{venue} cannot serve {spec.label} for {symbol}: {exc}", where="download"
        ) from exc
    except ccxt.NetworkError as exc:
        raise TransientVenueError(
            f"{venue} {symbol} {spec.label}: {exc}; run again to resume"
        ) from exc
    except ccxt.BaseError as exc:
        raise TerminalVenueError(f"{venue} {symbol} {spec.label}: {exc}") from exc


def _ohlcv_cap(exchange: ExchangeLike, symbol: str, kind: str) -> int | None:
    """Return the page size ccxt's ``features`` promise for this market's OHLCV, if any."""
    features = getattr(exchange, "features", None)
    if not isinstance(features, dict):
        return None
    if ":" in symbol:
        quote, settle = symbol.split("/", 1)[1].split(":", 1)
        section = (features.get("swap") or {}).get(
            "linear" if settle.startswith(quote) else "inverse"
        )
    else:
        section = features.get("spot")
    info = (section or {}).get("fetchOHLCV") or {}
    cap = info.get(kind) or info.get("limit")
    return cap if isinstance(cap, int) and cap > 0 else None


def _bars(rows: list[list[Any]], spec: KindSpec, source: str) -> OhlcvSeries:
    ts = np.array([int(row[0]) for row in rows], dtype=np.int64)
    values = np.array([row[1:6] for row in rows], dtype=np.float64)
    volume = np.zeros(len(rows)) if spec.kind != "ohlcv" else values[:, 4]
    return OhlcvSeries(
        ts, values[:, 0], values[:, 1], values[:, 2], values[:, 3], volume, spec.timeframe, source
    )


def _funding(items: list[dict[str, Any]], previous: int | None, source: str) -> FundingSeries:
    for index, item in enumerate(items):
        if item.get("fundingRate") is None:
            raise DataError("no funding rate", source=source, row=index + 2, field="fundingRate")
    ts = np.array([int(item["timestamp"]) for item in items], dtype=np.int64)
    rates = np.array([float(item["fundingRate"]) for item in items], dtype=np.float64)
    spacing = np.diff(ts if previous is None else np.concatenate(([previous], ts)))
    hours = max(1, round(float(np.median(spacing)) / MS_PER_HOUR)) if len(spacing) else 8
    return FundingSeries(ts, rates, np.full(len(ts), hours, dtype=np.int64), source)
