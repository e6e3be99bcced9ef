"""Write a run as it happens: its header first, then its events in segments, then its end.

Events arrive one at a time (``write``) and are buffered; every ``segment_events`` records,
or on a ``tick`` at least ``HEARTBEAT_NS`` after the last commit, the buffer is written as one
transaction holding the events, every row projected from them, and the run's heartbeat. The
run row is created ``running`` with the writing process (pid, host) and turns ``complete``
only in the last transaction, with the summary and performance snapshots; ``fail`` marks it
``failed`` or ``interrupted``. A process killed at any point leaves a run that says
``running`` (shown as died once its process is gone) and whose stored events are a prefix
of its event log, never a run that claims to be complete. SIGINT arriving during one of
these transactions is held until the transaction has ended.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
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
from xmargin.storage.event_store import EventStore, event_line, event_rows
from xmargin.storage.interrupts import interrupts_deferred
from xmargin.storage.liveness import RUNNING
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
from xmargin.storage.windowed import SupportsWindows, WindowedValues

INCOMPLETE = "incomplete"  # the status of a run begun before revision 0003
COMPLETE = "complete"
FAILED = "failed"
INTERRUPTED = "interrupted"
SEGMENT_EVENTS = 10_000
HEARTBEAT_NS = 2_000_000_000
NS_PER_MS = 1_000_000


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
    def grid_ms(self) -> SupportsWindows: ...
    @property
    def equity(self) -> SupportsWindows: ...
    @property
    def gross_notional(self) -> SupportsWindows: ...
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
    """Persist one run as it goes: ``begin`` → ``write``/``append``… → ``complete`` (or
    ``fail``); it is an event-log sink (``write(record, line)``)."""

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
        self._records: list[dict[str, Any]] = []
        self._lines: list[str] = []
        self._last_commit_ns = 0

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
        """Insert the run's row (``running``) in its own transaction and return a writer."""
        db = open_database(target)
        clock = clock or WallClock()
        started = clock.now_ns()
        with interrupts_deferred(), db.write() as connection:
            run_id = _free_run_id(connection, started, header)
            connection.execute(
                insert(runs).values(
                    run_id=run_id,
                    kind=header.kind,
                    name=header.name,
                    status=RUNNING,
                    config_path=header.config_path,
                    config_text=header.config_text,
                    config_sha256=header.config_sha256,
                    seed=header.seed,
                    code_version=header.code_version,
                    data_dir=header.data_dir,
                    data_manifest=json.dumps(list(header.data_manifest), sort_keys=True),
                    started_ns=started,
                    pid=os.getpid(),
                    host=socket.gethostname(),
                    heartbeat_ns=started,
                    event_count=0,
                )
            )
        writer = cls(db, run_id, clock, segment_events, venue_of)
        writer._last_commit_ns = started
        return writer

    def write(self, record: dict[str, Any], line: str) -> None:
        """Take the run's next event (``line`` is its JSON line); commit a full segment."""
        self._records.append(record)
        self._lines.append(line)
        if len(self._records) >= self.segment_events:
            self.flush()

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
        for record in records:
            self.write(record, event_line(record))
        self.flush()

    def tick(self) -> None:
        """Commit what is buffered and the heartbeat, at most once per ``HEARTBEAT_NS``."""
        if self.clock.now_ns() - self._last_commit_ns >= HEARTBEAT_NS:
            self.flush()

    def flush(self) -> None:
        """Commit the buffered events, their projected rows and the heartbeat in one
        transaction."""
        self._check_open()
        records, lines = self._records, self._lines
        rows = event_rows(self.run_id, self.next_seq, records, lines)
        segment = self.projector.project(self.next_seq, records, lines)
        now = self.clock.now_ns()
        with interrupts_deferred():
            with self.db.write() as connection:
                self.store.append_rows(connection, rows)
                write_projection(connection, segment)
                connection.execute(
                    update(runs)
                    .where(runs.c.run_id == self.run_id)
                    .values(heartbeat_ns=now, event_count=self.next_seq + len(records))
                )
            digest = self._digest
            for line in lines:
                digest.update(line.encode())
                digest.update(b"\n")
            self.next_seq += len(records)
            self._records, self._lines = [], []
            self._last_commit_ns = now

    def complete(self, outcome: RunOutcome) -> None:
        """Write the snapshots and summary and mark the run complete, in one transaction."""
        if self._records:
            self.flush()
        self._check_open()
        summary = outcome.summary()
        sha = self._digest.hexdigest()
        expected = summary.get("event_log_sha256")
        if expected is not None and expected != sha:
            raise InvariantError(f"stored events hash to {sha}, the run's log to {expected}")
        grid = WindowedValues(outcome.grid_ms)
        snapshots = performance_rows(
            self.run_id,
            grid,
            WindowedValues(outcome.equity),
            WindowedValues(outcome.gross_notional),
            outcome.margin_curves,
            account_samples=outcome.account_samples,
        )
        with interrupts_deferred(), self.db.write() as connection:
            self.finished = True
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

    def fail(self, error: str, status: str = FAILED) -> None:
        """Mark the run ``failed`` (or ``interrupted``); the events committed so far stay as
        the audit trail, a prefix of the log; events still buffered are dropped."""
        self._check_open()
        if status not in (FAILED, INTERRUPTED):
            raise InvariantError(f"a run cannot fail with status {status!r}")
        self._records, self._lines = [], []
        self.finished = True
        with interrupts_deferred(), self.db.write() as connection:
            connection.execute(
                update(runs)
                .where(runs.c.run_id == self.run_id)
                .values(
                    status=status,
                    error=error[:2000],
                    finished_ns=self.clock.now_ns(),
                    event_count=self.next_seq,
                )
            )

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
