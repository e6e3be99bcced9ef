"""Persisting a run: exact counts and values in every table, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest

from xmargin.core.errors import InvariantError
from xmargin.storage import (
    COMPLETE,
    EventStore,
    RunHeader,
    RunRepository,
    RunWriter,
    open_database,
    persist_run,
)
from xmargin.testing.runs import EXPECTED, START_MS, sample_outcome, sample_records

D = Decimal
NS = 1_000_000
HOUR_NS = 3_600_000 * NS


class FixedClock:
    def __init__(self, now_ns: int) -> None:
        self.now = now_ns

    def now_ns(self) -> int:
        return self.now


def _persist(db_url: str, **kwargs) -> tuple[RunRepository, str]:
    db = open_database(db_url)
    run_id = persist_run(db, "runs/x.toml", "seed = 5\n", 5, sample_outcome(), **kwargs)
    return RunRepository(db), run_id


def test_every_table_holds_the_runs_rows(db_url):
    repo, run_id = _persist(db_url)
    assert repo.counts(run_id) == {
        "events": 16,
        "orders": 3,
        "fills": 2,
        "positions": 3,
        "funding_payments": 1,
        "loans": 2,
        "interest_charges": 1,
        "performance_snapshots": 72 + 72,
        "risk_events": 4,
    }


def test_the_run_row_is_complete_with_exact_equities(db_url):
    repo, run_id = _persist(db_url, name="sample", code_version="1.2.3+gabc")
    run = repo.get(run_id)
    assert run.status == COMPLETE
    assert (run.name, run.config_path, run.config_text, run.seed) == (
        "sample", "runs/x.toml", "seed = 5\n", 5,
    )  # fmt: skip
    assert run.config_sha256 == hashlib.sha256(b"seed = 5\n").hexdigest()
    assert run.code_version == "1.2.3+gabc"
    assert run.start_equity == D("10000")
    assert str(run.final_equity) == "9123.456789012345678901"
    assert run.total_return == D("9123.456789012345678901") / D("10000") - 1
    assert run.event_count == 16
    assert (run.data_start_ns, run.data_end_ns) == (
        START_MS * NS, (START_MS + 72 * 3_600_000 - 300_000) * NS,
    )  # fmt: skip
    assert run.summary["fills"] == 2
    assert run.wall_seconds == 0.25


def test_fills_round_trip_every_column_exactly(db_url):
    repo, run_id = _persist(db_url)
    first, second = repo.fills(run_id)
    assert first == {
        "run_id": run_id, "seq": 2, "ts_ns": (START_MS * NS) + HOUR_NS, "venue": "binance",
        "account": "binance.main", "strategy": "sma", "instrument": "BTC/USDT:USDT",
        "side": "buy", "quantity": D("0.5"), "price": D("93646.7"), "fee": D("23.411675"),
        "fee_asset": "USDT", "liquidity": "taker", "client_order_id": "O-1",
        "trade_id": "T-O-1", "realized_pnl": D("0"),
    }  # fmt: skip
    assert (second["side"], second["realized_pnl"], str(second["fee"])) == (
        "sell", D("270.76"), "9.50005",
    )  # fmt: skip


EXTREMES = [
    "0.000000000000000001",
    "123456789012345678.123456789",
    "-0.0000001",
    "1.10",
    "99999999999999999999.99999999",
    "0",
]


@pytest.mark.parametrize("value", EXTREMES)
def test_money_keeps_every_digit_and_its_scale(db_url, value):
    records = [dict(r) for r in sample_records()]
    fill = next(r for r in records if r["type"] == "OrderFilled")
    fill.update(fee=value, price=value, realized_pnl=value)
    outcome = sample_outcome(records=records)
    db = open_database(db_url)
    run_id = persist_run(db, "x.toml", "", 0, outcome)
    stored = RunRepository(db).fills(run_id)[0]
    for column in ("fee", "price", "realized_pnl"):
        assert stored[column] == D(value)
        assert str(stored[column]) == str(D(value))


def test_the_event_store_reproduces_the_event_log_byte_for_byte(db_url):
    outcome = sample_outcome()
    db = open_database(db_url)
    run_id = persist_run(db, "x.toml", "", 0, outcome)
    store = EventStore(db)
    expected = outcome.summary()["event_log_sha256"]
    assert store.sha256(run_id) == expected == RunRepository(db).get(run_id).event_log_sha256
    assert list(store.records(run_id)) == outcome.recorder.events
    assert store.count(run_id) == 16


def test_orders_follow_their_events_and_denials_are_risk_events(db_url):
    repo, run_id = _persist(db_url)
    orders = {o["client_order_id"]: o for o in repo.orders(run_id)}
    assert sorted(orders) == ["O-1", "O-3", "O-4"]
    assert (orders["O-1"]["status"], orders["O-1"]["filled_quantity"]) == ("filled", D("0.5"))
    assert orders["O-1"]["venue_order_id"] == "V-O-1"
    assert (orders["O-4"]["status"], orders["O-4"]["reason"]) == (
        "rejected", "post-only would cross",
    )  # fmt: skip
    assert (orders["O-4"]["order_type"], orders["O-4"]["price"]) == ("limit", D("99000"))
    risk = [(r["type"], r["account"]) for r in repo.risk_events(run_id)]
    assert risk == [
        ("OrderDenied", "binance.main"),
        ("BreakerTripped", None),
        ("TradingStateChanged", None),
        ("Liquidated", "binance.main"),
    ]
    liquidated = repo.risk_events(run_id)[-1]
    assert liquidated["margin_ratio"] == D("1.0000000760")


def test_positions_track_size_and_exact_cost_basis(db_url):
    repo, run_id = _persist(db_url)
    rows = [
        (p["cause"], p["size"], p["cost_basis"], p["entry_price"]) for p in repo.positions(run_id)
    ]
    assert rows == [
        ("fill", D("0.5"), D("46823.35"), D("93646.7")),
        ("fill", D("0.3"), D("28094.01"), D("93646.7")),
        ("liquidation", D("0"), D("0"), None),
    ]


def test_money_flows_are_projected(db_url):
    repo, run_id = _persist(db_url)
    [funding] = repo.funding(run_id)
    assert (funding["rate"], funding["amount"], funding["position_size"]) == (
        D("0.0001"), D("4.700005"), D("0.5"),
    )  # fmt: skip
    assert [(x["action"], x["amount"], x["interest"]) for x in repo.loans(run_id)] == [
        ("borrowed", D("1000"), D("0.01")),
        ("repaid", D("1000"), D("0.0141667")),
    ]
    [interest] = repo.interest(run_id)
    assert (interest["account"], interest["amount"]) == ("binance.margin", EXPECTED["interest"])


def test_performance_snapshots_are_hourly_with_drawdown_and_margin(db_url):
    repo, run_id = _persist(db_url)
    rows = repo.snapshots(run_id)
    totals = [r for r in rows if r["account"] == "*"]
    margins = [r for r in rows if r["account"] == "binance.main"]
    assert len(totals) == 72 and len(margins) == 72
    first, last = totals[0], totals[-1]
    assert first["ts_ns"] == (START_MS + 55 * 60_000) * NS
    assert first["position_notional"] == D("20000.00000000")
    assert last["total_balance"] == D("9123.45678901")
    assert last["drawdown"] == D("0.0876543211")
    assert margins[0]["margin_ratio"] == D("0.0100000000")
    assert margins[0]["total_balance"] is None


def test_segments_write_the_same_rows_as_one_transaction(db_url, tmp_path):
    one_repo, one = _persist(db_url)
    many = persist_run(
        one_repo.db, "runs/x.toml", "seed = 5\n", 5, sample_outcome(), segment_events=1
    )

    def rows(run_id: str) -> list[dict]:
        return [{k: v for k, v in o.items() if k != "run_id"} for o in one_repo.orders(run_id)]

    assert rows(many) == rows(one)
    assert one_repo.counts(many) == one_repo.counts(one)


def test_runs_started_at_the_same_instant_get_distinct_ids(db_url):
    db = open_database(db_url)
    clock = FixedClock(1_767_225_600 * 10**9)
    header = RunHeader("same", "x.toml", "seed = 1", 1)
    first = RunWriter.begin(db, header, clock=clock).run_id
    second = RunWriter.begin(db, header, clock=clock).run_id
    assert first.startswith("20260101-000000-") and second.startswith("20260101-000000-")
    assert first != second


def test_a_finished_writer_refuses_more_events(db_url):
    writer = RunWriter.begin(db_url, RunHeader("x", "x.toml", "", 0))
    writer.complete(sample_outcome(records=[]))
    with pytest.raises(InvariantError, match="already finished"):
        writer.append(sample_records())


def test_a_failed_run_keeps_its_events_and_says_why(db_url):
    writer = RunWriter.begin(db_url, RunHeader("x", "x.toml", "", 0))
    writer.append(sample_records()[:3])
    writer.fail("DataError: bad row")
    run = RunRepository(writer.db).get(writer.run_id)
    assert (run.status, run.error, run.event_count) == ("failed", "DataError: bad row", 3)
    assert EventStore(writer.db).count(writer.run_id) == 3
