"""The block-wise CSV reader gives exactly what one whole-file pyarrow table gives, and names
the right row of a bad cell whichever block holds it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from tests.pack import DATA_PACK, needs_pack

from xmargin.core.errors import DataError
from xmargin.data import csv_table
from xmargin.data.csv_table import FLOAT, INT, TEXT, open_csv, read_columns
from xmargin.data.loaders import read_ohlcv

PACK_FILES = sorted(p for p in DATA_PACK.rglob("*.csv*") if p.suffix in (".csv", ".gz"))
T0 = 1_735_603_200_000
HEADER = "ts_ms,open,high,low,close,volume\n"


def whole_table(path: Path) -> pa.Table:
    """The reference: the file parsed by pyarrow in one table, its types inferred."""
    return pacsv.read_csv(pa.BufferReader(open_csv(path).data))


@needs_pack
@pytest.mark.parametrize("block", [csv_table.BLOCK_BYTES, 4096])
def test_pack_files_read_exactly_as_one_table(monkeypatch, block):
    monkeypatch.setattr(csv_table, "BLOCK_BYTES", block)
    compared = 0
    for path in PACK_FILES:
        table = whole_table(path)
        kinds = {pa.types.is_floating: FLOAT, pa.types.is_integer: INT, pa.types.is_string: TEXT}
        types = {}
        for field in table.schema:
            kind = next((k for test, k in kinds.items() if test(field.type)), None)
            if kind is not None and table.column(field.name).null_count == 0:
                types[field.name] = kind
        columns = read_columns(open_csv(path), types)
        for name, kind in types.items():
            expected = table.column(name).to_numpy()
            got = columns[name]
            assert len(got) == table.num_rows, (path, name)
            if kind is TEXT:
                assert got.tolist() == expected.tolist(), (path, name)
            else:
                assert got.dtype == (np.int64 if kind is INT else np.float64), (path, name)
                assert np.array_equal(got, expected.astype(got.dtype)), (path, name)
            compared += 1
    assert compared > 3 * len(PACK_FILES)


def bars(rows: int, bad_row: int | None = None, cell: str = "1.5") -> str:
    """``rows`` 5-minute bars; line ``bad_row`` (the header is line 1) has ``cell`` as close."""
    lines = []
    for line in range(2, rows + 2):
        close = cell if line == bad_row else "1.5"
        lines.append(f"{T0 + (line - 2) * 300_000},1,2,0.5,{close},3\n")
    return HEADER + "".join(lines)


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(csv_table, "BLOCK_BYTES", 256)


def test_many_blocks_give_every_row(tmp_path, small_blocks):
    path = tmp_path / "x_5m.csv"
    path.write_text(bars(300))
    series, _ = read_ohlcv(path)
    assert len(series) == 300
    assert series.ts_ms[-1] == T0 + 299 * 300_000
    assert series.close.tolist() == [1.5] * 300


def test_crlf_and_no_final_newline_across_blocks(tmp_path, small_blocks):
    path = tmp_path / "x_5m.csv"
    path.write_bytes(bars(120).rstrip("\n").replace("\n", "\r\n").encode())
    series, _ = read_ohlcv(path)
    assert len(series) == 120
    assert series.ts_ms[-1] == T0 + 119 * 300_000


def test_empty_cell_in_a_later_block_names_its_row(tmp_path, small_blocks):
    path = tmp_path / "x_5m.csv"
    path.write_text(bars(300, bad_row=250, cell=""))
    with pytest.raises(DataError, match="empty cell") as raised:
        read_ohlcv(path)
    assert (raised.value.row, raised.value.field) == (250, "close")


def test_bad_number_in_a_later_block_names_its_row(tmp_path, small_blocks):
    path = tmp_path / "x_5m.csv"
    path.write_text(bars(300, bad_row=281, cell="1.5x"))
    with pytest.raises(DataError, match=r"'1\.5x' is not a number") as raised:
        read_ohlcv(path)
    assert (raised.value.row, raised.value.field) == (281, "close")


def test_blank_line_in_a_later_block_names_its_row(tmp_path, small_blocks):
    text = bars(300)
    lines = text.splitlines(keepends=True)
    path = tmp_path / "x_5m.csv"
    path.write_text("".join(lines[:199]) + "\n" + "".join(lines[199:]))
    with pytest.raises(DataError, match="blank line") as raised:
        read_ohlcv(path)
    assert raised.value.row == 200
