"""Turn a config's ``[[data]]`` tables into feed sources: files, the catalog, or fallbacks.

File paths are relative to the data directory: ``--data-dir``, else ``run.data_dir``, else
the data pack (``xmargin.data.pack``: ``$XMARGIN_DATA_DIR``, else ``shared/data`` above
the config).
With ``fallback``, a missing file is downloaded through ccxt into the catalog, and failing
that replaced by the documented synthetic market (each step is announced).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow

from xmargin.backtest.feed import FeedSource
from xmargin.core.errors import ConfigError
from xmargin.data.catalog import Catalog
from xmargin.data.loaders import load_file
from xmargin.data.pack import find_pack
from xmargin.data.series import Series, timeframe_ms
from xmargin.data.synthetic import aggregate_bars, synthetic_funding, synthetic_ohlcv
from xmargin.engine.config import DataConfig, RunConfig

Notice = Callable[[str], None]
CCXT_IDS = {
    "binance_usdm_cross": "binanceusdm",
    "binance_cross_margin": "binance",
    "bybit_uta_cross": "bybit",
    "hyperliquid_cross": "hyperliquid",
}


def data_root(config: RunConfig, explicit: Path | None = None) -> Path | None:
    """Return the directory relative data paths are resolved against."""
    if explicit is not None:
        return explicit
    if config.data_dir is not None:
        return config.data_dir
    return find_pack(config.path.parent)


def load_sources(
    config: RunConfig,
    *,
    data_dir: Path | None = None,
    fallback: bool = False,
    notices: Notice | None = None,
) -> list[FeedSource]:
    """Load every data table of the config into a feed source."""
    root = data_root(config, data_dir)
    say = notices or (lambda _message: None)
    sources = []
    for item in config.data:
        series = _load(item, config, root, fallback, say)
        sources.append(FeedSource(item.kind, item.venue, item.symbol, series, item.timeframe))
        # Return the CSV parser's freed buffers to the system before the run: its pool keeps
        # them otherwise, tens of MiB per year of 1-minute bars, for the whole run.
        pyarrow.default_memory_pool().release_unused()
    return sources


def _load(
    item: DataConfig, config: RunConfig, root: Path | None, fallback: bool, say: Notice
) -> Series:
    if item.path is None:
        catalog = Catalog(config.catalog) if config.catalog else Catalog()
        return catalog.load(item.venue, item.symbol, item.kind, item.timeframe)
    path = item.path if item.path.is_absolute() or root is None else root / item.path
    if path.exists():
        loaded = load_file(
            path,
            venue=item.venue,
            symbol=item.symbol,
            kind=item.kind,
            timeframe=item.timeframe,
            repair=item.repair,
        )
        return loaded[0].series
    if not fallback:
        raise ConfigError(f"data file not found: {path}", where=f"{item.where}.path")
    say(f"{path} is missing; trying to download {item.symbol} {item.kind} through ccxt")
    try:
        return _download(item, config)
    except Exception as exc:
        say(
            f"download failed ({type(exc).__name__}: {exc}); using the synthetic market "
            "documented in xmargin/data/synthetic.py instead"
        )
    return _synthetic(item, config)


def _download(item: DataConfig, config: RunConfig) -> Series:
    # ccxt is large (tens of MiB resident): imported only when a download is attempted.
    from xmargin.data.download import download, make_exchange, parse_kinds  # noqa: PLC0415

    venue = next(v for v in config.venues if v.id == item.venue)
    exchange_id = CCXT_IDS.get(venue.accounts[0].model.venue, item.venue)
    catalog = Catalog(config.catalog) if config.catalog else Catalog()
    kind = item.kind if item.kind == "funding" else f"{item.kind}:{item.timeframe}"
    since = config.start_ms or 0
    download(
        make_exchange(exchange_id),
        item.symbol,
        since,
        parse_kinds(kind),
        catalog,
        until_ms=config.end_ms,
    )
    return catalog.load(exchange_id, item.symbol, item.kind, item.timeframe)


def _synthetic(item: DataConfig, config: RunConfig) -> Series:
    start = config.start_ms or 1_735_689_600_000
    end = config.end_ms or start + 30 * 86_400_000
    if item.kind == "funding":
        return synthetic_funding(start, end)
    minutes = synthetic_ohlcv(
        max(1, (end - start) // timeframe_ms("1m")),
        timeframe="1m",
        start_ms=start,
        seed=config.seed,
    )
    timeframe = item.timeframe or "1m"
    return minutes if timeframe == "1m" else aggregate_bars(minutes, timeframe)
