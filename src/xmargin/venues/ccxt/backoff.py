"""Retry pacing: capped, jittered exponential backoff, Retry-After, and the venue's weight budget.

ccxt throttles on its own cost table only and never reads the venue's rate-limit headers
(``X-MBX-USED-WEIGHT-1M``, ``X-MBX-ORDER-COUNT-10S``/``-1M``, ``Retry-After``), so the
adapter reads them from ``exchange.last_response_headers`` after every request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from xmargin.core.rng import Rng


@dataclass(slots=True)
class Backoff:
    """Full-jitter exponential backoff: attempt ``n`` waits ``U(0, min(cap, base × 2ⁿ))``.

    A venue's ``Retry-After`` is a floor the jitter never undercuts (it may exceed the cap:
    a 418 ban lasts as long as the venue says). Deterministic for a seeded ``rng``.
    """

    rng: Rng
    base_s: float = 0.1
    cap_s: float = 10.0
    max_attempts: int = 5

    def delay(self, attempt: int, retry_after_s: float | None = None) -> float:
        ceiling = min(self.cap_s, self.base_s * 2 ** min(attempt, 60))
        jittered = self.rng.uniform(0, ceiling)
        return max(jittered, retry_after_s) if retry_after_s is not None else jittered


def header(headers: Mapping[str, str] | None, name: str) -> str | None:
    """A response header by case-insensitive name."""
    if not headers:
        return None
    wanted = name.lower()
    return next((str(v) for k, v in headers.items() if k.lower() == wanted), None)


def retry_after_s(headers: Mapping[str, str] | None) -> float | None:
    """The ``Retry-After`` seconds of a response, if it gave a usable number."""
    value = header(headers, "Retry-After")
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and seconds >= 0 else None


@dataclass(slots=True)
class RequestBudget:
    """The venue's own count of used request weight and orders, from its last response.

    ``pause_s`` says how long to hold the next request so that the minute's weight (or the
    10-second / minute order count) stays under ``headroom`` of its limit; the counters are
    the venue's, reset at its window boundaries, so the pause runs to the next boundary.
    """

    weight_limit_1m: int = 2400
    order_limit_10s: int = 300
    order_limit_1m: int = 1200
    headroom: float = 0.9
    used: dict[str, int] = field(default_factory=dict)
    seen_ms: int = 0

    def observe(self, headers: Mapping[str, str] | None, now_ms: int) -> None:
        for name in ("X-MBX-USED-WEIGHT-1M", "X-MBX-ORDER-COUNT-10S", "X-MBX-ORDER-COUNT-1M"):
            value = header(headers, name)
            if value is not None and value.isdigit():
                self.used[name] = int(value)
                self.seen_ms = now_ms

    def pause_s(self, now_ms: int, *, places_order: bool) -> float:
        windows = [("X-MBX-USED-WEIGHT-1M", self.weight_limit_1m, 60_000)]
        if places_order:
            windows += [
                ("X-MBX-ORDER-COUNT-10S", self.order_limit_10s, 10_000),
                ("X-MBX-ORDER-COUNT-1M", self.order_limit_1m, 60_000),
            ]
        pause_ms = 0
        for name, limit, window_ms in windows:
            used = self.used.get(name, 0)
            same_window = now_ms // window_ms == self.seen_ms // window_ms
            if same_window and used >= self.headroom * limit:
                pause_ms = max(pause_ms, window_ms - now_ms % window_ms)
        return pause_ms / 1000
