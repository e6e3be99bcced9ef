"""Persistence: runs, their events and projections in SQLite (embedded) or PostgreSQL.

SQLAlchemy and Alembic are used here and nowhere else.
"""

from xmargin.storage.connect import DatabaseTarget, open_database
from xmargin.storage.database import Database, mask_url, normalize_url, sqlite_url
from xmargin.storage.event_store import EventStore, event_line
from xmargin.storage.liveness import DIED, RUNNING
from xmargin.storage.repositories import RunRepository, StoredRun
from xmargin.storage.run_writer import (
    COMPLETE,
    FAILED,
    INCOMPLETE,
    INTERRUPTED,
    RunHeader,
    RunOutcome,
    RunWriter,
    persist_run,
)
from xmargin.storage.schema import ensure_schema, head_revision, inspect_schema, known_revisions

__all__ = [
    "COMPLETE",
    "DIED",
    "FAILED",
    "INCOMPLETE",
    "INTERRUPTED",
    "RUNNING",
    "Database",
    "DatabaseTarget",
    "EventStore",
    "RunHeader",
    "RunOutcome",
    "RunRepository",
    "RunWriter",
    "StoredRun",
    "ensure_schema",
    "event_line",
    "head_revision",
    "inspect_schema",
    "known_revisions",
    "mask_url",
    "normalize_url",
    "open_database",
    "persist_run",
    "sqlite_url",
]
