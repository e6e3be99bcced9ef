"""A missing system program skips a test locally but fails it under CI=true."""

from __future__ import annotations

import pytest

from xmargin.testing.system import require


def test_missing_program_fails_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true: this test must not be skipped"):
        require(False, "initdb not found")


def test_missing_program_skips_locally(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="initdb not found"):
        require(False, "initdb not found")


def test_present_program_neither_skips_nor_fails(monkeypatch):
    monkeypatch.setenv("CI", "true")
    require(True, "unused")
