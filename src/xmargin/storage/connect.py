"""``open_database``: one entry point from a URL (or an engine) to a ready, migrated store."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import URL, Engine

from xmargin.storage.database import (
    Database,
    create_database_engine,
    normalize_url,
    sqlite_on_begin,
    sqlite_on_connect,
)
from xmargin.storage.schema import ensure_schema

DatabaseTarget = str | URL | Engine | Database


def open_database(target: DatabaseTarget, *, migrate: bool = True) -> Database:
    """Open ``target`` and, unless ``migrate`` is False, create or upgrade its schema.

    ``Database.upgraded_from`` names the revision an older database was upgraded from.
    """
    if isinstance(target, Database):
        db = target
    elif isinstance(target, Engine):
        engine = target
        if engine.dialect.name == "sqlite" and not event.contains(
            engine, "connect", sqlite_on_connect
        ):
            event.listen(engine, "connect", sqlite_on_connect)
            event.listen(engine, "begin", sqlite_on_begin)
        db = Database(engine, engine.url)
    else:
        url = normalize_url(target)
        db = Database(create_database_engine(url), url)
    if migrate:
        before, after = ensure_schema(db)
        if before is not None and before != after:
            db.upgraded_from = before
    return db
