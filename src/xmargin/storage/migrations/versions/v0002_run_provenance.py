"""Record a run's provenance: the data files it read (with SHA-256) and its wall time.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("data_manifest", sa.Text))
    op.add_column("runs", sa.Column("wall_seconds", sa.Float))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("wall_seconds")
        batch.drop_column("data_manifest")
