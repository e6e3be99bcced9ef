"""Tests that need a system program (PostgreSQL, Chromium): skip locally, fail in CI."""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(available: bool, message: str) -> None:
    """Skip the test when ``available`` is false, or fail it when ``CI=true``.

    CI installs every system dependency (scripts/ensure-system-packages.sh), so a missing
    one there is a broken set-up that must not pass as a skip.
    """
    if available:
        return
    if in_ci():
        pytest.fail(f"{message} (CI=true: this test must not be skipped)", pytrace=False)
    pytest.skip(message)
