"""Spot–perpetual funding carry: long spot and short the perpetual while funding pays for it.

The perpetual trades in the strategy's own account (a USDⓈ-M cross account: its bars are
the clock, its funding settlements the signal); the spot leg in ``spot_account`` (a cross
margin spot account), bought with cash or partly with borrowed quote (``borrow_fraction``;
the spot venue needs ``auto_borrow = true``). With ``allow_reverse`` it also runs the
reverse carry when funding is expected to stay negative: short spot (a borrowed coin) and
long the perpetual.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from xmargin.model.market_data import Bar
from xmargin.model.numbers import ZERO
from xmargin.model.orders import OrderSide
from xmargin.strategy.funding_pair import FundingPairStrategy, FundingParams
from xmargin.strategy.hedged_pair import Leg


@dataclass(frozen=True)
class FundingCarryParams(FundingParams):
    spot_account: str = ""
    spot: str = "BTC/USDT"
    perp: str = "BTC/USDT:USDT"
    spot_fee: float = 0.001
    perp_fee: float = 0.0005
    borrow_fraction: float = 0.0
    borrow_rate_hourly: float = 0.0
    coin_borrow_rate_hourly: float = 0.0
    allow_reverse: bool = False


class FundingCarry(FundingPairStrategy):
    """Long spot / short perpetual (direction +1) when expected funding beats every cost.

    ``carry`` = the perpetual's expected funding over the horizon (shorts receive it when
    positive). Costs: both legs' taker fees in and out, the basis-risk allowance, and the
    interest on what the spot leg borrows (``borrow_fraction`` of it at
    ``borrow_rate_hourly``; the whole leg at ``coin_borrow_rate_hourly`` in reverse).
    """

    name = "funding_carry"
    description = (
        "spot–perp funding carry: long spot, short perp while expected funding beats fees, "
        "interest and basis risk"
    )
    Params = FundingCarryParams

    def __init__(self, strategy_id: str, params: FundingCarryParams) -> None:
        super().__init__(strategy_id, params)
        if not params.spot_account:
            raise ValueError(f"{strategy_id}: spot_account is required")
        if not 0 <= params.borrow_fraction < 1:
            raise ValueError(f"{strategy_id}: borrow_fraction must be in [0, 1)")

    def legs(self) -> tuple[Leg, Leg]:
        p: FundingCarryParams = self.params
        return Leg(p.spot_account, p.spot), Leg(self.ctx.account, p.perp)

    def subscriptions(self) -> tuple[tuple[str, str], ...]:
        return (("bar", self.params.perp), ("funding", self.params.perp))

    def directions(self) -> tuple[int, ...]:
        return (1, -1) if self.params.allow_reverse else (1,)

    def on_bar(self, bar: Bar) -> None:
        if bar.instrument == self.params.perp and bar.venue == self.clock_venue:
            self.on_clock(bar)

    def carry(self) -> float | None:
        p: FundingCarryParams = self.params
        estimator = self.estimators.get((self.ctx.venue_id(), p.perp))
        if estimator is None or not estimator.ready:
            return None
        return estimator.expected(p.horizon_hours)

    def round_trip_fees(self) -> float:
        p: FundingCarryParams = self.params
        return 2 * (p.spot_fee + p.perp_fee)

    def interest(self, direction: int) -> float:
        p: FundingCarryParams = self.params
        if direction > 0:
            return p.borrow_fraction * p.borrow_rate_hourly * p.horizon_hours
        return p.coin_borrow_rate_hourly * p.horizon_hours

    def leg_capacity(self, leg: Leg, side: OrderSide, price: Decimal) -> Decimal:
        """The perpetual: as the base class. The spot leg: bought with the quote held (and
        the borrowed share), or sold short up to ``leverage`` × the account's equity; the
        venue's margin model and the risk engine still check each order."""
        p: FundingCarryParams = self.params
        if leg.account != p.spot_account:
            return super().leg_capacity(leg, side, price)
        if side is OrderSide.SELL:
            equity = self.ctx.margin(leg.account, liquidation_prices=False).equity
            return max(p.leverage * equity / price, ZERO)
        spec = self.ctx.instrument(leg.symbol, leg.account)
        cash = self.ctx.balance(spec.quote, leg.account) - self.ctx.liability(
            spec.quote, leg.account
        )
        budget = cash / Decimal(repr(1 - p.borrow_fraction)) * Decimal(repr(1 - 2 * p.spot_fee))
        return max(budget / price, ZERO)
