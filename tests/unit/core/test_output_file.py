"""Output files: checked before work, replaced whole or not at all, never through odd files."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.small_filesystem import fill, tmpfs

from xmargin.core.errors import ConfigError
from xmargin.core.output_file import (
    check_output_dir,
    check_output_file,
    make_output_dir,
    write_file,
    write_text,
)


def test_writes_a_new_file_with_the_umask_mode_and_leaves_nothing_else(tmp_path):
    target = tmp_path / "report.html"
    write_text(target, "<p>é</p>\n")
    assert target.read_bytes() == "<p>é</p>\n".encode()
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_replaces_a_regular_file_and_keeps_its_permissions(tmp_path):
    target = tmp_path / "events.jsonl"
    target.write_text("old\n")
    target.chmod(0o640)
    write_text(target, "new\n")
    assert target.read_text() == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.jsonl"]


def test_a_symlink_is_refused_and_neither_it_nor_its_target_changes(tmp_path):
    real = tmp_path / "real.txt"
    real.write_text("keep\n")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    with pytest.raises(ConfigError, match=r"link\.txt: is a symbolic link; refusing to replace"):
        write_text(link, "new\n")
    assert link.is_symlink() and real.read_text() == "keep\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.txt", "real.txt"]


def test_a_fifo_is_refused_without_opening_it(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match=r"pipe: is a FIFO; refusing to replace it"):
        check_output_file(fifo)
    with pytest.raises(ConfigError, match=r"pipe: is a FIFO; refusing to replace it"):
        write_text(fifo, "x")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_device_is_refused():
    with pytest.raises(ConfigError, match=r"^/dev/null: is a character device; refusing"):
        check_output_file("/dev/null")


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"is a directory; refusing to replace it"):
        check_output_file(tmp_path)


def test_a_missing_folder_is_named(tmp_path):
    target = tmp_path / "nowhere" / "events.jsonl"
    with pytest.raises(
        ConfigError, match=r"its folder .*nowhere does not exist or is not a folder"
    ):
        check_output_file(target)


def test_an_output_folder_must_be_a_folder_with_replaceable_files(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(
        ConfigError, match=r"file: is a regular file, not a folder; choose a folder to write into$"
    ):
        check_output_dir(tmp_path / "file", ("summary.json",))
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").mkdir()
    with pytest.raises(ConfigError, match=r"summary\.json: is a directory; refusing"):
        check_output_dir(out, ("summary.json",))
    assert check_output_dir(tmp_path / "new", ("summary.json",)) == tmp_path / "new"


def test_make_output_dir_names_the_file_in_the_way(tmp_path):
    (tmp_path / "plain").write_text("x")
    with pytest.raises(ConfigError, match=r"cannot create this folder: .*plain is not a folder"):
        make_output_dir(tmp_path / "plain" / "sub")


def test_a_failing_writer_leaves_the_previous_file_and_no_temporary(tmp_path):
    target = tmp_path / "summary.json"
    target.write_text("previous\n")

    def half_then_fail(handle):
        handle.write(b"half")
        raise RuntimeError("renderer crashed")

    with pytest.raises(RuntimeError, match="renderer crashed"):
        write_file(target, half_then_fail)
    assert target.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]


def test_a_read_only_folder_is_refused_before_writing(tmp_path):
    with (
        tmpfs(tmp_path / "ro", "ro,size=64k") as folder,
        pytest.raises(ConfigError, match=r"its folder .*ro is not writable"),
    ):
        check_output_file(folder / "report.html")


def test_a_full_disk_keeps_the_previous_report_and_leaves_no_partial_file(tmp_path):
    with tmpfs(tmp_path / "small", "size=64k") as folder:
        target = folder / "report.html"
        target.write_text("previous report\n")
        fill(folder)
        with pytest.raises(
            ConfigError,
            match=r"report\.html: cannot write \(No space left on device\) "
            r"\(the previous file is kept\)",
        ):
            write_text(target, "x" * 200_000)
        assert target.read_text() == "previous report\n"
        assert sorted(p.name for p in folder.iterdir()) == ["filler", "report.html"]


@settings(max_examples=30, deadline=None)
@given(old=st.text(max_size=200), new=st.text(max_size=2000))
def test_the_file_holds_exactly_the_last_text_written(tmp_path_factory, old, new):
    folder = tmp_path_factory.mktemp("prop")
    target = Path(folder) / "out.txt"
    write_text(target, old)
    write_text(target, new)
    assert target.read_bytes() == new.encode("utf-8")
    assert [p.name for p in Path(folder).iterdir()] == ["out.txt"]
