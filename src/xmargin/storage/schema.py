"""Schema versions: create a new database, upgrade an older one, refuse a foreign one.

Alembic revisions live in ``xmargin/storage/migrations/versions``. A database with no tables
is created at the head revision; one at an older revision is upgraded in one transaction
(its data kept: nothing is ever dropped and recreated); one with tables but no xmargin
revision, or a revision this code does not know, is refused with a clear error.
"""

from __future__ import annotations

import logging

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from xmargin.core.errors import ConfigError, DataError
from xmargin.storage.database import Database

log = logging.getLogger(__name__)

SCRIPT_LOCATION = "xmargin.storage:migrations"
VERSION_TABLE = "alembic_version"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def known_revisions() -> list[str]:
    """Every revision, oldest first."""
    script = ScriptDirectory.from_config(alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def inspect_schema(db: Database) -> tuple[str | None, list[str]]:
    """Return the database's revision (None if unversioned) and its table names."""
    with db.read() as connection:
        tables = sorted(inspect(connection).get_table_names())
        revision = current_revision(connection) if VERSION_TABLE in tables else None
    return revision, tables


def ensure_schema(db: Database, target: str = "head") -> tuple[str | None, str | None]:
    """Bring ``db`` to ``target``; return its revision before and after (None: no schema).

    Raises ``DataError`` for a database of another program and ``ConfigError`` for a
    revision this code does not know (made by a newer xmargin).
    """
    revision, tables = inspect_schema(db)
    if revision is None and tables:
        shown = ", ".join(tables[:5]) + (", …" if len(tables) > 5 else "")
        raise DataError(
            f"not an xmargin database: it has tables ({shown}) but no xmargin schema version; "
            "point --db / XMARGIN_DATABASE_URL at another database",
            source=db.display_url,
        )
    known = known_revisions()
    if revision is not None and revision not in known:
        raise ConfigError(
            f"the database is at schema revision {revision!r}, which this xmargin does not "
            f"know (it knows {', '.join(known)}): it was made by a newer xmargin or another "
            "program; upgrade xmargin or use another database",
            where=db.display_url,
        )
    wanted = known[-1] if target == "head" else target
    if wanted not in known:
        raise ConfigError(f"unknown schema revision {target!r} (known: {', '.join(known)})")
    if revision is not None and known.index(revision) >= known.index(wanted):
        return revision, revision
    _upgrade(db, wanted)
    if revision is not None:
        log.info("upgraded %s from schema revision %s to %s", db.display_url, revision, wanted)
    return revision, wanted


def _upgrade(db: Database, target: str) -> None:
    config = alembic_config()
    with db.write() as connection:
        config.attributes["connection"] = connection
        try:
            command.upgrade(config, target)
        except CommandError as exc:
            raise ConfigError(f"cannot migrate the database: {exc}", where=db.display_url) from None
