"""The market-data pack as the tests find it (``xmargin.data.pack``); one way to mark a test that
needs it: without the pack such a test skips locally and fails under ``CI=true``."""

from __future__ import annotations

import pytest

from xmargin.data.pack import CHECKOUT, find_pack

DATA_PACK = find_pack() or CHECKOUT.parent / "shared" / "data"
MISSING = (
    f"the market-data pack is not at {DATA_PACK}: put it at ../shared/data or set XMARGIN_DATA_DIR"
)
PRESENT = (DATA_PACK / "README.md").is_file()
needs_pack = pytest.mark.needs_pack
