"""Immutable column series of market data over numpy arrays, and bar timeframes.

Every series has ``ts_ms``: int64 UTC epoch milliseconds (a bar's *open* time), sorted
ascending once validated, and float64 value columns of the same length. Arrays are made
read-only on construction, so a series can be shared freely. ``source`` names where the
rows came from (a file path or a catalog key) and appears in every error about them.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt

from xmargin.core.errors import ConfigError, DataError

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

MS_PER_MINUTE = 60_000
MS_PER_HOUR = 3_600_000
_UNIT_MS = {"m": MS_PER_MINUTE, "h": MS_PER_HOUR, "d": 24 * MS_PER_HOUR, "w": 7 * 24 * MS_PER_HOUR}
_TIMEFRAME = re.compile(r"(\d+)([mhdw])")


def timeframe_ms(timeframe: str) -> int:
    """Return the length of a ccxt-style timeframe ("1m", "5m", "15m", "1h", "8h", "1d") in ms."""
    match = _TIMEFRAME.fullmatch(timeframe)
    if match is None or int(match.group(1)) == 0:
        raise ConfigError(
            f"unknown timeframe {timeframe!r}; use a count and a unit m/h/d/w such as 5m, 1h, 1d"
        )
    return int(match.group(1)) * _UNIT_MS[match.group(2)]


def is_timeframe(text: str) -> bool:
    """Tell whether ``text`` is a timeframe that :func:`timeframe_ms` accepts."""
    match = _TIMEFRAME.fullmatch(text)
    return match is not None and int(match.group(1)) > 0


class _Columns:
    """Shared behaviour: equal-length read-only columns, length, time slicing, row selection."""

    ARRAYS: ClassVar[dict[str, type[np.generic]]]
    __dataclass_fields__: ClassVar[dict[str, Any]]
    ts_ms: IntArray
    source: str

    def __post_init__(self) -> None:
        lengths = set()
        for name, dtype in self.ARRAYS.items():
            array = np.array(getattr(self, name), dtype=dtype, copy=True)
            if array.ndim != 1:
                raise DataError(f"column {name} is not one-dimensional", source=self.source)
            array.setflags(write=False)
            object.__setattr__(self, name, array)
            lengths.add(array.shape[0])
        if len(lengths) > 1:
            raise DataError(f"columns have different lengths {sorted(lengths)}", source=self.source)

    def __len__(self) -> int:
        return int(self.ts_ms.shape[0])

    def __repr__(self) -> str:
        span = f"{self.first_ms}..{self.last_ms}" if len(self) else "empty"
        timeframe = getattr(self, "timeframe", None)
        what = f"{timeframe}, " if timeframe else ""
        return (
            f"{type(self).__name__}({what}{len(self)} rows, ts_ms {span}, source={self.source!r})"
        )

    def columns(self) -> dict[str, np.ndarray]:
        """Return the arrays by column name, ``ts_ms`` first."""
        return {name: getattr(self, name) for name in self.ARRAYS}

    def take(self, index: slice | npt.NDArray[Any]) -> Self:
        """Return the rows selected by a slice, an index array or a boolean mask."""
        return self.with_columns(**{name: array[index] for name, array in self.columns().items()})

    def with_columns(self, **arrays: npt.NDArray[Any]) -> Self:
        """Return a copy with some columns replaced (all columns must keep one length)."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        values.update(arrays)
        return type(self)(**values)

    def slice(self, start_ms: int | None = None, end_ms: int | None = None) -> Self:
        """Return the rows with ``start_ms <= ts_ms < end_ms`` (either bound optional)."""
        lo = 0 if start_ms is None else int(np.searchsorted(self.ts_ms, start_ms, side="left"))
        hi = len(self) if end_ms is None else int(np.searchsorted(self.ts_ms, end_ms, side="left"))
        return self.take(slice(lo, max(lo, hi)))

    @property
    def first_ms(self) -> int | None:
        return int(self.ts_ms[0]) if len(self) else None

    @property
    def last_ms(self) -> int | None:
        return int(self.ts_ms[-1]) if len(self) else None


@dataclass(frozen=True, eq=False, repr=False)
class OhlcvSeries(_Columns):
    """Bars: open/high/low/close/volume per bar open time; also mark and index OHLC.

    ``volume`` is zero when the source has none (mark and index prices). It is in base units
    unless ``volume_is_quote`` (FTX candles report quote-currency volume).
    """

    ARRAYS: ClassVar[dict[str, type[np.generic]]] = {
        "ts_ms": np.int64,
        "open": np.float64,
        "high": np.float64,
        "low": np.float64,
        "close": np.float64,
        "volume": np.float64,
    }
    ts_ms: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    timeframe: str | None
    source: str = ""
    volume_is_quote: bool = False

    def __post_init__(self) -> None:
        if self.timeframe is not None:
            timeframe_ms(self.timeframe)
        super().__post_init__()

    @property
    def step_ms(self) -> int | None:
        """Return the bar length in ms, or None when the timeframe is unknown."""
        return None if self.timeframe is None else timeframe_ms(self.timeframe)


@dataclass(frozen=True, eq=False, repr=False)
class FundingSeries(_Columns):
    """Funding settlements: the rate settled at ``ts_ms`` for the ``interval_h`` hours before it."""

    ARRAYS: ClassVar[dict[str, type[np.generic]]] = {
        "ts_ms": np.int64,
        "rate": np.float64,
        "interval_h": np.int64,
    }
    ts_ms: IntArray
    rate: FloatArray
    interval_h: IntArray
    source: str = ""


@dataclass(frozen=True, eq=False, repr=False)
class TradeSeries(_Columns):
    """Public trades; several may share a millisecond, so timestamps only never decrease."""

    ARRAYS: ClassVar[dict[str, type[np.generic]]] = {
        "ts_ms": np.int64,
        "price": np.float64,
        "qty": np.float64,
        "buyer_is_maker": np.bool_,
    }
    ts_ms: IntArray
    price: FloatArray
    qty: FloatArray
    buyer_is_maker: BoolArray
    source: str = ""


@dataclass(frozen=True, eq=False, repr=False)
class QuoteSeries(_Columns):
    """Best bid and offer updates; several may share a millisecond."""

    ARRAYS: ClassVar[dict[str, type[np.generic]]] = {
        "ts_ms": np.int64,
        "bid": np.float64,
        "bid_qty": np.float64,
        "ask": np.float64,
        "ask_qty": np.float64,
    }
    ts_ms: IntArray
    bid: FloatArray
    bid_qty: FloatArray
    ask: FloatArray
    ask_qty: FloatArray
    source: str = ""


Series = OhlcvSeries | FundingSeries | TradeSeries | QuoteSeries
SERIES_BY_KIND: dict[str, type[Series]] = {
    "ohlcv": OhlcvSeries,
    "mark": OhlcvSeries,
    "index": OhlcvSeries,
    "funding": FundingSeries,
    "trades": TradeSeries,
    "quotes": QuoteSeries,
}
BAR_KINDS = frozenset({"ohlcv", "mark", "index"})


def check_kind(kind: str) -> type[Series]:
    """Return the series type of a data kind; an unknown kind is a ConfigError."""
    try:
        return SERIES_BY_KIND[kind]
    except KeyError:
        known = ", ".join(SERIES_BY_KIND)
        raise ConfigError(f"unknown data kind {kind!r}; use one of {known}") from None
