"""Two legs held in opposite directions, kept hedged: leg a at ``+target``, leg b at ``−target``.

Both legs are the same asset in base units (a spot balance and a perpetual, or two
perpetuals), each in its own account. ``sync`` sends the orders that move both legs to the
target together, as immediate-or-cancel market orders, and waits for their outcome.

Leg imbalance: a leg whose order fills only in part, or is denied by the risk engine, or
rejected by the venue, is retried on the next ``sync`` (the other leg is hedged by
catching up). After ``max_retries`` failed attempts in a row on one leg the pair gives up
on that leg and unwinds: the target becomes what that leg actually holds, so the next
``sync`` trims the other leg back to it.

Targets are on the coarser of the two lots; each leg's order is rounded to its own lot.
Delta tolerance: differences from the target smaller than ``tolerance`` (base units, at
least the common lot) are left alone, so the net delta ``|a + b|`` stays below it; a leg
going to zero is always closed down to its own lot.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from xmargin.model.instruments import InstrumentKind
from xmargin.model.numbers import ZERO, round_to_increment
from xmargin.model.orders import Order, OrderSide, OrderStatus, OrderType, TimeInForce
from xmargin.strategy.context import StrategyContext


def plain(quantity: Decimal) -> Decimal:
    """``quantity`` without trailing zeros (and without an exponent for whole numbers)."""
    if quantity == quantity.to_integral_value():
        return quantity.quantize(Decimal(1))
    return quantity.normalize()


@dataclass(frozen=True)
class Leg:
    """One side of a pair: the account holding it and the instrument traded there."""

    account: str
    symbol: str


class HedgedPair:
    """Keep leg ``a`` at ``+target`` and leg ``b`` at ``−target``; see the module docstring."""

    def __init__(
        self,
        ctx: StrategyContext,
        a: Leg,
        b: Leg,
        *,
        tolerance: Decimal = ZERO,
        max_retries: int = 3,
    ) -> None:
        self.ctx = ctx
        self.a = a
        self.b = b
        spec_a = ctx.instrument(a.symbol, a.account)
        spec_b = ctx.instrument(b.symbol, b.account)
        self.lot = max(spec_a.size_increment, spec_b.size_increment)
        self.tolerance = max(tolerance, self.lot)
        self.max_retries = max_retries
        self.target = ZERO
        self.working: dict[Leg, Order] = {}
        self.failures: dict[Leg, int] = {a: 0, b: 0}
        self.unwinds = 0
        self._lots = {a: spec_a.size_increment, b: spec_b.size_increment}
        self._spot_base: dict[Leg, Decimal] = {}
        for leg in (a, b):
            spec = ctx.instrument(leg.symbol, leg.account)
            if spec.kind is InstrumentKind.SPOT:
                self._spot_base[leg] = self._net_asset(leg, spec.base)

    # -- state ----------------------------------------------------------------------------

    def position(self, leg: Leg) -> Decimal:
        """The leg's signed holding: a perpetual's position, or the spot asset held net of
        loans and of what the account held before the pair started."""
        baseline = self._spot_base.get(leg)
        if baseline is None:
            return self.ctx.position(leg.symbol, leg.account)
        base = self.ctx.instrument(leg.symbol, leg.account).base
        return self._net_asset(leg, base) - baseline

    def _net_asset(self, leg: Leg, asset: str) -> Decimal:
        return self.ctx.balance(asset, leg.account) - self.ctx.liability(asset, leg.account)

    @property
    def busy(self) -> bool:
        """Whether an order of the pair is still working."""
        self._settle()
        return bool(self.working)

    def delta(self) -> Decimal:
        """The pair's net exposure in base units (zero when perfectly hedged)."""
        return self.position(self.a) + self.position(self.b)

    def size(self) -> Decimal:
        """The hedged size: the smaller of the two legs' holdings in the pair's direction."""
        a, b = self.position(self.a), -self.position(self.b)
        if a * b <= 0:
            return ZERO
        return a if abs(a) < abs(b) else b

    def round(self, quantity: Decimal) -> Decimal:
        """Round a size toward zero to the pair's common lot."""
        return round_to_increment(quantity, self.lot, mode="down")

    # -- trading --------------------------------------------------------------------------

    def set_target(self, target: Decimal) -> None:
        self.target = self.round(target)

    def sync(self) -> list[Order]:
        """Settle finished orders, then send what moves both legs to the target."""
        self._settle()
        if self.working:
            return []
        wanted = {self.a: self.target, self.b: -self.target}
        sent: list[Order] = []
        for leg, target in wanted.items():
            lot = self._lots[leg]
            diff = round_to_increment(target - self.position(leg), lot)
            if diff == 0 or (abs(diff) < self.tolerance and target != 0):
                continue
            side = OrderSide.BUY if diff > 0 else OrderSide.SELL
            order = self.ctx.order(
                leg.symbol,
                side,
                plain(abs(diff)),
                OrderType.MARKET,
                time_in_force=TimeInForce.IOC,
                reduce_only=self._reduces(leg, diff),
                account=leg.account,
            )
            sent.append(order)
            if order.status.is_closed:
                self._finish(leg, order)
            else:
                self.working[leg] = order
        return sent

    def _reduces(self, leg: Leg, diff: Decimal) -> bool:
        """Perpetual orders that only shrink the position are sent reduce-only."""
        if leg in self._spot_base:
            return False
        held = self.position(leg)
        return held * diff < 0 and abs(diff) <= abs(held)

    def _settle(self) -> None:
        for leg, order in tuple(self.working.items()):
            if order.status.is_closed:
                del self.working[leg]
                self._finish(leg, order)

    def _finish(self, leg: Leg, order: Order) -> None:
        if order.status is OrderStatus.FILLED:
            self.failures[leg] = 0
            return
        self.failures[leg] += 1
        if self.failures[leg] >= self.max_retries:
            self._unwind(leg)

    def _unwind(self, failed: Leg) -> None:
        """Give up on ``failed`` reaching the target: match the target to what it holds."""
        held = self.position(failed)
        reachable = held if failed == self.a else -held
        if self.target * reachable < 0:
            reachable = ZERO
        if abs(reachable) < abs(self.target):
            self.target = self.round(reachable)
        self.failures = {self.a: 0, self.b: 0}
        self.unwinds += 1
