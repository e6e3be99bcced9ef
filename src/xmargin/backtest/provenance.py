"""The data files a run read, with their SHA-256, where each table came from, and a check of
them at replay time.

An entry's ``origin`` is ``file``, ``catalog``, ``download`` (fetched by ``--data-fallback``
into the catalog) or ``synthetic`` (the synthetic market of ``xmargin/data/synthetic.py``
stood in for a missing file: the run is not on real data, and ``runs show`` and
``runs replay`` say so).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from xmargin.backtest.sources import SYNTHETIC, data_root
from xmargin.engine.config import RunConfig

_CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def data_manifest(
    config: RunConfig, data_dir: Path | None, origins: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """Each ``[[data]]`` table with the file it resolves to and that file's SHA-256, and
    (once the data is loaded) where the table came from."""
    root = data_root(config, data_dir)
    manifest = []
    for i, item in enumerate(config.data):
        entry: dict[str, Any] = {
            "venue": item.venue,
            "symbol": item.symbol,
            "kind": item.kind,
            "timeframe": item.timeframe,
        }
        if item.path is not None:
            path = item.path if item.path.is_absolute() or root is None else root / item.path
            entry["path"] = str(path)
            entry["sha256"] = file_sha256(path) if path.is_file() else None
        if i < len(origins):
            entry["origin"] = origins[i]
        manifest.append(entry)
    return manifest


def recorded_origins(manifest: Iterable[Mapping[str, Any]]) -> list[str | None]:
    """Where each table of a stored run came from (None where the run did not record it)."""
    return [
        entry.get("origin") if isinstance(entry.get("origin"), str) else None for entry in manifest
    ]


def synthetic_tables(manifest: Iterable[Mapping[str, Any]]) -> list[str]:
    """The tables a stored run took from the synthetic market, e.g. ``binance BTC/USDT:USDT
    ohlcv 5m``."""
    return [
        " ".join(
            str(part) for part in (e["venue"], e["symbol"], e["kind"], e.get("timeframe")) if part
        )
        for e in manifest
        if e.get("origin") == SYNTHETIC
    ]


def changed_data(manifest: Iterable[Mapping[str, Any]]) -> list[str]:
    """Recorded data files whose content is now different, or that are gone."""
    changed = []
    for entry in manifest:
        path, expected = entry.get("path"), entry.get("sha256")
        if not isinstance(path, str) or not isinstance(expected, str):
            continue
        file = Path(path)
        if not file.is_file():
            changed.append(f"{path} (missing)")
        elif file_sha256(file) != expected:
            changed.append(f"{path} (content changed)")
    return changed
