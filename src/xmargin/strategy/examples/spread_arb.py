"""Cross-venue / cross-pair spread: trade two quotes of one asset when they drift apart.

Leg a is ``symbol_a`` in the strategy's own account (its bars are the clock), leg b is
``symbol_b`` in ``account_b`` (a perpetual against spot, or the same perpetual on two
venues). On each clock bar:

* ``spread = (price_a / price_b − 1)`` in bps, ``baseline`` = the mean spread of the
  previous ``window`` bars (0 with ``window = 0``), ``dev = spread − baseline``;
* flat and ``dev > cost_bps + entry_bps``: a is rich, short a and buy b (target −size);
  ``dev < −(cost_bps + entry_bps)``: buy a and short b (target +size); both legs are sent
  together;
* holding: unwind when the spread has converged (``|dev| ≤ exit_bps`` or ``dev`` crossed
  zero) or after ``max_hold_bars`` clock bars.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from xmargin.model.market_data import Bar
from xmargin.model.numbers import ZERO
from xmargin.strategy.hedged_pair import Leg
from xmargin.strategy.indicators import Sma
from xmargin.strategy.pair_strategy import PairParams, PairStrategy

DIRECTIONS = {"both": (1, -1), "long_a": (1,), "short_a": (-1,)}


@dataclass(frozen=True)
class SpreadArbParams(PairParams):
    account_b: str = ""
    symbol_a: str = "BTC/USDT:USDT"
    symbol_b: str = "BTC/USDT"
    window: int = 288
    cost_bps: float = 25.0
    entry_bps: float = 10.0
    exit_bps: float = 2.0
    max_hold_bars: int = 288
    directions: str = "both"


class SpreadArb(PairStrategy):
    """Enter when the spread's deviation beats costs; see the module docstring."""

    name = "spread_arb"
    description = (
        "two quotes of one asset (perp vs spot, venue vs venue): trade the spread beyond "
        "costs, unwind on convergence or a time limit"
    )
    Params = SpreadArbParams

    def __init__(self, strategy_id: str, params: SpreadArbParams) -> None:
        super().__init__(strategy_id, params)
        if not params.account_b:
            raise ValueError(f"{strategy_id}: account_b is required")
        if params.directions not in DIRECTIONS:
            raise ValueError(
                f"{strategy_id}: directions must be one of {', '.join(DIRECTIONS)}, "
                f"got {params.directions!r}"
            )
        if params.window < 0 or params.max_hold_bars < 1:
            raise ValueError(f"{strategy_id}: need window >= 0 and max_hold_bars >= 1")
        self._baseline = Sma(params.window) if params.window > 0 else None
        self._held_bars = 0
        self._side = 0
        self.trades: list[tuple[int, int, float]] = []

    def legs(self) -> tuple[Leg, Leg]:
        p: SpreadArbParams = self.params
        return Leg(self.ctx.account, p.symbol_a), Leg(p.account_b, p.symbol_b)

    def subscriptions(self) -> tuple[tuple[str, str], ...]:
        return (("bar", self.params.symbol_a),)

    def on_bar(self, bar: Bar) -> None:
        p: SpreadArbParams = self.params
        if bar.instrument != p.symbol_a or bar.venue != self.clock_venue:
            return
        price_b = self.ctx.last_price(p.symbol_b, p.account_b)
        if price_b > 0:
            self.decide(bar.ts_event, (bar.close / price_b - 1.0) * 1e4)
        self.on_clock(bar)

    def decide(self, ts: int, spread_bps: float) -> None:
        """Update the baseline with ``spread_bps`` and set the pair's target."""
        p: SpreadArbParams = self.params
        baseline = 0.0
        if self._baseline is not None:
            previous = self._baseline.value
            self._baseline.update(spread_bps)
            if previous is None:
                return
            baseline = previous
        dev = spread_bps - baseline
        if self._side != 0:
            self._held_bars += 1
            converged = abs(dev) <= p.exit_bps or dev * self._side >= 0
            if converged or self._held_bars >= p.max_hold_bars:
                self._enter(ts, 0, dev)
            return
        threshold = p.cost_bps + p.entry_bps
        wanted = 1 if dev < -threshold else -1 if dev > threshold else 0
        allowed = wanted in DIRECTIONS[p.directions] and self.may_enter
        if wanted and allowed and not self.pair.busy:
            self._enter(ts, wanted, dev)

    def _enter(self, ts: int, side: int, dev: float) -> None:
        self._side = side
        self._held_bars = 0
        self.trades.append((ts, side, dev))
        if side == 0:
            self.pair.set_target(ZERO)
            return
        a, _ = self.legs()
        price = Decimal(repr(self.ctx.last_price(a.symbol, a.account)))
        self.pair.set_target(self.pair.round(self.params.notional / price) * side)
