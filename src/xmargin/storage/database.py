"""Open a database: SQLite (WAL) by file, PostgreSQL by URL; check it, migrate it, mask it.

SQLite connections run in WAL mode with ``synchronous=NORMAL``, foreign keys on and a busy
timeout, so the report (a reader) never blocks a backtest writing its run, and a writer waits
for another writer instead of failing. Write transactions start with ``BEGIN IMMEDIATE``
so two writers queue up front rather than dead-locking on a lock upgrade.

A file that is not an SQLite database, a database of another program, a corrupt file and a
schema newer than this code each raise one clear error; URLs in messages never show a
password.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.pool import StaticPool

from xmargin.core.errors import ConfigError, DataError

log = logging.getLogger(__name__)

SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 30_000
CONNECT_TIMEOUT_S = 10
URL_HELP = "expected sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE"
_CREDENTIALS = re.compile(r"(//[^:/@\s]*:)[^@\s]*@")
# Up to the last ``@`` of the text: a password with an unescaped ``@`` is masked whole.
_ALL_CREDENTIALS = re.compile(r"(//[^:/@\s]*:)\S*@")


def mask_url(url: str | URL) -> str:
    """Return ``url`` with its password replaced by ``***`` (also for URLs that do not parse)."""
    if isinstance(url, URL):
        if url.host and "@" in url.host:
            return _ALL_CREDENTIALS.sub(r"\1***@", url.render_as_string(hide_password=False))
        return url.render_as_string(hide_password=True)
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return _ALL_CREDENTIALS.sub(r"\1***@", url)
    return mask_url(parsed)


def normalize_url(url: str | URL) -> URL:
    """Parse a database URL; ``postgresql://`` and ``postgres://`` mean the psycopg 3 driver."""
    if isinstance(url, URL):
        parsed = url
    else:
        text = url.strip()
        if text.startswith("postgres://"):
            text = "postgresql://" + text[len("postgres://") :]
        try:
            parsed = make_url(text)
        except (ArgumentError, ValueError):
            raise ConfigError(f"not a database URL: {mask_url(text)!r} ({URL_HELP})") from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername not in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
        raise ConfigError(
            f"unsupported database {parsed.drivername!r} in {mask_url(parsed)} ({URL_HELP})"
        )
    if parsed.host and "@" in parsed.host:
        raise ConfigError(
            f"the host of {mask_url(parsed)} holds an '@': write an '@' in the user name or "
            "password as %40"
        )
    return parsed


def sqlite_url(path: Path) -> URL:
    """Return the URL of the SQLite database file at ``path``."""
    return URL.create("sqlite", database=str(path))


@dataclass(eq=False)
class Database:
    """An engine plus what the rest of storage needs to know about it."""

    engine: Engine
    url: URL
    upgraded_from: str | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def display_url(self) -> str:
        """The URL with its password masked, for messages."""
        return mask_url(self.url)

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None (PostgreSQL, in-memory)."""
        database = self.url.database
        if self.dialect != "sqlite" or not database or database == ":memory:":
            return None
        return Path(database)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction (a consistent snapshot; never blocks a writer)."""
        with self._errors(), self.engine.connect() as connection, connection.begin():
            yield connection

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: committed on success, rolled back on any error."""
        with self._errors(), self.engine.connect() as connection:
            connection.execution_options(xmargin_write=True)
            with connection.begin():
                yield connection

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except DBAPIError as exc:
            raise translate_error(exc, self) from None
        except ArgumentError as exc:
            raise ConfigError(
                f"bad database URL parameters: {scrub(str(exc), self.url)} ({URL_HELP})",
                where=self.display_url,
            ) from None

    def dispose(self) -> None:
        self.engine.dispose()


def translate_error(exc: DBAPIError, db: Database) -> Exception:
    """Turn a driver error into one clear xmargin error, or return it unchanged."""
    message = scrub(str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc), db.url)
    lowered = message.lower()
    if "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
        return DataError(
            f"the database is corrupt or not an SQLite file ({message}); restore a backup or "
            "point --db / XMARGIN_DATABASE_URL at another file",
            source=db.display_url,
        )
    if "database is locked" in lowered or "database table is locked" in lowered:
        return DataError(
            f"the database is locked: another program held its write lock for more than "
            f"{BUSY_TIMEOUT_MS / 1000:g} s ({message}); let it finish or stop it, or point --db / "
            "XMARGIN_DATABASE_URL at another database",
            source=db.display_url,
        )
    if "disk is full" in lowered or "no space left" in lowered or "disk full" in lowered:
        return DataError(
            f"the disk is full ({message}); free space on the database's disk or point --db / "
            "XMARGIN_DATABASE_URL at another database",
            source=db.display_url,
        )
    if "disk i/o error" in lowered or "readonly database" in lowered:
        return DataError(
            f"cannot read or write the database file ({message}); check the disk, the file's "
            "permissions and that no other program replaced it, or restore a backup",
            source=db.display_url,
        )
    if exc.connection_invalidated or _is_connect_failure(lowered):
        return ConfigError(
            f"cannot connect to the database: {message}; check the URL, the server and the "
            "credentials",
            where=db.display_url,
        )
    return exc


def _is_connect_failure(message: str) -> bool:
    return any(
        marker in message
        for marker in (
            "connection refused",
            "connection failed",
            "could not connect",
            "password authentication failed",
            "does not exist",
            "unable to open database file",
            "no such host",
            "could not translate host name",
            "failed to resolve host",
            "name or service not known",
            "connection is bad",
            "timeout expired",
            "timed out",
            "server closed the connection",
            "no route to host",
            "network is unreachable",
        )
    )


def scrub(message: str, url: URL) -> str:
    """Remove the URL's password from ``message`` (driver errors may quote the DSN)."""
    password = url.password
    if password:
        # Only where it stands alone, so that a short password does not garble other words.
        alone = rf"(?<![A-Za-z0-9]){re.escape(str(password))}(?![A-Za-z0-9])"
        message = re.sub(alone, "***", message)
    return _CREDENTIALS.sub(r"\1***@", message)


def check_sqlite_file(path: Path) -> None:
    """Refuse a file that exists but is not an SQLite database, before SQLite touches it."""
    if path.is_dir():
        raise ConfigError("is a directory, not a database file", where=str(path))
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ConfigError(
            f"cannot read the database file: {exc.strerror}", where=str(path)
        ) from None
    if header and header != SQLITE_MAGIC:
        raise DataError(
            "not an SQLite database (another program's file?); move it away or point --db / "
            "XMARGIN_DATABASE_URL at another file",
            source=str(path),
        )


def create_database_engine(url: URL) -> Engine:
    """Create the engine with the project's settings for the URL's dialect."""
    if url.get_backend_name() != "sqlite":
        timeout = {} if "connect_timeout" in url.query else {"connect_timeout": CONNECT_TIMEOUT_S}
        try:
            return create_engine(url, pool_pre_ping=True, connect_args=timeout)
        except ArgumentError as exc:
            raise ConfigError(
                f"bad database URL parameters: {scrub(str(exc), url)} ({URL_HELP})",
                where=mask_url(url),
            ) from None
    database = url.database or ":memory:"
    if database == ":memory:":
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        path = Path(database).expanduser()
        check_sqlite_file(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"cannot create the database directory: {exc}", where=str(path)
            ) from None
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
    event.listen(engine, "connect", sqlite_on_connect)
    event.listen(engine, "begin", sqlite_on_begin)
    return engine


def sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def sqlite_on_begin(connection: Connection) -> None:
    immediate = connection.get_execution_options().get("xmargin_write")
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
