"""Perp–perp funding arbitrage: short the perpetual that pays more funding, long the other.

Leg a is ``perp_a`` in the strategy's own account (its bars are the clock), leg b is
``perp_b`` in ``account_b`` on another venue, each with its own margin model. Funding
schedules may differ (Binance and Bybit settle every 8 h, Hyperliquid every hour): each
leg's ``FundingEstimator`` works per hour, so the two expectations compare directly.
"""

from __future__ import annotations

from dataclasses import dataclass

from xmargin.model.market_data import Bar
from xmargin.strategy.funding_pair import FundingPairStrategy, FundingParams
from xmargin.strategy.hedged_pair import Leg


@dataclass(frozen=True)
class FundingPerpPerpParams(FundingParams):
    account_b: str = ""
    perp_a: str = "BTC/USDT:USDT"
    perp_b: str = "BTC/USDC:USDC"
    fee_a: float = 0.0005
    fee_b: float = 0.00045


class FundingPerpPerp(FundingPairStrategy):
    """Long a / short b (direction +1) when b's expected funding exceeds a's by more than
    both legs' round-trip fees and the basis allowance; the reverse for direction −1.

    ``carry`` = E_b − E_a over the horizon: the short leg receives its funding, the long leg
    pays its own.
    """

    name = "funding_perp_perp"
    description = (
        "perp–perp funding arbitrage across two venues: short the higher funding, long the lower"
    )
    Params = FundingPerpPerpParams

    def __init__(self, strategy_id: str, params: FundingPerpPerpParams) -> None:
        super().__init__(strategy_id, params)
        if not params.account_b:
            raise ValueError(f"{strategy_id}: account_b is required")

    def legs(self) -> tuple[Leg, Leg]:
        p: FundingPerpPerpParams = self.params
        return Leg(self.ctx.account, p.perp_a), Leg(p.account_b, p.perp_b)

    def subscriptions(self) -> tuple[tuple[str, str], ...]:
        p: FundingPerpPerpParams = self.params
        return (("bar", p.perp_a), ("funding", p.perp_a), ("funding", p.perp_b))

    def on_bar(self, bar: Bar) -> None:
        if bar.instrument == self.params.perp_a and bar.venue == self.clock_venue:
            self.on_clock(bar)

    def carry(self) -> float | None:
        p: FundingPerpPerpParams = self.params
        a = self.estimators.get((self.ctx.venue_id(), p.perp_a))
        b = self.estimators.get((self.ctx.venue_id(p.account_b), p.perp_b))
        if a is None or b is None or not (a.ready and b.ready):
            return None
        return b.expected(p.horizon_hours) - a.expected(p.horizon_hours)

    def round_trip_fees(self) -> float:
        p: FundingPerpPerpParams = self.params
        return 2 * (p.fee_a + p.fee_b)
