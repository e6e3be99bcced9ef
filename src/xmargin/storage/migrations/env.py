"""Alembic environment: migrate the connection handed over by ``xmargin.storage.schema``.

Run only through :func:`xmargin.storage.schema.upgrade` (``xmargin db upgrade``), which opens
the database with the project's settings (SQLite pragmas, masked URLs in errors).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from xmargin.storage.tables import metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError("run migrations through `xmargin db upgrade`, not the alembic CLI")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
