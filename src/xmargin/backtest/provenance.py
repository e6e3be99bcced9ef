"""The data files a run read, with their SHA-256, and a check of them at replay time."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from xmargin.backtest.sources import data_root
from xmargin.engine.config import RunConfig

_CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def data_manifest(config: RunConfig, data_dir: Path | None) -> list[dict[str, Any]]:
    """Each ``[[data]]`` table with the file it resolves to and that file's SHA-256."""
    root = data_root(config, data_dir)
    manifest = []
    for item in config.data:
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
        manifest.append(entry)
    return manifest


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
