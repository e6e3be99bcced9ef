"""A run that fell back to the synthetic market records it; ``runs show`` and ``runs replay``
say so, and the replay runs on the same synthetic market."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xmargin.app.cli import main
from xmargin.backtest import sources
from xmargin.backtest.provenance import data_manifest, recorded_origins, synthetic_tables
from xmargin.engine.config import load_run_config
from xmargin.storage import RunRepository, open_database

ROOT = Path(__file__).resolve().parents[3]
TABLES = [
    "binance BTC/USDT:USDT ohlcv 5m",
    "binance BTC/USDT:USDT mark 1h",
    "binance BTC/USDT:USDT funding",
]


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main([*args])
        raise SystemExit(0)
    captured = capsys.readouterr()
    return exited.value.code or 0, captured.out, captured.err


@pytest.fixture
def offline(monkeypatch):
    def no_network(exchange_id: str):
        raise OSError("no network")

    monkeypatch.setattr(sources, "make_exchange", no_network)


@pytest.fixture
def short_config(tmp_path) -> Path:
    text = (ROOT / "examples" / "sma_cross.toml").read_text()
    path = tmp_path / "run.toml"
    path.write_text(text.replace('end = "2026-01-01"', 'end = "2025-01-03"'))
    return path


def test_the_fallback_is_stored_in_the_provenance_and_shown_and_replayed(
    tmp_path, capsys, offline, short_config
):
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    args = ["backtest", str(short_config), "--data-dir", str(tmp_path), "--data-fallback"]
    code, out, err = run(capsys, *args, "--json", "--db", url)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["synthetic_data"] == TABLES

    [stored] = RunRepository(open_database(url)).list_runs()
    assert [entry["origin"] for entry in stored.data_manifest] == ["synthetic"] * 3
    assert [entry["sha256"] for entry in stored.data_manifest] == [None] * 3

    code, out, _ = run(capsys, "runs", "show", "last", "--json", "--db", url)
    assert code == 0
    assert json.loads(out)["synthetic_data"] == TABLES
    code, out, _ = run(capsys, "runs", "show", "last", "--db", url)
    assert "not real market data" in out
    assert "binance BTC/USDT:USDT ohlcv 5m" in out

    # the files are still missing and there is no fallback at replay: it regenerates the
    # synthetic market the run recorded, says so, and matches the stored event log
    code, out, err = run(capsys, "runs", "replay", "last", "--db", url)
    assert code == 0, out + err
    lines = out.splitlines()
    assert lines[0] == (
        f"note: run {stored.run_id} used synthetic data, not real market data, for "
        + "; ".join(TABLES)
        + " (the synthetic market of xmargin/data/synthetic.py, replayed as recorded)"
    )
    assert lines[1].endswith("— identical")
    code, out, _ = run(capsys, "runs", "replay", "last", "--json", "--db", url)
    replay = json.loads(out)
    assert replay["matched"] is True
    assert replay["synthetic_data"] == TABLES


def test_the_table_summary_warns_of_synthetic_data(tmp_path, capsys, offline, short_config):
    args = ["backtest", str(short_config), "--data-dir", str(tmp_path), "--data-fallback"]
    code, _, err = run(capsys, *args, "--no-db")
    assert code == 0
    text = " ".join(err.split())  # the console wraps long lines
    assert "warning: not real data: the synthetic market stood in for " + "; ".join(TABLES) in text


def test_a_manifest_records_each_tables_origin_and_names_the_synthetic_ones(short_config):
    config = load_run_config(short_config)
    manifest = data_manifest(config, short_config.parent, ["file", "synthetic", "download"])
    assert [entry["origin"] for entry in manifest] == ["file", "synthetic", "download"]
    assert synthetic_tables(manifest) == ["binance BTC/USDT:USDT mark 1h"]
    assert recorded_origins(manifest) == ["file", "synthetic", "download"]
    # a run stored before origins were recorded: nothing is assumed
    assert recorded_origins(data_manifest(config, short_config.parent)) == [None] * 3
    assert synthetic_tables(data_manifest(config, short_config.parent)) == []
