"""Single-instrument strategies that hold ``direction × quantity`` of one instrument.

A subclass turns each (optionally resampled) bar into a direction: +1 long, −1 short,
0 flat, or None to keep the current one. On a change the base sends one market order to
the new target. With ``timeframe`` set, the data's bars are first aggregated into bars of
that timeframe (``BarResampler``: a bar is seen only after its last constituent closed).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal

from xmargin.model.market_data import Bar
from xmargin.model.numbers import ZERO
from xmargin.strategy.base import Strategy
from xmargin.strategy.resample import BarResampler


@dataclass(frozen=True)
class SignalParams:
    instrument: str = "BTC/USDT:USDT"
    timeframe: str = ""
    quantity: Decimal = Decimal("0.1")
    flatten_on_stop: bool = True


class SignalStrategy(Strategy, ABC):
    """Base of the directional examples; see the module docstring."""

    def __init__(self, strategy_id: str, params: SignalParams) -> None:
        super().__init__(strategy_id, params)
        if params.quantity <= 0:
            raise ValueError(f"{strategy_id}: quantity must be positive")
        try:
            self._resampler = BarResampler(params.timeframe) if params.timeframe else None
        except ValueError as exc:
            raise ValueError(f"{strategy_id}: {exc}") from None
        self.direction = 0
        self.changes: list[tuple[int, int]] = []

    def subscriptions(self) -> tuple[tuple[str, str], ...]:
        return (("bar", self.params.instrument),)

    def on_bar(self, bar: Bar) -> None:
        if bar.instrument != self.params.instrument:
            return
        bars = self._resampler.update(bar) if self._resampler is not None else [bar]
        for complete in bars:
            direction = self.signal(complete)
            if direction is not None:
                self.hold(direction, complete.ts_event)

    @abstractmethod
    def signal(self, bar: Bar) -> int | None:
        """The direction to hold after ``bar`` (None: unchanged)."""

    def hold(self, direction: int, ts: int) -> None:
        """Move to ``direction × quantity`` with one market order if that is a change."""
        if direction == self.direction:
            return
        self.direction = direction
        self.changes.append((ts, direction))
        self.ctx.target_position(self.params.instrument, self.params.quantity * direction)

    def on_stop(self) -> None:
        if self.params.flatten_on_stop:
            self.ctx.target_position(self.params.instrument, ZERO)
