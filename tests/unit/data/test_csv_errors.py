"""Malformed files are rejected with the file, row and field named."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from xmargin.core.errors import DataError
from xmargin.data.loaders import read_funding, read_ohlcv, read_trades

T0 = 1_735_603_200_000
BARS = "ts_ms,open,high,low,close,volume\n"
GOOD = "".join(f"{T0 + i * 300_000},1,2,0.5,1.5,3\n" for i in range(200))


def error(path: Path, reader=read_ohlcv) -> DataError:
    with pytest.raises(DataError) as raised:
        reader(path)
    return raised.value


def write(tmp_path: Path, body: str | bytes, name: str = "x_5m.csv") -> Path:
    path = tmp_path / name
    if isinstance(body, str):
        body = body.encode()
    path.write_bytes(body)
    return path


def test_missing_column_names_the_column_and_row_1(tmp_path):
    path = write(tmp_path, "ts_ms,open,low,close,volume\n1,1,1,1,1\n")
    raised = error(path)
    assert (raised.row, raised.field) == (1, "high")
    assert str(raised) == (
        f"{path}, row 1, high: missing column 'high'; the header is ts_ms,open,low,close,volume"
    )


def test_missing_funding_rate_column_lists_the_accepted_names(tmp_path):
    path = write(tmp_path, "ts_ms,symbol\n1,BTCUSDT\n", "f.csv")
    message = str(error(path, read_funding))
    assert message == (
        f"{path}, row 1, funding_rate: missing column 'funding_rate' or 'rate' or 'fundingRate';"
        " the header is ts_ms,symbol"
    )


def test_non_numeric_cell_is_found_on_its_line(tmp_path):
    path = write(tmp_path, BARS + GOOD + f"{T0 + 200 * 300_000},1,2,abc,1.5,3\n")
    raised = error(path)
    assert str(raised) == f"{path}, row 202, low: 'abc' is not a number"


def test_fractional_timestamp_is_not_an_integer(tmp_path):
    path = write(tmp_path, BARS + f"{T0}.5,1,2,0.5,1.5,3\n")
    assert str(error(path)) == f"{path}, row 2, ts_ms: '{T0}.5' is not an integer"


def test_empty_cell_is_named(tmp_path):
    path = write(tmp_path, BARS + GOOD + f"{T0 + 200 * 300_000},1,,0.5,1.5,3\n")
    assert str(error(path)) == f"{path}, row 202, high: empty cell"


def test_row_with_too_few_fields_names_the_first_missing_one(tmp_path):
    path = write(tmp_path, BARS + GOOD + f"{T0 + 200 * 300_000},1,2,0.5\n")
    assert str(error(path)) == f"{path}, row 202, close: expected 6 fields, found 4"


def test_blank_line_inside_the_data_is_an_error_so_row_numbers_stay_exact(tmp_path):
    path = write(tmp_path, BARS + f"{T0},1,2,0.5,1.5,3\n\n{T0 + 300_000},1,2,0.5,1.5,3\n")
    assert str(error(path)) == f"{path}, row 3: blank line"


def test_non_boolean_maker_flag_is_named(tmp_path):
    path = write(tmp_path, f"ts_ms,price,qty,buyer_is_maker\n{T0},1,1,maybe\n", "t.csv")
    assert str(error(path, read_trades)) == (
        f"{path}, row 2, buyer_is_maker: 'maybe' is not a boolean (True/False)"
    )


def test_unknown_taker_side_is_named(tmp_path):
    path = write(tmp_path, f"ts_ms,side,price,amount\n{T0},buy,1,1\n{T0},hold,1,1\n", "t.csv")
    assert str(error(path, read_trades)) == f"{path}, row 3, side: 'hold' is not buy or sell"


def test_empty_file_is_rejected(tmp_path):
    path = write(tmp_path, "")
    assert str(error(path)) == f"{path}, row 1: the file is empty (no header row)"


def test_header_without_rows_is_rejected(tmp_path):
    path = write(tmp_path, BARS)
    assert str(error(path)) == f"{path}, row 2: the file has a header but no data rows"


def test_gzip_files_are_read_like_plain_ones(tmp_path):
    path = write(tmp_path, gzip.compress((BARS + GOOD).encode()), "x_5m.csv.gz")
    series, _ = read_ohlcv(path)
    assert len(series) == 200 and series.timeframe == "5m"


def test_corrupt_gzip_is_rejected(tmp_path):
    path = write(tmp_path, b"\x1f\x8b" + b"not really gzip at all", "x_5m.csv.gz")
    raised = error(path)
    assert raised.row == 1
    assert str(raised).startswith(f"{path}, row 1: corrupt gzip data (")


def test_truncated_gzip_names_the_first_incomplete_row(tmp_path):
    whole = gzip.compress((BARS + GOOD * 20).encode(), mtime=0)
    path = write(tmp_path, whole[: len(whole) // 2], "x_5m.csv.gz")
    raised = error(path)
    assert str(raised) == f"{path}, row {raised.row}: the gzip stream is truncated"
    assert raised.row is not None and 2 < raised.row < 4000


def test_unreadable_path_is_a_data_error(tmp_path):
    path = tmp_path / "missing_5m.csv"
    assert str(error(path)).startswith(f"{path}: cannot read the file: ")
