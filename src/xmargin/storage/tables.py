"""The schema at the head revision, as SQLAlchemy Core tables (the migrations build it).

Every table of a run is keyed by ``run_id``; rows that come from one event carry that
event's ``seq`` (its position in the run's event log), so each projection can be traced back
to the fact it came from. Money is :class:`Money`, time ``*_ns`` integer nanoseconds UTC.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from xmargin.storage.columns import Money, Nanos

metadata = MetaData()

ID = 64
NAME = 128


def _run_id() -> Column[str]:
    return Column("run_id", String(ID), ForeignKey("runs.run_id"), nullable=False)


runs = Table(
    "runs",
    metadata,
    Column("run_id", String(ID), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("name", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("error", Text),
    Column("config_path", Text, nullable=False),
    Column("config_text", Text, nullable=False),
    Column("config_sha256", String(64), nullable=False),
    Column("seed", Nanos, nullable=False),
    Column("code_version", String(NAME), nullable=False),
    Column("data_dir", Text),
    Column("data_start_ns", Nanos),
    Column("data_end_ns", Nanos),
    Column("started_ns", Nanos, nullable=False),
    Column("finished_ns", Nanos),
    Column("start_equity", Money),
    Column("final_equity", Money),
    Column("event_count", Integer),
    Column("event_log_sha256", String(64)),
    Column("summary", Text),
    # revision 0002
    Column("data_manifest", Text),
    Column("wall_seconds", Float),
    # revision 0003
    Column("pid", Integer),
    Column("host", String(255)),
    Column("heartbeat_ns", Nanos),
    Index("ix_runs_started", "started_ns"),
    Index("ix_runs_status", "status"),
)

events = Table(
    "events",
    metadata,
    _run_id(),
    Column("seq", Integer, nullable=False),
    Column("ts_ns", Nanos, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("type", String(NAME), nullable=False),
    Column("account", String(NAME)),
    Column("payload", Text, nullable=False),
    PrimaryKeyConstraint("run_id", "seq", name="pk_events"),
    Index("ix_events_run_type", "run_id", "type"),
    Index("ix_events_run_ts", "run_id", "ts_ns"),
)

orders = Table(
    "orders",
    metadata,
    _run_id(),
    Column("account", String(NAME), nullable=False),
    Column("client_order_id", String(NAME), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("ts_ns", Nanos, nullable=False),
    Column("venue", String(NAME), nullable=False),
    Column("strategy", String(NAME), nullable=False),
    Column("instrument", String(NAME), nullable=False),
    Column("side", String(8), nullable=False),
    Column("order_type", String(32), nullable=False),
    Column("quantity", Money, nullable=False),
    Column("price", Money),
    Column("status", String(16), nullable=False),
    Column("filled_quantity", Money, nullable=False),
    Column("venue_order_id", String(NAME)),
    Column("reason", Text),
    PrimaryKeyConstraint("run_id", "account", "client_order_id", name="pk_orders"),
    Index("ix_orders_run_ts", "run_id", "ts_ns"),
)

fills = Table(
    "fills",
    metadata,
    _run_id(),
    Column("seq", Integer, nullable=False),
    Column("ts_ns", Nanos, nullable=False),
    Column("venue", String(NAME), nullable=False),
    Column("account", String(NAME), nullable=False),
    Column("strategy", String(NAME), nullable=False),
    Column("instrument", String(NAME), nullable=False),
    Column("side", String(8), nullable=False),
    Column("quantity", Money, nullable=False),
    Column("price", Money, nullable=False),
    Column("fee", Money, nullable=False),
    Column("fee_asset", String(32), nullable=False),
    Column("liquidity", String(16), nullable=False),
    Column("client_order_id", String(NAME), nullable=False),
    Column("trade_id", String(NAME), nullable=False),
    Column("realized_pnl", Money, nullable=False),
    PrimaryKeyConstraint("run_id", "seq", name="pk_fills"),
    Index("ix_fills_run_ts", "run_id", "ts_ns"),
    Index("ix_fills_run_strategy", "run_id", "strategy"),
    Index("ix_fills_run_instrument", "run_id", "instrument"),
    Index("ix_fills_run_order", "run_id", "client_order_id"),
)

positions = Table(
    "positions",
    metadata,
    _run_id(),
    Column("seq", Integer, nullable=False),
    Column("ts_ns", Nanos, nullable=False),
    Column("venue", String(NAME), nullable=False),
    Column("account", String(NAME), nullable=False),
    Column("instrument", String(NAME), nullable=False),
    Column("size", Money, nullable=False),
    Column("cost_basis", Money, nullable=False),
    Column("entry_price", Money),
    Column("price", Money, nullable=False),
    Column("cause", String(16), nullable=False),
    PrimaryKeyConstraint("run_id", "seq", name="pk_positions"),
    Index("ix_positions_run_instrument", "run_id", "instrument", "ts_ns"),
)

funding_payments = Table(
    "funding_payments",
    metadata,
    _run_id(),
    Column("seq", Integer, nullable=False),
    Column("ts_ns", Nanos, nullable=False),
    Column("venue", String(NAME), nullable=False),
    Column("account", String(NAME), nullable=False),
    Column("instrument", String(NAME), nullable=False),
    Column("rate", Money, nullable=False),
    Column("mark_price", Money, nullable=False),
    Column("position_size", Money, nullable=False),
    Column("amount", Money, nullable=False),
    Column("asset", String(32), nullable=False),
    PrimaryKeyConstraint("run_id", "seq", name="pk_funding_payments"),
    Index("ix_funding_run_instrument", "run_id", "instrument", "ts_ns"),
)

loans = Table(
    "loans",
    metadata,
    _run_id(),
    Column("seq", Integer, nullable=False),
    Column("ts_ns", Nanos, nullable=False),
    Column("venue", String(NAME), nullable=False),
    Column("account", String(NAME), nullable=False),
    Column("asset", String(32), nullable=False),
    Column("action", String(16), nullable=False),
    Column("amount", Money, nullable=False),
    Column("interest", Money, nullable=False),
    Column("loan_id", String(NAME), nullable=False),
    Column("reason", Text),
    PrimaryKeyConstraint("run_id", "seq", name="pk_loans"),
    Index("ix_loans_run_asset", "run_id", "asset", "ts_ns"),
)

interest_charges = Table(
    "interest_charges",
    metadata,
    _run_id(),
    Column("seq", Integer, nullable=False),
    Column("ts_ns", Nanos, nullable=False),
    Column("venue", String(NAME), nullable=False),
    Column("account", String(NAME), nullable=False),
    Column("asset", String(32), nullable=False),
    Column("principal", Money, nullable=False),
    Column("hourly_rate", Money, nullable=False),
    Column("amount", Money, nullable=False),
    PrimaryKeyConstraint("run_id", "seq", name="pk_interest_charges"),
    Index("ix_interest_run_asset", "run_id", "asset", "ts_ns"),
)

performance_snapshots = Table(
    "performance_snapshots",
    metadata,
    _run_id(),
    Column("account", String(NAME), nullable=False),
    Column("ts_ns", Nanos, nullable=False),
    Column("total_balance", Money),
    Column("available_balance", Money),
    Column("position_notional", Money),
    Column("leverage", Money),
    Column("margin_ratio", Money),
    Column("daily_pnl", Money),
    Column("drawdown", Money),
    PrimaryKeyConstraint("run_id", "account", "ts_ns", name="pk_performance_snapshots"),
)

risk_events = Table(
    "risk_events",
    metadata,
    _run_id(),
    Column("seq", Integer, nullable=False),
    Column("ts_ns", Nanos, nullable=False),
    Column("type", String(NAME), nullable=False),
    Column("account", String(NAME)),
    Column("instrument", String(NAME)),
    Column("margin_ratio", Money),
    Column("detail", Text, nullable=False),
    PrimaryKeyConstraint("run_id", "seq", name="pk_risk_events"),
    Index("ix_risk_events_run_type", "run_id", "type"),
)

RUN_TABLES = (
    events,
    orders,
    fills,
    positions,
    funding_payments,
    loans,
    interest_charges,
    performance_snapshots,
    risk_events,
)
