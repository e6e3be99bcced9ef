"""Bulk inserts that skip per-row SQL construction: ``executemany`` on SQLite, ``COPY`` on
PostgreSQL, both inside the caller's transaction.

Rows are dicts keyed by column name (missing keys are NULL). Money columns get the same
conversion as :class:`~xmargin.storage.columns.Money` (exact text on SQLite, ``Decimal`` on
PostgreSQL; floats refused), so what a bulk insert writes reads back exactly as usual.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Connection

from xmargin.storage.columns import Money, money_parameter


def bulk_insert(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` into ``table`` in one driver call."""
    if not rows:
        return
    names = [column.name for column in table.columns]
    money = [i for i, column in enumerate(table.columns) if isinstance(column.type, Money)]
    sqlite = connection.dialect.name == "sqlite"
    values = []
    for row in rows:
        value = [row.get(name) for name in names]
        for index in money:
            value[index] = money_parameter(value[index], sqlite)
        values.append(tuple(value))
    insert_tuples(connection, table.name, names, values)


def insert_tuples(
    connection: Connection, table: str, names: Sequence[str], values: Sequence[tuple[Any, ...]]
) -> None:
    """Insert prepared tuples (in ``names`` order, driver-ready values) in bulk."""
    if not values:
        return
    columns = ", ".join(names)
    if connection.dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in values:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in names)
    connection.exec_driver_sql(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(values))
