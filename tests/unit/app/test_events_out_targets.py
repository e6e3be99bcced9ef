"""``--events-out`` is written whole or not at all, and never through a FIFO, device or link."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from xmargin.app.cli import main
from xmargin.storage import RunRepository, open_database
from xmargin.testing.sma_run import write_config


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main([*args])
        raise SystemExit(0)
    captured = capsys.readouterr()
    return exited.value.code or 0, captured.out, captured.err


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path, 2_000, 1)


def test_the_streamed_log_is_the_hashed_log_and_the_stored_one(capsys, config, tmp_path):
    target = tmp_path / "events.jsonl"
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    code, out, _ = run(
        capsys, "backtest", str(config), "--db", url, "--json", "--events-out", str(target),
        "--out", str(tmp_path / "out"),
    )  # fmt: skip
    summary = json.loads(out)
    data = target.read_bytes()
    assert code == 0
    assert hashlib.sha256(data).hexdigest() == summary["event_log_sha256"]
    assert data.count(b"\n") == summary["events"] > 0
    assert (tmp_path / "out" / "events.jsonl").read_bytes() == data
    stored = RunRepository(open_database(url)).get(summary["run_id"])
    assert (stored.status, stored.event_count) == ("complete", summary["events"])
    assert stored.event_log_sha256 == summary["event_log_sha256"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


@pytest.mark.parametrize("kind", ["fifo", "symlink", "device"])
def test_an_events_out_that_is_not_a_regular_file_is_refused_before_the_run(
    capsys, config, tmp_path, kind
):
    target = tmp_path / "events.jsonl"
    if kind == "fifo":
        os.mkfifo(target)
        expected = "is a FIFO"
    elif kind == "symlink":
        (tmp_path / "elsewhere.jsonl").write_text("kept\n")
        target.symlink_to(tmp_path / "elsewhere.jsonl")
        expected = "is a symbolic link"
    else:
        target = Path("/dev/null")
        expected = "is a character device"
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    code, out, err = run(capsys, "backtest", str(config), "--db", url, "--events-out", str(target))
    assert (code, out) == (2, "")
    assert err == (
        f"xmargin: error: {target}: {expected}; refusing to replace it (choose a regular file's "
        "path)\n"
    )
    assert not (tmp_path / "runs.db").exists()
    if kind == "symlink":
        assert (tmp_path / "elsewhere.jsonl").read_text() == "kept\n"
