"""Write a run: its header first, then its events in segments, then its completion.

Each segment (``segment_events`` records) is one transaction holding the events and every
row projected from them, written in bulk. The run row is created ``incomplete`` and turns
``complete`` only in the last transaction, with the summary and performance snapshots; a
process killed at any point leaves a run that says ``incomplete`` and whose stored events
are a prefix of its event log, never a run that claims to be complete.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection

from xmargin.core.clock import Clock, WallClock
from xmargin.core.errors import InvariantError
from xmargin.storage.bulk import bulk_insert
from xmargin.storage.connect import DatabaseTarget, open_database
from xmargin.storage.database import Database
from xmargin.storage.event_store import EventStore, event_rows
from xmargin.storage.projections import Projector, Segment, venue_of_account
from xmargin.storage.snapshots import AccountFigures, performance_rows
from xmargin.storage.tables import (
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

INCOMPLETE = "incomplete"
COMPLETE = "complete"
FAILED = "failed"
SEGMENT_EVENTS = 50_000
NS_PER_MS = 1_000_000


class SupportsToList(Protocol):
    def tolist(self) -> Any: ...


class RecorderLike(Protocol):
    @property
    def events(self) -> Sequence[dict[str, Any]]: ...


class RunOutcome(Protocol):
    """What storage reads from a finished run (``BacktestResult`` has this shape)."""

    @property
    def recorder(self) -> RecorderLike: ...
    @property
    def start_equity(self) -> Decimal: ...
    @property
    def final_equity(self) -> Decimal: ...
    @property
    def grid_ms(self) -> SupportsToList: ...
    @property
    def equity(self) -> SupportsToList: ...
    @property
    def gross_notional(self) -> SupportsToList: ...
    @property
    def margin_curves(self) -> Mapping[str, Sequence[tuple[int, float | None]]]: ...
    @property
    def account_samples(self) -> Mapping[str, Sequence[AccountFigures]]: ...
    @property
    def wall_seconds(self) -> float: ...
    def summary(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class RunHeader:
    """What is known about a run before it starts."""

    name: str
    config_path: str
    config_text: str
    seed: int
    code_version: str = ""
    kind: str = "backtest"
    data_dir: str | None = None
    data_manifest: Sequence[Mapping[str, Any]] = ()

    @property
    def config_sha256(self) -> str:
        return hashlib.sha256(self.config_text.encode()).hexdigest()


def new_run_id(started_ns: int, config_sha256: str, seed: int, attempt: int = 0) -> str:
    """``YYYYMMDD-HHMMSS-xxxxxx``: sortable by start time, unique by content and instant."""
    moment = datetime.fromtimestamp(started_ns / 1e9, UTC)
    salt = hashlib.sha256(f"{started_ns}:{config_sha256}:{seed}:{attempt}".encode())
    return f"{moment:%Y%m%d-%H%M%S}-{salt.hexdigest()[:6]}"


class RunWriter:
    """Persist one run as it goes: ``begin`` → ``append``… → ``complete`` (or ``fail``)."""

    def __init__(
        self,
        db: Database,
        run_id: str,
        clock: Clock,
        segment_events: int = SEGMENT_EVENTS,
        venue_of: Callable[[str], str] = venue_of_account,
    ) -> None:
        self.db = db
        self.run_id = run_id
        self.clock = clock
        self.segment_events = segment_events
        self.store = EventStore(db)
        self.projector = Projector(run_id, venue_of)
        self.next_seq = 0
        self.finished = False
        self._digest = hashlib.sha256()

    @classmethod
    def begin(
        cls,
        target: DatabaseTarget,
        header: RunHeader,
        *,
        clock: Clock | None = None,
        segment_events: int = SEGMENT_EVENTS,
        venue_of: Callable[[str], str] = venue_of_account,
    ) -> RunWriter:
        """Insert the run's row (``incomplete``) in its own transaction and return a writer."""
        db = open_database(target)
        clock = clock or WallClock()
        started = clock.now_ns()
        with db.write() as connection:
            run_id = _free_run_id(connection, started, header)
            connection.execute(
                insert(runs).values(
                    run_id=run_id,
                    kind=header.kind,
                    name=header.name,
                    status=INCOMPLETE,
                    config_path=header.config_path,
                    config_text=header.config_text,
                    config_sha256=header.config_sha256,
                    seed=header.seed,
                    code_version=header.code_version,
                    data_dir=header.data_dir,
                    data_manifest=json.dumps(list(header.data_manifest), sort_keys=True),
                    started_ns=started,
                )
            )
        return cls(db, run_id, clock, segment_events, venue_of)

    def record_data_manifest(self, manifest: Sequence[Mapping[str, Any]]) -> None:
        """Replace the header's data manifest once the data is loaded (where each table came
        from is known only then: a file, a download, or the synthetic market)."""
        self._check_open()
        with self.db.write() as connection:
            connection.execute(
                update(runs)
                .where(runs.c.run_id == self.run_id)
                .values(data_manifest=json.dumps(list(manifest), sort_keys=True))
            )

    def append(self, records: Sequence[dict[str, Any]]) -> None:
        """Write ``records`` (the next events of the run) in segment-sized transactions."""
        self._check_open()
        for start in range(0, len(records), self.segment_events):
            self._write_segment(records[start : start + self.segment_events])

    def _write_segment(self, records: Sequence[dict[str, Any]]) -> None:
        rows = event_rows(self.run_id, self.next_seq, records)
        segment = self.projector.project(self.next_seq, records, [row[-1] for row in rows])
        with self.db.write() as connection:
            self.store.append_rows(connection, rows)
            write_projection(connection, segment)
        digest = self._digest
        for row in rows:
            digest.update(row[-1].encode())
            digest.update(b"\n")
        self.next_seq += len(records)

    def complete(self, outcome: RunOutcome) -> None:
        """Write the snapshots and summary and mark the run complete, in one transaction."""
        self._check_open()
        summary = outcome.summary()
        sha = self._digest.hexdigest()
        expected = summary.get("event_log_sha256")
        if expected is not None and expected != sha:
            raise InvariantError(f"stored events hash to {sha}, the run's log to {expected}")
        grid = list(outcome.grid_ms.tolist())
        snapshots = performance_rows(
            self.run_id,
            grid,
            outcome.equity.tolist(),
            outcome.gross_notional.tolist(),
            outcome.margin_curves,
            account_samples=outcome.account_samples,
        )
        with self.db.write() as connection:
            bulk_insert(connection, performance_snapshots, snapshots)
            connection.execute(
                update(runs)
                .where(runs.c.run_id == self.run_id)
                .values(
                    status=COMPLETE,
                    finished_ns=self.clock.now_ns(),
                    start_equity=outcome.start_equity,
                    final_equity=outcome.final_equity,
                    event_count=self.next_seq,
                    event_log_sha256=sha,
                    summary=json.dumps(summary, sort_keys=True),
                    data_start_ns=grid[0] * NS_PER_MS if grid else None,
                    data_end_ns=grid[-1] * NS_PER_MS if grid else None,
                    wall_seconds=outcome.wall_seconds,
                )
            )
        self.finished = True

    def fail(self, error: str) -> None:
        """Mark the run failed (the events written so far stay, as the audit trail)."""
        self._check_open()
        with self.db.write() as connection:
            connection.execute(
                update(runs)
                .where(runs.c.run_id == self.run_id)
                .values(status=FAILED, error=error[:2000], finished_ns=self.clock.now_ns())
            )
        self.finished = True

    def _check_open(self) -> None:
        if self.finished:
            raise InvariantError(f"run {self.run_id} is already finished")


def _free_run_id(connection: Connection, started: int, header: RunHeader) -> str:
    for attempt in range(100):
        run_id = new_run_id(started, header.config_sha256, header.seed, attempt)
        taken = connection.execute(select(runs.c.run_id).where(runs.c.run_id == run_id)).first()
        if taken is None:
            return run_id
    raise InvariantError("no free run id after 100 attempts")


_ORDER_UPDATE = update(orders).where(
    orders.c.run_id == bindparam("b_run_id"),
    orders.c.account == bindparam("b_account"),
    orders.c.client_order_id == bindparam("b_client_order_id"),
)
_ORDER_CHANGES = ("status", "filled_quantity", "venue_order_id", "reason", "quantity", "price")


def write_projection(connection: Connection, segment: Segment) -> None:
    """Insert (and for orders, update) one segment's projected rows in bulk."""
    for table, rows in (
        (orders, segment.new_orders),
        (fills, segment.fills),
        (positions, segment.positions),
        (funding_payments, segment.funding),
        (loans, segment.loans),
        (interest_charges, segment.interest),
        (risk_events, segment.risk),
    ):
        bulk_insert(connection, table, rows)
    if segment.changed_orders:
        connection.execute(
            _ORDER_UPDATE,
            [
                {
                    "b_run_id": row["run_id"],
                    "b_account": row["account"],
                    "b_client_order_id": row["client_order_id"],
                    **{name: row[name] for name in _ORDER_CHANGES},
                }
                for row in segment.changed_orders
            ],
        )


def persist_run(
    target: DatabaseTarget,
    config_path: str,
    config_text: str,
    seed: int,
    result: RunOutcome,
    *,
    name: str = "",
    code_version: str = "",
    data_dir: str | None = None,
    data_manifest: Sequence[Mapping[str, Any]] = (),
    clock: Clock | None = None,
    segment_events: int = SEGMENT_EVENTS,
) -> str:
    """Store a finished run (header, events in segments, completion); return its run id."""
    header = RunHeader(
        name=name,
        config_path=config_path,
        config_text=config_text,
        seed=seed,
        code_version=code_version,
        data_dir=data_dir,
        data_manifest=data_manifest,
    )
    writer = RunWriter.begin(target, header, clock=clock, segment_events=segment_events)
    writer.append(result.recorder.events)
    writer.complete(result)
    return writer.run_id
