"""``--events-out``, ``--out``, ``report --html``: checked before the run, replaced atomically."""

from __future__ import annotations

import json
import os
import stat

import pytest
from tests.small_filesystem import fill, tmpfs
from tests.tiny_run import write_tiny_run

from xmargin.app.cli import main
from xmargin.storage import open_database, persist_run
from xmargin.testing.runs import sample_outcome


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main([*map(str, args)])
        raise SystemExit(0)
    captured = capsys.readouterr()
    return exited.value.code or 0, captured.out, captured.err


def backtest(capsys, folder, *options):
    config = write_tiny_run(folder)
    return run(capsys, "backtest", config, "--data-dir", folder, "--json", *options)


def test_events_out_into_a_fifo_is_refused_before_the_run_and_the_database(tmp_path, capsys):
    fifo = tmp_path / "events.jsonl"
    os.mkfifo(fifo)
    database = tmp_path / "runs.db"
    code, out, err = backtest(
        capsys, tmp_path, "--events-out", fifo, "--db", f"sqlite:///{database}"
    )
    assert code == 2
    assert out == ""
    assert err == (
        f"xmargin: error: {fifo}: is a FIFO; refusing to replace it"
        " (choose a regular file's path)\n"
    )
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert not database.exists()


def test_events_out_into_a_missing_folder_is_one_line(tmp_path, capsys):
    target = tmp_path / "no" / "events.jsonl"
    code, out, err = backtest(capsys, tmp_path, "--no-db", "--events-out", target)
    assert (code, out) == (2, "")
    assert err == (
        f"xmargin: error: {target}: its folder {tmp_path / 'no'} does not exist or is not a"
        " folder; create it first\n"
    )


def test_out_with_a_symlinked_file_is_refused_and_the_link_kept(tmp_path, capsys):
    out_dir = tmp_path / "run"
    out_dir.mkdir()
    elsewhere = tmp_path / "precious.csv"
    elsewhere.write_text("keep\n")
    (out_dir / "equity.csv").symlink_to(elsewhere)
    code, out, err = backtest(capsys, tmp_path, "--no-db", "--out", out_dir)
    assert (code, out) == (2, "")
    assert err == (
        f"xmargin: error: {out_dir / 'equity.csv'}: is a symbolic link; refusing to replace it"
        " (choose a regular file's path)\n"
    )
    assert elsewhere.read_text() == "keep\n"
    assert sorted(p.name for p in out_dir.iterdir()) == ["equity.csv"]


def test_out_naming_a_file_is_refused(tmp_path, capsys):
    plain = tmp_path / "plain"
    plain.write_text("x")
    code, _, err = backtest(capsys, tmp_path, "--no-db", "--out", plain)
    assert code == 2
    assert err == (
        f"xmargin backtest: invalid value for '--out': Directory '{plain}' is a file"
        " (try 'xmargin backtest --help')\n"
    )
    assert plain.read_text() == "x"


def test_out_writes_its_four_files_and_nothing_else(tmp_path, capsys):
    out_dir = tmp_path / "run"
    code, out, _ = backtest(capsys, tmp_path, "--no-db", "--out", out_dir)
    assert code == 0
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "equity.csv",
        "events.jsonl",
        "margin_ratio.csv",
        "summary.json",
    ]
    assert json.loads((out_dir / "summary.json").read_text()) == json.loads(out)


def test_a_full_disk_keeps_the_previous_event_log_and_leaves_no_partial_file(tmp_path, capsys):
    with tmpfs(tmp_path / "small", "size=64k") as folder:
        events = folder / "events.jsonl"
        events.write_text("previous log\n")
        fill(folder)
        code, out, err = backtest(capsys, tmp_path, "--no-db", "--events-out", events)
        assert (code, out) == (2, "")
        assert err == (
            f"xmargin: error: {events}: cannot write (No space left on device)"
            " (the previous file is kept)\n"
        )
        assert events.read_text() == "previous log\n"
        assert sorted(p.name for p in folder.iterdir()) == ["events.jsonl", "filler"]


@pytest.fixture
def sqlite_run(tmp_path):
    url = f"sqlite:///{tmp_path / 'db' / 'runs.db'}"
    run_id = persist_run(open_database(url), "/cfg/a.toml", "seed = 1\n", 1, sample_outcome(),
                         name="alpha", code_version="0.1.0")  # fmt: skip
    return url, run_id


def test_report_html_into_a_symlink_is_refused_before_the_database_is_opened(tmp_path, capsys):
    real = tmp_path / "real.html"
    real.write_text("old report\n")
    link = tmp_path / "report.html"
    link.symlink_to(real)
    database = tmp_path / "never.db"
    code, out, err = run(capsys, "report", "1", "--html", link, "--db", f"sqlite:///{database}")
    assert (code, out) == (2, "")
    assert err == (
        f"xmargin: error: {link}: is a symbolic link; refusing to replace it"
        " (choose a regular file's path)\n"
    )
    assert real.read_text() == "old report\n"
    assert not database.exists()


def test_report_html_on_a_full_disk_keeps_the_previous_report(sqlite_run, tmp_path, capsys):
    url, run_id = sqlite_run
    with tmpfs(tmp_path / "small", "size=64k") as folder:
        page = folder / "report.html"
        page.write_text("previous report\n")
        fill(folder)
        code, _, err = run(capsys, "report", run_id, "--html", page, "--db", url)
        assert code == 2
        assert err == (
            f"xmargin: error: {page}: cannot write (No space left on device)"
            " (the previous file is kept)\n"
        )
        assert page.read_text() == "previous report\n"
        assert sorted(p.name for p in folder.iterdir()) == ["filler", "report.html"]


def test_report_html_replaces_a_previous_report(sqlite_run, tmp_path, capsys):
    url, run_id = sqlite_run
    page = tmp_path / "report.html"
    page.write_text("previous report\n")
    code, _, err = run(capsys, "report", run_id, "--html", page, "--db", url)
    assert code == 0
    assert page.read_text().startswith("<!DOCTYPE html>")
    assert err == f"wrote {page}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db", "report.html"]
