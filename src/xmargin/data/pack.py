"""Find the market-data pack, the ``shared/data`` folder that sits beside a checkout.

Looked up in order: ``$XMARGIN_DATA_DIR``; the first ``shared/data`` found walking up from
each start path, the current directory and this checkout; and, for a clone of a local
checkout (``git clone /work/main /tmp/x``), the ``shared/data`` beside the checkout it was
cloned from. No folder above ``CEILING`` is searched when it is set (as git's ceiling
directories), so a search can be confined to a known tree.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[3]
CEILING: Path | None = None


def find_pack(*starts: Path) -> Path | None:
    """Return the data pack's directory, or ``None`` if there is none to be found."""
    if os.environ.get("XMARGIN_DATA_DIR"):
        return Path(os.environ["XMARGIN_DATA_DIR"])
    return _above(*starts, Path.cwd(), CHECKOUT) or _above(*_cloned_from())


def _above(*starts: Path) -> Path | None:
    for start in starts:
        resolved = start.resolve()
        for parent in (resolved, *resolved.parents):
            if CEILING is not None and not parent.is_relative_to(CEILING):
                break
            candidate = parent / "shared" / "data"
            if candidate.is_dir():
                return candidate
    return None


def _cloned_from() -> list[Path]:
    """Return the local checkout this one was cloned from, if it was cloned from a path."""
    try:
        url = subprocess.run(
            ["git", "-C", str(CHECKOUT), "config", "--get", "remote.origin.url"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return []
    url = url.removeprefix("file://")
    if not url or "://" in url or ("@" in url and ":" in url):
        return []
    origin = (CHECKOUT / url).resolve()
    return [origin] if origin.is_dir() else []
