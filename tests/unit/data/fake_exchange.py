"""A ccxt-compatible fake exchange that serves real rows of the data pack and records calls.

It answers ``fetch_ohlcv`` (5m candles, and 1h mark prices with ``params={"price": "mark"}``)
and ``fetch_funding_rate_history`` for the Binance USDⓈ-M perpetuals of the pack, in ccxt's
return shapes, at most ``page_limit`` rows per call. ``fail_on_call`` makes that call (1-based)
raise ``ccxt.NetworkError`` to simulate an interrupted download. Files are read with the
standard ``csv`` module, independently of the loaders under test.
"""

from __future__ import annotations

import bisect
import csv
import functools
import gzip
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import ccxt
from tests.pack import DATA_PACK

PACK = DATA_PACK / "binance_usdm_perp"


@dataclass(frozen=True)
class Call:
    method: str
    symbol: str | None
    timeframe: str | None
    since: int | None
    limit: int | None
    params: dict[str, Any] = field(default_factory=dict)


@functools.cache
def candle_rows(file_name: str) -> tuple[tuple[Any, ...], ...]:
    """Return ``(ts, open, high, low, close, volume)`` rows of a candle or mark file."""
    with gzip.open(PACK / file_name, "rt", newline="") as handle:
        reader = csv.DictReader(handle)
        return tuple(
            (
                int(row["ts_ms"]),
                float(row["open"]),
                float(row["high"]),
                float(row["low"]),
                float(row["close"]),
                float(row.get("volume") or 0.0),
            )
            for row in reader
        )


@functools.cache
def funding_rows(symbol: str) -> tuple[tuple[int, float, str], ...]:
    """Return ``(ts, rate, raw rate text)`` settlements of one symbol."""
    with open(PACK / "funding_rates_8h.csv", newline="") as handle:
        return tuple(
            (int(row["ts_ms"]), float(row["funding_rate"]), row["funding_rate"])
            for row in csv.DictReader(handle)
            if row["symbol"] == symbol
        )


class FakeExchange:
    """Serves the pack's BTC/ETH/SOL/XRP USDT perpetual data like ``ccxt.binanceusdm``."""

    id = "binanceusdm"

    def __init__(self, *, page_limit: int = 500, fail_on_call: int | None = None) -> None:
        self.page_limit = page_limit
        self.fail_on_call = fail_on_call
        self.calls: list[Call] = []

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        if self.fail_on_call is not None and len(self.calls) == self.fail_on_call:
            raise ccxt.NetworkError("binanceusdm GET /fapi/v1/klines: connection reset by peer")

    def _base(self, symbol: str) -> str:
        base, _, rest = symbol.partition("/")
        if rest != "USDT:USDT" or base not in {"BTC", "ETH", "SOL", "XRP"}:
            raise ccxt.BadSymbol(f"binanceusdm does not have market symbol {symbol}")
        return base

    def _take(self, rows: tuple[Any, ...], since: int | None, limit: int | None) -> list[Any]:
        size = min(limit or self.page_limit, self.page_limit)
        start = 0 if since is None else bisect.bisect_left(rows, since, key=lambda r: r[0])
        return list(rows[start : start + size])

    def fetch_ohlcv(
        self,
        symbol: str,
        timeframe: str = "1m",
        since: int | None = None,
        limit: int | None = None,
        params: dict[str, Any] | None = None,
    ) -> list[list[float]]:
        params = dict(params or {})
        self._record(Call("fetch_ohlcv", symbol, timeframe, since, limit, params))
        base = self._base(symbol)
        price = params.get("price")
        if price is None and timeframe == "5m":
            rows = candle_rows(f"{base}USDT_perp_5m.csv.gz")
        elif price == "mark" and timeframe == "1h":
            rows = candle_rows(f"{base}USDT_perp_mark_1h.csv.gz")
        else:
            raise ccxt.NotSupported(f"the fake has no {price or 'last'} {timeframe} candles")
        return [list(row) for row in self._take(rows, since, limit)]

    def fetch_funding_rate_history(
        self,
        symbol: str | None = None,
        since: int | None = None,
        limit: int | None = None,
        params: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        self._record(
            Call("fetch_funding_rate_history", symbol, None, since, limit, dict(params or {}))
        )
        assert symbol is not None
        base = self._base(symbol)
        rows = self._take(funding_rows(symbol), since, limit)
        return [
            {
                "info": {"symbol": f"{base}USDT", "fundingTime": str(ts), "fundingRate": text},
                "symbol": symbol,
                "fundingRate": rate,
                "timestamp": ts,
                "datetime": datetime.fromtimestamp(ts / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[
                    :23
                ]
                + "Z",
            }
            for ts, rate, text in rows
        ]
