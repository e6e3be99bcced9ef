"""Estimate the covariance of an account's asset log returns from the real data pack.

Asset → pack file: BTC, ETH, SOL and XRP → ``binance_usdm_perp/<ASSET>USDT_perp_5m.csv.gz``
(Binance USDⓈ-M last-trade 5m bars, 2024-12-31 → 2026-02-19). Closes are resampled to the
last close of each UTC hour; the log returns between consecutive hours that every asset
has give the sample covariance (``ddof = 1``), times 24 for a per-day covariance (returns
taken as independent from hour to hour).

Stablecoins (``stress.STABLECOINS``) get zero variance, so no random shock: a de-peg is a
deterministic scenario (``--mc-scenario`` applies one to every Monte Carlo draw). Any other
asset without pack data is a ``ConfigError`` naming it, unless it is mapped to a proxy with
``--proxy DOGE=BTC``: it then takes the proxy's return series (same volatility, correlation
1 with the proxy).

The pack is the directory given, else the one ``xmargin.data.pack`` finds from the start
paths (the account file).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from xmargin.core.errors import ConfigError, DataError
from xmargin.data.loaders import read_ohlcv
from xmargin.data.pack import find_pack
from xmargin.data.series import MS_PER_HOUR
from xmargin.risk.stress import STABLECOINS

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
PACK_FILES: Mapping[str, str] = {
    asset: f"binance_usdm_perp/{asset}USDT_perp_5m.csv.gz" for asset in ("BTC", "ETH", "SOL", "XRP")
}
HOURS_PER_DAY = 24
STABLE_SOURCE = "stablecoin: no random shock"


@dataclass(frozen=True)
class Covariance:
    """A per-day covariance of log returns over ``assets`` and where each series came from."""

    assets: tuple[str, ...]
    daily: Floats
    sources: Mapping[str, str]
    hours: int  # hourly returns used
    first_ms: int | None = None
    last_ms: int | None = None

    def volatility(self) -> dict[str, float]:
        """Return each asset's daily volatility (standard deviation of the daily log return)."""
        return {a: float(np.sqrt(self.daily[i, i])) for i, a in enumerate(self.assets)}


def find_data_dir(explicit: Path | None, starts: Iterable[Path] = ()) -> Path:
    """Return the data pack directory, or raise a ``ConfigError`` saying how to give it."""
    if explicit is not None:
        if not explicit.is_dir():
            raise ConfigError("not a directory", where=f"--data-dir {explicit}")
        return explicit
    pack = find_pack(*starts)
    if pack is not None:
        return pack
    raise ConfigError(
        "cannot find the data pack (shared/data); give --data-dir or set XMARGIN_DATA_DIR",
        where="--monte-carlo",
    )


@lru_cache(maxsize=16)
def hourly_closes(path: Path) -> tuple[Ints, Floats]:
    """Return the UTC hours (ms) and the last close within each hour of a bar file."""
    series, _ = read_ohlcv(path)
    hours = series.ts_ms // MS_PER_HOUR
    last = np.flatnonzero(np.diff(hours) != 0)
    last = np.append(last, hours.size - 1)
    return hours[last] * MS_PER_HOUR, np.asarray(series.close[last], dtype=np.float64)


def estimate_covariance(
    assets: Iterable[str], data_dir: Path, *, proxies: Mapping[str, str] | None = None
) -> Covariance:
    """Estimate the per-day covariance of ``assets`` from the pack (module doc)."""
    assets = tuple(assets)
    proxies = dict(proxies or {})
    files: dict[str, str] = {}
    sources: dict[str, str] = {}
    for asset in assets:
        if asset in STABLECOINS:
            sources[asset] = STABLE_SOURCE
            continue
        proxy = proxies.get(asset, asset)
        if proxy not in PACK_FILES:
            known = ", ".join(PACK_FILES)
            raise ConfigError(
                f"no price data in the pack for {proxy} (the pack has {known}); "
                f"map it to one with --proxy {proxy}=BTC",
                where="--monte-carlo",
            )
        files[asset] = PACK_FILES[proxy]
        sources[asset] = files[asset] if proxy == asset else f"proxy {proxy}: {files[asset]}"
    daily = np.zeros((len(assets), len(assets)))
    if not files:
        return Covariance(assets, daily, sources, 0)
    series = {}
    for asset, name in files.items():
        path = data_dir / name
        if not path.is_file():
            raise ConfigError(f"missing pack file {name}", where=f"data dir {data_dir}")
        series[asset] = hourly_closes(path)
    common = series[next(iter(series))][0]
    for hours, _ in series.values():
        common = np.intersect1d(common, hours, assume_unique=True)
    consecutive = np.flatnonzero(np.diff(common) == MS_PER_HOUR)
    if consecutive.size < 2 * len(files):
        raise DataError(
            f"only {consecutive.size} common hourly returns for {', '.join(files)}",
            source=str(data_dir),
        )
    columns = []
    for hours, closes in series.values():
        logs = np.log(closes[np.searchsorted(hours, common)])
        columns.append(logs[consecutive + 1] - logs[consecutive])
    matrix = np.atleast_2d(np.cov(np.vstack(columns), ddof=1)) * HOURS_PER_DAY
    index = [assets.index(asset) for asset in files]
    daily[np.ix_(index, index)] = matrix
    return Covariance(
        assets, daily, sources, int(consecutive.size), int(common[0]), int(common[-1])
    )
