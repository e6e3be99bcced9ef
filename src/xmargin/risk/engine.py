"""The risk engine: pre-trade checks, circuit breakers and the latching kill switch.

It sits between every strategy and every venue (the kernel calls ``check`` before any order
leaves), hears every event, and runs once per timestamp after settlements (``on_step``),
before strategies act. It cannot be bypassed: while HALTED the only orders that pass are
the kill switch's own reduce-only flattening orders.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from xmargin.model.events import (
    BookFlattened,
    BreakerTripped,
    OrderAccepted,
    OrderFilled,
    OrderRejected,
    TradingStateChanged,
)
from xmargin.model.market_data import FundingRate
from xmargin.model.orders import Order, OrderSide
from xmargin.risk.breakers import (
    ConsecutiveLosses,
    DailyLoss,
    FundingSpike,
    MaxDrawdown,
    RejectRate,
    StablecoinDepeg,
    StaleData,
    Trip,
)
from xmargin.risk.checks import OrderCheck, TradingView, build_checks
from xmargin.risk.settings import RiskSettings
from xmargin.risk.state import TradingState, TradingStateMachine

B = TypeVar(
    "B",
    DailyLoss,
    MaxDrawdown,
    ConsecutiveLosses,
    StaleData,
    StablecoinDepeg,
    FundingSpike,
    RejectRate,
)
RISK_STRATEGY = "risk"
SLOW_CHECK_NS = 60 * 1_000_000_000
DAY_NS = 86_400 * 1_000_000_000


class RiskDesk(TradingView, Protocol):
    """What the risk engine may do (the kernel implements it)."""

    def account_ids(self) -> tuple[str, ...]: ...
    def equity_terms(self, account: str) -> EquityTerms: ...
    def all_open_orders(self) -> list[Order]: ...
    def cancel_order(self, order: Order) -> None: ...
    def submit_risk_order(
        self, account: str, symbol: str, side: OrderSide, quantity: Decimal
    ) -> Order: ...
    def open_derivative_positions(self) -> list[tuple[str, str, Decimal]]: ...
    def last_seen(self) -> dict[str, int]: ...
    def asset_prices(self, assets: Iterable[str]) -> dict[str, float]: ...
    def publish(self, event: object) -> None: ...


@dataclass
class EquityTerms:
    """An account's equity as floats: ``cash + Σ size × mark − cost + Σ amount × price``.

    ``legs`` hold live objects with a ``mark`` attribute (market states), so evaluating the
    equity at current prices is a few multiplications; the terms change only on events.
    """

    cash: float
    legs: list[tuple[Any, float, float]]

    def value(self) -> float:
        total = self.cash
        for market, size, cost in self.legs:
            total += size * (market.mark or market.last) - cost
        return total

    def equity_and_gross(self) -> tuple[float, float]:
        """Equity and gross notional (derivatives and borrowed assets) at current prices."""
        gross = 0.0
        for market, size, _ in self.legs:
            if market.spec.is_derivative or size < 0:
                gross += abs(size) * (market.mark or market.last)
        return self.value(), gross


class RiskEngine:
    """Pre-trade checks, breakers and the kill switch for every account of a run."""

    def __init__(self, settings: RiskSettings) -> None:
        self.settings = settings
        self.machine = TradingStateMachine()
        self.checks = build_checks(settings)
        self.daily = _breaker(settings, DailyLoss)
        self.drawdown = _breaker(settings, MaxDrawdown)
        self.losses = _breaker(settings, ConsecutiveLosses)
        self.stale = _breaker(settings, StaleData)
        self.depeg = _breaker(settings, StablecoinDepeg)
        self.funding = _breaker(settings, FundingSpike)
        self.rejects = _breaker(settings, RejectRate)
        self._has_market_breakers = self.stale is not None or self.depeg is not None
        self.desk: RiskDesk | None = None
        self._terms: dict[str, EquityTerms] = {}
        self._cash = 0.0
        self._legs: list[tuple[Any, float, float]] = []
        self._floor = float("inf")
        self._peak = float("-inf")
        self._day_end = -1
        self._next_slow = 0
        self._trip_pnl: dict[tuple[str, str], Decimal] = {}
        self._awaiting_flat = False
        self._slices: list[tuple[int, str, str, OrderSide, Decimal]] = []
        self._tripped: set[str] = set()
        self.trips: list[Trip] = []

    @property
    def state(self) -> TradingState:
        return self.machine.state

    def attach(self, desk: RiskDesk) -> None:
        self.desk = desk
        self._terms = {account: desk.equity_terms(account) for account in desk.account_ids()}
        self._flatten_terms()

    def _flatten_terms(self) -> None:
        """Sum the accounts' cash and list their legs once, for the per-step equity."""
        self._cash = sum(terms.cash for terms in self._terms.values())
        self._legs = [leg for terms in self._terms.values() for leg in terms.legs]

    # -- pre-trade -------------------------------------------------------------------------

    def check(self, order: Order, kernel: object) -> tuple[str, str] | None:
        """Run every rule; the first that objects denies the order with its numbers."""
        if order.strategy_id == RISK_STRATEGY:
            return None
        assert self.desk is not None
        terms = self._terms.get(order.account)
        subject = OrderCheck(
            order, self.desk, self.machine.state, terms.equity_and_gross if terms else None
        )
        for rule in self.checks:
            reason = rule.check(subject)
            if reason is not None:
                return rule.name, reason
        for rule in self.checks:
            rule.sent(subject)
        return None

    # -- events ----------------------------------------------------------------------------

    def on_event(self, event: object) -> None:
        account = getattr(event, "account", None)
        if account in self._terms and not isinstance(event, (OrderAccepted, OrderRejected)):
            assert self.desk is not None
            self._terms[account] = self.desk.equity_terms(account)
            self._flatten_terms()
        if isinstance(event, OrderFilled):
            self._on_fill(event)
        elif isinstance(event, OrderRejected) and self.rejects is not None:
            self._handle(self.rejects.on_answer(True), event.ts_event)
        elif isinstance(event, OrderAccepted) and self.rejects is not None:
            self._handle(self.rejects.on_answer(False), event.ts_event)

    def on_funding(self, funding: FundingRate, held: bool) -> None:
        """A funding rate was published; ``held``: some account has a position in it."""
        if self.funding is not None and held:
            rate = Decimal(repr(funding.rate))
            trip = self.funding.on_funding(funding.instrument, rate, funding.interval_hours)
            self._handle(trip, funding.ts_event)

    def _on_fill(self, event: OrderFilled) -> None:
        key = (event.account, event.instrument)
        pnl = self._trip_pnl.get(key, Decimal(0)) + event.realized_pnl - event.fee
        assert self.desk is not None
        held = self.desk.book(event.account).positions.get(event.instrument)
        size_after = held.size if held is not None else Decimal(0)
        signed = event.quantity if event.side is OrderSide.BUY else -event.quantity
        size_before = size_after - signed
        closed = size_before != 0 and (size_after == 0 or size_after * size_before < 0)
        if closed:
            self._trip_pnl[key] = Decimal(0)
            if self.losses is not None:
                self._handle(self.losses.on_round_trip(pnl), event.ts_event)
        else:
            self._trip_pnl[key] = pnl

    # -- once per timestamp --------------------------------------------------------------

    def on_step(self, ts: int) -> None:
        """Check equity breakers (every step) and market-health breakers (every minute)."""
        equity = self._cash
        for market, size, cost in self._legs:
            equity += size * (market.mark or market.last) - cost
        if equity <= self._floor or equity > self._peak or ts >= self._day_end:
            self._equity_breakers(ts, equity)
        if ts >= self._next_slow:
            self._next_slow = ts + SLOW_CHECK_NS if self._has_market_breakers else 2**63
            self._market_breakers(ts)
        if self._slices:
            self._send_due_slices(ts)
        if self._awaiting_flat:
            self._confirm_flat(ts)

    def _equity_breakers(self, ts: int, equity: float) -> None:
        floors = []
        if self.daily is not None:
            self._handle(self.daily.on_equity(ts, equity), ts)
            floors.append(self.daily.floor)
        if self.drawdown is not None:
            self._handle(self.drawdown.on_equity(ts, equity), ts)
            floors.append(self.drawdown.floor)
        self._floor = max(floors, default=float("-inf"))
        self._peak = self.drawdown.peak if self.drawdown is not None else float("inf")
        self._day_end = (ts // DAY_NS + 1) * DAY_NS if self.daily is not None else 2**63

    def _market_breakers(self, ts: int) -> None:
        assert self.desk is not None
        if self.stale is not None:
            self._handle(self.stale.on_ages(ts, self.desk.last_seen()), ts)
        if self.depeg is not None:
            self._handle(
                self.depeg.on_prices(self.desk.asset_prices(self.depeg.settings.assets)), ts
            )

    def _handle(self, trip: Trip | None, ts: int) -> None:
        """Report a breaker's first trip and act on it; a tripped breaker stays latched."""
        if trip is None or trip.breaker in self._tripped:
            return
        assert self.desk is not None
        self._tripped.add(trip.breaker)
        self.trips.append(trip)
        self.desk.publish(
            BreakerTripped(ts, trip.breaker, trip.action.value, trip.value, trip.limit, trip.detail)
        )
        self.escalate(trip.action, f"{trip.breaker}: {trip.detail}", ts)

    # -- trading state and the kill switch -----------------------------------------------

    def escalate(self, target: TradingState, reason: str, ts: int) -> None:
        """Move to REDUCING or HALTED (never back); a halt cancels everything and flattens."""
        previous = self.machine.escalate(target, reason)
        if previous is None:
            return
        assert self.desk is not None
        self.desk.publish(TradingStateChanged(ts, previous.value, target.value, reason))
        if target is TradingState.HALTED:
            self._kill(ts)

    def halt(self, reason: str) -> None:
        """The manual kill switch."""
        assert self.desk is not None
        self.escalate(TradingState.HALTED, f"manual: {reason}", self.desk.now_ns())

    def resume(self, reason: str) -> None:
        """Return to ACTIVE: the only way out of REDUCING or HALTED."""
        assert self.desk is not None
        previous = self.machine.resume(reason)
        self._awaiting_flat = False
        self._tripped.clear()
        self.desk.publish(
            TradingStateChanged(self.desk.now_ns(), previous.value, "active", f"resumed: {reason}")
        )

    def _kill(self, ts: int) -> None:
        """Cancel every open order, then flatten with reduce-only orders (market or TWAP)."""
        assert self.desk is not None
        for order in self.desk.all_open_orders():
            self.desk.cancel_order(order)
        switch = self.settings.kill_switch
        if not switch.flatten:
            return
        for account, symbol, size in self.desk.open_derivative_positions():
            side = OrderSide.SELL if size > 0 else OrderSide.BUY
            if switch.method == "market":
                self.desk.submit_risk_order(account, symbol, side, abs(size))
                continue
            lot = self.desk.instrument_spec(account, symbol).size_increment
            slices = switch.twap_slices
            piece = (abs(size) / slices / lot).to_integral_value(rounding="ROUND_DOWN") * lot
            for k in range(slices):
                quantity = piece if k < slices - 1 else abs(size) - piece * (slices - 1)
                due = ts + k * switch.twap_interval_s * 1_000_000_000
                if quantity > 0:
                    self._slices.append((due, account, symbol, side, quantity))
        self._awaiting_flat = True

    def _send_due_slices(self, ts: int) -> None:
        assert self.desk is not None
        due = [item for item in self._slices if item[0] <= ts]
        self._slices = [item for item in self._slices if item[0] > ts]
        for _, account, symbol, side, quantity in due:
            self.desk.submit_risk_order(account, symbol, side, quantity)

    def _confirm_flat(self, ts: int) -> None:
        assert self.desk is not None
        if self.desk.open_derivative_positions():
            return
        self._awaiting_flat = False
        self.desk.publish(BookFlattened(ts, self.desk.account_ids()))


def _breaker(settings: RiskSettings, cls: type[B]) -> B | None:
    """Build breaker ``cls`` if the settings switch it on."""
    for spec in settings.breakers:
        if spec.name == cls.name:
            return cls(spec)
    return None
