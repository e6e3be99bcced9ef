"""Data-layer fixtures: the real data pack (skipped when absent) and the fake exchange."""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[3]


@functools.cache
def _load_fake_exchange() -> ModuleType:
    path = Path(__file__).with_name("fake_exchange.py")
    spec = importlib.util.spec_from_file_location("xmargin_tests_fake_exchange", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def fake_exchange_module(pack: Path) -> ModuleType:
    """Return the fake-exchange module (it serves rows from the pack)."""
    return _load_fake_exchange()
