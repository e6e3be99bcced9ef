"""A denied venue command is a risk event in the run store, like a denied order."""

from __future__ import annotations

import json
from decimal import Decimal

from xmargin.engine.risk_hook import denial_event
from xmargin.model.commands import Borrow, ModifyOrder, Transfer
from xmargin.model.records import record_of
from xmargin.storage.projections import Projector

TS = 1_760_131_500_000_000_000  # 2025-10-10 21:25 UTC


def test_denied_commands_become_risk_rows_with_their_account_and_whole_record():
    denials = [
        denial_event(
            Borrow(TS, "binance.main", "USDT", Decimal(100), "", "treasury"), "halted", "h"
        ),
        denial_event(
            Transfer(TS, "binance.main", "binance.sub", "USDT", Decimal("2.5"), "", "t"),
            "reducing",
            "r",
        ),
        denial_event(ModifyOrder(TS, "binance.main", "O-7", Decimal(1), None, None, "s"), "x", "m"),
    ]
    records = [record_of(event) for event in denials]

    segment = Projector("run-1").project(10, records)

    assert [(r["seq"], r["type"], r["account"], r["ts_ns"]) for r in segment.risk] == [
        (10, "CommandDenied", "binance.main", TS),
        (11, "CommandDenied", "binance.main", TS),
        (12, "CommandDenied", "binance.main", TS),
    ]
    details = [json.loads(r["detail"]) for r in segment.risk]
    assert [(d["command"], d["rule"], d["strategy"], d["amount"]) for d in details] == [
        ("borrow", "halted", "treasury", "100"),
        ("transfer", "reducing", "t", "2.5"),
        ("modify", "x", "s", None),
    ]
    assert details[2]["client_order_id"] == "O-7"
    assert segment.new_orders == [] and segment.changed_orders == []
