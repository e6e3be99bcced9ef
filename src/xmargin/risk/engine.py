"""The risk engine: pre-trade checks, circuit breakers and the latching kill switch.

It sits between every strategy and every venue (the kernel calls ``check`` before any order
leaves and ``check_command`` before any cancel, modify, borrow, repay, transfer or leverage
change), hears every event, and runs once per timestamp after settlements (``on_step``),
before strategies act. It cannot be bypassed: while HALTED the only orders that pass are
the kill switch's own reduce-only flattening orders.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeVar

from xmargin.model.events import (
    BALANCE_CHANGES,
    BreakerTripped,
    FundingSettled,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    TradingStateChanged,
    accounts_touched,
)
from xmargin.model.market_data import FundingRate
from xmargin.model.numbers import ZERO
from xmargin.model.orders import Order, OrderSide
from xmargin.risk.books import StrategyBooks
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
from xmargin.risk.checks import OrderCheck, build_checks
from xmargin.risk.command_checks import CommandControls
from xmargin.risk.controls import HALTED_REASON, StrategyControls
from xmargin.risk.desk import RISK_STRATEGY, EquityTerms, RiskDesk
from xmargin.risk.fences import FenceRule, Fences
from xmargin.risk.kill_switch import KillSwitch
from xmargin.risk.liquidation_buffer import LiquidationBufferGuard
from xmargin.risk.settings import RiskSettings
from xmargin.risk.state import TradingState, TradingStateMachine
from xmargin.risk.stops import StopManager

__all__ = ["RISK_STRATEGY", "EquityTerms", "RiskDesk", "RiskEngine"]

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
SLOW_CHECK_NS = 60 * 1_000_000_000
DAY_NS = 86_400 * 1_000_000_000
WORKING_ENDS = (OrderFilled, OrderCanceled, OrderExpired, OrderRejected)


class RiskEngine(StrategyControls, CommandControls):
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
        self.books = StrategyBooks()
        self.stops: StopManager | None = None
        self.buffer: LiquidationBufferGuard | None = None
        self.fences: Fences | None = None
        self._sending = False
        self._flattening = False
        # True once anything beyond the breakers needs the step (a stop, a fence, a halt…)
        self._extras = settings.liquidation_buffer is not None or bool(settings.fences)
        self._kill_due = False
        self._working: dict[str, Order] = {}
        self._working_per_market: dict[tuple[str, str], int] = {}  # (account, instrument)
        self._pending: dict[tuple[str, str], Decimal] = {}
        self._terms: dict[str, EquityTerms] = {}
        self._cash = 0.0
        self._legs: list[tuple[Any, float, float]] = []
        self._floor = float("inf")
        self._peak = float("-inf")
        self._day_end = -1
        self._next_slow = 0
        self._trip_pnl: dict[tuple[str, str], Decimal] = {}
        self.kill_switch = KillSwitch(settings.kill_switch, self._flatten)
        self._tripped: set[str] = set()
        self.trips: list[Trip] = []

    @property
    def state(self) -> TradingState:
        return self.machine.state

    def attach(self, desk: RiskDesk) -> None:
        self.desk = desk
        self.kill_switch.desk = desk
        self._terms = {account: desk.equity_terms(account) for account in desk.account_ids()}
        self._flatten_terms()
        settings = self.settings
        self.stops = StopManager(settings.stops, desk, self._send_stop)
        if settings.liquidation_buffer is not None:
            self.buffer = LiquidationBufferGuard(
                settings.liquidation_buffer, desk, self._send_reduction
            )
        if settings.fences:
            self.fences = Fences(
                settings.fences, desk, self.books, self._send_fence, self.stops.drop_strategy
            )
            self.checks.insert(2, FenceRule(self.fences, lambda: self._terms))

    def on_start(self, ts: int) -> None:
        """The strategies are attached: find the fenced ones' accounts."""
        if self.fences is not None:
            self.fences.attach(self._terms)

    def _flatten_terms(self) -> None:
        """Sum the accounts' cash and list their legs once, for the per-step equity."""
        self._cash = sum(terms.cash for terms in self._terms.values())
        self._legs = [leg for terms in self._terms.values() for leg in terms.legs]

    # -- pre-trade -------------------------------------------------------------------------

    def check(self, order: Order, kernel: object) -> tuple[str, str] | None:
        """Run every rule; the first that objects denies the order with its numbers.

        The risk engine's own orders (stops firing, reductions, the kill switch) pass, but
        while HALTED only the kill switch's flattening does.
        """
        if self._sending or order.strategy_id == RISK_STRATEGY:
            if self.machine.state is TradingState.HALTED and not self._flattening:
                return "halted", HALTED_REASON
            return None
        assert self.desk is not None
        terms = self._terms.get(order.account)
        key = (order.account, order.instrument)
        subject = OrderCheck(
            order,
            self.desk,
            self.machine.state,
            terms.equity_and_gross if terms else None,
            self._pending.get(key, ZERO),
        )
        for rule in self.checks:
            reason = rule.check(subject)
            if reason is not None:
                return rule.name, reason
        for rule in self.checks:
            rule.sent(subject)
        if not order.order_type.has_trigger:
            if order.client_order_id not in self._working:
                self._working_per_market[key] = self._working_per_market.get(key, 0) + 1
            self._working[order.client_order_id] = order
            self._pending[key] = subject.after - subject.held
        return None

    # -- events ----------------------------------------------------------------------------

    def on_event(self, event: object) -> None:
        if isinstance(event, BALANCE_CHANGES):
            assert self.desk is not None
            for account in accounts_touched(event):
                if account in self._terms:
                    self._terms[account] = self.desk.equity_terms(account)
            self._flatten_terms()
        if self._working and isinstance(event, WORKING_ENDS):
            self._work_done(event)
        if isinstance(event, OrderFilled):
            self._on_fill(event)
        elif isinstance(event, FundingSettled):
            key = (event.account, event.instrument)
            self.books.on_funding(key, event.position_size, event.amount)
        elif isinstance(event, OrderRejected) and self.rejects is not None:
            self._handle(self.rejects.on_answer(True), event.ts_event, deferred=True)
        elif isinstance(event, OrderAccepted) and self.rejects is not None:
            self._handle(self.rejects.on_answer(False), event.ts_event, deferred=True)
        if self._extras and self.stops is not None and self.stops.active:
            self.stops.on_event(event)

    def _work_done(self, event: Any) -> None:
        """A checked order filled (in part) or ended: it is no longer pending."""
        order = self._working.get(event.client_order_id)
        if order is None:
            return
        key = (order.account, order.instrument)
        if isinstance(event, OrderFilled):
            gone = event.quantity if event.side is OrderSide.BUY else -event.quantity
        else:
            gone = order.leaves_quantity if order.side is OrderSide.BUY else -order.leaves_quantity
        if order.status.is_closed:
            del self._working[event.client_order_id]
            if self._working_per_market[key] == 1:
                del self._working_per_market[key]
            else:
                self._working_per_market[key] -= 1
        if self.fences is not None:
            self.fences.done(order.strategy_id, key, gone)
        left = self._pending.get(key, ZERO) - gone
        if left and key in self._working_per_market:
            self._pending[key] = left
        else:
            self._pending.pop(key, None)

    def on_funding(self, funding: FundingRate, held: bool) -> None:
        """A funding rate was published; ``held``: some account has a position in it."""
        if self.funding is not None and held:
            rate = Decimal(repr(funding.rate))
            trip = self.funding.on_funding(funding.instrument, rate, funding.interval_hours)
            self._handle(trip, funding.ts_event)

    def _on_fill(self, event: OrderFilled) -> None:
        key = (event.account, event.instrument)
        assert self.desk is not None
        market = self.desk.market_state(event.account, event.instrument)
        signed_fill = event.quantity if event.side is OrderSide.BUY else -event.quantity
        self.books.on_fill(
            None if event.strategy == RISK_STRATEGY else event.strategy,
            key,
            market,
            float(market.spec.contract_size),
            signed_fill,
            float(event.price),
            float(event.fee),
        )
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
                self._handle(self.losses.on_round_trip(pnl), event.ts_event, deferred=True)
        else:
            self._trip_pnl[key] = pnl

    # -- once per timestamp --------------------------------------------------------------

    def on_step(self, ts: int) -> None:
        """Check equity breakers (every step) and market-health breakers (every minute),
        then stops, fences and the liquidation buffer where configured.

        Breakers value positions at the freshest price (the last trade, else the mark).
        """
        equity = self._cash
        for market, size, cost in self._legs:
            equity += size * (market.last or market.mark) - cost
        if equity <= self._floor or equity > self._peak or ts >= self._day_end:
            self._equity_breakers(ts, equity)
        if ts >= self._next_slow:
            self._next_slow = ts + SLOW_CHECK_NS if self._has_market_breakers else 2**63
            self._market_breakers(ts)
        if self._extras:
            self._step_extras(ts)

    def _step_extras(self, ts: int) -> None:
        """The kill switch's flattening, stops, fences and the liquidation buffer."""
        if self._kill_due:
            self._kill_due = False
            self._kill(ts)
        if self.kill_switch.busy:
            self.kill_switch.on_step(ts)
        if self.machine.state is TradingState.HALTED:
            return
        stops = self.stops
        if stops is not None and stops.active:
            stops.on_step(ts)
        if self.fences is not None:
            self.fences.on_step(ts, self._terms)
        if self.buffer is not None:
            self.buffer.on_step(ts, self._terms)

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

    def _handle(self, trip: Trip | None, ts: int, deferred: bool = False) -> None:
        """Report a breaker's first trip and act on it; a tripped breaker stays latched."""
        if trip is None or trip.breaker in self._tripped:
            return
        assert self.desk is not None
        self._tripped.add(trip.breaker)
        self.trips.append(trip)
        self.desk.publish(
            BreakerTripped(ts, trip.breaker, trip.action.value, trip.value, trip.limit, trip.detail)
        )
        self.escalate(trip.action, f"{trip.breaker}: {trip.detail}", ts, deferred)

    # -- trading state and the kill switch -----------------------------------------------

    def escalate(self, target: TradingState, reason: str, ts: int, deferred: bool = False) -> None:
        """Move to REDUCING or HALTED (never back); a halt cancels everything and flattens.

        ``deferred``: the halt was found while a venue is processing (an order event), so
        its cancels and flattening wait for the next risk pass; nothing new passes meanwhile.
        """
        previous = self.machine.escalate(target, reason)
        if previous is None:
            return
        assert self.desk is not None
        self.desk.publish(TradingStateChanged(ts, previous.value, target.value, reason))
        if target is TradingState.HALTED:
            if deferred:
                self._kill_due = self._extras = True
            else:
                self._kill(ts)

    def halt(self, reason: str) -> None:
        """The manual kill switch."""
        assert self.desk is not None
        self.escalate(TradingState.HALTED, f"manual: {reason}", self.desk.now_ns())

    def resume(self, reason: str) -> None:
        """Return to ACTIVE: the only way out of REDUCING or HALTED."""
        assert self.desk is not None
        previous = self.machine.resume(reason)
        self.kill_switch.reset()
        self._kill_due = False
        self._tripped.clear()
        self._rebase()
        self.desk.publish(
            TradingStateChanged(self.desk.now_ns(), previous.value, "active", f"resumed: {reason}")
        )

    def _rebase(self) -> None:
        """After a resume, breakers measure from here: today's loss and the drawdown restart
        from the current equity, the losing streak and the reject window are cleared."""
        if self.daily is not None:
            self.daily.day = -1
        if self.drawdown is not None:
            self.drawdown.peak = float("-inf")
        if self.losses is not None:
            self.losses.streak = 0
        if self.rejects is not None:
            self.rejects.outcomes.clear()
        self._floor = float("inf")

    def _kill(self, ts: int) -> None:
        """Drop every stop, cancel every open order and flatten (see ``KillSwitch``)."""
        self._extras = True
        if self.stops is not None:
            self.stops.clear()
        self.kill_switch.engage(ts)

    # -- orders the risk engine sends ----------------------------------------------------

    def _flatten(self, account: str, symbol: str, side: OrderSide, quantity: Decimal) -> Order:
        """The kill switch's reduce-only market order (the only order allowed while HALTED)."""
        assert self.desk is not None
        self._flattening = True
        try:
            return self.desk.submit_risk_order(account, symbol, side, quantity)
        finally:
            self._flattening = False


def _breaker(settings: RiskSettings, cls: type[B]) -> B | None:
    """Build breaker ``cls`` if the settings switch it on."""
    for spec in settings.breakers:
        if spec.name == cls.name:
            return cls(spec)
    return None
