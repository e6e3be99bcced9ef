"""SMA crossover reversal: long while the fast average is above the slow one, short below."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from xmargin.model.market_data import Bar
from xmargin.strategy.base import Strategy


@dataclass(frozen=True)
class SmaCrossParams:
    instrument: str
    fast: int = 20
    slow: int = 100
    quantity: Decimal = Decimal("0.1")
    flatten_on_stop: bool = True


class SmaCross(Strategy):
    """Target +quantity while SMA(fast) > SMA(slow), −quantity while below, unchanged when equal.

    Flat until both averages exist; one market order to the new target on each change.
    """

    name = "sma_cross"
    description = "SMA fast/slow reversal: long above, short below, one market order per change"
    Params = SmaCrossParams

    def __init__(self, strategy_id: str, params: SmaCrossParams) -> None:
        super().__init__(strategy_id, params)
        if not 0 < params.fast < params.slow:
            raise ValueError(
                f"{strategy_id}: need 0 < fast < slow, got {params.fast}, {params.slow}"
            )
        self._fast_n = params.fast
        self._slow_n = params.slow
        self._closes = [0.0] * params.slow
        self._count = 0
        self._fast_sum = 0.0
        self._slow_sum = 0.0
        self._target = Decimal(0)

    def subscriptions(self) -> tuple[tuple[str, str], ...]:
        return (("bar", self.params.instrument),)

    def on_bar(self, bar: Bar) -> None:
        close = bar.close
        count = self._count
        self._count = count + 1
        slow_n, fast_n = self._slow_n, self._fast_n
        closes = self._closes
        leaving_slow = closes[count % slow_n]
        closes[count % slow_n] = close
        fast_sum = self._fast_sum + close
        slow_sum = self._slow_sum + close
        if count >= fast_n:
            fast_sum -= closes[(count - fast_n) % slow_n]
        if count >= slow_n:
            slow_sum -= leaving_slow
        self._fast_sum = fast_sum
        self._slow_sum = slow_sum
        if count + 1 < slow_n:
            return
        fast_mean = fast_sum / fast_n
        slow_mean = slow_sum / slow_n
        if fast_mean > slow_mean:
            target = self.params.quantity
        elif fast_mean < slow_mean:
            target = -self.params.quantity
        else:
            return
        if target != self._target:
            self._target = target
            self.ctx.target_position(self.params.instrument, target)

    def on_stop(self) -> None:
        if self.params.flatten_on_stop:
            self.ctx.target_position(self.params.instrument, Decimal(0))
