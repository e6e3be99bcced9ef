"""Public market data replayed from the config's data files, as of the data clock.

Only data known by the data time is served: a bar once it has closed (Binance would also
show the bar still forming; the files hold only closed bars), funding once settled.
What the files do not hold is synthesised, and says so here:

* the order book is one level a side, the best bid at the last price and the best ask one
  tick above, each with the last bar's volume; its ``lastUpdateId`` is the number of data
  steps that moved the instrument, so depth diffs chain (``U = previous u + 1``);
* the index price is the mark price (no index data is served, decision 0006);
* klines' quote volume, trade count and taker volumes are ``0``; the 24-hour ticker's quote
  volume is estimated as Σ volume × (high + low + close) / 3.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from xmargin.backtest.feed import FeedSource
from xmargin.data.series import FundingSeries, OhlcvSeries, timeframe_ms
from xmargin.gateway import errors
from xmargin.gateway.binance_json import symbol_id, text
from xmargin.model.instruments import Instrument
from xmargin.venues.sim.markets import MarketState

DAY_MS = 86_400_000
KLINE_LIMIT_DEFAULT, KLINE_LIMIT_MAX = 500, 1500
FUNDING_LIMIT_DEFAULT, FUNDING_LIMIT_MAX = 100, 1000
BINANCE_INTEREST_RATE = "0.00010000"  # Binance's fixed USDT interest component per 8 h
INTERVALS = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "1w")
WEEK_MS = 7 * DAY_MS
MONDAY_MS = 4 * DAY_MS  # the epoch was a Thursday; Binance's weekly klines open on Mondays
Json = dict[str, Any]


@dataclass
class SymbolData:
    """The data of one instrument: its bars, its mark bars and its funding settlements."""

    spec: Instrument
    bars: OhlcvSeries
    marks: OhlcvSeries | None
    funding: FundingSeries | None
    updates: int = 0


def float_text(value: float) -> str:
    return text(Decimal(repr(float(value))))


class MarketReplay:
    """Answers the public endpoints from the served venue's data sources."""

    def __init__(
        self, sources: list[FeedSource], venue: str, markets: Mapping[str, MarketState]
    ) -> None:
        self.markets = markets
        self.symbols: dict[str, SymbolData] = {}
        for source in sources:
            if source.venue != venue or source.kind != "ohlcv":
                continue
            assert isinstance(source.series, OhlcvSeries)
            spec = markets[source.instrument].spec
            self.symbols[symbol_id(source.instrument)] = SymbolData(spec, source.series, None, None)
        by_instrument = {d.spec.symbol: d for d in self.symbols.values()}
        for source in sources:
            data = by_instrument.get(source.instrument)
            if source.venue != venue or data is None:
                continue
            if source.kind == "mark" and isinstance(source.series, OhlcvSeries):
                data.marks = source.series
            elif source.kind == "funding" and isinstance(source.series, FundingSeries):
                data.funding = source.series

    def data(self, raw_symbol: str | None) -> SymbolData:
        if not raw_symbol:
            raise errors.missing("symbol")
        found = self.symbols.get(raw_symbol.upper())
        if found is None:
            raise errors.bad_symbol()
        return found

    def chosen(self, raw_symbol: str | None) -> list[SymbolData]:
        return list(self.symbols.values()) if not raw_symbol else [self.data(raw_symbol)]

    def note_step(self, instrument: str) -> None:
        data = self.symbols.get(symbol_id(instrument))
        if data is not None:
            data.updates += 1

    # -- klines -----------------------------------------------------------------------------

    def klines(
        self, params: Mapping[str, str], now_ms: int, *, mark: bool = False
    ) -> list[list[Any]]:
        data = self.data(params.get("symbol"))
        interval = params.get("interval", "")
        if interval not in INTERVALS:
            raise errors.invalid("interval")
        series = (data.marks or data.bars) if mark else data.bars
        step = series.step_ms or 0
        wanted = timeframe_ms(interval)
        if wanted % step:
            raise errors.BinanceError(
                -1130,
                f"Data sent for parameter 'interval' is not valid. "
                f"(the data has {series.timeframe} bars)",
            )
        limit = limit_param(params, KLINE_LIMIT_DEFAULT, KLINE_LIMIT_MAX)
        opens = series.ts_ms
        closed = int(np.searchsorted(opens + step, now_ms, side="right"))
        start, end = int_param(params, "startTime"), int_param(params, "endTime")
        # klines opening at or after startTime
        first = 0
        if start is not None:
            first = int(np.searchsorted(opens, bucket_of(start + wanted - 1, wanted)))
        last = (
            closed if end is None else min(closed, int(np.searchsorted(opens, end, side="right")))
        )
        rows = _aggregate(series, first, last, wanted, mark)
        return rows[:limit] if start is not None else rows[-limit:]

    # -- funding and premium index ----------------------------------------------------------

    def funding_history(self, params: Mapping[str, str], now_ms: int) -> list[Json]:
        datas = self.chosen(params.get("symbol"))
        limit = limit_param(params, FUNDING_LIMIT_DEFAULT, FUNDING_LIMIT_MAX)
        start, end = int_param(params, "startTime"), int_param(params, "endTime")
        rows: list[Json] = []
        for data in datas:
            if data.funding is None:
                continue
            times = data.funding.ts_ms
            lo = 0 if start is None else int(np.searchsorted(times, start))
            hi = int(np.searchsorted(times, min(now_ms, end or now_ms), side="right"))
            for i in range(lo, hi):
                rows.append(
                    {
                        "symbol": symbol_id(data.spec.symbol),
                        "fundingTime": int(times[i]),
                        "fundingRate": float_text(data.funding.rate[i]),
                        "markPrice": "",
                    }
                )
        rows.sort(key=lambda r: r["fundingTime"])
        return rows[:limit] if start is not None else rows[-limit:]

    def premium_index(self, data: SymbolData, now_ms: int) -> Json:
        market = self.markets[data.spec.symbol]
        mark = text(market.mark_exact()) if market.has_price else "0"
        last_rate, next_time = "0", 0
        if data.funding is not None and len(data.funding):
            times = data.funding.ts_ms
            done = int(np.searchsorted(times, now_ms, side="right"))
            if done:
                last_rate = float_text(data.funding.rate[done - 1])
            if done < len(times):
                next_time = int(times[done])
            else:
                interval = int(data.funding.interval_h[-1]) * 3_600_000
                next_time = int(times[-1]) + interval * (1 + (now_ms - int(times[-1])) // interval)
        return {
            "symbol": symbol_id(data.spec.symbol),
            "markPrice": mark,
            "indexPrice": mark,
            "estimatedSettlePrice": mark,
            "lastFundingRate": last_rate,
            "interestRate": BINANCE_INTEREST_RATE,
            "nextFundingTime": next_time,
            "time": now_ms,
        }

    # -- book and tickers -------------------------------------------------------------------

    def last_bar(self, data: SymbolData, now_ms: int) -> int:
        step = data.bars.step_ms or 0
        return int(np.searchsorted(data.bars.ts_ms + step, now_ms, side="right")) - 1

    def book(self, data: SymbolData, now_ms: int) -> tuple[str, str, str, str]:
        """(bid, bid qty, ask, ask qty) of the synthesised one-level book."""
        market = self.markets[data.spec.symbol]
        row = self.last_bar(data, now_ms)
        if row < 0 or not market.has_price:
            return "0", "0", "0", "0"
        last = market.last_exact()
        quantity = float_text(data.bars.volume[row])
        return text(last), quantity, text(last + data.spec.price_increment), quantity

    def depth(self, params: Mapping[str, str], now_ms: int) -> Json:
        data = self.data(params.get("symbol"))
        bid, bid_qty, ask, ask_qty = self.book(data, now_ms)
        return {
            "lastUpdateId": data.updates,
            "E": now_ms,
            "T": now_ms,
            "bids": [[bid, bid_qty]] if bid != "0" else [],
            "asks": [[ask, ask_qty]] if ask != "0" else [],
        }

    def book_ticker(self, data: SymbolData, now_ms: int) -> Json:
        bid, bid_qty, ask, ask_qty = self.book(data, now_ms)
        return {
            "symbol": symbol_id(data.spec.symbol),
            "bidPrice": bid,
            "bidQty": bid_qty,
            "askPrice": ask,
            "askQty": ask_qty,
            "time": now_ms,
            "lastUpdateId": data.updates,
        }

    def ticker_24h(self, data: SymbolData, now_ms: int) -> Json:
        bars = data.bars
        step = bars.step_ms or 0
        closes_at = bars.ts_ms + step
        hi = int(np.searchsorted(closes_at, now_ms, side="right"))
        lo = int(np.searchsorted(closes_at, now_ms - DAY_MS, side="right"))
        symbol = symbol_id(data.spec.symbol)
        if hi <= lo:
            zero = dict.fromkeys(
                (
                    "priceChange",
                    "priceChangePercent",
                    "weightedAvgPrice",
                    "lastPrice",
                    "lastQty",
                    "openPrice",
                    "highPrice",
                    "lowPrice",
                    "volume",
                    "quoteVolume",
                ),
                "0",
            )
            return {
                "symbol": symbol,
                **zero,
                "openTime": now_ms - DAY_MS,
                "closeTime": now_ms,
                "firstId": 0,
                "lastId": 0,
                "count": 0,
            }
        dec = [Decimal(repr(float(x))) for x in (bars.open[lo], bars.close[hi - 1])]
        open_price, last = dec
        high = Decimal(repr(float(bars.high[lo:hi].max())))
        low = Decimal(repr(float(bars.low[lo:hi].min())))
        volume = sum((Decimal(repr(float(v))) for v in bars.volume[lo:hi]), Decimal(0))
        typical = (bars.high[lo:hi] + bars.low[lo:hi] + bars.close[lo:hi]) / 3
        quote = Decimal(repr(float((bars.volume[lo:hi] * typical).sum())))
        change = last - open_price
        return {
            "symbol": symbol,
            "priceChange": text(change),
            "priceChangePercent": text((change / open_price * 100).quantize(Decimal("0.001"))),
            "weightedAvgPrice": text((quote / volume).quantize(data.spec.price_increment))
            if volume
            else "0",
            "lastPrice": text(last),
            "lastQty": "0",
            "openPrice": text(open_price),
            "highPrice": text(high),
            "lowPrice": text(low),
            "volume": text(volume),
            "quoteVolume": text(quote),
            "openTime": int(bars.ts_ms[lo]),
            "closeTime": int(closes_at[hi - 1]) - 1,
            "firstId": 0,
            "lastId": 0,
            "count": 0,
        }


def bucket_of(ts_ms: int, wanted: int) -> int:
    """The open time of the ``wanted``-ms kline holding ``ts_ms`` (weeks open on Mondays)."""
    if wanted == WEEK_MS:
        return ts_ms - (ts_ms - MONDAY_MS) % WEEK_MS
    return ts_ms - ts_ms % wanted


def _aggregate(
    series: OhlcvSeries, first: int, last: int, wanted: int, mark: bool
) -> list[list[Any]]:
    """Bars ``first:last`` grouped into ``wanted``-ms klines (the last group may be partial)."""
    rows: list[list[Any]] = []
    opens = series.ts_ms
    i = first
    while i < last:
        start = int(opens[i])
        bucket = (
            start - (start - MONDAY_MS) % WEEK_MS if wanted == WEEK_MS else start - start % wanted
        )
        j = i
        while j < last and int(opens[j]) < bucket + wanted:
            j += 1
        volume = "0" if mark else float_text(series.volume[i:j].sum())
        rows.append(
            [
                bucket,
                float_text(series.open[i]),
                float_text(series.high[i:j].max()),
                float_text(series.low[i:j].min()),
                float_text(series.close[j - 1]),
                volume,
                bucket + wanted - 1,
                "0",
                0,
                "0",
                "0",
                "0",
            ]
        )
        i = j
    return rows


def int_param(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if not raw.lstrip("-").isdigit():
        raise errors.invalid(name)
    return int(raw)


def limit_param(params: Mapping[str, str], default: int, maximum: int) -> int:
    value = int_param(params, "limit")
    if value is None:
        return default
    if value <= 0:
        raise errors.invalid("limit")
    return min(value, maximum)
