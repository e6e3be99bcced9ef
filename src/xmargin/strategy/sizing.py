"""Position sizing a strategy can swap: a signal in [−1, 1] becomes a target quantity.

A ``Sizer`` is any callable ``(ctx, instrument, signal) -> signed target quantity``. The
default, ``FractionOfEquity``, is deliberately conservative; the risk engine's sizing can
replace it by assigning a strategy's ``sizer`` attribute (see ``docs/strategies.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from xmargin.model.numbers import ZERO
from xmargin.model.orders import OrderSide
from xmargin.strategy.context import StrategyContext

Sizer = Callable[[StrategyContext, str, float], Decimal]


class FractionOfEquity:
    """Target notional ``|signal| × fraction × equity``, in the signal's direction.

    Capped by what the venue's margin model would still accept from the current position
    (``ctx.max_order_quantity``) and rounded down to the lot.
    """

    def __init__(self, fraction: Decimal) -> None:
        if fraction <= 0:
            raise ValueError(f"fraction must be positive, got {fraction}")
        self.fraction = fraction

    def __call__(self, ctx: StrategyContext, instrument: str, signal: float) -> Decimal:
        if signal == 0:
            return ZERO
        last = ctx.last_price(instrument)
        if last <= 0:
            return ZERO
        price = Decimal(repr(last))
        strength = Decimal(repr(min(abs(signal), 1.0)))
        equity = ctx.margin(liquidation_prices=False).equity
        wanted = strength * self.fraction * equity / price
        side = OrderSide.BUY if signal > 0 else OrderSide.SELL
        held = ctx.position(instrument)
        limit = held + side.sign * ctx.max_order_quantity(instrument, side)
        size = max(min(wanted, limit * side.sign), ZERO)
        return ctx.instrument(instrument).round_qty(size) * side.sign


class RiskEngineSizing:
    """Target ``|signal| ×`` the risk engine's volatility-targeted size, in the signal's direction.

    ``volatility`` returns the instrument's annualised volatility (None while unknown); the
    risk engine (``ctx.size``) turns it into a quantity within ``[risk.sizing]``'s caps: the
    target volatility, the max fraction of equity and the venue's free margin.
    """

    def __init__(self, volatility: Callable[[], float | None]) -> None:
        self.volatility = volatility

    def __call__(self, ctx: StrategyContext, instrument: str, signal: float) -> Decimal:
        volatility = self.volatility()
        if signal == 0 or volatility is None or volatility <= 0:
            return ZERO
        side = OrderSide.BUY if signal > 0 else OrderSide.SELL
        full = ctx.size(
            instrument, side, method="volatility", volatility=Decimal(repr(round(volatility, 12)))
        )
        strength = Decimal(repr(min(abs(signal), 1.0)))
        return ctx.instrument(instrument).round_qty(full * strength) * side.sign
