"""ccxt's exceptions as xmargin outcomes: transient (retry here), terminal (an event), unknown.

ccxt's hierarchy (4.5.90): ``NetworkError`` (timeouts, rate limits, bad nonce, venue down) is
an ``OperationFailed``, which is *not* an ``ExchangeError``. The rules:

* a refusal the venue made before acting (``ExchangeError`` and its children, an
  authentication failure) is **terminal**: retrying cannot fix it;
* a rate-limit refusal (``DDoSProtection``, ``RateLimitExceeded``) or a stale timestamp
  (``InvalidNonce``, Binance ``-1021``, which also resyncs the clock) is **transient**:
  the request was refused unexecuted, so resending is safe;
* any other ``OperationFailed`` (a timeout, a 5xx, a dropped connection, a garbled answer)
  is transient for a read but **unknown** for a request that places an order: the venue may
  have acted, so the order must be looked up by its client id before any resend.

With the client pointed at a local URL ccxt loses its per-market error tables (it picks them
by hostname); :func:`restore_error_tables` picks them by path instead, as Binance does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import ccxt

_CODE = re.compile(r'"code"\s*:\s*(-?\d+)')
_MESSAGE = re.compile(r'"msg"\s*:\s*"((?:[^"\\]|\\.)*)"')
_PATH_MARKET = {
    "fapi": "linear",
    "dapi": "inverse",
    "api": "spot",
    "sapi": "spot",
    "papi": "portfolioMargin",
    "eapi": "option",
}
CLOCK_SKEW = -1021


class Outcome(StrEnum):
    TRANSIENT = "transient"
    TERMINAL = "terminal"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Failure:
    """One classified failure: what to do, why, and the venue's code when it gave one."""

    outcome: Outcome
    reason: str
    code: int | None = None
    resync_clock: bool = False
    rate_limited: bool = False


def venue_code(exc: BaseException) -> int | None:
    """The venue's numeric error code quoted in a ccxt message (``{"code":-2019,...}``)."""
    match = _CODE.search(str(exc))
    return int(match.group(1)) if match else None


def reason_of(exc: BaseException) -> str:
    """A short reason for an event: the venue's message when it gave one, else ccxt's class."""
    match = _MESSAGE.search(str(exc))
    name = type(exc).__name__
    return f"{name}: {match.group(1)}" if match else name


def classify(exc: BaseException, *, places_order: bool) -> Failure:
    """Classify a ccxt exception raised by a request (``places_order`` for submit/modify)."""
    code, reason = venue_code(exc), reason_of(exc)
    if isinstance(exc, ccxt.InvalidNonce) or code == CLOCK_SKEW:
        return Failure(Outcome.TRANSIENT, reason, code, resync_clock=True)
    if isinstance(exc, ccxt.DDoSProtection | ccxt.RateLimitExceeded):
        return Failure(Outcome.TRANSIENT, reason, code, rate_limited=True)
    if isinstance(exc, ccxt.OperationFailed):
        return Failure(Outcome.UNKNOWN if places_order else Outcome.TRANSIENT, reason, code)
    return Failure(Outcome.TERMINAL, reason, code)


def is_local(exchange: Any) -> bool:
    """Whether any REST URL of the client points away from the venue's own hosts."""
    home = "." + (getattr(exchange, "hostname", None) or "binance.com")
    return any(
        isinstance(url, str) and not ("." + (urlsplit(url).hostname or "")).endswith(home)
        for url in exchange.urls["api"].values()
    )


def restore_error_tables(exchange: Any) -> None:
    """Make a Binance client pointed at a local URL choose its error table by path.

    ccxt maps ``-2019`` to ``InsufficientFunds`` only for ``https://fapi.binance.com/``;
    at ``http://127.0.0.1/fapi/...`` it would fall back to ``ExchangeError``. The table is
    chosen from the first path segment instead (``fapi`` → linear, ``sapi`` → spot ...).
    """
    if not is_local(exchange) or "linear" not in exchange.exceptions:
        return

    def by_path(url: str | None, exact_or_broad: str) -> dict[str, Any]:
        segment = urlsplit(url or "").path.split("/")[1:2]
        market = _PATH_MARKET.get(segment[0]) if segment else None
        table = exchange.safe_dict(exchange.exceptions, market, {}) if market else {}
        result: dict[str, Any] = exchange.safe_dict(table, exact_or_broad, {})
        return result

    exchange.get_exceptions_by_url = by_path
