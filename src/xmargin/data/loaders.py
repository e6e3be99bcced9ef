"""Load the data pack's CSV files into validated series.

Formats (header row, plain or gzip CSV):

* bars: ``ts_ms,open,high,low,close[,volume|volume_quote]``; mark files have no volume
  (read as 0); ``volume_quote`` (FTX) sets ``volume_is_quote``;
* funding: ``ts_ms[,symbol],funding_rate[,interval_h]``; extra columns are ignored;
* trades: ``ts_ms,price,qty|quantity|amount`` and ``buyer_is_maker|buyer_maker`` or a taker
  ``side`` (``buy``/``sell``);
* quotes: ``ts_ms,bid,bid_qty|bid_size,ask,ask_qty|ask_size``.

Every reader validates, raising :class:`DataError` with file, row and field, or repairs
when asked and returns the :class:`RepairReport`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from xmargin.core.errors import ConfigError, DataError
from xmargin.data.csv_table import BOOL, FLOAT, INT, TEXT, CsvFile, open_csv, read_columns
from xmargin.data.naming import infer_spec, native_symbol_to_ccxt, resolve_spec
from xmargin.data.series import (
    MS_PER_HOUR,
    FundingSeries,
    IntArray,
    OhlcvSeries,
    QuoteSeries,
    Series,
    TradeSeries,
)
from xmargin.data.validation import RepairReport, validate


@dataclass(frozen=True)
class Loaded:
    """One series read from a file, with what it is and what repair did to it."""

    venue: str
    symbol: str
    kind: str
    timeframe: str | None
    series: Series
    report: RepairReport


def read_ohlcv(
    path: str | Path, *, timeframe: str | None = None, repair: bool = False
) -> tuple[OhlcvSeries, RepairReport]:
    """Read bars (or mark/index OHLC); the timeframe defaults to the one the name states."""
    csv_file = open_csv(path)
    volume = csv_file.optional("volume", "volume_quote")
    names = ["ts_ms", "open", "high", "low", "close"]
    types = {name: INT if name == "ts_ms" else FLOAT for name in names}
    if volume is not None:
        types[volume] = FLOAT
    for name in names:
        csv_file.column(name)
    columns = read_columns(csv_file, types)
    rows = len(columns["ts_ms"])
    _require_rows(csv_file, rows)
    source = csv_file.source
    del csv_file  # the file's bytes, freed before the series copies the columns
    series = OhlcvSeries(
        ts_ms=columns.pop("ts_ms"),
        open=columns.pop("open"),
        high=columns.pop("high"),
        low=columns.pop("low"),
        close=columns.pop("close"),
        volume=columns.pop(volume) if volume is not None else np.zeros(rows),
        timeframe=timeframe or infer_spec(path).timeframe,
        source=source,
        volume_is_quote=volume == "volume_quote",
    )
    return validate(series, repair=repair, column_names={"volume": volume or "volume"})


def read_funding_by_symbol(
    path: str | Path,
    *,
    only: str | None = None,
    interval_h: int | None = None,
    repair: bool = False,
) -> dict[str, tuple[FundingSeries, RepairReport]]:
    """Read a funding file into one series per ccxt symbol (key "" when it has no symbol).

    ``only`` reads just that symbol (native or ccxt name). The interval comes from an
    ``interval_h`` column, else ``interval_h``, else the file name (``…_8h``), else the
    median spacing of the settlements.
    """
    csv_file = open_csv(path)
    csv_file.column("ts_ms")
    rate = csv_file.column("funding_rate", "rate", "fundingRate")
    symbol_column = csv_file.optional("symbol")
    interval_column = csv_file.optional("interval_h")
    types = {"ts_ms": INT, rate: FLOAT}
    if symbol_column:
        types[symbol_column] = TEXT
    if interval_column:
        types[interval_column] = INT
    columns = read_columns(csv_file, types)
    _require_rows(csv_file, len(columns["ts_ms"]))
    if symbol_column is None:
        groups = {"": np.arange(len(columns["ts_ms"]))}
    else:
        groups = _group_by_symbol(columns[symbol_column])
        if only is not None:
            wanted = native_symbol_to_ccxt(only)
            if wanted not in groups:
                raise DataError(
                    f"no rows for {wanted}; the file has {', '.join(groups)}",
                    source=csv_file.source,
                    field=symbol_column,
                )
            groups = {wanted: groups[wanted]}
    default_interval = interval_h or infer_spec(path).interval_h
    result: dict[str, tuple[FundingSeries, RepairReport]] = {}
    for symbol, index in groups.items():
        ts = columns["ts_ms"][index]
        if interval_column:
            intervals = columns[interval_column][index]
        else:
            hours = default_interval or _median_hours(ts)
            intervals = np.full(len(ts), hours, dtype=np.int64)
        series = FundingSeries(ts, columns[rate][index], intervals, source=csv_file.source)
        lines: IntArray = index.astype(np.int64) + 2
        result[symbol] = validate(
            series, repair=repair, line_numbers=lines, column_names={"rate": rate}
        )
    return result


def read_funding(
    path: str | Path,
    *,
    symbol: str | None = None,
    interval_h: int | None = None,
    repair: bool = False,
) -> tuple[FundingSeries, RepairReport]:
    """Read the funding of one symbol; ``symbol`` may be omitted for single-symbol files."""
    by_symbol = read_funding_by_symbol(path, only=symbol, interval_h=interval_h, repair=repair)
    if len(by_symbol) > 1:
        raise ConfigError(
            f"the file holds {len(by_symbol)} symbols ({', '.join(by_symbol)}); pick one",
            where=str(path),
        )
    return next(iter(by_symbol.values()))


def read_trades(path: str | Path, *, repair: bool = False) -> tuple[TradeSeries, RepairReport]:
    """Read public trades."""
    csv_file = open_csv(path)
    csv_file.column("ts_ms")
    price = csv_file.column("price")
    qty = csv_file.column("qty", "quantity", "amount")
    maker = csv_file.optional("buyer_is_maker", "buyer_maker")
    side = None if maker else csv_file.column("buyer_is_maker", "side")
    types = {"ts_ms": INT, price: FLOAT, qty: FLOAT}
    if maker:
        types[maker] = BOOL
    if side:
        types[side] = TEXT
    columns = read_columns(csv_file, types)
    _require_rows(csv_file, len(columns["ts_ms"]))
    buyer_is_maker = columns[maker] if maker else _taker_sold(csv_file, columns[str(side)])
    source = csv_file.source
    del csv_file  # the file's bytes, freed before the series copies the columns
    series = TradeSeries(
        columns.pop("ts_ms"), columns.pop(price), columns.pop(qty), buyer_is_maker, source=source
    )
    del columns, buyer_is_maker
    return validate(series, repair=repair, column_names={"price": price, "qty": qty})


def read_quotes(path: str | Path, *, repair: bool = False) -> tuple[QuoteSeries, RepairReport]:
    """Read best bid/offer updates."""
    csv_file = open_csv(path)
    csv_file.column("ts_ms")
    fields = {
        "bid": csv_file.column("bid"),
        "bid_qty": csv_file.column("bid_qty", "bid_size"),
        "ask": csv_file.column("ask"),
        "ask_qty": csv_file.column("ask_qty", "ask_size"),
    }
    columns = read_columns(csv_file, {"ts_ms": INT} | dict.fromkeys(fields.values(), FLOAT))
    _require_rows(csv_file, len(columns["ts_ms"]))
    source = csv_file.source
    del csv_file  # the file's bytes, freed before the series copies the columns
    values = {field: columns.pop(column) for field, column in fields.items()}
    series = QuoteSeries(ts_ms=columns.pop("ts_ms"), **values, source=source)
    del values
    return validate(series, repair=repair, column_names=fields)


def load_file(
    path: str | Path,
    *,
    venue: str | None = None,
    symbol: str | None = None,
    kind: str | None = None,
    timeframe: str | None = None,
    repair: bool = False,
) -> list[Loaded]:
    """Read a file as the series its name (or the explicit choices) says it holds.

    A multi-symbol funding file gives one :class:`Loaded` per symbol, or only ``symbol``'s.
    """
    spec = resolve_spec(path, venue=venue, symbol=symbol, kind=kind, timeframe=timeframe)
    assert spec.venue is not None and spec.kind is not None
    if spec.kind == "funding":
        if spec.symbol is not None:
            wanted = native_symbol_to_ccxt(spec.symbol)
            series, report = read_funding(
                path, symbol=wanted, interval_h=spec.interval_h, repair=repair
            )
            return [Loaded(spec.venue, wanted, "funding", None, series, report)]
        by_symbol = read_funding_by_symbol(path, interval_h=spec.interval_h, repair=repair)
        if "" in by_symbol:
            raise ConfigError("the file has no symbol column; pass --symbol", where=str(path))
        return [
            Loaded(spec.venue, name, "funding", None, series, report)
            for name, (series, report) in by_symbol.items()
        ]
    assert spec.symbol is not None
    loaded: tuple[Series, RepairReport]
    if spec.kind == "trades":
        loaded = read_trades(path, repair=repair)
    elif spec.kind == "quotes":
        loaded = read_quotes(path, repair=repair)
    else:
        loaded = read_ohlcv(path, timeframe=spec.timeframe, repair=repair)
    return [Loaded(spec.venue, spec.symbol, spec.kind, spec.timeframe, *loaded)]


def _require_rows(csv_file: CsvFile, rows: int) -> None:
    if rows == 0:
        raise DataError("the file has a header but no data rows", source=csv_file.source, row=2)


def _group_by_symbol(raw: np.ndarray) -> dict[str, IntArray]:
    """Return the row indices of each symbol, keyed by ccxt symbol, in order of appearance."""
    names, first, inverse = np.unique(raw, return_index=True, return_inverse=True)
    groups: dict[str, IntArray] = {}
    for code in np.argsort(first, kind="stable"):
        symbol = native_symbol_to_ccxt(str(names[code]))
        index = np.flatnonzero(inverse == code)
        groups[symbol] = (
            np.sort(np.concatenate((groups[symbol], index))) if symbol in groups else index
        )
    return groups


def _median_hours(ts: IntArray) -> int:
    if len(ts) < 2:
        return 8
    return max(1, round(float(np.median(np.diff(ts))) / MS_PER_HOUR))


def _taker_sold(csv_file: CsvFile, side: np.ndarray) -> np.ndarray:
    """Turn a taker side (buy/sell) into buyer-is-maker flags (a taker sell hit a maker buyer)."""
    lowered = np.char.lower(side.astype(str))
    bad = ~np.isin(lowered, ["buy", "sell"])
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{side[row]!r} is not buy or sell", source=csv_file.source, row=row + 2, field="side"
        )
    return np.asarray(lowered == "sell")
