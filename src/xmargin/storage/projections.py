"""Project a run's event records onto the query tables: orders, fills, positions, money flows.

The event store keeps every record as it was; these rows are derived from it, one per fact,
each carrying the ``seq`` of the event it came from. Orders that reached a venue get a row
(updated as the order moves on); a risk denial (of an order or of any other command) is a
risk event, not an order.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Any

from xmargin.model.numbers import ZERO
from xmargin.model.positions import apply_fill

NS_PER_MS = 1_000_000
# Cost bases are rebuilt with more digits than the ledger's 28 so that no stored amount, however
# large, overflows the 1e-12 rounding of a partial close; entry prices are then rounded to 28.
PROJECTION_PRECISION = 60
TERMINAL = frozenset({"filled", "rejected", "canceled", "expired"})
RISK_TYPES = frozenset(
    {
        "OrderDenied",
        "CommandDenied",
        "Liquidated",
        "InsuranceFundCovered",
        "CollateralConverted",
        "MarginStateChanged",
        "LoanFailed",
        "TransferRejected",
        "TradingStateChanged",
        "BreakerTripped",
        "BookFlattened",
        "StopTriggered",
        "StrategyFenced",
    }
)
RISK_MARKERS = ("Breaker", "Halt", "KillSwitch", "Risk")

Row = dict[str, Any]
OrderKey = tuple[str, str]


def is_risk_event(kind: str) -> bool:
    """Whether an event type belongs in ``risk_events`` (denials, liquidations, breakers…)."""
    return kind in RISK_TYPES or any(marker in kind for marker in RISK_MARKERS)


def venue_of_account(account: str) -> str:
    """The venue of an account id ``venue.account`` (the run config's naming)."""
    return account.split(".", 1)[0]


@dataclass
class Segment:
    """The rows one batch of records adds (or, for orders, changes)."""

    fills: list[Row] = field(default_factory=list)
    new_orders: list[Row] = field(default_factory=list)
    changed_orders: list[Row] = field(default_factory=list)
    positions: list[Row] = field(default_factory=list)
    funding: list[Row] = field(default_factory=list)
    loans: list[Row] = field(default_factory=list)
    interest: list[Row] = field(default_factory=list)
    risk: list[Row] = field(default_factory=list)


class Projector:
    """Fold records into table rows; keeps open orders and positions between segments."""

    def __init__(self, run_id: str, venue_of: Callable[[str], str] = venue_of_account) -> None:
        self.run_id = run_id
        self.venue_of = venue_of
        self._orders: dict[OrderKey, Row] = {}
        self._stored: set[OrderKey] = set()
        self._positions: dict[tuple[str, str], tuple[Decimal, Decimal]] = {}

    def project(
        self, first_seq: int, records: Sequence[Row], payloads: Sequence[str] | None = None
    ) -> Segment:
        """Rows from ``records`` (events ``first_seq``…); ``payloads`` are their JSON lines."""
        segment = Segment()
        dirty: dict[OrderKey, Row] = {}
        handlers = self._handlers()
        for offset, record in enumerate(records):
            kind = record.get("type", "")
            seq = first_seq + offset
            ts_ns = int(record.get("ts_ms", 0)) * NS_PER_MS
            handler = handlers.get(kind)
            if handler is not None:
                handler(segment, dirty, seq, ts_ns, record)
            if is_risk_event(kind):
                payload = None if payloads is None else payloads[offset]
                segment.risk.append(self._risk_row(seq, ts_ns, record, payload))
        for key, order in dirty.items():
            (segment.changed_orders if key in self._stored else segment.new_orders).append(order)
            self._stored.add(key)
            if order["status"] in TERMINAL:
                del self._orders[key]
                self._stored.discard(key)
        return segment

    def _handlers(self) -> dict[str, Callable[[Segment, dict[OrderKey, Row], int, int, Row], None]]:
        return {
            "OrderSubmitted": self._submitted,
            "OrderAccepted": self._order_update,
            "OrderTriggered": self._order_update,
            "OrderModified": self._order_update,
            "OrderRejected": self._order_update,
            "OrderCanceled": self._order_update,
            "OrderExpired": self._order_update,
            "OrderFilled": self._filled,
            "Liquidated": self._liquidated,
            "FundingSettled": self._funding,
            "InterestCharged": self._interest,
            "LoanRequested": self._loan,
            "LoanBorrowed": self._loan,
            "LoanFailed": self._loan,
            "LoanRepaid": self._loan,
        }

    def _base(self, seq: int, ts_ns: int, account: str) -> Row:
        return {
            "run_id": self.run_id,
            "seq": seq,
            "ts_ns": ts_ns,
            "venue": self.venue_of(account),
            "account": account,
        }

    def _submitted(
        self, _segment: Segment, dirty: dict[OrderKey, Row], seq: int, ts_ns: int, record: Row
    ) -> None:
        key = (record["account"], record["client_order_id"])
        order = {
            **self._base(seq, ts_ns, record["account"]),
            "client_order_id": record["client_order_id"],
            "strategy": record.get("strategy", ""),
            "instrument": record["instrument"],
            "side": record["side"],
            "order_type": record["order_type"],
            "quantity": Decimal(record["quantity"]),
            "price": _decimal(record.get("price")),
            "status": "submitted",
            "filled_quantity": ZERO,
            "venue_order_id": None,
            "reason": None,
        }
        self._orders[key] = order
        dirty[key] = order

    def _order_update(
        self, _segment: Segment, dirty: dict[OrderKey, Row], _seq: int, _ts: int, record: Row
    ) -> None:
        key = (record.get("account", ""), record.get("client_order_id", ""))
        order = self._orders.get(key)
        if order is None:
            return
        kind = record["type"]
        if kind == "OrderAccepted":
            order["venue_order_id"] = record.get("venue_order_id")
            order["status"] = "accepted" if order["status"] == "submitted" else order["status"]
        elif kind == "OrderTriggered":
            order["status"] = "triggered"
        elif kind == "OrderModified":
            order["quantity"] = Decimal(record["quantity"])
            order["price"] = _decimal(record.get("price"))
        else:
            order["status"] = kind.removeprefix("Order").lower()
            order["reason"] = record.get("reason") or None
        dirty[key] = order

    def _filled(
        self, segment: Segment, dirty: dict[OrderKey, Row], seq: int, ts_ns: int, record: Row
    ) -> None:
        account, instrument = record["account"], record["instrument"]
        quantity, price = Decimal(record["quantity"]), Decimal(record["price"])
        segment.fills.append(
            {
                **self._base(seq, ts_ns, account),
                "strategy": record.get("strategy", ""),
                "instrument": instrument,
                "side": record["side"],
                "quantity": quantity,
                "price": price,
                "fee": Decimal(record["fee"]),
                "fee_asset": record["fee_asset"],
                "liquidity": record["liquidity"],
                "client_order_id": record["client_order_id"],
                "trade_id": record.get("trade_id", ""),
                "realized_pnl": Decimal(record["realized_pnl"]),
            }
        )
        signed = quantity if record["side"] == "buy" else -quantity
        segment.positions.append(self._move(seq, ts_ns, account, instrument, signed, price, "fill"))
        key = (account, record["client_order_id"])
        order = self._orders.get(key)
        if order is not None:
            order["filled_quantity"] += quantity
            full = order["filled_quantity"] >= order["quantity"]
            order["status"] = "filled" if full else "partially_filled"
            dirty[key] = order

    def _liquidated(
        self, segment: Segment, _dirty: dict[OrderKey, Row], seq: int, ts_ns: int, record: Row
    ) -> None:
        closed = Decimal(record["size"])
        segment.positions.append(
            self._move(
                seq,
                ts_ns,
                record["account"],
                record["instrument"],
                -closed,
                Decimal(record["price"]),
                "liquidation",
            )
        )

    def _move(
        self,
        seq: int,
        ts_ns: int,
        account: str,
        instrument: str,
        quantity: Decimal,
        price: Decimal,
        cause: str,
    ) -> Row:
        size, cost = self._positions.get((account, instrument), (ZERO, ZERO))
        with localcontext() as context:
            context.prec = PROJECTION_PRECISION
            outcome = apply_fill(size, cost, quantity, price)
            entry = outcome.cost / outcome.size if outcome.size else None
        self._positions[(account, instrument)] = (outcome.size, outcome.cost)
        return {
            **self._base(seq, ts_ns, account),
            "instrument": instrument,
            "size": outcome.size,
            "cost_basis": outcome.cost,
            "entry_price": entry if entry is None else +entry,
            "price": price,
            "cause": cause,
        }

    def _funding(
        self, segment: Segment, _dirty: dict[OrderKey, Row], seq: int, ts_ns: int, record: Row
    ) -> None:
        segment.funding.append(
            {
                **self._base(seq, ts_ns, record["account"]),
                "instrument": record["instrument"],
                "rate": Decimal(record["rate"]),
                "mark_price": Decimal(record["mark_price"]),
                "position_size": Decimal(record["position_size"]),
                "amount": Decimal(record["amount"]),
                "asset": record["asset"],
            }
        )

    def _interest(
        self, segment: Segment, _dirty: dict[OrderKey, Row], seq: int, ts_ns: int, record: Row
    ) -> None:
        segment.interest.append(
            {
                **self._base(seq, ts_ns, record["account"]),
                "asset": record["asset"],
                "principal": Decimal(record["principal"]),
                "hourly_rate": Decimal(record["hourly_rate"]),
                "amount": Decimal(record["amount"]),
            }
        )

    def _loan(
        self, segment: Segment, _dirty: dict[OrderKey, Row], seq: int, ts_ns: int, record: Row
    ) -> None:
        kind = record["type"]
        if kind == "LoanRepaid":
            amount, interest = record["principal_paid"], record["interest_paid"]
        else:
            amount, interest = record["amount"], record.get("first_hour_interest", "0")
        segment.loans.append(
            {
                **self._base(seq, ts_ns, record["account"]),
                "asset": record["asset"],
                "action": kind.removeprefix("Loan").lower(),
                "amount": Decimal(amount),
                "interest": Decimal(interest),
                "loan_id": record.get("loan_id", ""),
                "reason": record.get("reason"),
            }
        )

    def _risk_row(self, seq: int, ts_ns: int, record: Row, payload: str | None) -> Row:
        """A risk event; ``detail`` is the event's whole record as JSON."""
        return {
            "run_id": self.run_id,
            "seq": seq,
            "ts_ns": ts_ns,
            "type": record["type"],
            "account": record.get("account") or record.get("from_account"),
            "instrument": record.get("instrument"),
            "margin_ratio": _decimal(record.get("margin_ratio")),
            "detail": payload or json.dumps(record, separators=(",", ":")),
        }


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    amount = Decimal(value)
    return amount if amount.is_finite() else None
