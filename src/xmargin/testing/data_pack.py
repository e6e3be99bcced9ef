"""Where the tests find the market-data pack: ``$XMARGIN_DATA_DIR``, else the first
``shared/data`` above this checkout (``../shared/data`` next to it, as CI has it)."""

from __future__ import annotations

import os
from pathlib import Path

_REPO = Path(__file__).resolve().parents[3]


def find_data_pack() -> Path:
    """Return the data pack's directory (which may not exist: tests then skip)."""
    configured = os.environ.get("XMARGIN_DATA_DIR")
    if configured:
        return Path(configured)
    for parent in _REPO.parents:
        candidate = parent / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return _REPO.parent / "shared" / "data"


DATA_PACK = find_data_pack()
