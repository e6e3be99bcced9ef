"""Stablecoin peg mean reversion: buy a stablecoin below its peg, more the further it is.

On each bar of ``instrument`` (e.g. ``USDC/USDT`` in a spot margin account), with
``d`` = distance below the peg in bps (negative above it):

* ``d ≥ hard_stop_bps``: a true de-peg, not noise. Sell everything at market and stand
  aside until the price has stayed within ``rearm_bps`` of the peg for ``rearm_bars``
  bars;
* ``d ≥ entry_bps``: hold ``units(d) = min(max_units, 1 + ⌊(d − entry_bps) / step_bps⌋)``
  × ``unit`` (size by distance: it adds on the way down and sells on the way back);
* ``d ≤ exit_bps``: back at the peg, hold nothing;
* in between: keep what is held.

With ``allow_short`` the same ladder runs above the peg with a short (borrowed) stablecoin.
Buys are capped by the quote balance held (no borrowing on the long side). Differences
from the target under 1 % of a unit are not traded (a venue that takes its fee from the
coin bought leaves the holding that much short), except to empty the holding.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from xmargin.model.market_data import Bar
from xmargin.model.numbers import ZERO, round_to_increment
from xmargin.model.orders import OrderSide
from xmargin.strategy.base import Strategy

DUST = Decimal("0.01")  # differences under 1 % of a unit (fees paid in the coin) are left


@dataclass(frozen=True)
class PegReversionParams:
    instrument: str = "USDC/USDT"
    peg: float = 1.0
    unit: Decimal = Decimal(10000)
    max_units: int = 5
    entry_bps: float = 10.0
    step_bps: float = 10.0
    exit_bps: float = 2.0
    hard_stop_bps: float = 300.0
    rearm_bps: float = 20.0
    rearm_bars: int = 288
    allow_short: bool = False
    flatten_on_stop: bool = True


class PegReversion(Strategy):
    """Ladder into a stablecoin below its peg, out at the peg; hard stop on a true de-peg."""

    name = "peg_reversion"
    description = (
        "stablecoin peg mean reversion: size by distance below the peg, exit at the peg, "
        "hard stop on a true de-peg"
    )
    Params = PegReversionParams

    def __init__(self, strategy_id: str, params: PegReversionParams) -> None:
        super().__init__(strategy_id, params)
        if not 0 <= params.exit_bps < params.entry_bps < params.hard_stop_bps:
            raise ValueError(f"{strategy_id}: need 0 <= exit_bps < entry_bps < hard_stop_bps")
        if params.step_bps <= 0 or params.max_units < 1 or params.unit <= 0:
            raise ValueError(f"{strategy_id}: step_bps, max_units and unit must be positive")
        self.stopped = False
        self._calm_bars = 0
        self.target = ZERO
        self.stops: list[int] = []

    def subscriptions(self) -> tuple[tuple[str, str], ...]:
        return (("bar", self.params.instrument),)

    def on_bar(self, bar: Bar) -> None:
        target = self.decide(bar.close, bar.ts_event)
        if target is not None:
            self.trade_to(target)

    def decide(self, price: float, ts: int = 0) -> Decimal | None:
        """Return the new target holding at ``price``, or None to keep the current one."""
        p: PegReversionParams = self.params
        distance = (p.peg - price) / p.peg * 1e4
        if self.stopped:
            self._calm_bars = self._calm_bars + 1 if abs(distance) <= p.rearm_bps else 0
            if self._calm_bars >= p.rearm_bars:
                self.stopped = False
            return ZERO
        if abs(distance) >= p.hard_stop_bps and (distance > 0 or p.allow_short):
            self.stopped = True
            self._calm_bars = 0
            self.stops.append(ts)
            return ZERO
        side = -1 if distance < 0 and p.allow_short else 1
        away = distance * side
        if away >= p.entry_bps:
            units = min(p.max_units, 1 + int((away - p.entry_bps) // p.step_bps))
            return p.unit * units * side
        if away <= p.exit_bps:
            return ZERO
        return None

    def trade_to(self, target: Decimal) -> None:
        """Send one market order towards ``target`` (buys capped by the cash held)."""
        ctx, p = self.ctx, self.params
        self.target = target
        if ctx.open_orders(p.instrument):
            return
        spec = ctx.instrument(p.instrument)
        held = ctx.balance(spec.base) - ctx.liability(spec.base)
        diff = round_to_increment(target - held, spec.size_increment, mode="down")
        if diff > 0:
            price = Decimal(repr(ctx.last_price(p.instrument)))
            cash = ctx.balance(spec.quote) - ctx.liability(spec.quote)
            affordable = round_to_increment(
                cash / (price * Decimal("1.01")), spec.size_increment, mode="down"
            )
            diff = min(diff, max(affordable, ZERO))
        dust = max(spec.size_increment, spec.min_size, p.unit * DUST)
        if abs(diff) < dust and not (target == 0 and diff < 0):
            return
        if diff == 0:
            return
        ctx.order(p.instrument, OrderSide.BUY if diff > 0 else OrderSide.SELL, abs(diff))

    def on_stop(self) -> None:
        if self.params.flatten_on_stop:
            self.trade_to(ZERO)
