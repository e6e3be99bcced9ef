"""QQE long/short: hold the QQE trend (RSI smoothed, with Wilder-volatility trailing bands)."""

from __future__ import annotations

from dataclasses import dataclass

from xmargin.model.market_data import Bar
from xmargin.strategy.indicators import Qqe
from xmargin.strategy.signal_strategy import SignalParams, SignalStrategy


@dataclass(frozen=True)
class QqeParams(SignalParams):
    rsi_period: int = 14
    smoothing: int = 5
    factor: float = 4.236


class QqeStrategy(SignalStrategy):
    """Long while the QQE trend is +1, short while −1, flat before the first cross.

    The trend turns +1 when the smoothed RSI crosses above its trailing short band and −1
    when it crosses below its trailing long band (``indicators.Qqe``).
    """

    name = "qqe"
    description = "QQE long/short: RSI smoothed with Wilder-volatility trailing bands"
    Params = QqeParams

    def __init__(self, strategy_id: str, params: QqeParams) -> None:
        super().__init__(strategy_id, params)
        if params.rsi_period < 2 or params.smoothing < 1 or params.factor <= 0:
            raise ValueError(f"{strategy_id}: need rsi_period >= 2, smoothing >= 1, factor > 0")
        self.qqe = Qqe(params.rsi_period, params.smoothing, params.factor)

    def signal(self, bar: Bar) -> int | None:
        return self.qqe.update(bar.close)
