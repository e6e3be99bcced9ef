"""A Parquet catalog of market data by venue, symbol, kind and timeframe.

Layout: ``<root>/<venue>/<symbol dir>/<kind>.parquet`` for funding, trades and quotes, and
``<root>/<venue>/<symbol dir>/<kind>/<timeframe>.parquet`` for bars (ohlcv, mark, index).
The symbol directory is the ccxt symbol with ``/`` replaced by ``_`` and ``:`` by ``-``
(``BTC/USDT:USDT`` → ``BTC_USDT-USDT``); the exact symbol is also stored in the file's
metadata, which is what :meth:`Catalog.entries` reports and what guards against two symbols
sharing a directory.

Writes are atomic (a temporary file in the same directory, then ``os.replace``), so an
interrupted import leaves the previous file intact. Writing merges with what is stored: the
union by timestamp, incoming rows winning, validated before it replaces the old file. One
writer per series at a time.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from xmargin.core.errors import ConfigError, DataError
from xmargin.core.output_file import make_output_dir, write_file
from xmargin.data.series import BAR_KINDS, OhlcvSeries, Series, check_kind, timeframe_ms
from xmargin.data.validation import validate

_META_KEY = b"xmargin"
_FORMAT_VERSION = 1
_SAFE_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")


def default_root(environ: Mapping[str, str] | None = None) -> Path:
    """Return the catalog root: ``$XMARGIN_CATALOG``, else the user data dir.

    The user data dir is ``$XDG_DATA_HOME/xmargin/catalog``, by default
    ``~/.local/share/xmargin/catalog``.
    """
    env = os.environ if environ is None else environ
    if env.get("XMARGIN_CATALOG"):
        return Path(env["XMARGIN_CATALOG"]).expanduser()
    data_home = env.get("XDG_DATA_HOME") or str(Path("~/.local/share").expanduser())
    return Path(data_home) / "xmargin" / "catalog"


def symbol_dir(symbol: str) -> str:
    """Return the directory name of a ccxt symbol (``/`` → ``_``, ``:`` → ``-``)."""
    name = symbol.replace("/", "_").replace(":", "-")
    if not _SAFE_PART.fullmatch(name):
        raise ConfigError(f"symbol {symbol!r} cannot name a catalog directory")
    return name


@dataclass(frozen=True)
class CatalogEntry:
    """One stored series: its key, row count, time range and file."""

    venue: str
    symbol: str
    kind: str
    timeframe: str | None
    rows: int
    first_ms: int | None
    last_ms: int | None
    path: Path


class Catalog:
    """Market data stored as one Parquet file per (venue, symbol, kind, timeframe)."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()

    def check_writable(self) -> None:
        """Raise ``ConfigError`` unless series can be stored under the root (call before work)."""
        existing = next(p for p in (self.root, *self.root.parents) if os.path.lexists(p))
        where = f"catalog {self.root}"
        named = "" if existing == self.root else f"{existing} "
        if not existing.is_dir():
            raise ConfigError(
                f"{named}is not a folder; point --catalog or $XMARGIN_CATALOG at a folder",
                where=where,
            )
        if not os.access(existing, os.W_OK | os.X_OK):
            raise ConfigError(f"{named}is not writable", where=where)

    def path(self, venue: str, symbol: str, kind: str, timeframe: str | None = None) -> Path:
        """Return the file of a series (whether or not it exists)."""
        check_kind(kind)
        if not _SAFE_PART.fullmatch(venue):
            raise ConfigError(f"venue {venue!r} cannot name a catalog directory")
        base = self.root / venue / symbol_dir(symbol)
        if kind in BAR_KINDS:
            if timeframe is None:
                raise ConfigError(f"{kind} data needs a timeframe such as 5m or 1h")
            timeframe_ms(timeframe)
            return base / kind / f"{timeframe}.parquet"
        if timeframe is not None:
            raise ConfigError(f"{kind} data has no timeframe (got {timeframe!r})")
        return base / f"{kind}.parquet"

    def write(
        self,
        venue: str,
        symbol: str,
        kind: str,
        series: Series,
        timeframe: str | None = None,
    ) -> CatalogEntry:
        """Merge ``series`` into the stored series (incoming rows win) and replace it atomically."""
        if not isinstance(series, check_kind(kind)):
            raise ConfigError(f"a {type(series).__name__} cannot be stored as {kind} data")
        if isinstance(series, OhlcvSeries):
            if timeframe is not None and series.timeframe not in (None, timeframe):
                raise ConfigError(f"series timeframe {series.timeframe} is not {timeframe}")
            timeframe = timeframe or series.timeframe
            series = dataclasses.replace(series, timeframe=timeframe)
        path = self.path(venue, symbol, kind, timeframe)
        merged = series
        if path.exists():
            merged = _merge(self._read(path, venue, symbol, kind), series)
        merged, _ = validate(dataclasses.replace(merged, source=str(path)))
        meta = {
            "venue": venue,
            "symbol": symbol,
            "kind": kind,
            "timeframe": timeframe,
            "volume_is_quote": bool(getattr(merged, "volume_is_quote", False)),
            "version": _FORMAT_VERSION,
        }
        table = pa.table(merged.columns()).replace_schema_metadata(
            {_META_KEY: json.dumps(meta).encode()}
        )
        _write_atomically(table, path)
        return CatalogEntry(
            venue, symbol, kind, timeframe, len(merged), merged.first_ms, merged.last_ms, path
        )

    def load(
        self,
        venue: str,
        symbol: str,
        kind: str,
        timeframe: str | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> Series:
        """Return the stored series, optionally only ``start_ms <= ts_ms < end_ms``."""
        path = self.path(venue, symbol, kind, timeframe)
        if not path.exists():
            what = " ".join(p for p in (venue, symbol, kind, timeframe) if p)
            raise ConfigError(
                f"no {what} data in the catalog; import or download it first", where=str(path)
            )
        return self._read(path, venue, symbol, kind).slice(start_ms, end_ms)

    def last_timestamp(
        self, venue: str, symbol: str, kind: str, timeframe: str | None = None
    ) -> int | None:
        """Return the last stored ``ts_ms`` of a series, or None when nothing is stored."""
        path = self.path(venue, symbol, kind, timeframe)
        if not path.exists():
            return None
        ts = _read_table(path, columns=["ts_ms"]).column("ts_ms").to_numpy()
        return int(ts[-1]) if len(ts) else None

    def entries(self) -> list[CatalogEntry]:
        """List every stored series, sorted by venue, symbol, kind and timeframe."""
        found: list[CatalogEntry] = []
        if not self.root.exists():
            return found
        if not self.root.is_dir():
            raise ConfigError("is not a folder", where=f"catalog {self.root}")
        for path in sorted(self.root.rglob("*.parquet")):
            if path.name.startswith("."):
                continue
            meta = _metadata(path)
            ts = _read_table(path, columns=["ts_ms"]).column("ts_ms").to_numpy()
            found.append(
                CatalogEntry(
                    meta["venue"],
                    meta["symbol"],
                    meta["kind"],
                    meta["timeframe"],
                    len(ts),
                    int(ts[0]) if len(ts) else None,
                    int(ts[-1]) if len(ts) else None,
                    path,
                )
            )
        return sorted(found, key=lambda e: (e.venue, e.symbol, e.kind, e.timeframe or ""))

    def _read(self, path: Path, venue: str, symbol: str, kind: str) -> Series:
        meta = _metadata(path)
        if (meta["venue"], meta["symbol"], meta["kind"]) != (venue, symbol, kind):
            raise DataError(
                f"holds {meta['venue']} {meta['symbol']} {meta['kind']}, "
                f"not {venue} {symbol} {kind}",
                source=str(path),
            )
        table = _read_table(path)
        series_type = check_kind(kind)
        missing = [name for name in series_type.ARRAYS if name not in table.column_names]
        if missing:
            raise DataError(f"missing column(s) {', '.join(missing)}", source=str(path))
        columns = {name: table.column(name).to_numpy() for name in series_type.ARRAYS}
        extra: dict[str, object] = {"source": str(path)}
        if series_type is OhlcvSeries:
            volume_is_quote = meta.get("volume_is_quote", False)
            extra |= {"timeframe": meta["timeframe"], "volume_is_quote": volume_is_quote}
        return series_type(**columns, **extra)  # type: ignore[arg-type]


def _merge(old: Series, new: Series) -> Series:
    """Return the union by timestamp of ``old`` and ``new``, ``new`` winning, sorted by time."""
    quote_volume = (getattr(old, "volume_is_quote", False), getattr(new, "volume_is_quote", False))
    if quote_volume[0] != quote_volume[1]:
        raise DataError("volume units differ from the stored series", source=old.source)
    keep = ~np.isin(old.ts_ms, new.ts_ms)
    old_columns, new_columns = old.columns(), new.columns()
    joined = {
        name: np.concatenate((old_columns[name][keep], new_columns[name])) for name in old_columns
    }
    order = np.argsort(joined["ts_ms"], kind="stable")
    return new.with_columns(**{name: array[order] for name, array in joined.items()})


def _metadata(path: Path) -> dict[str, Any]:
    try:
        raw = (pq.read_schema(path).metadata or {}).get(_META_KEY)
    except (OSError, pa.ArrowException) as exc:
        raise DataError(f"unreadable Parquet file ({_one_line(exc)})", source=str(path)) from None
    if raw is None:
        raise DataError("not an xmargin catalog file (no metadata)", source=str(path))
    try:
        meta = json.loads(raw)
    except (ValueError, RecursionError):
        raise DataError("unreadable xmargin metadata (not JSON)", source=str(path)) from None
    if not isinstance(meta, dict) or not all(
        isinstance(meta.get(key), str) for key in ("venue", "symbol", "kind")
    ):
        raise DataError("xmargin metadata lacks its venue, symbol or kind", source=str(path))
    if not isinstance(meta.get("timeframe"), str | None) or not isinstance(
        meta.get("volume_is_quote", False), bool
    ):
        raise DataError("xmargin metadata has a bad timeframe or volume unit", source=str(path))
    return meta


def _one_line(exc: Exception) -> str:
    """Arrow's message without its line breaks, so the CLI still prints one line."""
    return " ".join(str(exc).split())


def _read_table(path: Path, columns: list[str] | None = None) -> pa.Table:
    try:
        return pq.read_table(path, columns=columns)
    except (OSError, pa.ArrowException) as exc:
        raise DataError(f"unreadable Parquet file ({_one_line(exc)})", source=str(path)) from None


def _write_atomically(table: pa.Table, path: Path) -> None:
    """Write to a temporary sibling, flush it to disk, then rename it over ``path``."""
    make_output_dir(path.parent)
    write_file(path, lambda handle: pq.write_table(table, handle, compression="zstd"))
