"""Read stored runs: list them, resolve a reference, and fetch a run's rows for reports."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.engine import Connection

from xmargin.core.errors import ConfigError
from xmargin.storage.database import Database
from xmargin.storage.liveness import shown_status
from xmargin.storage.tables import (
    RUN_TABLES,
    fills,
    funding_payments,
    interest_charges,
    loans,
    orders,
    performance_snapshots,
    positions,
    risk_events,
    runs,
)

LATEST = ("last", "latest")


@dataclass(frozen=True)
class StoredRun:
    """One row of ``runs``, with its JSON columns decoded."""

    run_id: str
    kind: str
    name: str
    status: str
    error: str | None
    config_path: str
    config_text: str
    config_sha256: str
    seed: int
    code_version: str
    data_dir: str | None
    data_start_ns: int | None
    data_end_ns: int | None
    started_ns: int
    finished_ns: int | None
    start_equity: Decimal | None
    final_equity: Decimal | None
    event_count: int | None
    event_log_sha256: str | None
    wall_seconds: float | None
    summary: dict[str, Any] = field(default_factory=dict)
    data_manifest: list[dict[str, Any]] = field(default_factory=list)
    pid: int | None = None
    host: str | None = None
    heartbeat_ns: int | None = None

    @property
    def complete(self) -> bool:
        return self.status == "complete"

    @property
    def shown_status(self) -> str:
        """The status, with ``died`` for a ``running`` run whose process is gone."""
        return shown_status(self.status, self.pid, self.host, self.heartbeat_ns)

    @property
    def total_return(self) -> Decimal | None:
        if not self.start_equity or self.final_equity is None:
            return None
        return self.final_equity / self.start_equity - 1


def _stored_run(row: Any) -> StoredRun:
    values = dict(row._mapping)
    values["summary"] = json.loads(values["summary"]) if values.get("summary") else {}
    manifest = values.get("data_manifest")
    values["data_manifest"] = json.loads(manifest) if manifest else []
    return StoredRun(**values)


class RunRepository:
    """Queries over the run store of one database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def list_runs(self, limit: int | None = None, status: str | None = None) -> list[StoredRun]:
        """Runs, newest first."""
        query = select(runs).order_by(runs.c.started_ns.desc(), runs.c.run_id.desc())
        if status is not None:
            query = query.where(runs.c.status == status)
        if limit is not None:
            query = query.limit(limit)
        with self.db.read() as connection:
            return [_stored_run(row) for row in connection.execute(query)]

    def get(self, reference: str) -> StoredRun:
        """Resolve a run id, a unique prefix of one, or ``last``; ``ConfigError`` otherwise."""
        with self.db.read() as connection:
            return _stored_run(_resolve(connection, reference.strip()))

    def rows(self, table: Table, run_id: str) -> list[dict[str, Any]]:
        """Every row of ``table`` for ``run_id`` in time (then sequence) order."""
        order = [table.c.ts_ns]
        if "seq" in table.c:
            order.append(table.c.seq)
        elif "account" in table.c:
            order.insert(0, table.c.account)
        query = select(table).where(table.c.run_id == run_id).order_by(*order)
        with self.db.read() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    def fills(self, run_id: str) -> list[dict[str, Any]]:
        return self.rows(fills, run_id)

    def orders(self, run_id: str) -> list[dict[str, Any]]:
        return self.rows(orders, run_id)

    def positions(self, run_id: str) -> list[dict[str, Any]]:
        return self.rows(positions, run_id)

    def funding(self, run_id: str) -> list[dict[str, Any]]:
        return self.rows(funding_payments, run_id)

    def interest(self, run_id: str) -> list[dict[str, Any]]:
        return self.rows(interest_charges, run_id)

    def loans(self, run_id: str) -> list[dict[str, Any]]:
        return self.rows(loans, run_id)

    def risk_events(self, run_id: str) -> list[dict[str, Any]]:
        return self.rows(risk_events, run_id)

    def snapshots(self, run_id: str) -> list[dict[str, Any]]:
        return self.rows(performance_snapshots, run_id)

    def counts(self, run_id: str) -> dict[str, int]:
        """Row counts of every per-run table."""
        with self.db.read() as connection:
            return {
                table.name: int(
                    connection.execute(
                        select(func.count()).select_from(table).where(table.c.run_id == run_id)
                    ).scalar_one()
                )
                for table in RUN_TABLES
            }


def _resolve(connection: Connection, reference: str) -> Any:
    if not reference:
        raise ConfigError("empty run reference (give a run id, a prefix of one, or 'last')")
    if reference.lower() in LATEST:
        query = select(runs).order_by(runs.c.started_ns.desc(), runs.c.run_id.desc()).limit(1)
        row = connection.execute(query).first()
        if row is None:
            raise ConfigError("no runs stored yet (run `xmargin backtest CONFIG` first)")
        return row
    exact = connection.execute(select(runs).where(runs.c.run_id == reference)).first()
    if exact is not None:
        return exact
    pattern = reference.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    matches = connection.execute(
        select(runs).where(runs.c.run_id.like(pattern, escape="\\")).limit(6)
    ).all()
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ConfigError(
            f"no run {reference!r} in the database (see `xmargin runs list`)", where="RUN"
        )
    shown = ", ".join(row.run_id for row in matches[:5])
    raise ConfigError(f"run {reference!r} is ambiguous: it matches {shown}…", where="RUN")
