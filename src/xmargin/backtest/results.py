"""Collect a backtest's facts from the event bus and turn them into results.

Each event is rendered once to its JSON line and handed to the event log (its running
SHA-256 and sinks: ``--events-out``, the run store); the records themselves are kept only
with ``keep_events`` (tests and the scenario harness read them). Totals and the risk summary
are kept as running figures; fills are kept for the round trips, and each account's state is
checkpointed after the events that changed it, one checkpoint per event instant (the last
one), from which the equity curve is rebuilt on the bar grid afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from xmargin.backtest.equity import Checkpoint, PriceTrack, equity_on_grid, gross_notional_on_grid
from xmargin.backtest.event_log import EventLog, EventLogFile, EventSink, render_line
from xmargin.backtest.metrics import Metrics, compute_metrics, metrics_dict
from xmargin.backtest.round_trips import FillRecord, round_trips
from xmargin.core.errors import InvariantError
from xmargin.model.events import (
    BALANCE_CHANGES,
    CollateralConverted,
    CommandDenied,
    FundingSettled,
    InterestCharged,
    Liquidated,
    LoanBorrowed,
    OrderDenied,
    OrderFilled,
    OrderSubmitted,
    TransferCompleted,
    accounts_touched,
)
from xmargin.model.numbers import ZERO
from xmargin.model.records import decimal_string, record_of
from xmargin.portfolio.ledger import AccountBook, Ledger

NS_PER_MS = 1_000_000


@dataclass(frozen=True)
class Conversion:
    """The reporting currency, its rate tracks per other settle currency and the run's
    currency effect (see ``backtest/currency.py``)."""

    currency: str
    tracks: Mapping[str, PriceTrack]
    effect: Decimal


def _accounts_of(event: object) -> tuple[str, ...]:
    if isinstance(event, TransferCompleted):
        return (event.from_account, event.to_account)
    return (getattr(event, "account", ""),)


def _float_state(book: AccountBook, ts_ms: int) -> Checkpoint:
    return Checkpoint(
        ts_ms,
        {asset: float(amount) for asset, amount in book.balances.items() if amount},
        {p.instrument: (float(p.size), float(p.cost)) for p in book.open_positions()},
        {asset: float(loan.liability) for asset, loan in book.loans.items()},
    )


@dataclass(frozen=True)
class AccountSample:
    """One account's margin figures at one instant, exact (sampled daily and at the end)."""

    ts_ms: int
    equity: Decimal
    available: Decimal
    notional: Decimal
    margin_ratio: Decimal | None


@dataclass
class RiskTally:
    """The risk facts of a run's summary, kept as the events pass."""

    state: str = "active"
    breakers_tripped: list[dict[str, Any]] = field(default_factory=list)
    stops_triggered: int = 0
    strategies_fenced: list[str] = field(default_factory=list)

    def note(self, record: dict[str, Any]) -> None:
        kind = record["type"]
        if kind == "TradingStateChanged" and record.get("scope") == "portfolio":
            self.state = record["current"]
        elif kind == "BreakerTripped":
            self.breakers_tripped.append({k: v for k, v in record.items() if k != "type"})
        elif kind == "StopTriggered":
            self.stops_triggered += 1
        elif kind == "StrategyFenced":
            self.strategies_fenced.append(record["strategy"])


RISK_TYPES = frozenset({"TradingStateChanged", "BreakerTripped", "StopTriggered", "StrategyFenced"})


class ResultsRecorder:
    """Listens to every event of a run."""

    def __init__(
        self,
        ledger: Ledger,
        accounts: Sequence[str],
        value_in_quote: Callable[[str, str, Decimal], Decimal] | None = None,
        in_reporting: Callable[[str, Decimal], Decimal] | None = None,
        *,
        keep_events: bool = True,
        sinks: Sequence[EventSink] = (),
    ) -> None:
        """``value_in_quote(account, asset, amount)`` values coin amounts (interest on a coin
        loan) in the account's quote currency at the current price; ``in_reporting(account,
        amount)`` converts an amount in the account's quote into the reporting currency.
        Without ``keep_events`` the records go only to the event log's ``sinks``."""
        self.ledger = ledger
        self._value = value_in_quote or (lambda _account, _asset, amount: amount)
        self._report = in_reporting or (lambda _account, amount: amount)
        self.keep_events = keep_events
        self.events: list[dict[str, Any]] = []
        self.log = EventLog(sinks)
        self.risk = RiskTally()
        self.fills: list[FillRecord] = []
        self.checkpoints: dict[str, list[Checkpoint]] = {a: [] for a in accounts}
        self.orders_submitted = 0
        self.orders_denied = 0
        self.commands_denied = 0
        self.fees_paid = ZERO
        self.realized_pnl = ZERO
        self.funding_paid = ZERO
        self.interest_paid = ZERO
        self.liquidation_fees = ZERO
        self.traded_notional = 0.0
        self.liquidations: list[dict[str, Any]] = []
        self.margin_samples: dict[str, list[tuple[int, float | None]]] = {a: [] for a in accounts}

    def checkpoint_all(self, ts_ns: int) -> None:
        for account in self.checkpoints:
            self._checkpoint(account, ts_ns // NS_PER_MS)

    def _checkpoint(self, account: str, ts_ms: int) -> None:
        """Record the account's state; a later state at the same instant replaces the earlier
        one (the curve reads the last state at or before each grid time), except the first,
        which also values the grid before it."""
        kept = self.checkpoints[account]
        state = _float_state(self.ledger.book(account), ts_ms)
        if len(kept) > 1 and kept[-1].ts_ms == ts_ms:
            kept[-1] = state
        else:
            kept.append(state)

    def on_event(self, event: object) -> None:
        record = record_of(event)
        self.log.add(record)
        if self.keep_events:
            self.events.append(record)
        if record["type"] in RISK_TYPES:
            self.risk.note(record)
        if isinstance(event, OrderFilled):
            signed = event.quantity if event.side.value == "buy" else -event.quantity
            report, account = self._report, event.account
            fee = report(account, event.fee_in_quote())
            realized = report(account, event.realized_pnl)
            self.fills.append(
                FillRecord(
                    record["ts_ms"], account, event.instrument, signed, event.price, fee, realized
                )
            )
            self.fees_paid += fee
            self.realized_pnl += realized
            self.traded_notional += float(report(account, event.quantity * event.price))
        elif isinstance(event, CollateralConverted):
            # the conversion sells a coin for the quote: its fee is in the quote currency
            self.fees_paid += self._report(event.account, event.fee)
        elif isinstance(event, FundingSettled):
            self.funding_paid += self._report(event.account, event.amount)
        elif isinstance(event, InterestCharged):
            self.interest_paid += self._charged(event.account, event.asset, event.amount)
        elif isinstance(event, LoanBorrowed) and event.first_hour_interest:
            self.interest_paid += self._charged(
                event.account, event.asset, event.first_hour_interest
            )
        elif isinstance(event, Liquidated):
            self.liquidation_fees += self._report(event.account, event.fee)
            self.liquidations.append(
                {
                    "ts_ms": record["ts_ms"],
                    "account": event.account,
                    "instrument": event.instrument,
                    "price": str(event.price),
                    "size": str(event.size),
                    "fee": str(event.fee),
                    "stage": event.stage,
                    "trigger_bar_ts_ms": event.trigger_ts_ms,
                }
            )
        elif isinstance(event, OrderSubmitted):
            self.orders_submitted += 1
        elif isinstance(event, OrderDenied):
            self.orders_denied += 1
        elif isinstance(event, CommandDenied):
            self.commands_denied += 1
        if isinstance(event, BALANCE_CHANGES):
            for account in accounts_touched(event):
                if account in self.checkpoints:
                    self._checkpoint(account, record["ts_ms"])

    def _charged(self, account: str, asset: str, amount: Decimal) -> Decimal:
        return self._report(account, self._value(account, asset, amount))

    def sample_margin(self, account: str, ts_ns: int, ratio: Decimal | None) -> None:
        self.margin_samples[account].append(
            (ts_ns // NS_PER_MS, None if ratio is None else float(ratio))
        )

    @property
    def event_count(self) -> int:
        return self.log.count

    def kept_events(self) -> list[dict[str, Any]]:
        """The records of the run (only when they were kept)."""
        if not self.keep_events:
            raise InvariantError("this run streamed its events; it kept none in memory")
        return self.events

    def event_log_text(self) -> str:
        """The event log as JSON lines (the golden test hashes exactly this text)."""
        return "".join(render_line(record) + "\n" for record in self.kept_events())

    def write_event_log(self, path: Path) -> None:
        """Write the kept event log to ``path`` atomically."""
        sink = EventLogFile(path)
        try:
            for record in self.kept_events():
                sink.write(record, render_line(record))
        except BaseException:
            sink.discard()
            raise
        sink.commit()

    def event_log_sha256(self) -> str:
        return self.log.sha256()


@dataclass
class BacktestResult:
    """What a run produced: exact totals from the ledger, curves and metrics from analytics."""

    recorder: ResultsRecorder
    start_equity: Decimal
    final_equity: Decimal
    grid_ms: np.ndarray
    equity: np.ndarray
    gross_notional: np.ndarray
    metrics: Metrics
    margin_curves: dict[str, list[tuple[int, float | None]]] = field(default_factory=dict)
    account_samples: dict[str, list[AccountSample]] = field(default_factory=dict)
    wall_seconds: float = 0.0
    events_processed: int = 0
    risk_controls: list[tuple[str, str]] = field(default_factory=list)
    strategy_results: dict[str, dict[str, str]] = field(default_factory=dict)
    reporting_currency: str = ""

    def summary(self) -> dict[str, Any]:
        rec = self.recorder
        risk = {
            "state": rec.risk.state,
            "controls": [{"control": c, "setting": s} for c, s in self.risk_controls],
            "breakers_tripped": list(rec.risk.breakers_tripped),
            "orders_denied": rec.orders_denied,
            "commands_denied": rec.commands_denied,
            "stops_triggered": rec.risk.stops_triggered,
            "strategies_fenced": list(rec.risk.strategies_fenced),
        }
        return {
            "reporting_currency": self.reporting_currency,
            "start_equity": decimal_string(self.start_equity),
            "final_equity": decimal_string(self.final_equity),
            "orders": rec.orders_submitted,
            "orders_denied": rec.orders_denied,
            "fills": len(rec.fills),
            "fees_paid": decimal_string(rec.fees_paid),
            "funding_paid": decimal_string(rec.funding_paid),
            "interest_paid": decimal_string(rec.interest_paid),
            "liquidation_fees": decimal_string(rec.liquidation_fees),
            "liquidations": rec.liquidations,
            "metrics": metrics_dict(self.metrics),
            "strategies": self.strategy_results,
            "events": rec.event_count,
            "event_log_sha256": rec.event_log_sha256(),
            "risk": risk,
        }


def build_result(
    recorder: ResultsRecorder,
    grid_ns: np.ndarray,
    marks: Mapping[str, PriceTrack],
    asset_prices: Mapping[str, PriceTrack],
    quotes: Mapping[str, str],
    start_equity: Decimal,
    final_equity: Decimal,
    reporting: Conversion | None = None,
) -> BacktestResult:
    """Rebuild curves on the bar grid and compute the metrics; with ``reporting``, every
    account's curve is converted into the reporting currency (in its figures the recorder's
    totals and the start and final equity already are)."""
    currency = reporting.currency if reporting is not None else ""
    rates = reporting.tracks if reporting is not None else {}
    grid_ms = (grid_ns // NS_PER_MS).astype(np.int64)
    equity = np.zeros(len(grid_ms))
    gross = np.zeros(len(grid_ms))
    for account, checkpoints in recorder.checkpoints.items():
        if not checkpoints or not len(grid_ms):
            continue
        quote = quotes[account]
        own = equity_on_grid(grid_ms, checkpoints, marks, asset_prices, quote)
        own_gross = gross_notional_on_grid(grid_ms, checkpoints, marks, asset_prices, quote)
        if quote != currency and quote in rates:
            rate = rates[quote].at(grid_ms)
            own, own_gross = own * rate, own_gross * rate
        equity = equity + own
        gross = gross + own_gross
    trips = round_trips(recorder.fills)
    costs = (
        recorder.fees_paid
        + recorder.funding_paid
        + recorder.interest_paid
        + recorder.liquidation_fees
    )
    effect = reporting.effect if reporting is not None else ZERO
    split = {
        "trading": final_equity - start_equity - effect + costs,
        "fees": -recorder.fees_paid,
        "funding": -recorder.funding_paid,
        "interest": -recorder.interest_paid,
        "liquidation_fees": -recorder.liquidation_fees,
        "currency": effect,
    }
    metrics = compute_metrics(grid_ms, equity, gross, trips, recorder.traded_notional, split)
    return BacktestResult(
        recorder,
        start_equity,
        final_equity,
        grid_ms,
        equity,
        gross,
        metrics,
        recorder.margin_samples,
        reporting_currency=currency,
    )
