"""Request weights per endpoint, the per-IP one-minute weight budget, and order counts.

Binance counts weight in fixed one-minute windows of its clock; every answer carries
``X-MBX-USED-WEIGHT-1M``, and a request past the limit gets 429 ``-1003`` with
``Retry-After`` (seconds to the next window). Refused requests do not count.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping

from xmargin.gateway import errors

WINDOW_MS = 60_000
Weigher = Callable[[Mapping[str, str]], int]


def _by_limit(steps: tuple[tuple[int, int], ...], default: int) -> Weigher:
    """Weight from the ``limit`` parameter: the first step whose bound exceeds it."""

    def weigh(params: Mapping[str, str]) -> int:
        raw = params.get("limit", "")
        limit = int(raw) if raw.isdigit() else default
        for bound, weight in steps:
            if limit < bound:
                return weight
        return steps[-1][1]

    return weigh


def _symbol_or(one: int, every: int) -> Weigher:
    return lambda params: one if params.get("symbol") else every


def _fixed(weight: int) -> Weigher:
    return lambda _params: weight


KLINES = _by_limit(((100, 1), (500, 2), (1001, 5), (10**9, 10)), 500)
WEIGHTS: dict[tuple[str, str], Weigher] = {
    ("GET", "/fapi/v1/depth"): _by_limit(((51, 2), (101, 5), (501, 10), (10**9, 20)), 500),
    ("GET", "/fapi/v1/klines"): KLINES,
    ("GET", "/fapi/v1/markPriceKlines"): KLINES,
    ("GET", "/fapi/v1/premiumIndex"): _symbol_or(1, 10),
    ("GET", "/fapi/v1/ticker/24hr"): _symbol_or(1, 40),
    ("GET", "/fapi/v1/ticker/bookTicker"): _symbol_or(2, 5),
    ("GET", "/fapi/v1/openOrders"): _symbol_or(1, 40),
    ("GET", "/fapi/v1/allOrders"): _fixed(5),
    ("GET", "/fapi/v3/account"): _fixed(5),
    ("GET", "/fapi/v3/positionRisk"): _fixed(5),
    ("GET", "/fapi/v1/userTrades"): _fixed(5),
    ("GET", "/fapi/v1/income"): _fixed(30),
    ("GET", "/fapi/v1/exchangeInfo"): _fixed(1),
}


def weight_of(method: str, path: str, params: Mapping[str, str]) -> int:
    weigher = WEIGHTS.get((method, path))
    return 1 if weigher is None else weigher(params)


class WeightBudget:
    """The weight used per client address in the current one-minute window."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._window = -1
        self._used: dict[str, int] = {}

    def used(self, client: str, now_ms: int) -> int:
        self._roll(now_ms)
        return self._used.get(client, 0)

    def spend(self, client: str, weight: int, now_ms: int) -> int:
        """Count ``weight`` for ``client``; past the limit raise 429 -1003 (not counted)."""
        self._roll(now_ms)
        used = self._used.get(client, 0) + weight
        if used > self.limit:
            raise self.refusal(now_ms)
        self._used[client] = used
        return used

    def refusal(self, now_ms: int) -> errors.BinanceError:
        error = errors.too_many_requests(self.limit)
        error.retry_after = max(1, -(-(WINDOW_MS - now_ms % WINDOW_MS) // 1000))
        return error

    def _roll(self, now_ms: int) -> None:
        window = now_ms // WINDOW_MS
        if window != self._window:
            self._window = window
            self._used.clear()


class OrderCounter:
    """New orders per account over the last 10 s and 60 s (Binance's order-rate limits).

    Past either limit an order gets 429 ``-1015`` and is not counted; every counted order's
    answer carries ``X-MBX-ORDER-COUNT-10S`` and ``X-MBX-ORDER-COUNT-1M``.
    """

    def __init__(self, limit_10s: int, limit_1m: int) -> None:
        self.limit_10s = limit_10s
        self.limit_1m = limit_1m
        self._times: dict[str, deque[int]] = {}

    def count(self, account: str, now_ms: int) -> tuple[int, int]:
        times = self._times.setdefault(account, deque())
        while times and times[0] <= now_ms - WINDOW_MS:
            times.popleft()
        last_10s = sum(1 for t in times if t > now_ms - 10_000)
        if last_10s >= self.limit_10s:
            raise errors.too_many_orders(self.limit_10s, "10 seconds")
        if len(times) >= self.limit_1m:
            raise errors.too_many_orders(self.limit_1m, "1 minute")
        times.append(now_ms)
        return last_10s + 1, len(times)
