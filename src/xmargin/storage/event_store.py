"""The append-only event store: every command and event of a run, in order, as JSON lines.

A record is stored as the exact JSON line the run's event log holds (compact separators,
field order kept), so the concatenated payloads of a run hash to the run's
``event_log_sha256``. Rows are only ever inserted: the schema's triggers refuse UPDATE and
DELETE on both SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from xmargin.model import commands
from xmargin.storage.bulk import insert_tuples
from xmargin.storage.database import Database
from xmargin.storage.tables import events

NS_PER_MS = 1_000_000
READ_BATCH = 20_000
COMMAND_TYPES = frozenset(
    name for name, value in vars(commands).items() if dataclasses.is_dataclass(value)
)
_COLUMNS = ("run_id", "seq", "ts_ns", "kind", "type", "account", "payload")


def event_line(record: dict[str, Any]) -> str:
    """The JSON line of one record, exactly as the run's event log writes it (no newline)."""
    return json.dumps(record, separators=(",", ":"))


def event_rows(
    run_id: str,
    first_seq: int,
    records: Sequence[dict[str, Any]],
    lines: Sequence[str] | None = None,
) -> list[tuple[Any, ...]]:
    """Return the event-store rows (in ``_COLUMNS`` order) of ``records`` from ``first_seq``;
    ``lines`` are their JSON lines when already rendered."""
    commands_ = COMMAND_TYPES
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    rows = []
    seq = first_seq
    for offset, record in enumerate(records):
        kind = record.get("type", "")
        account = record.get("account")
        if account is None:
            account = record.get("from_account")
        rows.append(
            (
                run_id,
                seq,
                int(record.get("ts_ms", 0)) * NS_PER_MS,
                "command" if kind in commands_ else "event",
                kind,
                account,
                dumps(record) if lines is None else lines[offset],
            )
        )
        seq += 1
    return rows


class EventStore:
    """Append to and read from the event store of a database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def append_rows(self, connection: Connection, rows: Sequence[tuple[Any, ...]]) -> int:
        """Insert prepared rows in bulk inside the caller's transaction; return how many."""
        insert_tuples(connection, events.name, _COLUMNS, rows)
        return len(rows)

    def append(
        self,
        connection: Connection,
        run_id: str,
        first_seq: int,
        records: Sequence[dict[str, Any]],
    ) -> int:
        """Append ``records`` as events ``first_seq``, ``first_seq + 1``, … of ``run_id``."""
        return self.append_rows(connection, event_rows(run_id, first_seq, records))

    def count(self, run_id: str) -> int:
        with self.db.read() as connection:
            query = select(func.count()).select_from(events).where(events.c.run_id == run_id)
            return int(connection.execute(query).scalar_one())

    def lines(self, run_id: str) -> Iterator[str]:
        """Yield the stored JSON lines of a run in order (batched, one snapshot)."""
        with self.db.read() as connection:
            last = -1
            while True:
                query = (
                    select(events.c.seq, events.c.payload)
                    .where(events.c.run_id == run_id, events.c.seq > last)
                    .order_by(events.c.seq)
                    .limit(READ_BATCH)
                )
                batch = connection.execute(query).all()
                if not batch:
                    return
                for _, payload in batch:
                    yield payload
                last = batch[-1][0]

    def records(self, run_id: str) -> Iterator[dict[str, Any]]:
        for line in self.lines(run_id):
            yield json.loads(line)

    def sha256(self, run_id: str) -> str:
        """The SHA-256 of the run's event log text (each line followed by a newline)."""
        digest = hashlib.sha256()
        for line in self.lines(run_id):
            digest.update(line.encode())
            digest.update(b"\n")
        return digest.hexdigest()
