"""The liquidation-buffer guard: keep equity a multiple above the maintenance requirement.

Each step a float estimate (equity and gross notional at current marks, times the account's
maintenance rate from its last exact report) says whether an account may be near the limit;
only then is the exact report taken from the venue's own margin model. When equity is below
``multiple`` × maintenance, positions are reduced until it would be ``restore_to`` × the
maintenance: first those that free the most maintenance margin per unit of expected cost
(taker fee plus a half-spread proxy, per unit of notional), each only as far as needed, with
reduce-only market orders owned by the risk engine. Each breach is a ``BreakerTripped`` event
(breaker ``liquidation_buffer``, action ``reduce``) naming the ratio and the orders.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import ROUND_UP, Decimal
from typing import Protocol

from xmargin.core.errors import ConfigError
from xmargin.margin.base import MarginReport
from xmargin.model.events import BreakerTripped
from xmargin.model.instruments import Instrument
from xmargin.model.orders import Order, OrderSide
from xmargin.risk.settings import LiquidationBufferSettings

SCREEN = 0.8  # the estimate is trusted only this far above the limit
REGROW = 1.25  # recheck exactly when gross notional grew this much since the last report

Reduction = tuple[str, OrderSide, Decimal, Decimal]  # symbol, side, quantity, score


class BufferDesk(Protocol):
    def margin_summary(self, account: str) -> MarginReport: ...
    def instrument_spec(self, account: str, symbol: str) -> Instrument: ...
    def taker_fee(self, account: str) -> Decimal: ...
    def publish(self, event: object) -> None: ...


class Equity(Protocol):
    def equity_and_gross(self) -> tuple[float, float]: ...


class LiquidationBufferGuard:
    """Watch every account's distance to maintenance; reduce the cheapest margin first."""

    def __init__(
        self,
        settings: LiquidationBufferSettings,
        desk: BufferDesk,
        send: Callable[[str, str, OrderSide, Decimal], Order],
    ) -> None:
        self.settings = settings
        self.desk = desk
        self.send = send
        self._rate: dict[str, float] = {}
        self._gross_at: dict[str, float] = {}
        self._pending: dict[str, list[Order]] = {}
        self.breaches = 0
        self.exact_checks = 0

    def on_step(self, ts: int, terms: Mapping[str, Equity]) -> None:
        limit = float(self.settings.multiple)
        for account, account_terms in terms.items():
            equity, gross = account_terms.equity_and_gross()
            if gross <= 0:
                continue
            pending = self._pending.get(account)
            if pending:
                if any(not order.status.is_closed for order in pending):
                    continue
                del self._pending[account]
            rate = self._rate.get(account)
            if (
                rate is not None
                and gross <= self._gross_at[account] * REGROW
                and equity * SCREEN > limit * rate * gross
            ):
                continue
            self.check(account, ts)

    def check(self, account: str, ts: int) -> list[Reduction]:
        """The exact check: reduce when equity is below ``multiple`` × maintenance."""
        self.exact_checks += 1
        report = self.desk.margin_summary(account)
        maintenance = report.maintenance_margin_required
        gross = sum((row.notional for row in report.exposures), Decimal(0))
        if gross > 0:
            self._rate[account] = float(maintenance / gross)
            self._gross_at[account] = float(gross)
        multiple = self.settings.multiple
        if maintenance <= 0 or report.equity >= multiple * maintenance:
            return []
        plan = self.plan(account, report)
        ratio = (report.equity / maintenance).quantize(Decimal("0.0001"))
        orders = "; ".join(f"{side.value} {qty} {symbol}" for symbol, side, qty, _ in plan)
        self.breaches += 1
        self.desk.publish(
            BreakerTripped(
                ts,
                "liquidation_buffer",
                "reduce",
                ratio,
                multiple,
                f"{account}: equity {report.equity:,.2f} is {ratio} × maintenance "
                f"{maintenance:,.2f}; {orders or 'nothing reducible'}",
            )
        )
        self._pending[account] = [
            self.send(account, symbol, side, quantity) for symbol, side, quantity, _ in plan
        ]
        return plan

    def plan(self, account: str, report: MarginReport) -> list[Reduction]:
        """Reductions restoring ``restore_to`` × maintenance, most margin per cost first."""
        fee = self.desk.taker_fee(account)
        target = self.settings.restore_to
        deficit = target * report.maintenance_margin_required - report.equity
        ranked = []
        for row in report.exposures:
            try:
                spec = self.desk.instrument_spec(account, row.instrument)
            except ConfigError:
                continue
            if not spec.is_derivative or row.size == 0 or row.notional <= 0:
                continue
            freed = row.maintenance_margin / row.notional
            cost_rate = fee + (self.settings.half_spread.for_instrument(row.instrument) or 0)
            score = freed / cost_rate if cost_rate > 0 else Decimal("Infinity")
            ranked.append((-score, row.instrument, row, spec, freed, cost_rate))
        ranked.sort(key=lambda item: (item[0], item[1]))
        plan: list[Reduction] = []
        for negative_score, symbol, row, spec, freed, cost_rate in ranked:
            if deficit <= 0:
                break
            gain = target * freed - cost_rate  # per unit of notional closed
            if gain <= 0:
                continue
            unit = row.price * spec.contract_size
            lot = spec.size_increment
            wanted = (deficit / gain / unit / lot).to_integral_value(rounding=ROUND_UP) * lot
            quantity = min(wanted, abs(row.size))
            side = OrderSide.SELL if row.size > 0 else OrderSide.BUY
            plan.append((symbol, side, quantity, -negative_score))
            deficit -= quantity * unit * gain
        return plan
