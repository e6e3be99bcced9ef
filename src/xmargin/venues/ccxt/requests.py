"""One ccxt request with the adapter's retry rules: paced, retried only when safe, classified.

Transient failures are retried here (and only here) with capped, jittered backoff, a
``Retry-After`` floor and a clock resync on ``-1021``; terminal ones raise
:class:`VenueRefusedError`; a request that places an order and fails after it may have reached the
venue raises :class:`OutcomeUnknownError` at once — the caller must look the order up before
sending it again.

ccxt sets the thread's decimal context whenever it rounds (``ROUND_HALF_UP``, ``Underflow``
trapped); the runner puts Python's default back after every call, so the adapter's own
arithmetic on this loop is the same as the kernel's.
"""

from __future__ import annotations

import asyncio
import decimal
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import ccxt

from xmargin.core.clock import Clock, ns_to_ms
from xmargin.core.errors import TerminalVenueError, TransientVenueError
from xmargin.venues.ccxt.backoff import Backoff, RequestBudget, retry_after_s
from xmargin.venues.ccxt.errors import Failure, Outcome, classify

log = logging.getLogger(__name__)


def python_decimal_context() -> None:
    """Put Python's default decimal context back in this thread (ccxt changes it)."""
    decimal.setcontext(decimal.Context())


class VenueRefusedError(TerminalVenueError):
    """The venue refused the request; retrying cannot help."""

    def __init__(self, operation: str, failure: Failure, original: BaseException) -> None:
        self.failure = failure
        self.original = original
        super().__init__(f"{operation}: {failure.reason}")


class OutcomeUnknownError(TransientVenueError):
    """An order-placing request failed after it may have reached the venue."""

    def __init__(self, operation: str, failure: Failure) -> None:
        self.failure = failure
        super().__init__(f"{operation}: outcome unknown ({failure.reason})")


class RetriesExhaustedError(TransientVenueError):
    """A transient failure outlasted every retry."""


class RequestRunner:
    """Runs ccxt coroutines for one exchange instance on the adapter's event loop."""

    def __init__(
        self,
        exchange: Any,
        backoff: Backoff,
        budget: RequestBudget,
        clock: Clock,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.exchange = exchange
        self.sleep = sleep
        self.backoff = backoff
        self.budget = budget
        self.clock = clock
        self.attempts = 0

    def _now_ms(self) -> int:
        return ns_to_ms(self.clock.now_ns())

    async def call(self, method: str, *args: Any, places_order: bool = False) -> Any:
        """Call ``exchange.<method>(*args)`` under the retry rules of the module doc."""
        failure: Failure | None = None
        for attempt in range(self.backoff.max_attempts):
            pause = self.budget.pause_s(self._now_ms(), places_order=places_order)
            if pause > 0:
                log.warning("venue weight budget nearly spent: holding %s for %.1fs", method, pause)
                await self.sleep(pause)
            self.attempts += 1
            try:
                result = await getattr(self.exchange, method)(*args)
            except ccxt.BaseError as exc:
                python_decimal_context()
                headers = getattr(self.exchange, "last_response_headers", None)
                self.budget.observe(headers, self._now_ms())
                failure = classify(exc, places_order=places_order)
                if failure.outcome is Outcome.TERMINAL:
                    raise VenueRefusedError(method, failure, exc) from None
                if failure.outcome is Outcome.UNKNOWN:
                    raise OutcomeUnknownError(method, failure) from None
                if failure.resync_clock:
                    await self.exchange.load_time_difference()
                wait = self.backoff.delay(
                    attempt, retry_after_s(headers) if failure.rate_limited else None
                )
                log.warning(
                    "%s failed (%s); retry %d in %.2fs", method, failure.reason, attempt + 1, wait
                )
                await self.sleep(wait)
                continue
            python_decimal_context()
            self.budget.observe(
                getattr(self.exchange, "last_response_headers", None), self._now_ms()
            )
            return result
        reason = failure.reason if failure else "no attempt allowed"
        raise RetriesExhaustedError(
            f"{method}: {reason} after {self.backoff.max_attempts} attempts"
        )
