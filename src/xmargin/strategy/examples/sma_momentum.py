"""SMA trend with a momentum filter: trade the trend only while momentum agrees."""

from __future__ import annotations

from dataclasses import dataclass

from xmargin.model.market_data import Bar
from xmargin.strategy.indicators import Momentum, Sma
from xmargin.strategy.signal_strategy import SignalParams, SignalStrategy


@dataclass(frozen=True)
class SmaMomentumParams(SignalParams):
    sma_period: int = 50
    momentum_period: int = 12
    min_momentum: float = 0.0


class SmaMomentum(SignalStrategy):
    """Long when close > SMA(``sma_period``) and the rate of change over
    ``momentum_period`` bars is above ``min_momentum``; short when close < SMA and it is
    below ``−min_momentum``; flat otherwise (and until both exist).
    """

    name = "sma_momentum"
    description = "SMA trend filtered by momentum: long/short only when both agree, else flat"
    Params = SmaMomentumParams

    def __init__(self, strategy_id: str, params: SmaMomentumParams) -> None:
        super().__init__(strategy_id, params)
        if params.sma_period < 1 or params.momentum_period < 1 or params.min_momentum < 0:
            raise ValueError(f"{strategy_id}: periods must be positive, min_momentum >= 0")
        self.sma = Sma(params.sma_period)
        self.momentum = Momentum(params.momentum_period)

    def signal(self, bar: Bar) -> int | None:
        average = self.sma.update(bar.close)
        change = self.momentum.update(bar.close)
        if average is None or change is None:
            return None
        threshold = self.params.min_momentum
        if bar.close > average and change > threshold:
            return 1
        if bar.close < average and change < -threshold:
            return -1
        return 0
