"""Multi-timeframe combiner: weigh trend signals of 15m, 1h and 4h bars built from 5m bars."""

from __future__ import annotations

from dataclasses import dataclass

from xmargin.model.market_data import Bar
from xmargin.strategy.indicators import Sma
from xmargin.strategy.resample import MultiResampler, timeframe_ns
from xmargin.strategy.signal_strategy import SignalParams, SignalStrategy


@dataclass(frozen=True)
class MultiTimeframeParams(SignalParams):
    timeframes: str = "15m,1h,4h"
    weights: str = "1,2,3"
    fast: int = 10
    slow: int = 30
    threshold: float = 0.5


class MultiTimeframe(SignalStrategy):
    """Per timeframe, the vote ``sign(SMA(fast) − SMA(slow))`` of its closes, updated when
    one of its bars completes; the score ``Σ wᵢ·voteᵢ / Σ wᵢ``. Long when the score is at
    least ``threshold``, short when at most ``−threshold``, flat between; nothing until
    every timeframe has voted. ``timeframe`` (the base's resampling) must stay empty: the
    data's own bars (5m) feed the resamplers.
    """

    name = "multi_timeframe"
    description = "weighted SMA-trend votes of 15m/1h/4h bars built from 5m without look-ahead"
    Params = MultiTimeframeParams

    def __init__(self, strategy_id: str, params: MultiTimeframeParams) -> None:
        super().__init__(strategy_id, params)
        frames = [t.strip() for t in params.timeframes.split(",") if t.strip()]
        try:
            weights = [float(w) for w in params.weights.split(",")]
            for frame in frames:
                timeframe_ns(frame)
        except ValueError as exc:
            raise ValueError(f"{strategy_id}: {exc}") from None
        if not frames or len(weights) != len(frames) or any(w <= 0 for w in weights):
            raise ValueError(f"{strategy_id}: give one positive weight per timeframe")
        if len(set(frames)) != len(frames) or params.timeframe:
            raise ValueError(f"{strategy_id}: distinct timeframes, and no base timeframe")
        if not 0 < params.fast < params.slow:
            raise ValueError(f"{strategy_id}: need 0 < fast < slow")
        self.weights = dict(zip(frames, weights, strict=True))
        self._frames = MultiResampler(frames)
        self._fast = {f: Sma(params.fast) for f in frames}
        self._slow = {f: Sma(params.slow) for f in frames}
        self.votes: dict[str, int] = {}

    def on_bar(self, bar: Bar) -> None:
        if bar.instrument != self.params.instrument:
            return
        updated = False
        for complete in self._frames.update(bar):
            updated |= self._vote(complete)
        if updated:
            direction = self.combine()
            if direction is not None:
                self.hold(direction, bar.ts_event)

    def _vote(self, bar: Bar) -> bool:
        frame = bar.timeframe
        fast = self._fast[frame].update(bar.close)
        slow = self._slow[frame].update(bar.close)
        if fast is None or slow is None:
            return False
        self.votes[frame] = (fast > slow) - (fast < slow)
        return True

    def combine(self) -> int | None:
        """The weighted vote as a direction (None until every timeframe has voted)."""
        if len(self.votes) < len(self.weights):
            return None
        total = sum(self.weights.values())
        score = sum(self.weights[f] * v for f, v in self.votes.items()) / total
        if score == 0 or abs(score) < self.params.threshold:
            return 0
        return 1 if score > 0 else -1

    def signal(self, bar: Bar) -> int | None:
        return None
