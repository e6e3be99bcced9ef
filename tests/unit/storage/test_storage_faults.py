"""Real storage faults at the CLI: one line, the password masked, exit 2, the run marked.

Each fault is made for real: an SQLite file whose write lock another connection holds, a
full filesystem (a 1 MiB tmpfs, when the tests run as root), a TCP server on 127.0.0.1 that
accepts connections and never answers, a port nothing listens on, a host name under the
reserved ``.invalid`` domain, the in-memory SQLite URLs and malformed URLs.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from xmargin.app.cli import main
from xmargin.storage import FAILED, EventStore, RunRepository, RunWriter, open_database
from xmargin.storage import database as database_module
from xmargin.testing.postgres import free_port
from xmargin.testing.sma_run import write_config

SECRET = "s3cr3t-pw"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main([*args])
        raise SystemExit(0)
    captured = capsys.readouterr()
    return exited.value.code or 0, captured.out, captured.err


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path, 3_000, 1)


def one_line_error(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("xmargin: error: ")
    assert SECRET not in err and "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///", "sqlite:/// is an in-memory SQLite database: the run would not persist"),
        ("sqlite://", "sqlite:// is an in-memory SQLite database"),
        ("sqlite:///:memory:", "sqlite:///:memory: is an in-memory SQLite database"),
        (f"mysql://u:{SECRET}@host/db", "unsupported database 'mysql' in mysql://u:***@host/db"),
        (f"postgresql://u:{SECRET}@/db?port=x", "bad database URL parameters"),
        (f"postgresql://u:{SECRET}@host:notaport/db", "not a database URL: 'postgresql://u:***@"),
        (f"postgresql://u:se@{SECRET}@127.0.0.1:1/db", "holds an '@': write an '@' in the"),
        ("postgresql://u:p@127.0.0.1:99999999/db", 'invalid port number: "99999999"'),
    ],
)
def test_bad_database_urls_are_one_line_with_the_password_masked(capsys, config, url, expected):
    code, out, err = run(capsys, "backtest", str(config), "--db", url, "--json")
    assert (code, out) == (2, "")
    assert expected in one_line_error(err)


def test_a_port_nothing_listens_on_is_refused_at_once(capsys, config):
    port = free_port()
    url = f"postgresql://xm:{SECRET}@127.0.0.1:{port}/runs"
    code, _, err = run(capsys, "backtest", str(config), "--db", url)
    line = one_line_error(err)
    assert code == 2
    assert f"postgresql+psycopg://xm:***@127.0.0.1:{port}/runs: cannot connect to the" in line
    assert "Connection refused" in line


def test_an_unresolvable_host_is_one_line(capsys, config):
    url = f"postgresql://xm:{SECRET}@no-such-host.invalid/runs"
    code, _, err = run(capsys, "backtest", str(config), "--db", url)
    line = one_line_error(err)
    assert code == 2
    assert "failed to resolve host 'no-such-host.invalid'" in line


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP server on 127.0.0.1 that accepts connections and never sends a byte."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(timeout=5)
    for connection in accepted:
        connection.close()
    listener.close()


def test_a_server_that_never_answers_times_out(capsys, config, silent_server, monkeypatch):
    monkeypatch.setattr(database_module, "CONNECT_TIMEOUT_S", 2)
    url = f"postgresql://xm:{SECRET}@127.0.0.1:{silent_server}/runs"
    code, _, err = run(capsys, "backtest", str(config), "--db", url)
    line = one_line_error(err)
    assert code == 2
    assert "cannot connect to the database: connection timeout expired" in line


def test_a_url_that_sets_its_own_connect_timeout_keeps_it(config, silent_server, monkeypatch):
    monkeypatch.setattr(database_module, "CONNECT_TIMEOUT_S", 3600)
    url = f"postgresql://xm:{SECRET}@127.0.0.1:{silent_server}/runs?connect_timeout=2"
    with pytest.raises(Exception, match="connection timeout expired"):
        open_database(url)


def test_a_database_locked_past_the_timeout_is_one_line(capsys, config, tmp_path, monkeypatch):
    path = tmp_path / "runs.db"
    open_database(f"sqlite:///{path}").dispose()
    monkeypatch.setattr(database_module, "BUSY_TIMEOUT_MS", 300)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        code, _, err = run(capsys, "backtest", str(config), "--db", f"sqlite:///{path}")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    line = one_line_error(err)
    assert code == 2
    assert "the database is locked: another program held its write lock for more than 0.3 s" in line
    assert RunRepository(open_database(f"sqlite:///{path}")).list_runs() == []


def test_a_lock_taken_during_the_run_fails_it(capsys, config, tmp_path, monkeypatch):
    """The run row exists when another connection takes the write lock before the run's
    events are committed; the lock is released before the failure is recorded, so the run
    says failed, with the reason, and holds no event."""
    path = tmp_path / "runs.db"
    url = f"sqlite:///{path}"
    monkeypatch.setattr(database_module, "BUSY_TIMEOUT_MS", 200)
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    real_flush = RunWriter.flush

    def flush_under_lock(self: RunWriter) -> None:
        holder.execute("BEGIN IMMEDIATE")
        try:
            real_flush(self)
        finally:
            holder.execute("ROLLBACK")

    monkeypatch.setattr(RunWriter, "flush", flush_under_lock)
    code, _, err = run(capsys, "backtest", str(config), "--db", url, "--json")
    holder.close()
    line = one_line_error(err)
    assert code == 2 and "the database is locked" in line
    [stored] = RunRepository(open_database(url)).list_runs()
    assert (stored.status, stored.event_count, stored.final_equity) == (FAILED, 0, None)
    assert stored.error is not None and stored.error.startswith("DataError: sqlite:///")
    assert "the database is locked: another program held its write lock" in stored.error
    assert EventStore(open_database(url)).count(stored.run_id) == 0


needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("mount") is None,
    reason="a full filesystem is made by mounting a 1 MiB tmpfs, which needs root",
)


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs, to be filled up by the test."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


@needs_root
def test_a_full_disk_under_the_event_log_leaves_no_file(capsys, config, full_disk):
    target = full_disk / "events.jsonl"
    (full_disk / "ballast").write_bytes(b"x" * (1024 * 1024 - 8192))
    code, _, err = run(capsys, "backtest", str(config), "--no-db", "--events-out", str(target))
    line = one_line_error(err)
    assert code == 2
    assert line.endswith(f"{target}: cannot write (No space left on device)")
    assert sorted(p.name for p in full_disk.iterdir()) == ["ballast"]


@needs_root
def test_a_full_disk_under_the_database_is_one_line_and_the_run_failed(capsys, full_disk):
    config = write_config(full_disk.parent, 20_000, 1)
    url = f"sqlite:///{full_disk / 'runs.db'}"
    open_database(url).dispose()
    free = shutil.disk_usage(full_disk).free
    (full_disk / "ballast").write_bytes(b"x" * max(0, free - 64 * 1024))
    code, _, err = run(capsys, "backtest", str(config), "--db", url, "--json")
    line = one_line_error(err)
    assert code == 2
    assert "the disk is full (database or disk is full)" in line
    (full_disk / "ballast").unlink()
    [stored] = RunRepository(open_database(url)).list_runs()
    assert stored.shown_status in (FAILED, "died")
    assert stored.status == FAILED
