"""Order and feed latency of the simulated exchange, with seeded jitter."""

from __future__ import annotations

from dataclasses import dataclass

from xmargin.core.clock import NANOS_PER_MILLI
from xmargin.core.rng import Rng


@dataclass(frozen=True, slots=True)
class Latency:
    """Fixed delays plus uniform jitter in ``[0, jitter_ms]``, drawn from a named rng stream.

    ``order_ms``: from a strategy's submit, cancel, modify or loan request to the venue's
    matching engine (a cancel or modify never overtakes the order it names).
    ``feed_ms``: from the venue's bars, trades and quotes to the strategy's callback (the
    venue itself matches on them at once).
    """

    order_ms: float = 0.0
    feed_ms: float = 0.0
    jitter_ms: float = 0.0

    @property
    def is_zero(self) -> bool:
        return self.order_ms == 0 and self.feed_ms == 0 and self.jitter_ms == 0

    def order_delay_ns(self, rng: Rng) -> int:
        jitter = rng.uniform(0, self.jitter_ms) if self.jitter_ms else 0.0
        return int((self.order_ms + jitter) * NANOS_PER_MILLI)

    def feed_delay_ns(self) -> int:
        return int(self.feed_ms * NANOS_PER_MILLI)
