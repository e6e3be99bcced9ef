"""Hold SIGINT while a transaction runs, so Ctrl-C never lands inside a commit or a rollback.

The interrupt is not lost: it is raised as ``KeyboardInterrupt`` as soon as the block ends.
Outside the main thread, or when SIGINT has a handler other than Python's default, nothing
changes.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Run the block with SIGINT held; raise ``KeyboardInterrupt`` after it if one came."""
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return
    received: list[int] = []

    def hold(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)

    signal.signal(signal.SIGINT, hold)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if received:
        raise KeyboardInterrupt
