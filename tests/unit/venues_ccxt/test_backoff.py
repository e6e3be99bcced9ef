"""Backoff is capped, jittered, deterministic for a seed and honours Retry-After."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from xmargin.venues.ccxt.backoff import Backoff, RequestBudget, retry_after_s


@given(st.integers(0, 10_000), st.integers(0, 200))
def test_delays_stay_within_the_exponential_ceiling_and_the_cap(seed: int, attempt: int) -> None:
    backoff = Backoff(random.Random(seed), base_s=0.1, cap_s=10.0)
    delay = backoff.delay(attempt)
    assert 0 <= delay <= min(10.0, 0.1 * 2**attempt)


@given(st.integers(0, 10_000))
def test_the_same_seed_gives_the_same_delays(seed: int) -> None:
    first, again = Backoff(random.Random(seed)), Backoff(random.Random(seed))
    delays = [first.delay(a) for a in range(8)]
    assert [again.delay(a) for a in range(8)] == delays
    assert len(set(delays)) == 8


def test_jitter_spreads_delays() -> None:
    backoff = Backoff(random.Random(7), base_s=1.0, cap_s=4.0)
    delays = {round(backoff.delay(5), 6) for _ in range(50)}
    assert len(delays) == 50
    assert max(delays) <= 4.0


@given(st.integers(0, 1000), st.integers(0, 20), st.floats(0, 600))
def test_retry_after_is_a_floor_even_above_the_cap(seed: int, attempt: int, after: float) -> None:
    delay = Backoff(random.Random(seed), cap_s=10.0).delay(attempt, after)
    assert delay >= after
    assert delay <= max(after, 10.0)


def test_retry_after_header_parsing() -> None:
    assert retry_after_s({"retry-after": "7"}) == 7.0
    assert retry_after_s({"Retry-After": "soon"}) is None
    assert retry_after_s({"Retry-After": "-1"}) is None
    assert retry_after_s(None) is None


def test_the_weight_budget_holds_requests_until_the_next_minute() -> None:
    budget = RequestBudget(weight_limit_1m=2400, headroom=0.9)
    now = 120_000 + 15_000  # 15 s into a minute
    budget.observe({"X-MBX-USED-WEIGHT-1M": "2159"}, now)
    assert budget.pause_s(now, places_order=False) == 0
    budget.observe({"x-mbx-used-weight-1m": "2160"}, now)  # 90 % of 2400
    assert budget.pause_s(now, places_order=False) == 45.0
    assert budget.pause_s(180_000, places_order=False) == 0  # the venue's window reset


def test_order_counts_hold_only_orders() -> None:
    budget = RequestBudget(order_limit_10s=300, headroom=0.9)
    now = 1_003_000  # 3 s into a 10 s window
    budget.observe({"X-MBX-ORDER-COUNT-10S": "280", "X-MBX-USED-WEIGHT-1M": "10"}, now)
    assert budget.pause_s(now, places_order=True) == 7.0
    assert budget.pause_s(now, places_order=False) == 0
