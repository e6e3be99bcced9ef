"""Clocks: the only source of time. Nanoseconds since the Unix epoch, UTC."""

from __future__ import annotations

import time
from typing import Protocol

from xmargin.core.errors import InvariantError

NANOS_PER_MILLI = 1_000_000
NANOS_PER_SECOND = 1_000_000_000
NANOS_PER_HOUR = 3_600 * NANOS_PER_SECOND


class Clock(Protocol):
    """Tells the current time in integer nanoseconds UTC."""

    def now_ns(self) -> int: ...


class SimClock:
    """A clock that moves only when told to; time never runs backwards."""

    __slots__ = ("_now",)

    def __init__(self, start_ns: int = 0) -> None:
        self._now = start_ns

    def now_ns(self) -> int:
        return self._now

    def advance_to(self, ts_ns: int) -> None:
        """Move to ``ts_ns``; moving backwards is a bug."""
        if ts_ns < self._now:
            raise InvariantError(f"SimClock cannot move back from {self._now} to {ts_ns}")
        self._now = ts_ns


class WallClock:
    """The real UTC time of this machine."""

    __slots__ = ()

    def now_ns(self) -> int:
        return time.time_ns()


def ms_to_ns(ts_ms: int) -> int:
    """Convert epoch milliseconds to epoch nanoseconds."""
    return ts_ms * NANOS_PER_MILLI


def ns_to_ms(ts_ns: int) -> int:
    """Convert epoch nanoseconds to epoch milliseconds (floor)."""
    return ts_ns // NANOS_PER_MILLI
