"""Which database a command uses: ``--db URL``, else ``$XMARGIN_DATABASE_URL``, else the file.

The embedded default is an SQLite file under the user data directory:
``$XDG_DATA_HOME/xmargin/xmargin.db`` (``~/.local/share/xmargin/xmargin.db`` when
``XDG_DATA_HOME`` is unset). A bare path (no ``scheme://``) is taken as an SQLite file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from xmargin.core.errors import ConfigError

ENV_URL = "XMARGIN_DATABASE_URL"
DB_HELP = (
    "Database URL: sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST/DB "
    f"(default: ${ENV_URL}, else the embedded SQLite file under the user data directory)."
)


def default_database_path(env: Mapping[str, str] | None = None) -> Path:
    """The embedded database file: ``$XDG_DATA_HOME/xmargin/xmargin.db``."""
    env = os.environ if env is None else env
    base = env.get("XDG_DATA_HOME") or str(Path(env.get("HOME") or Path.home()) / ".local/share")
    return Path(base).expanduser() / "xmargin" / "xmargin.db"


def resolve_database_url(explicit: str | None, env: Mapping[str, str] | None = None) -> str:
    """Return the URL to use: ``explicit``, else ``$XMARGIN_DATABASE_URL``, else the file."""
    env = os.environ if env is None else env
    chosen = explicit or env.get(ENV_URL) or ""
    if not chosen:
        return f"sqlite:///{default_database_path(env)}"
    if "://" not in chosen:
        return f"sqlite:///{Path(chosen).expanduser().resolve()}"
    if _in_memory(chosen):
        raise ConfigError(
            f"{chosen} is an in-memory SQLite database: the run would not persist; give a file "
            "(sqlite:///PATH) or use --no-db",
            where="--db" if explicit else ENV_URL,
        )
    return chosen


def _in_memory(url: str) -> bool:
    """Whether ``url`` names SQLite's in-memory database (``sqlite://``, ``sqlite:///``)."""
    scheme, _, rest = url.strip().partition("://")
    if not scheme.lower().startswith("sqlite"):
        return False
    database = rest[1:] if rest.startswith("/") else rest
    return database.split("?", 1)[0] in ("", ":memory:")
