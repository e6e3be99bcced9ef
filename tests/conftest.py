"""Suite-wide fixtures: a private user data directory, and the two database engines.

Every test runs with ``XDG_DATA_HOME`` pointing into its own temporary directory and without
``XMARGIN_DATABASE_URL``, so nothing writes the real embedded database under ``~``.

``db_url`` is parametrised over SQLite and a real PostgreSQL server: a throwaway cluster
started once per session (see ``xmargin.testing.postgres``) with a fresh database per test.
Without PostgreSQL binaries the PostgreSQL cases skip locally and FAIL under ``CI=true``:
CI must never pass by silently testing only SQLite.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.pack import DATA_PACK, MISSING

from xmargin.testing.postgres import INSTALL_HINT, ThrowawayPostgres, find_binaries
from xmargin.testing.system import require

_databases = itertools.count(1)


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
    """Return the market-data pack's directory, skipping the test when it is absent."""
    if not (DATA_PACK / "README.md").is_file():
        pytest.skip(MISSING)
    return DATA_PACK
