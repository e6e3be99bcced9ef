"""Read typed columns from a CSV or gzip CSV file, naming the row and field of any bad cell.

The fast path is ``pyarrow.csv``'s streaming reader, block by block into preallocated numpy
columns (no whole-file table, no second copy); when it refuses the file, a slow pass with
the standard ``csv`` module finds the first offending line so the error can name it. Gzip is
inflated here rather than by pyarrow, because pyarrow silently accepts a truncated gzip
stream. Rows are numbered as file lines: the header is row 1. Blank lines are errors, so
that row numbers stay exact.
"""

from __future__ import annotations

import csv
import io
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from xmargin.core.errors import DataError

_GZIP_MAGIC = b"\x1f\x8b"
_TRUE = ("1", "True", "TRUE", "true")
_FALSE = ("0", "False", "FALSE", "false")

INT = pa.int64()
FLOAT = pa.float64()
BOOL = pa.bool_()
TEXT = pa.string()


@dataclass(frozen=True)
class CsvFile:
    """The decompressed bytes of a CSV file and its header."""

    source: str
    data: bytes
    header: tuple[str, ...]

    def column(self, *candidates: str) -> str:
        """Return the first of ``candidates`` in the header; none there is an error on row 1."""
        found = self.optional(*candidates)
        if found is None:
            wanted = " or ".join(repr(c) for c in candidates)
            raise DataError(
                f"missing column {wanted}; the header is {','.join(self.header)}",
                source=self.source,
                row=1,
                field=candidates[0],
            )
        return found

    def optional(self, *candidates: str) -> str | None:
        """Return the first of ``candidates`` in the header, or None."""
        return next((column for column in candidates if column in self.header), None)


def open_csv(path: str | Path) -> CsvFile:
    """Read ``path`` (plain or gzip CSV) and its header; empty or corrupt files raise."""
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read the file: {exc.strerror or exc}", source=source) from None
    data = _inflate(raw, source) if raw.startswith(_GZIP_MAGIC) else raw
    end = data.find(b"\n")
    first_line = (data if end < 0 else data[:end]).rstrip(b"\r")
    if not first_line.strip():
        raise DataError("the file is empty (no header row)", source=source, row=1)
    header = tuple(cell.strip() for cell in first_line.decode("utf-8", "replace").split(","))
    return CsvFile(source, data, header)


def _inflate(raw: bytes, source: str) -> bytes:
    inflater = zlib.decompressobj(wbits=31)
    parts: list[bytes] = []
    try:
        while raw:
            parts.append(inflater.decompress(raw))
            if not inflater.eof:
                break
            raw = inflater.unused_data.lstrip(b"\x00")
            if raw:
                inflater = zlib.decompressobj(wbits=31)
        problem = None if inflater.eof else "the gzip stream is truncated"
    except zlib.error as exc:
        problem = f"corrupt gzip data ({exc})"
    if problem is None:
        return b"".join(parts)
    complete_lines = b"".join(parts).count(b"\n")
    raise DataError(problem, source=source, row=complete_lines + 1)


BLOCK_BYTES = 1 << 20
"""The streaming reader's block: memory beyond the columns stays about this size."""

_NUMPY_TYPES = {INT: np.int64, FLOAT: np.float64, BOOL: np.bool_, TEXT: object}


def read_columns(csv_file: CsvFile, types: Mapping[str, pa.DataType]) -> dict[str, np.ndarray]:
    """Parse the named columns with the given pyarrow types into numpy arrays.

    The file is read a block at a time into columns preallocated for one row per line
    (the count of newlines bounds the rows), so the peak is the columns plus one block.
    """
    options = pacsv.ConvertOptions(
        column_types=dict(types),
        include_columns=list(types),
        null_values=[""],
        strings_can_be_null=True,
        true_values=list(_TRUE),
        false_values=list(_FALSE),
    )
    capacity = csv_file.data.count(b"\n") + 1
    columns: dict[str, np.ndarray] = {
        name: np.empty(capacity, dtype=_NUMPY_TYPES[kind]) for name, kind in types.items()
    }
    rows = 0
    try:
        reader = pacsv.open_csv(
            pa.BufferReader(csv_file.data),
            read_options=pacsv.ReadOptions(use_threads=False, block_size=BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(ignore_empty_lines=False),
            convert_options=options,
        )
        for batch in reader:
            count = batch.num_rows
            for name in types:
                column = batch.column(name)
                if column.null_count:
                    nulls = column.is_null().to_numpy(zero_copy_only=False)
                    row = rows + int(np.flatnonzero(nulls)[0]) + 2
                    empty = DataError("empty cell", source=csv_file.source, row=row, field=name)
                    raise _locate(csv_file, types) or empty
                columns[name][rows : rows + count] = column.to_numpy(zero_copy_only=False)
            rows += count
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise _locate(csv_file, types) or DataError(str(exc), source=csv_file.source) from None
    return {name: column[:rows] for name, column in columns.items()}


def _locate(csv_file: CsvFile, types: Mapping[str, pa.DataType]) -> DataError | None:
    """Find the first line that pyarrow refused, the slow way."""
    text = io.StringIO(csv_file.data.decode("utf-8", "replace"), newline="")
    reader = csv.reader(text)
    header = next(reader, [])
    positions = {name: header.index(name) for name in types if name in header}
    for row, cells in enumerate(reader, start=2):
        if not cells:
            return DataError("blank line", source=csv_file.source, row=row)
        if len(cells) != len(header):
            field = header[len(cells)] if len(cells) < len(header) else None
            return DataError(
                f"expected {len(header)} fields, found {len(cells)}",
                source=csv_file.source,
                row=row,
                field=field,
            )
        for name, position in positions.items():
            problem = _cell_problem(cells[position], types[name])
            if problem:
                return DataError(problem, source=csv_file.source, row=row, field=name)
    return None


def _cell_problem(cell: str, kind: pa.DataType) -> str | None:
    if cell == "":
        return "empty cell"
    parse: Any = {INT: int, FLOAT: float}.get(kind)
    if parse is not None:
        try:
            parse(cell)
        except ValueError:
            noun = "an integer" if kind == INT else "a number"
            return f"{cell!r} is not {noun}"
    elif kind == BOOL and cell not in _TRUE + _FALSE:
        return f"{cell!r} is not a boolean (True/False)"
    return None
