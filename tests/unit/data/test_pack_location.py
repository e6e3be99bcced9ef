"""Finding the data pack: environment, walking up, and a clone of a local checkout."""

import subprocess

import pytest

from xmargin.data import pack
from xmargin.data.pack import find_pack


@pytest.fixture
def nowhere(tmp_path, monkeypatch):
    """No environment variable, neither the working directory nor the checkout has a pack, and
    nothing above the temporary folder is searched, whatever lies there on this machine."""
    monkeypatch.delenv("XMARGIN_DATA_DIR", raising=False)
    monkeypatch.setattr(pack, "CEILING", tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pack, "CHECKOUT", tmp_path / "work" / "clone")
    (tmp_path / "work" / "clone").mkdir(parents=True)
    return tmp_path


def test_the_environment_wins(nowhere, monkeypatch):
    monkeypatch.setenv("XMARGIN_DATA_DIR", str(nowhere / "mine"))
    assert find_pack(nowhere) == nowhere / "mine"


def test_the_first_shared_data_above_a_start_path(nowhere):
    (nowhere / "shared" / "data").mkdir(parents=True)
    (nowhere / "a" / "shared" / "data").mkdir(parents=True)
    (nowhere / "a" / "b").mkdir()
    assert find_pack(nowhere / "a" / "b") == nowhere / "a" / "shared" / "data"


def test_no_folder_above_the_ceiling_is_searched(nowhere, monkeypatch):
    (nowhere / "outer" / "shared" / "data").mkdir(parents=True)
    inner = nowhere / "outer" / "inner"
    inner.mkdir()
    assert find_pack(inner) == nowhere / "outer" / "shared" / "data"
    monkeypatch.setattr(pack, "CEILING", inner)
    assert find_pack(inner) is None


def test_nothing_found_is_none(nowhere):
    assert find_pack(nowhere / "work") is None


def test_a_clone_of_a_local_checkout_finds_the_pack_beside_its_origin(nowhere):
    origin = nowhere / "origin_side" / "main"
    origin.mkdir(parents=True)
    (nowhere / "origin_side" / "shared" / "data").mkdir(parents=True)
    clone = nowhere / "work" / "clone"
    subprocess.run(["git", "init", "-q", str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "remote", "add", "origin", str(origin)], check=True)
    assert find_pack() == nowhere / "origin_side" / "shared" / "data"


def test_a_clone_of_a_network_remote_looks_no_further(nowhere):
    clone = nowhere / "work" / "clone"
    subprocess.run(["git", "init", "-q", str(clone)], check=True)
    remote = "https://github.com/example/xmargin.git"
    subprocess.run(["git", "-C", str(clone), "remote", "add", "origin", remote], check=True)
    assert find_pack() is None
