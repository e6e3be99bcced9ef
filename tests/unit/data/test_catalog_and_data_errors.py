"""Catalog and data faults at the CLI: one line naming the file, exit 2, nothing half-written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.small_filesystem import tmpfs
from tests.tiny_run import write_tiny_run

from xmargin.app.cli import main
from xmargin.core.errors import DataError
from xmargin.data.series import OhlcvSeries
from xmargin.data.validation import validate

ROOT = Path(__file__).resolve().parents[3]
ACCOUNT = ROOT / "examples" / "accounts" / "binance_usdm_two_positions.toml"
LAST_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
NESTED = "nested too deeply to read (arrays or tables inside one another)"
IMPORT = ("--venue", "binance", "--symbol", "BTC/USDT:USDT", "--kind", "ohlcv", "--timeframe", "5m")


def run(capsys, *args: object) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main([*map(str, args)])
        raise SystemExit(0)
    captured = capsys.readouterr()
    return exited.value.code or 0, captured.out, captured.err


def bars_csv(path: Path, first_ms: int, rows: int = 4) -> Path:
    lines = ["ts_ms,open,high,low,close,volume"]
    lines += [f"{first_ms + i * 300_000},100,101,99,100,10" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def stored_file(tmp_path, capsys) -> Path:
    """A catalog holding one imported series; returns its Parquet file."""
    source = bars_csv(tmp_path / "bars.csv", 1_735_689_600_000)
    code, _, _ = run(capsys, "data", "import", source, *IMPORT, "--catalog", tmp_path / "cat")
    assert code == 0
    return tmp_path / "cat" / "binance" / "BTC_USDT-USDT" / "ohlcv" / "5m.parquet"


def test_a_read_only_catalog_is_one_line_before_any_file_is_read(tmp_path, capsys):
    with tmpfs(tmp_path / "ro", "ro,size=64k") as catalog:
        missing = tmp_path / "not-read.csv"
        code, out, err = run(capsys, "data", "import", missing, *IMPORT, "--catalog", catalog)
    assert (code, out) == (2, "")
    assert err == f"xmargin: error: catalog {catalog}: is not writable\n"


def test_a_catalog_that_is_a_file_is_named(tmp_path, capsys, monkeypatch):
    plain = tmp_path / "catalog"
    plain.write_text("not a folder\n")
    monkeypatch.setenv("XMARGIN_CATALOG", str(plain))
    source = bars_csv(tmp_path / "bars.csv", 1_735_689_600_000)
    code, _, err = run(capsys, "data", "import", source, *IMPORT)
    assert code == 2
    assert err == (
        f"xmargin: error: catalog {plain}: is not a folder; point --catalog or $XMARGIN_CATALOG"
        " at a folder\n"
    )
    code, _, err = run(capsys, "data", "list")
    assert code == 2
    assert err == f"xmargin: error: catalog {plain}: is not a folder\n"
    assert plain.read_text() == "not a folder\n"


def test_a_catalog_below_a_file_names_the_file(tmp_path, capsys):
    plain = tmp_path / "plain"
    plain.write_text("x")
    source = bars_csv(tmp_path / "bars.csv", 1_735_689_600_000)
    code, _, err = run(capsys, "data", "import", source, *IMPORT, "--catalog", plain / "sub")
    assert code == 2
    assert err == (
        f"xmargin: error: catalog {plain / 'sub'}: {plain} is not a folder; point --catalog or"
        " $XMARGIN_CATALOG at a folder\n"
    )


def test_random_bytes_in_a_catalog_file_are_one_line(stored_file, tmp_path, capsys):
    stored_file.write_bytes(bytes(range(256)) * 3)
    code, _, err = run(capsys, "data", "list", "--catalog", tmp_path / "cat")
    assert code == 2
    assert err.startswith(f"xmargin: error: {stored_file}: unreadable Parquet file (")
    assert err.count("\n") == 1


def test_a_corrupt_parquet_footer_is_one_line(stored_file, tmp_path, capsys):
    raw = bytearray(stored_file.read_bytes())
    footer_length = int.from_bytes(raw[-8:-4], "little")
    start = len(raw) - 8 - footer_length
    raw[start : start + footer_length] = b"\xff" * footer_length  # thrift metadata smashed
    stored_file.write_bytes(bytes(raw))
    code, _, err = run(capsys, "data", "list", "--catalog", tmp_path / "cat")
    assert code == 2
    assert err.startswith(f"xmargin: error: {stored_file}: unreadable Parquet file (")
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        (b"{not json", "unreadable xmargin metadata (not JSON)"),
        (b"[" * 100_000 + b"]" * 100_000, "unreadable xmargin metadata (not JSON)"),
        (b'{"venue": "binance"}', "xmargin metadata lacks its venue, symbol or kind"),
        (
            json.dumps({"venue": "binance", "symbol": "BTC/USDT:USDT", "kind": "ohlcv",
                        "timeframe": 5, "volume_is_quote": False}).encode(),
            "xmargin metadata has a bad timeframe or volume unit",
        ),
    ],
)  # fmt: skip
def test_bad_xmargin_metadata_is_one_line(stored_file, tmp_path, capsys, metadata, message):
    table = pq.read_table(stored_file).replace_schema_metadata({b"xmargin": metadata})
    pq.write_table(table, stored_file)
    code, _, err = run(capsys, "data", "list", "--catalog", tmp_path / "cat")
    assert code == 2
    assert err == f"xmargin: error: {stored_file}: {message}\n"


def test_a_stored_file_missing_a_column_is_named(stored_file, tmp_path, capsys):
    table = pq.read_table(stored_file)
    pq.write_table(table.drop_columns(["high"]).replace_schema_metadata(table.schema.metadata),
                   stored_file)  # fmt: skip
    backtest = write_tiny_run(tmp_path)
    backtest.write_text(
        backtest.read_text().replace('path = "bars.csv"\n', "")
        + f'\n[run]\ncatalog = "{tmp_path / "cat"}"\n'
    )
    code, _, err = run(capsys, "backtest", backtest, "--no-db")
    assert code == 2
    assert err == f"xmargin: error: {stored_file}: missing column(s) high\n"


@pytest.mark.parametrize(
    ("first_ms", "row", "bad_ms", "bad_rows"),
    [
        (LAST_MS + 1 - 300_000, 3, LAST_MS + 1, 2),  # crosses into year 10000
        (1_735_689_600_000_000, 2, 1_735_689_600_000_000, 3),  # microseconds, not ms
    ],
)
def test_timestamps_past_year_9999_are_rejected_before_anything_is_stored(
    tmp_path, capsys, first_ms, row, bad_ms, bad_rows
):
    source = bars_csv(tmp_path / "future.csv", first_ms, rows=3)
    catalog = tmp_path / "cat"
    code, out, err = run(capsys, "data", "import", source, *IMPORT, "--catalog", catalog)
    assert (code, out) == (2, "")
    assert err == (
        f"xmargin: error: {source}, row {row}, ts_ms: {bad_ms} is outside 1970-01-01 … 9999-12-31"
        f" UTC (0 to {LAST_MS} ms); is it in milliseconds? (first of {bad_rows} bad rows)\n"
    )
    assert not catalog.exists()


def test_the_last_millisecond_of_9999_is_still_a_date(tmp_path, capsys):
    first = LAST_MS - LAST_MS % 300_000 - 300_000  # 23:50 and 23:55 on 9999-12-31
    source = bars_csv(tmp_path / "late.csv", first, rows=2)
    code, out, _ = run(capsys, "data", "import", source, *IMPORT, "--catalog", tmp_path / "cat")
    assert code == 0
    assert "9999-12-31 23:55" in out


def test_a_backtest_on_timestamps_past_9999_is_one_line(tmp_path, capsys):
    config = write_tiny_run(tmp_path)
    bars_csv(tmp_path / "bars.csv", LAST_MS + 1 - (LAST_MS + 1) % 300_000, rows=2)
    code, _, err = run(capsys, "backtest", config, "--data-dir", tmp_path, "--no-db")
    assert code == 2
    assert err.startswith(f"xmargin: error: {tmp_path / 'bars.csv'}, row 2, ts_ms: ")
    assert err.count("\n") == 1


def deep_json(tmp_path: Path) -> Path:
    path = tmp_path / "deep.json"
    path.write_text('{"venue": ' + "[" * 100_000 + "]" * 100_000 + "}")
    return path


def deep_toml(tmp_path: Path, name: str = "deep.toml") -> Path:
    path = tmp_path / name
    path.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    return path


@pytest.mark.parametrize("make", [deep_json, deep_toml])
def test_a_deeply_nested_account_file_is_one_line(tmp_path, capsys, make):
    path = make(tmp_path)
    code, _, err = run(capsys, "margin", path)
    assert code == 2
    assert err == f"xmargin: error: {path}: {NESTED}\n"
    code, _, err = run(capsys, "stress", path)
    assert code == 2
    assert err == f"xmargin: error: {path}: {NESTED}\n"


def test_a_deeply_nested_run_config_is_one_line(tmp_path, capsys):
    path = deep_toml(tmp_path)
    code, _, err = run(capsys, "backtest", path, "--no-db")
    assert code == 2
    assert err == f"xmargin: error: {path}: {NESTED}\n"


def test_a_deeply_nested_scenario_file_is_one_line(tmp_path, capsys):
    path = deep_toml(tmp_path, "scenario.toml")
    code, _, err = run(capsys, "stress", ACCOUNT, "--scenario", path)
    assert code == 2
    assert err == f"xmargin: error: {path}: {NESTED}\n"


def test_an_intact_catalog_file_lists_fine(stored_file, tmp_path, capsys):
    """Control: a valid file with the xmargin metadata lists fine (the faults above are real)."""
    table = pq.read_table(stored_file)
    assert isinstance(table, pa.Table) and table.num_rows == 4
    code, out, err = run(capsys, "data", "list", "--catalog", tmp_path / "cat", "--json")
    assert (code, err) == (0, "")
    [entry] = json.loads(out)
    assert (entry["venue"], entry["symbol"], entry["rows"]) == ("binance", "BTC/USDT:USDT", 4)


@settings(max_examples=60, deadline=None)
@given(
    good=st.lists(st.integers(0, LAST_MS // 60_000), min_size=1, max_size=5, unique=True),
    bad=st.integers(LAST_MS + 1, 2**63 - 1) | st.integers(-(2**63), -1),
)
def test_any_timestamp_outside_0_to_9999_is_rejected_and_repair_drops_only_it(good, bad):
    minutes = sorted(good)
    ts = np.array([m * 60_000 for m in minutes] + [bad], dtype=np.int64)
    ts = np.sort(ts)
    prices = np.full(len(ts), 100.0)
    series = OhlcvSeries(ts, prices, prices, prices, prices, prices, None, source="f.csv")
    with pytest.raises(DataError, match=rf"ts_ms: {bad} is outside 1970-01-01 … 9999-12-31 UTC"):
        validate(series)
    repaired, report = validate(series, repair=True)
    assert repaired.ts_ms.tolist() == [m * 60_000 for m in minutes]
    assert report.repaired_rows == 1
