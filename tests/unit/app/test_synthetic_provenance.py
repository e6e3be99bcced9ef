"""A run that fell back to the synthetic market records it; ``runs show`` and ``runs replay``
say so, and the replay runs on the same synthetic market."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xmargin.app.cli import main
from xmargin.backtest import sources
from xmargin.backtest.provenance import data_manifest, recorded_origins, synthetic_tables
from xmargin.core.errors import ConfigError
from xmargin.data import download
from xmargin.data.catalog import Catalog
from xmargin.data.series import OhlcvSeries
from xmargin.data.synthetic import synthetic_ohlcv
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

    monkeypatch.setattr(download, "make_exchange", no_network)


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


def test_a_replay_takes_each_table_from_where_the_run_recorded_it(tmp_path, short_config):
    text = short_config.read_text().replace("[run]\n", '[run]\ncatalog = "catalog"\n', 1)
    short_config.write_text(text)
    config = load_run_config(short_config)
    downloaded = synthetic_ohlcv(600, timeframe="5m", start_ms=1_735_689_600_000, seed=9)
    Catalog(tmp_path / "catalog").write("binanceusdm", "BTC/USDT:USDT", "ohlcv", downloaded, "5m")
    found: list[list[str]] = []

    loaded = sources.load_sources(
        config,
        data_dir=tmp_path,
        recorded=["download", "synthetic", "synthetic"],
        origins=found.append,
    )

    assert found == [["download", "synthetic", "synthetic"]]
    bars = loaded[0].series
    assert isinstance(bars, OhlcvSeries)
    assert bars.ts_ms.tolist() == downloaded.ts_ms.tolist()
    assert bars.close.tolist() == downloaded.close.tolist()
    # the synthetic mark is the synthetic market's hourly aggregate, the same at every load
    again = sources.load_sources(
        config, data_dir=tmp_path, recorded=["download"] + ["synthetic"] * 2
    )
    assert again[1].series.ts_ms.tolist() == loaded[1].series.ts_ms.tolist()
    assert again[1].series.close.tolist() == loaded[1].series.close.tolist()
    # a table the run recorded nothing for is read from its file, which is missing here
    with pytest.raises(ConfigError, match=r"data\[2\]\.path: data file not found"):
        sources.load_sources(config, data_dir=tmp_path, recorded=["download", "synthetic"])
