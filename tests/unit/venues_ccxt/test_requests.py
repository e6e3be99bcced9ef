"""The request runner retries only what is safe, paced by backoff, Retry-After and the clock."""

from __future__ import annotations

import asyncio
import decimal
import random
from typing import Any

import ccxt
import pytest

from xmargin.core.clock import SimClock
from xmargin.venues.ccxt.backoff import Backoff, RequestBudget
from xmargin.venues.ccxt.requests import (
    OutcomeUnknownError,
    RequestRunner,
    RetriesExhaustedError,
    VenueRefusedError,
)


class ScriptedExchange:
    """Answers ``fetch_balance``/``create_order`` from a script of results and exceptions."""

    id = "binanceusdm"

    def __init__(self, script: list[Any], headers: dict[str, str] | None = None) -> None:
        self.script = script
        self.calls = 0
        self.resyncs = 0
        self.last_response_headers = headers or {}

    async def _next(self, *_args: Any) -> Any:
        self.calls += 1
        step = self.script.pop(0)
        if isinstance(step, BaseException):
            raise step
        return step

    fetch_balance = create_order = _next

    async def load_time_difference(self) -> int:
        self.resyncs += 1
        return 0


def run(
    exchange: ScriptedExchange, method: str, *, places_order: bool = False, seed: int = 3
) -> tuple[Any, list[float]]:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    backoff = Backoff(random.Random(seed), base_s=0.1, cap_s=1.0)
    runner = RequestRunner(exchange, backoff, RequestBudget(), SimClock(0), sleep)
    return asyncio.run(runner.call(method, places_order=places_order)), slept


def test_transient_failures_of_reads_are_retried_with_jittered_backoff() -> None:
    exchange = ScriptedExchange([ccxt.RequestTimeout("t"), ccxt.ExchangeNotAvailable("503"), "ok"])
    result, slept = run(exchange, "fetch_balance")
    expected = random.Random(3)
    assert result == "ok" and exchange.calls == 3
    assert slept == [expected.uniform(0, 0.1), expected.uniform(0, 0.2)]


def test_a_rate_limit_waits_at_least_retry_after() -> None:
    exchange = ScriptedExchange([ccxt.DDoSProtection("429"), "ok"], {"Retry-After": "7"})
    result, slept = run(exchange, "fetch_balance")
    assert (result, slept) == ("ok", [7.0])


def test_a_stale_timestamp_resyncs_the_clock_then_resends() -> None:
    exchange = ScriptedExchange([ccxt.InvalidNonce('{"code":-1021}'), "placed"])
    result, _ = run(exchange, "create_order", places_order=True)
    assert (result, exchange.resyncs, exchange.calls) == ("placed", 1, 2)


def test_an_order_that_timed_out_is_never_resent_by_the_runner() -> None:
    exchange = ScriptedExchange([ccxt.RequestTimeout("read timeout"), "never"])
    with pytest.raises(OutcomeUnknownError, match="create_order: outcome unknown"):
        run(exchange, "create_order", places_order=True)
    assert exchange.calls == 1


def test_a_refusal_is_terminal_at_once() -> None:
    refusal = ccxt.InsufficientFunds('binanceusdm {"code":-2019,"msg":"Margin is insufficient."}')
    exchange = ScriptedExchange([refusal])
    with pytest.raises(VenueRefusedError, match="InsufficientFunds: Margin is insufficient") as exc:
        run(exchange, "create_order", places_order=True)
    assert (exc.value.failure.code, exchange.calls) == (-2019, 1)


def test_retries_are_capped() -> None:
    exchange = ScriptedExchange([ccxt.NetworkError("down")] * 5)
    with pytest.raises(RetriesExhaustedError, match="fetch_balance: NetworkError after 5 attempts"):
        run(exchange, "fetch_balance")
    assert exchange.calls == 5


class RoundingExchange(ScriptedExchange):
    """Rounds as ccxt does, which sets the thread's decimal context."""

    async def fetch_balance(self, *_args: Any) -> Any:
        ccxt.Exchange().decimal_to_precision(1.25, 0, 0.1, 4)  # ROUND, TICK_SIZE
        return await self._next()


def test_the_decimal_context_ccxt_changes_is_put_back_after_each_call() -> None:
    async def main() -> tuple[str, str, decimal.Decimal]:
        runner = RequestRunner(
            RoundingExchange(["ok"]), Backoff(random.Random(1)), RequestBudget(), SimClock(0)
        )
        ccxt.Exchange().decimal_to_precision(1.25, 0, 0.1, 4)
        changed = decimal.getcontext().rounding
        await runner.call("fetch_balance")  # ccxt rounds again inside the call
        half = decimal.Decimal("2.5").quantize(decimal.Decimal(1))
        return changed, decimal.getcontext().rounding, half

    changed, after, half = asyncio.run(main())
    assert (changed, after, half) == (decimal.ROUND_HALF_UP, decimal.ROUND_HALF_EVEN, 2)
