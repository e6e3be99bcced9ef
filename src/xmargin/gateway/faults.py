"""Injected failures for tests, drawn in request order from one seeded stream.

``latency_ms`` delays every answer; ``error_share`` of requests get 500 ``-1000`` before
they run; ``order_timeout_share`` of orders are placed but answered, after
``order_timeout_ms``, with 503 ``-1007`` (execution status unknown: the order exists);
``ws_drop_share`` of websocket pushes close the connection instead; for ``storm_s`` seconds
of every ``storm_every_s`` every request gets 429 ``-1003`` (a rate-limit storm).
"""

from __future__ import annotations

import random

from xmargin.gateway.settings import Faults


class FaultInjector:
    def __init__(self, faults: Faults, started_ms: int) -> None:
        self.faults = faults
        self._rng = random.Random(faults.seed)
        self._started_ms = started_ms

    @property
    def latency_s(self) -> float:
        return float(self.faults.latency_ms) / 1000

    @property
    def timeout_hold_s(self) -> float:
        return float(self.faults.order_timeout_ms) / 1000

    def _draw(self, share: object) -> bool:
        value = float(share)  # type: ignore[arg-type]
        return value > 0 and self._rng.random() < value

    def server_error(self) -> bool:
        return self._draw(self.faults.error_share)

    def order_timeout(self) -> bool:
        return self._draw(self.faults.order_timeout_share)

    def drop_websocket(self) -> bool:
        return self._draw(self.faults.ws_drop_share)

    def in_storm(self, now_ms: int) -> bool:
        every = float(self.faults.storm_every_s) * 1000
        length = float(self.faults.storm_s) * 1000
        return length > 0 and (now_ms - self._started_ms) % every < length
