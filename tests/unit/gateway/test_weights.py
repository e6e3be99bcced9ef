"""Endpoint weights (Binance's USDⓈ-M table) and the one-minute weight budget."""

from __future__ import annotations

import pytest

from xmargin.gateway.errors import BinanceError
from xmargin.gateway.weights import OrderCounter, WeightBudget, weight_of


@pytest.mark.parametrize(
    ("limit", "weight"),
    [("99", 1), ("100", 2), ("499", 2), ("500", 5), ("1000", 5), ("1001", 10), ("", 5)],
)
def test_kline_weight_grows_with_the_limit(limit: str, weight: int) -> None:
    params = {"limit": limit} if limit else {}
    assert weight_of("GET", "/fapi/v1/klines", params) == weight


@pytest.mark.parametrize(
    ("limit", "weight"), [("5", 2), ("50", 2), ("100", 5), ("500", 10), ("1000", 20)]
)
def test_depth_weight_grows_with_the_limit(limit: str, weight: int) -> None:
    assert weight_of("GET", "/fapi/v1/depth", {"limit": limit}) == weight


def test_all_symbol_queries_weigh_more() -> None:
    assert weight_of("GET", "/fapi/v1/ticker/24hr", {"symbol": "BTCUSDT"}) == 1
    assert weight_of("GET", "/fapi/v1/ticker/24hr", {}) == 40
    assert weight_of("GET", "/fapi/v1/income", {}) == 30
    assert weight_of("POST", "/fapi/v1/order", {}) == 1


def test_the_budget_refuses_past_the_limit_until_the_next_minute() -> None:
    budget = WeightBudget(100)
    minute = 1_700_000_040_000  # a minute boundary
    assert budget.spend("a", 60, minute + 1_000) == 60
    assert budget.spend("a", 40, minute + 2_000) == 100
    with pytest.raises(BinanceError, match="Too many requests") as refused:
        budget.spend("a", 1, minute + 45_500)
    assert (refused.value.code, refused.value.status) == (-1003, 429)
    assert refused.value.retry_after == 15  # 14.5 s to the next window, rounded up
    assert budget.used("a", minute + 50_000) == 100  # the refused request did not count
    assert budget.spend("b", 100, minute + 50_000) == 100  # another address has its own
    assert budget.spend("a", 1, minute + 60_000) == 1


def test_order_counts_over_ten_seconds_and_a_minute() -> None:
    counter = OrderCounter(limit_10s=2, limit_1m=3)
    assert counter.count("a", 1_000) == (1, 1)
    assert counter.count("a", 2_000) == (2, 2)
    with pytest.raises(BinanceError, match="Too many new orders; current limit is 2 orders per 10"):
        counter.count("a", 3_000)
    assert counter.count("a", 12_500) == (1, 3)  # the first two are older than 10 s
    with pytest.raises(BinanceError, match="limit is 3 orders per 1 minute") as refused:
        counter.count("a", 30_000)
    assert (refused.value.code, refused.value.status) == (-1015, 429)
    assert counter.count("b", 30_000) == (1, 1)
    assert counter.count("a", 62_001) == (1, 2)  # 1,000 and 2,000 fell out of the minute
