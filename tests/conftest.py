"""Suite-wide fixtures: a private user data directory, and the two database engines.

Every test runs with ``XDG_DATA_HOME`` pointing into its own temporary directory and without
``XMARGIN_DATABASE_URL``, so nothing writes the real embedded database under ``~``.

``db_url`` is parametrised over SQLite and a real PostgreSQL server: a throwaway cluster
started once per session (see ``xmargin.testing.postgres``) with a fresh database per test.
Without PostgreSQL binaries the PostgreSQL cases skip locally and FAIL under ``CI=true``:
CI must never pass by silently testing only SQLite. Tests marked ``needs_pack`` (or using the
``pack`` fixture) skip without the market-data pack locally and fail under ``CI=true``.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.pack import DATA_PACK, MISSING, PRESENT

from xmargin.testing.postgres import INSTALL_HINT, ThrowawayPostgres, find_binaries
from xmargin.testing.system import require

_databases = itertools.count(1)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "needs_pack: the test reads the market-data pack")


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("needs_pack") is not None:
        require(PRESENT, MISSING)


@pytest.fixture(autouse=True)
def _private_user_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.delenv("XMARGIN_DATABASE_URL", raising=False)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[ThrowawayPostgres]:
    require(find_binaries() is not None, INSTALL_HINT)
    with ThrowawayPostgres() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database: an SQLite file, or a new database on the test server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'runs.db'}"
        return
    server: ThrowawayPostgres = request.getfixturevalue("postgres_server")
    with server.database(f"xmargin_test_{os.getpid()}_{next(_databases)}") as url:
        yield url


@pytest.fixture(scope="session")
def pack() -> Path:
    """Return the market-data pack's directory; without it skip, or fail under ``CI=true``."""
    require(PRESENT, MISSING)
    return DATA_PACK
