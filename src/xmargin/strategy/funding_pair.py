"""The decision both funding-arbitrage strategies make: enter, hold or leave a carry pair.

``carry`` is the funding the pair is expected to receive over ``horizon_hours`` when held in
direction +1 (a fraction of the notional; −1 receives ``−carry``), from
``FundingEstimator``s fed only with settled rates. The rule, in fractions of notional:

* flat: enter direction ``s`` when ``s·carry − round_trip_fees − interest(s) −
  basis_allowance > entry_edge`` (the best such ``s``);
* holding ``s``: leave when ``s·carry − interest(s) < exit_edge`` (fees already paid and
  the exit fee due either way, so only the carry still to come counts).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal

from xmargin.model.market_data import FundingRate
from xmargin.model.numbers import ZERO
from xmargin.model.orders import OrderSide
from xmargin.strategy.funding_model import FundingEstimator
from xmargin.strategy.hedged_pair import Leg
from xmargin.strategy.pair_strategy import PairParams, PairStrategy

BPS = 1e-4


@dataclass(frozen=True)
class FundingParams(PairParams):
    """Parameters of the funding model and of the entry and exit thresholds."""

    horizon_hours: float = 168.0
    basis_allowance_bps: float = 10.0
    entry_edge_bps: float = 0.0
    exit_edge_bps: float = 0.0
    leverage: Decimal = Decimal(3)
    long_half_life_hours: float = 168.0
    short_half_life_hours: float = 24.0
    persistence_window: int = 90
    min_settlements: int = 9


class FundingPairStrategy(PairStrategy, ABC):
    """A pair whose direction follows expected funding; subclasses supply the numbers."""

    def __init__(self, strategy_id: str, params: FundingParams) -> None:
        super().__init__(strategy_id, params)
        if params.horizon_hours <= 0:
            raise ValueError(f"{strategy_id}: horizon_hours must be positive")
        self.estimators: dict[tuple[str, str], FundingEstimator] = {}
        self.decisions: list[tuple[int, int, float]] = []

    # -- supplied by subclasses -------------------------------------------------------------

    @abstractmethod
    def carry(self) -> float | None:
        """Expected funding received in direction +1 over the horizon; None until known."""

    @abstractmethod
    def round_trip_fees(self) -> float: ...

    def interest(self, direction: int) -> float:
        """Borrow interest over the horizon while holding ``direction`` (fraction)."""
        return 0.0

    def directions(self) -> tuple[int, ...]:
        return (1, -1)

    # -- funding --------------------------------------------------------------------------

    def estimator(self, venue: str, instrument: str) -> FundingEstimator:
        key = (venue, instrument)
        found = self.estimators.get(key)
        if found is None:
            p: FundingParams = self.params
            found = FundingEstimator(
                long_half_life_hours=p.long_half_life_hours,
                short_half_life_hours=p.short_half_life_hours,
                window=p.persistence_window,
                min_settlements=p.min_settlements,
            )
            self.estimators[key] = found
        return found

    def on_funding(self, funding: FundingRate) -> None:
        self.estimator(funding.venue, funding.instrument).observe(
            funding.rate, funding.interval_hours
        )
        carry = self.carry()
        if carry is None:
            return
        direction = self.decide(carry)
        held = _sign(self.pair.target)
        self.decisions.append((funding.ts_event, direction, carry))
        if direction == held or (held == 0 and not self.may_enter):
            return
        if direction == 0 or held != 0:
            self.pair.set_target(ZERO)
        else:
            self.pair.set_target(self.size(direction) * direction)
        self.pair.sync()

    def decide(self, carry: float) -> int:
        """The direction to hold given ``carry``; see the module docstring."""
        p: FundingParams = self.params
        held = _sign(self.pair.target)
        if held != 0:
            keep = held * carry - self.interest(held) >= p.exit_edge_bps * BPS
            return held if keep else 0
        best, best_edge = 0, p.entry_edge_bps * BPS
        costs = self.round_trip_fees() + p.basis_allowance_bps * BPS
        for direction in self.directions():
            edge = direction * carry - costs - self.interest(direction)
            if edge > best_edge:
                best, best_edge = direction, edge
        return best

    # -- sizing ---------------------------------------------------------------------------

    def size(self, direction: int) -> Decimal:
        """The pair size to open in ``direction``: the notional, capped by each leg's
        leverage and capacity."""
        p: FundingParams = self.params
        sizes = []
        side_a = OrderSide.BUY if direction > 0 else OrderSide.SELL
        for leg, side in zip(self.legs(), (side_a, side_a.opposite), strict=True):
            price = self._price(leg)
            if price <= 0:
                return ZERO
            sizes.append(p.notional / price)
            sizes.append(self.leg_capacity(leg, side, price))
        return self.pair.round(min(sizes))

    def leg_capacity(self, leg: Leg, side: OrderSide, price: Decimal) -> Decimal:
        """How much ``leg`` may add on ``side``: leverage × its account's equity, and what
        the venue's margin model accepts."""
        p: FundingParams = self.params
        equity = self.ctx.margin(leg.account, liquidation_prices=False).equity
        limit = p.leverage * equity / price
        limit = min(limit, self.ctx.max_order_quantity(leg.symbol, side, account=leg.account))
        return max(limit, ZERO)

    def _price(self, leg: Leg) -> Decimal:
        last = self.ctx.last_price(leg.symbol, leg.account)
        return Decimal(repr(last)) if last > 0 else ZERO


def _sign(value: Decimal) -> int:
    return (value > 0) - (value < 0)
