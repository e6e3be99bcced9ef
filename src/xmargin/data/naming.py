"""Tell venue, symbol, kind and timeframe from the data pack's file names.

Venues are ccxt exchange ids (``binanceusdm`` for Binance USDⓈ-M, ``binance`` for Binance
spot) and symbols ccxt unified symbols (``BTC/USDT:USDT`` a linear perpetual, ``BTC/USDT``
spot). Funding files hold several symbols in a ``symbol`` column, so their spec has no
symbol; :func:`native_symbol_to_ccxt` turns a venue-native name in such a column
(``BTCUSDT``, ``BTC-PERP``) into the ccxt one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from xmargin.core.errors import ConfigError
from xmargin.data.series import MS_PER_HOUR, check_kind, timeframe_ms

_QUOTES = ("USDT", "USDC", "FDUSD", "BUSD", "TUSD", "USD", "BTC", "ETH")
_TF = r"(?P<tf>\d+[mhdw])"
_PAIR = r"(?P<pair>[A-Z0-9]+)"


@dataclass(frozen=True)
class FileSpec:
    """What a file holds; ``symbol`` is None for a multi-symbol funding file.

    ``interval_h`` is the funding interval the name states, for files without that column.
    """

    venue: str | None
    symbol: str | None
    kind: str | None
    timeframe: str | None
    interval_h: int | None = None


def split_pair(pair: str) -> tuple[str, str]:
    """Split a concatenated pair such as ``USDCUSDT`` into ``("USDC", "USDT")``."""
    for quote in _QUOTES:
        if pair.endswith(quote) and len(pair) > len(quote):
            return pair[: -len(quote)], quote
    raise ConfigError(f"cannot tell base and quote currency of {pair!r}")


def _spot(pair: str) -> str:
    base, quote = split_pair(pair)
    return f"{base}/{quote}"


def _perp(pair: str) -> str:
    base, quote = split_pair(pair)
    return f"{base}/{quote}:{quote}"


def native_symbol_to_ccxt(raw: str) -> str:
    """Return the ccxt symbol of a perpetual named in a funding file's ``symbol`` column."""
    if "/" in raw:
        return raw
    if raw.endswith("-PERP"):
        base = raw.removesuffix("-PERP")
        return f"{base}/USD:USD"
    return _perp(raw.replace("-SWAP", "").replace("-", ""))


# (pattern, venue, market, kind); market "perp"/"spot"/None says how to build the symbol.
_RULES: tuple[tuple[str, str, str | None, str], ...] = (
    (rf"{_PAIR}_perp_mark_{_TF}", "binanceusdm", "perp", "mark"),
    (rf"{_PAIR}_perp_{_TF}", "binanceusdm", "perp", "ohlcv"),
    (rf"{_PAIR}_spot_{_TF}", "binance", "spot", "ohlcv"),
    (r"funding_rates_(?P<tf>8h)", "binanceusdm", None, "funding"),
    (rf"binance_spot_{_PAIR}_{_TF}", "binance", "spot", "ohlcv"),
    (rf"binance_spot_{_PAIR}_(?P<kind>trades|quotes)_[0-9-]+", "binance", "spot", ""),
    (rf"binance_{_PAIR}_funding_{_TF}(_.*)?", "binanceusdm", None, "funding"),
    (rf"bybit_{_PAIR}_perp_mark_{_TF}", "bybit", "perp", "mark"),
    (rf"bybit_{_PAIR}_perp_{_TF}", "bybit", "perp", "ohlcv"),
    (rf"bybit_linear_funding_{_TF}", "bybit", None, "funding"),
    (rf"hyperliquid_{_PAIR}_perp_mark_{_TF}", "hyperliquid", "perp", "mark"),
    (rf"hyperliquid_{_PAIR}_perp_{_TF}", "hyperliquid", "perp", "ohlcv"),
    (rf"hyperliquid_funding_{_TF}", "hyperliquid", None, "funding"),
    (rf"okx_{_PAIR}_swap_mark_{_TF}", "okx", "perp", "mark"),
    (rf"okx_{_PAIR}_swap_{_TF}", "okx", "perp", "ohlcv"),
    (rf"okx_swap_funding_{_TF}", "okx", None, "funding"),
    (rf"ftx_spot_{_PAIR}_{_TF}", "ftx", "spot", "ohlcv"),
    (rf"ftx_(?P<base>[A-Z0-9]+)-PERP_funding_{_TF}(_.*)?", "ftx", None, "funding"),
    (rf"kucoin_spot_{_PAIR}_{_TF}(_.*)?", "kucoin", "spot", "ohlcv"),
    (
        rf"hftbacktest_binance_(?P<market>usdm|spot)_{_PAIR}_(?P<kind>trades|bbo)_[0-9-]+",
        "",
        None,
        "",
    ),
)
_COMPILED = tuple(
    (re.compile(pattern), venue, market, kind) for pattern, venue, market, kind in _RULES
)
_TICK_KINDS = {"trades": "trades", "bbo": "quotes", "quotes": "quotes"}


def file_stem(path: str | Path) -> str:
    """Return the file name without ``.csv``/``.csv.gz``."""
    name = Path(path).name
    for suffix in (".csv.gz", ".csv"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def infer_spec(path: str | Path) -> FileSpec:
    """Return what the pack file name says; unknown names yield at most a timeframe."""
    stem = file_stem(path)
    for pattern, rule_venue, rule_market, rule_kind in _COMPILED:
        match = pattern.fullmatch(stem)
        if match is None:
            continue
        venue, market, kind = rule_venue, rule_market, rule_kind
        groups = match.groupdict()
        if groups.get("market"):
            spot = groups["market"] == "spot"
            venue = "binance" if spot else "binanceusdm"
            market = "spot" if spot else "perp"
        if groups.get("kind"):
            kind = _TICK_KINDS[groups["kind"]]
        symbol = None
        if market is not None:
            symbol = _spot(groups["pair"]) if market == "spot" else _perp(groups["pair"])
        if kind == "funding":
            hours = timeframe_ms(groups["tf"]) // MS_PER_HOUR if groups.get("tf") else 8
            return FileSpec(venue, symbol, kind, None, hours)
        return FileSpec(venue, symbol, kind, groups.get("tf"))
    tokens = [token for token in stem.split("_") if re.fullmatch(_TF, token)]
    return FileSpec(None, None, None, tokens[0] if len(tokens) == 1 else None)


def resolve_spec(
    path: str | Path,
    *,
    venue: str | None = None,
    symbol: str | None = None,
    kind: str | None = None,
    timeframe: str | None = None,
) -> FileSpec:
    """Combine explicit choices (which win) with what the name says; demand what is missing."""
    inferred = infer_spec(path)
    spec = replace(
        inferred,
        venue=venue or inferred.venue,
        symbol=symbol or inferred.symbol,
        kind=kind or inferred.kind,
        timeframe=timeframe or inferred.timeframe,
    )
    if spec.kind is not None:
        check_kind(spec.kind)
    if spec.timeframe is not None:
        step = timeframe_ms(spec.timeframe)
        if spec.kind == "funding":
            spec = replace(spec, timeframe=None, interval_h=max(1, step // MS_PER_HOUR))
    if spec.kind in {"funding", "trades", "quotes"}:
        spec = replace(spec, timeframe=None)
    missing = [
        name for name, value in (("venue", spec.venue), ("kind", spec.kind)) if value is None
    ]
    if spec.kind != "funding" and spec.symbol is None:
        missing.append("symbol")
    if spec.kind in {"ohlcv", "mark", "index"} and spec.timeframe is None:
        missing.append("timeframe")
    if missing:
        options = ", ".join(f"--{name}" for name in missing)
        raise ConfigError(
            f"cannot tell the {', '.join(missing)} from the file name; pass {options}",
            where=str(path),
        )
    return spec
