"""Create the run store: runs, the append-only event store and the run's projections.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from xmargin.storage.columns import Money, Nanos

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = 64
NAME = 128
APPEND_ONLY = "the event store is append-only"


def _run_id() -> sa.Column[str]:
    return sa.Column("run_id", sa.String(ID), sa.ForeignKey("runs.run_id"), nullable=False)


def _seq_ts() -> list[sa.Column[int]]:
    return [sa.Column("seq", sa.Integer, nullable=False), sa.Column("ts_ns", Nanos, nullable=False)]


def _who() -> list[sa.Column[str]]:
    return [
        sa.Column("venue", sa.String(NAME), nullable=False),
        sa.Column("account", sa.String(NAME), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(ID), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("config_path", sa.Text, nullable=False),
        sa.Column("config_text", sa.Text, nullable=False),
        sa.Column("config_sha256", sa.String(64), nullable=False),
        sa.Column("seed", Nanos, nullable=False),
        sa.Column("code_version", sa.String(NAME), nullable=False),
        sa.Column("data_dir", sa.Text),
        sa.Column("data_start_ns", Nanos),
        sa.Column("data_end_ns", Nanos),
        sa.Column("started_ns", Nanos, nullable=False),
        sa.Column("finished_ns", Nanos),
        sa.Column("start_equity", Money),
        sa.Column("final_equity", Money),
        sa.Column("event_count", sa.Integer),
        sa.Column("event_log_sha256", sa.String(64)),
        sa.Column("summary", sa.Text),
    )
    op.create_index("ix_runs_started", "runs", ["started_ns"])
    op.create_index("ix_runs_status", "runs", ["status"])
    _create_events()
    _create_trading_tables()
    _create_money_tables()
    _create_run_state_tables()


def _create_events() -> None:
    op.create_table(
        "events",
        _run_id(),
        *_seq_ts(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("type", sa.String(NAME), nullable=False),
        sa.Column("account", sa.String(NAME)),
        sa.Column("payload", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "seq", name="pk_events"),
    )
    op.create_index("ix_events_run_type", "events", ["run_id", "type"])
    op.create_index("ix_events_run_ts", "events", ["run_id", "ts_ns"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION xmargin_events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END; $$"
        )
        op.execute(
            "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events "
            "FOR EACH ROW EXECUTE FUNCTION xmargin_events_append_only()"
        )
        op.execute(
            "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events "
            "FOR EACH STATEMENT EXECUTE FUNCTION xmargin_events_append_only()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER events_append_only_{action.lower()} BEFORE {action} ON events "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )


def _create_trading_tables() -> None:
    op.create_table(
        "orders",
        _run_id(),
        sa.Column("account", sa.String(NAME), nullable=False),
        sa.Column("client_order_id", sa.String(NAME), nullable=False),
        *_seq_ts(),
        sa.Column("venue", sa.String(NAME), nullable=False),
        sa.Column("strategy", sa.String(NAME), nullable=False),
        sa.Column("instrument", sa.String(NAME), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("order_type", sa.String(32), nullable=False),
        sa.Column("quantity", Money, nullable=False),
        sa.Column("price", Money),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("filled_quantity", Money, nullable=False),
        sa.Column("venue_order_id", sa.String(NAME)),
        sa.Column("reason", sa.Text),
        sa.PrimaryKeyConstraint("run_id", "account", "client_order_id", name="pk_orders"),
    )
    op.create_index("ix_orders_run_ts", "orders", ["run_id", "ts_ns"])
    op.create_table(
        "fills",
        _run_id(),
        *_seq_ts(),
        *_who(),
        sa.Column("strategy", sa.String(NAME), nullable=False),
        sa.Column("instrument", sa.String(NAME), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("quantity", Money, nullable=False),
        sa.Column("price", Money, nullable=False),
        sa.Column("fee", Money, nullable=False),
        sa.Column("fee_asset", sa.String(32), nullable=False),
        sa.Column("liquidity", sa.String(16), nullable=False),
        sa.Column("client_order_id", sa.String(NAME), nullable=False),
        sa.Column("trade_id", sa.String(NAME), nullable=False),
        sa.Column("realized_pnl", Money, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "seq", name="pk_fills"),
    )
    op.create_index("ix_fills_run_ts", "fills", ["run_id", "ts_ns"])
    op.create_index("ix_fills_run_strategy", "fills", ["run_id", "strategy"])
    op.create_index("ix_fills_run_instrument", "fills", ["run_id", "instrument"])
    op.create_index("ix_fills_run_order", "fills", ["run_id", "client_order_id"])
    op.create_table(
        "positions",
        _run_id(),
        *_seq_ts(),
        *_who(),
        sa.Column("instrument", sa.String(NAME), nullable=False),
        sa.Column("size", Money, nullable=False),
        sa.Column("cost_basis", Money, nullable=False),
        sa.Column("entry_price", Money),
        sa.Column("price", Money, nullable=False),
        sa.Column("cause", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "seq", name="pk_positions"),
    )
    op.create_index("ix_positions_run_instrument", "positions", ["run_id", "instrument", "ts_ns"])


def _create_money_tables() -> None:
    op.create_table(
        "funding_payments",
        _run_id(),
        *_seq_ts(),
        *_who(),
        sa.Column("instrument", sa.String(NAME), nullable=False),
        sa.Column("rate", Money, nullable=False),
        sa.Column("mark_price", Money, nullable=False),
        sa.Column("position_size", Money, nullable=False),
        sa.Column("amount", Money, nullable=False),
        sa.Column("asset", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "seq", name="pk_funding_payments"),
    )
    op.create_index(
        "ix_funding_run_instrument", "funding_payments", ["run_id", "instrument", "ts_ns"]
    )
    op.create_table(
        "loans",
        _run_id(),
        *_seq_ts(),
        *_who(),
        sa.Column("asset", sa.String(32), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("amount", Money, nullable=False),
        sa.Column("interest", Money, nullable=False),
        sa.Column("loan_id", sa.String(NAME), nullable=False),
        sa.Column("reason", sa.Text),
        sa.PrimaryKeyConstraint("run_id", "seq", name="pk_loans"),
    )
    op.create_index("ix_loans_run_asset", "loans", ["run_id", "asset", "ts_ns"])
    op.create_table(
        "interest_charges",
        _run_id(),
        *_seq_ts(),
        *_who(),
        sa.Column("asset", sa.String(32), nullable=False),
        sa.Column("principal", Money, nullable=False),
        sa.Column("hourly_rate", Money, nullable=False),
        sa.Column("amount", Money, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "seq", name="pk_interest_charges"),
    )
    op.create_index("ix_interest_run_asset", "interest_charges", ["run_id", "asset", "ts_ns"])


def _create_run_state_tables() -> None:
    op.create_table(
        "performance_snapshots",
        _run_id(),
        sa.Column("account", sa.String(NAME), nullable=False),
        sa.Column("ts_ns", Nanos, nullable=False),
        sa.Column("total_balance", Money),
        sa.Column("available_balance", Money),
        sa.Column("position_notional", Money),
        sa.Column("leverage", Money),
        sa.Column("margin_ratio", Money),
        sa.Column("daily_pnl", Money),
        sa.Column("drawdown", Money),
        sa.PrimaryKeyConstraint("run_id", "account", "ts_ns", name="pk_performance_snapshots"),
    )
    op.create_table(
        "risk_events",
        _run_id(),
        *_seq_ts(),
        sa.Column("type", sa.String(NAME), nullable=False),
        sa.Column("account", sa.String(NAME)),
        sa.Column("instrument", sa.String(NAME)),
        sa.Column("margin_ratio", Money),
        sa.Column("detail", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "seq", name="pk_risk_events"),
    )
    op.create_index("ix_risk_events_run_type", "risk_events", ["run_id", "type"])


def downgrade() -> None:
    for table in (
        "risk_events",
        "performance_snapshots",
        "interest_charges",
        "loans",
        "funding_payments",
        "positions",
        "fills",
        "orders",
        "events",
        "runs",
    ):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS xmargin_events_append_only()")
