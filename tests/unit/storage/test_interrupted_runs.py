"""A real ``xmargin backtest`` subprocess stopped mid-run: SIGINT marks the run interrupted,
``kill -9`` leaves a run that ``runs list`` shows as died; either way the stored events are
a clean prefix of the complete run's event log."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from xmargin.app.cli import cli, main
from xmargin.app.cli_runs import runs_group
from xmargin.storage import DIED, INTERRUPTED, RUNNING, EventStore, RunRepository, open_database
from xmargin.storage.tables import fills, orders
from xmargin.testing.sma_run import write_config

if runs_group.name not in cli.commands:
    cli.add_command(runs_group)

BARS = 250_000
CLI = [sys.executable, "-c", "from xmargin.app.cli import main; main()"]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The run's config, and the complete event log of the same run (``--no-db``)."""
    folder = tmp_path_factory.mktemp("interrupted")
    config = write_config(folder, BARS, 1)
    log = folder / "complete.jsonl"
    subprocess.run(
        [*CLI, "backtest", str(config), "--no-db", "--json", "--events-out", str(log)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return config, log.read_text().splitlines()


def start_run(config: Path, url: str, events_out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, "backtest", str(config), "--db", url, "--events-out", str(events_out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def wait_for_stored_events(url: str, child: subprocess.Popen[str]) -> str:
    """Wait until the running child has committed some events; return its run id."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        assert child.poll() is None, child.stderr.read() if child.stderr else ""
        if Path(url.removeprefix("sqlite:///")).exists():
            runs = RunRepository(open_database(url)).list_runs()
            if runs and (runs[0].event_count or 0) > 0:
                assert runs[0].status == RUNNING and runs[0].shown_status == RUNNING
                return runs[0].run_id
        time.sleep(0.05)
    raise AssertionError("the run stored no event within 300 s")


def assert_clean_prefix(url: str, run_id: str, complete: list[str]) -> int:
    db = open_database(url)
    stored = list(EventStore(db).lines(run_id))
    run = RunRepository(db).get(run_id)
    assert 0 < len(stored) < len(complete)
    assert stored == complete[: len(stored)]
    assert run.event_count == len(stored)
    with db.read() as connection:
        for table in (fills, orders):
            beyond = select(func.count()).where(
                table.c.run_id == run_id, table.c.seq >= len(stored)
            )
            assert connection.execute(beyond).scalar_one() == 0
    return len(stored)


def test_sigint_mid_run_marks_it_interrupted_and_keeps_a_clean_prefix(workspace, tmp_path, capsys):
    config, complete = workspace
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    events_out = tmp_path / "events.jsonl"
    events_out.write_text("the previous log\n")
    child = start_run(config, url, events_out)
    try:
        run_id = wait_for_stored_events(url, child)
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=120)
    finally:
        child.kill()
    assert child.returncode == 130
    assert err.splitlines()[-1] == "aborted"
    run = RunRepository(open_database(url)).get(run_id)
    assert (run.status, run.error, run.final_equity) == (INTERRUPTED, "interrupted (SIGINT)", None)
    assert run.finished_ns is not None
    assert_clean_prefix(url, run_id, complete)
    assert events_out.read_text() == "the previous log\n"
    assert sorted(p.name for p in tmp_path.iterdir() if "events" in p.name) == ["events.jsonl"]
    main(["runs", "list", "--json", "--db", url])
    [listed] = json.loads(capsys.readouterr().out)
    assert (listed["run_id"], listed["status"]) == (run_id, INTERRUPTED)


def test_kill_9_mid_run_leaves_a_died_run_with_a_clean_prefix(workspace, tmp_path, capsys):
    config, complete = workspace
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    child = start_run(config, url, tmp_path / "events.jsonl")
    try:
        run_id = wait_for_stored_events(url, child)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
    finally:
        child.kill()
    assert child.returncode == -signal.SIGKILL
    run = RunRepository(open_database(url)).get(run_id)
    assert (run.status, run.shown_status, run.pid) == (RUNNING, DIED, child.pid)
    assert_clean_prefix(url, run_id, complete)
    assert not (tmp_path / "events.jsonl").exists()
    main(["runs", "list", "--json", "--db", url])
    [listed] = json.loads(capsys.readouterr().out)
    assert (listed["run_id"], listed["status"]) == (run_id, DIED)
