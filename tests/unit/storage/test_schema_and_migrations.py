"""Schema: created at the newest revision, upgraded in place from revision 1, never recreated."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from xmargin.core.errors import ConfigError
from xmargin.storage import (
    EventStore,
    RunRepository,
    ensure_schema,
    inspect_schema,
    known_revisions,
    open_database,
)
from xmargin.storage.tables import metadata

TABLES = [
    "alembic_version", "events", "fills", "funding_payments", "interest_charges", "loans",
    "orders", "performance_snapshots", "positions", "risk_events", "runs",
]  # fmt: skip


def test_revisions_are_0001_0002_then_0003():
    assert known_revisions() == ["0001", "0002", "0003"]


def test_a_new_database_is_created_at_the_newest_revision(db_url):
    db = open_database(db_url)
    assert inspect_schema(db) == ("0003", TABLES)
    assert db.upgraded_from is None


def test_the_migrations_build_exactly_the_declared_tables(db_url):
    db = open_database(db_url)
    with db.read() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def _insert_revision_1_run(db) -> None:
    with db.write() as connection:
        connection.execute(
            text(
                "INSERT INTO runs (run_id, kind, name, status, config_path, config_text, "
                "config_sha256, seed, code_version, started_ns, final_equity, event_count) "
                "VALUES ('r1', 'backtest', 'old run', 'complete', 'old.toml', 'seed = 7', "
                "'abc', 7, '0.0.9', 1700000000000000000, :equity, 1)"
            ),
            {"equity": "1234.5678901234567890123"},
        )
        connection.execute(
            text(
                "INSERT INTO events (run_id, seq, ts_ns, kind, type, account, payload) VALUES "
                "('r1', 0, 1700000000000000000, 'event', 'OrderAccepted', 'a.b', :payload)"
            ),
            {"payload": '{"x":1}'},
        )


def test_a_revision_1_database_is_upgraded_in_place_keeping_its_runs(db_url):
    old = open_database(db_url, migrate=False)
    assert ensure_schema(old, "0001") == (None, "0001")
    assert inspect_schema(old)[0] == "0001"
    _insert_revision_1_run(old)
    old.dispose()

    db = open_database(db_url)

    assert db.upgraded_from == "0001"
    assert inspect_schema(db)[0] == "0003"
    run = RunRepository(db).get("r1")
    assert (run.name, run.seed, run.code_version) == ("old run", 7, "0.0.9")
    assert str(run.final_equity) == "1234.5678901234567890123"
    assert run.data_manifest == [] and run.wall_seconds is None
    assert (run.pid, run.host, run.heartbeat_ns, run.shown_status) == (None, None, None, "complete")
    assert list(EventStore(db).lines("r1")) == ['{"x":1}']


def test_upgrading_twice_changes_nothing(db_url):
    db = open_database(db_url)
    assert ensure_schema(db) == ("0003", "0003")


def test_a_database_from_a_newer_xmargin_is_refused(db_url):
    db = open_database(db_url)
    with db.write() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(ConfigError) as error:
        open_database(db_url)
    assert "schema revision '9999', which this xmargin does not know" in str(error.value)
    assert "it knows 0001, 0002, 0003" in str(error.value)


@pytest.mark.parametrize("statement", ["UPDATE events SET type = 'X'", "DELETE FROM events"])
def test_the_event_store_is_append_only(db_url, statement):
    db = open_database(db_url)
    _insert_revision_1_run(db)
    with pytest.raises(DBAPIError) as error, db.engine.begin() as connection:
        connection.execute(text(statement))
    assert "the event store is append-only" in str(error.value)
    assert list(EventStore(db).lines("r1")) == ['{"x":1}']
