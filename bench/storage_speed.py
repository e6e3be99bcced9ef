"""How fast are runs stored? Bulk-insert N events into SQLite and PostgreSQL.

Each engine is measured twice on the same N records: the event store alone (JSON-encode and
bulk-insert every record, one transaction per 50,000-event segment) and a whole run through
``RunWriter`` (event store plus every projection: orders, fills, positions, funding, loans,
interest, risk events). The reference measured in the same run is the raw driver doing the
least possible: ``sqlite3.executemany`` of the already-encoded rows into the same table with
the same pragmas (and, for PostgreSQL, a raw ``COPY``). Target: ≥ 50,000 events/s into SQLite.

Records: the event log of ``examples/sma_cross.toml`` repeated to N (times shifted, order ids
made unique) when the data pack is present, else the hand-made sample run's shapes.
PostgreSQL: ``--pg-url URL``, else a throwaway durable cluster (fsync on) when the server
binaries are installed, else skipped.

    uv run python bench/storage_speed.py [--events N] [--pg-url URL | --no-pg] [--json]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from xmargin.backtest.runner import run_backtest
from xmargin.engine.config import load_run_config
from xmargin.storage import EventStore, RunHeader, RunWriter, open_database
from xmargin.storage.event_store import event_rows
from xmargin.testing.postgres import ThrowawayPostgres, find_binaries
from xmargin.testing.runs import many_records

ROOT = Path(__file__).resolve().parents[1]
SEGMENT = 50_000
TARGET = 50_000


def records(count: int) -> tuple[list[dict[str, Any]], str]:
    """``count`` event records: the SMA example's log repeated, or the sample shapes."""
    config = ROOT / "examples" / "sma_cross.toml"
    if (ROOT.parent / "shared" / "data").is_dir():
        base = run_backtest(load_run_config(config)).recorder.events
        span = base[-1]["ts_ms"] - base[0]["ts_ms"] + 1
        out = []
        for index in range(count):
            cycle, offset = divmod(index, len(base))
            record = dict(base[offset])
            record["ts_ms"] += cycle * span
            if "client_order_id" in record:
                record["client_order_id"] = f"{record['client_order_id']}-{cycle}"
            out.append(record)
        return out, f"{config.name} event log ({len(base):,} events) repeated"
    return many_records(count), "the sample run's record shapes (no data pack)"


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def event_store_only(url: str, batch: list[dict[str, Any]]) -> float:
    writer = RunWriter.begin(url, RunHeader("bench", "bench.toml", "", 0))
    store = EventStore(writer.db)

    def insert() -> None:
        for start in range(0, len(batch), SEGMENT):
            with writer.db.write() as connection:
                store.append(connection, writer.run_id, start, batch[start : start + SEGMENT])

    return timed(insert)


def whole_run(url: str, batch: list[dict[str, Any]]) -> float:
    writer = RunWriter.begin(url, RunHeader("bench", "bench.toml", "", 0))
    return timed(lambda: writer.append(batch))


def sqlite_reference(path: Path, batch: list[dict[str, Any]]) -> float:
    open_database(f"sqlite:///{path}").dispose()
    rows = event_rows("ref", 0, batch)
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute(
        "INSERT INTO runs (run_id, kind, name, status, config_path, config_text, config_sha256,"
        " seed, code_version, started_ns) VALUES ('ref', 'b', 'r', 'x', '', '', '', 0, '', 0)"
    )
    sql = "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)"

    def insert() -> None:
        for start in range(0, len(rows), SEGMENT):
            connection.execute("BEGIN IMMEDIATE")
            connection.executemany(sql, rows[start : start + SEGMENT])
            connection.execute("COMMIT")

    elapsed = timed(insert)
    connection.close()
    return elapsed


def postgres_reference(url: str, batch: list[dict[str, Any]]) -> float:
    db = open_database(url)
    writer = RunWriter.begin(db, RunHeader("ref", "ref.toml", "", 0))
    rows = event_rows(writer.run_id, 0, batch)
    store = EventStore(db)

    def insert() -> None:
        for start in range(0, len(rows), SEGMENT):
            with db.write() as connection:
                store.append_rows(connection, rows[start : start + SEGMENT])

    return timed(insert)


def measure(
    label: str, url: str, batch: list[dict[str, Any]], reference: Callable[[], float]
) -> dict[str, Any]:
    count = len(batch)
    figures = {
        "event_store": count / event_store_only(url, batch),
        "whole_run": count / whole_run(url, batch),
        "reference": count / reference(),
    }
    return {"engine": label, "events": count, **{k: round(v) for k, v in figures.items()}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--pg-url", help="PostgreSQL URL (default: a throwaway cluster)")
    parser.add_argument("--no-pg", action="store_true", help="Skip PostgreSQL.")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    batch, source = records(args.events)
    results = []
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        url = f"sqlite:///{tmp}/bench.db"
        results.append(
            measure("sqlite", url, batch, lambda: sqlite_reference(Path(tmp) / "ref.db", batch))
        )
        pg_url, pg_note = args.pg_url, "given URL"
        if pg_url is None and not args.no_pg and find_binaries() is not None:
            server = stack.enter_context(ThrowawayPostgres(durable=True))
            pg_url, pg_note = server.create_database("bench"), "throwaway cluster, fsync on"
        if pg_url is not None:
            ref_url = pg_url
            results.append(
                measure("postgresql", pg_url, batch, lambda: postgres_reference(ref_url, batch))
            )
            results[-1]["note"] = pg_note
    document = {"source": source, "segment_events": SEGMENT, "results": results}
    if args.json:
        print(json.dumps(document, indent=2))
    else:
        print(f"{args.events:,} events from {source}; one transaction per {SEGMENT:,} events")
        print(f"{'engine':<12}{'event store':>14}{'whole run':>14}{'reference':>14}   (events/s)")
        for row in results:
            print(
                f"{row['engine']:<12}{row['event_store']:>14,}{row['whole_run']:>14,}"
                f"{row['reference']:>14,}   {row.get('note', 'raw sqlite3 executemany')}"
            )
    sqlite_rate = results[0]["event_store"]
    if sqlite_rate < TARGET:
        print(f"below the target of {TARGET:,} events/s into SQLite", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
