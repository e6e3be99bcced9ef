"""A throwaway PostgreSQL server for tests and benchmarks: ``initdb`` + ``pg_ctl`` on 127.0.0.1.

The cluster lives in a fresh temporary directory, listens on a free loopback port with
password authentication (a random password; trust only on its private Unix socket), and is
stopped and deleted on exit. PostgreSQL refuses to run as root: when the tests run as root
the server runs as the ``postgres`` user that Debian's package creates (or, failing that, a
system user ``xmargin-pg`` created for the purpose), through ``runuser``.

Binaries are looked up on ``PATH`` and in ``/usr/lib/postgresql/*/bin`` (Debian's layout);
install them with ``scripts/ensure-system-packages.sh`` (``apt-get install postgresql``).
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType

import psycopg

SUPERUSER = "xmargin"
SERVICE_USER = "xmargin-pg"
INSTALL_HINT = (
    "PostgreSQL server binaries (initdb, pg_ctl) not found: run "
    "scripts/ensure-system-packages.sh (Debian: apt-get install -y postgresql)"
)


def find_binaries() -> tuple[Path, Path] | None:
    """Return ``(initdb, pg_ctl)`` from one installation, or None."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True
    )
    initdb = shutil.which("initdb")
    if initdb:
        candidates.insert(0, str(Path(initdb).resolve().parent))
    for directory in candidates:
        base = Path(directory)
        if (base / "initdb").is_file() and (base / "pg_ctl").is_file():
            return base / "initdb", base / "pg_ctl"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _service_user() -> str | None:
    """The unprivileged user to run the server as when we are root (None: run as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", SERVICE_USER):
        with suppress(KeyError):
            pwd.getpwnam(name)
            return name
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USER],
        check=True,
        capture_output=True,
    )
    return SERVICE_USER


class ThrowawayPostgres:
    """Start with ``with ThrowawayPostgres() as pg:``; ``pg.url(database)`` for SQLAlchemy."""

    def __init__(self, durable: bool = False) -> None:
        binaries = find_binaries()
        if binaries is None:
            raise FileNotFoundError(INSTALL_HINT)
        self.initdb, self.pg_ctl = binaries
        self.durable = durable
        self.user = _service_user()
        self.password = secrets.token_urlsafe(18)
        self.port = 0
        self.base = Path(tempfile.mkdtemp(prefix="xmargin-pg-"))
        self.data = self.base / "data"
        self.log = self.base / "server.log"

    def _run(self, *args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        command = [str(a) for a in args]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        return subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False, cwd=self.base
        )

    def start(self) -> ThrowawayPostgres:
        pwfile = self.base / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            for path in (self.base, pwfile):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        done = self._run(
            self.initdb, "-D", self.data, "-U", SUPERUSER, "--pwfile", pwfile, "-E", "UTF8",
            "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync",
        )  # fmt: skip
        pwfile.unlink()
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stderr.strip() or done.stdout.strip()}")
        settings = "" if self.durable else " -c fsync=off -c synchronous_commit=off"
        for _attempt in range(3):
            self.port = free_port()
            options = f"-p {self.port} -h 127.0.0.1 -k {self.base}{settings}"
            done = self._run(
                self.pg_ctl, "-D", self.data, "-l", self.log, "-o", options, "-w", "-t", "60",
                "start",
            )  # fmt: skip
            if done.returncode == 0:
                return self
        log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
        raise RuntimeError(f"pg_ctl start failed: {done.stderr.strip()}\n{log}")

    def stop(self) -> None:
        if self.data.exists():
            self._run(self.pg_ctl, "-D", self.data, "-m", "immediate", "-w", "stop", timeout=60)
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> ThrowawayPostgres:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def _admin(self, statement: str) -> None:
        """Run one statement outside a transaction (CREATE/DROP DATABASE need that)."""
        with psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=SUPERUSER,
            password=self.password,
            dbname="postgres",
            autocommit=True,
            connect_timeout=10,
        ) as connection:
            connection.execute(statement)

    def create_database(self, name: str) -> str:
        """Create database ``name``; return its URL."""
        self._admin(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @contextmanager
    def database(self, name: str) -> Iterator[str]:
        url = self.create_database(name)
        try:
            yield url
        finally:
            self.drop_database(name)
