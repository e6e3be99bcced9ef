"""Robustness: foreign and corrupt files, readers never block the writer, killed writers."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from xmargin.app.cli import cli, main
from xmargin.app.cli_runs import db_group, report_command, runs_group
from xmargin.core.errors import ConfigError, DataError
from xmargin.storage import (
    DIED,
    RUNNING,
    EventStore,
    RunHeader,
    RunRepository,
    RunWriter,
    open_database,
    persist_run,
)
from xmargin.storage.tables import runs
from xmargin.testing.postgres import free_port
from xmargin.testing.runs import sample_outcome

for command in (runs_group, report_command, db_group):
    if command.name not in cli.commands:
        cli.add_command(command)


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main([*args])
        raise SystemExit(0)
    captured = capsys.readouterr()
    return exited.value.code or 0, captured.out, captured.err


def test_a_text_file_is_not_taken_for_a_database(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("my trading notes\n")
    with pytest.raises(DataError) as error:
        open_database(f"sqlite:///{path}")
    assert str(error.value) == (
        f"{path}: not an SQLite database (another program's file?); move it away or point "
        "--db / XMARGIN_DATABASE_URL at another file"
    )
    assert path.read_text() == "my trading notes\n"


def test_another_programs_sqlite_database_is_refused_untouched(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE contacts (name TEXT)")
    with pytest.raises(DataError) as error:
        open_database(f"sqlite:///{path}")
    assert "not an xmargin database: it has tables (contacts) but no xmargin schema" in str(
        error.value
    )
    with sqlite3.connect(path) as connection:
        tables = connection.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
    assert tables == [("contacts",)]


def _corrupt(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[100:] = b"\xa5" * (len(data) - 100)
    path.write_bytes(bytes(data))


def test_a_corrupt_database_gets_a_clear_error(tmp_path):
    path = tmp_path / "runs.db"
    db = open_database(f"sqlite:///{path}")
    persist_run(db, "x.toml", "", 0, sample_outcome())
    db.dispose()
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    _corrupt(path)
    with pytest.raises(DataError) as error:
        open_database(f"sqlite:///{path}")
    message = str(error.value)
    assert message.startswith(f"sqlite:///{path}: the database is corrupt or not an SQLite file (")
    assert message.endswith("restore a backup or point --db / XMARGIN_DATABASE_URL at another file")


def test_the_cli_reports_a_corrupt_database_in_one_line_with_exit_2(tmp_path, capsys):
    path = tmp_path / "runs.db"
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 5000)
    code, out, err = run_cli(capsys, "runs", "list", "--db", f"sqlite:///{path}")
    assert code == 2 and out == ""
    assert err.startswith("xmargin: error: ") and "corrupt" in err
    assert err.count("\n") == 1


def test_a_password_never_appears_in_an_error(capsys):
    url = f"postgresql+psycopg://trader:s3cr3t-pw@127.0.0.1:{free_port()}/runs"
    code, out, err = run_cli(capsys, "runs", "list", "--db", url)
    assert code == 2
    assert "s3cr3t-pw" not in out + err
    assert "postgresql+psycopg://trader:***@127.0.0.1:" in err
    assert "cannot connect to the database" in err


def test_an_unknown_scheme_is_a_config_error():
    with pytest.raises(ConfigError, match="unsupported database 'mysql'"):
        open_database("mysql://u:pw@localhost/x")


def _count_runs(connection) -> int:
    return int(connection.execute(select(func.count()).select_from(runs)).scalar_one())


def test_a_reader_in_a_transaction_does_not_block_the_writer(db_url):
    reader_db = open_database(db_url)
    persist_run(reader_db, "a.toml", "", 0, sample_outcome())
    writer_db = open_database(db_url)
    with reader_db.read() as reader:
        assert _count_runs(reader) == 1
        started = time.monotonic()
        persist_run(writer_db, "b.toml", "", 0, sample_outcome())
        elapsed = time.monotonic() - started
        seen = _count_runs(reader)
    assert elapsed < 5, f"the writer waited {elapsed:.1f} s for a reader"
    # SQLite (WAL) keeps the reader's snapshot; PostgreSQL (read committed) shows the new run.
    assert seen == (1 if reader_db.dialect == "sqlite" else 2)
    with reader_db.read() as reader:
        assert _count_runs(reader) == 2


def test_a_writer_in_a_transaction_does_not_block_readers(db_url):
    db = open_database(db_url)
    done = persist_run(db, "a.toml", "", 0, sample_outcome())
    writer = RunWriter.begin(db_url, RunHeader("pending", "b.toml", "", 0))
    other = open_database(db_url)
    with writer.db.write() as connection:
        EventStore(writer.db).append(connection, writer.run_id, 0, [{"type": "X", "ts_ms": 1}])
        started = time.monotonic()
        listed = [(r.run_id, r.status) for r in RunRepository(other).list_runs()]
        elapsed = time.monotonic() - started
        assert EventStore(other).count(writer.run_id) == 0
    assert elapsed < 2
    assert sorted(listed) == sorted([(done, "complete"), (writer.run_id, RUNNING)])


CHILD = textwrap.dedent(
    """
    import sys, time
    from xmargin.storage import EventStore, RunHeader, RunWriter
    from xmargin.testing.runs import many_records
    writer = RunWriter.begin(sys.argv[1], RunHeader("killed", "k.toml", "", 3), segment_events=500)
    writer.append(many_records(1000))
    print(writer.run_id, flush=True)
    with writer.db.write() as connection:
        EventStore(writer.db).append(connection, writer.run_id, 1000, many_records(5000))
        print("inside the third segment", flush=True)
        time.sleep(120)
    """
)


def test_a_killed_writer_leaves_a_died_run_with_only_committed_segments(db_url, capsys):
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, db_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        run_id = child.stdout.readline().strip()
        assert child.stdout.readline().strip() == "inside the third segment", child.stderr.read()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    db = open_database(db_url)
    run = RunRepository(db).get(run_id)
    assert (run.status, run.event_count, run.final_equity, run.finished_ns) == (
        RUNNING, 1000, None, None,
    )  # fmt: skip
    assert run.pid == child.pid and run.host == socket.gethostname()
    assert run.shown_status == DIED
    assert EventStore(db).count(run_id) == 1000
    code, out, _ = run_cli(capsys, "runs", "list", "--json", "--db", db_url)
    assert code == 0
    [listed] = json.loads(out)
    assert (listed["run_id"], listed["status"], listed["final_equity"]) == (
        run_id, "died", None,
    )  # fmt: skip
