"""Turn a config's ``[[data]]`` tables into feed sources: files, the catalog, or fallbacks.

File paths are relative to the data directory: ``--data-dir``, else ``run.data_dir``, else
the data pack (``xmargin.data.pack``: ``$XMARGIN_DATA_DIR``, else ``shared/data`` above
the config).
With ``fallback``, a missing file is downloaded through ccxt into the catalog, and failing
that replaced by the documented synthetic market (each step is announced, and where each
table came from is reported so that the run's provenance records it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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


FILE, CATALOG, DOWNLOAD, SYNTHETIC = "file", "catalog", "download", "synthetic"


def load_sources(
    config: RunConfig,
    *,
    data_dir: Path | None = None,
    fallback: bool = False,
    notices: Notice | None = None,
    recorded: Sequence[str | None] = (),
    origins: Callable[[list[str]], None] | None = None,
) -> list[FeedSource]:
    """Load every data table of the config into a feed source.

    ``recorded``: per table, where a stored run got it (its provenance, for a replay):
    ``"synthetic"`` regenerates the synthetic market and ``"download"`` reads the catalog
    the download filled, instead of the file. ``origins`` hears, once every table is
    loaded, where each came from (``file``, ``catalog``, ``download`` or ``synthetic``).
    """
    root = data_root(config, data_dir)
    say = notices or (lambda _message: None)
    sources, found = [], []
    for i, item in enumerate(config.data):
        earlier = recorded[i] if i < len(recorded) else None
        if earlier == SYNTHETIC:
            series, origin = _synthetic(item, config), SYNTHETIC
        elif earlier == DOWNLOAD:
            series, origin = _downloaded(item, config), DOWNLOAD
        else:
            series, origin = _load(item, config, root, fallback, say)
        sources.append(FeedSource(item.kind, item.venue, item.symbol, series, item.timeframe))
        found.append(origin)
        # Return the CSV parser's freed buffers to the system before the run: its pool keeps
        # them otherwise, tens of MiB per year of 1-minute bars, for the whole run.
        pyarrow.default_memory_pool().release_unused()
    if origins is not None:
        origins(found)
    return sources


def _load(
    item: DataConfig, config: RunConfig, root: Path | None, fallback: bool, say: Notice
) -> tuple[Series, str]:
    if item.path is None:
        catalog = Catalog(config.catalog) if config.catalog else Catalog()
        return catalog.load(item.venue, item.symbol, item.kind, item.timeframe), CATALOG
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
        return loaded[0].series, FILE
    if not fallback:
        raise ConfigError(f"data file not found: {path}", where=f"{item.where}.path")
    say(f"{path} is missing; trying to download {item.symbol} {item.kind} through ccxt")
    try:
        return _download(item, config), DOWNLOAD
    except Exception as exc:
        say(
            f"download failed ({type(exc).__name__}: {exc}); using the synthetic market "
            "documented in xmargin/data/synthetic.py instead (not real data: the run's "
            "provenance records it)"
        )
    return _synthetic(item, config), SYNTHETIC


def _download(item: DataConfig, config: RunConfig) -> Series:
    # ccxt is large (tens of MiB resident): imported only when a download is attempted.
    from xmargin.data.download import download, make_exchange, parse_kinds  # noqa: PLC0415

    exchange_id, catalog = _exchange_catalog(item, config)
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


def _downloaded(item: DataConfig, config: RunConfig) -> Series:
    """What an earlier ``--data-fallback`` download put in the catalog."""
    exchange_id, catalog = _exchange_catalog(item, config)
    return catalog.load(exchange_id, item.symbol, item.kind, item.timeframe)


def _exchange_catalog(item: DataConfig, config: RunConfig) -> tuple[str, Catalog]:
    venue = next(v for v in config.venues if v.id == item.venue)
    exchange_id = CCXT_IDS.get(venue.accounts[0].model.venue, item.venue)
    return exchange_id, Catalog(config.catalog) if config.catalog else Catalog()


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
