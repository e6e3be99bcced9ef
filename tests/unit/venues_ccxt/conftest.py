"""ccxt sets the thread's decimal context when it rounds (ROUND_HALF_UP, Underflow trapped):
every test here lets it change a copy, so the rest of the suite keeps Python's default."""

from __future__ import annotations

import decimal
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def decimal_context_kept() -> Iterator[None]:
    with decimal.localcontext():
        yield
