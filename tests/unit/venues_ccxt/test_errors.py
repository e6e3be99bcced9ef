"""Venue errors reach the adapter as the wire spec's §6 table says, also at a local URL."""

from __future__ import annotations

import json

import ccxt
import pytest

from xmargin.venues.ccxt.endpoints import point_at
from xmargin.venues.ccxt.errors import Outcome, classify, is_local, reason_of, venue_code

LOCAL = "http://127.0.0.1:18765"


def local_client() -> ccxt.binanceusdm:
    return point_at(ccxt.binanceusdm(), LOCAL, "ws://127.0.0.1:18765")


def raised(exchange: ccxt.Exchange, status: int, path: str, body: object) -> BaseException:
    text = json.dumps(body) if not isinstance(body, str) else body
    parsed = body if not isinstance(body, str) else None
    try:
        exchange.handle_errors(status, "x", LOCAL + path, "POST", {}, text, parsed, {}, "")
        return AssertionError("no exception")
    except ccxt.BaseError as exc:
        return exc


# (HTTP, path, code, msg, exception): at the gateway URL, with tables chosen by path, each
# code maps as at the real host (spec §6, columns "fapi (real)" and "api/sapi (real)")
SPEC_TABLE = [
    (400, "/fapi/v1/order", -2019, "Margin is insufficient.", ccxt.InsufficientFunds),
    (400, "/fapi/v1/order", -2018, "Balance is insufficient", ccxt.InsufficientFunds),
    (
        400,
        "/fapi/v1/order",
        -2027,
        "Exceeded the maximum allowable position at current leverage.",
        ccxt.OperationRejected,
    ),
    (400, "/fapi/v1/order", -2011, "Unknown order sent.", ccxt.OrderNotFound),
    (400, "/fapi/v1/order", -2013, "Order does not exist.", ccxt.OrderNotFound),
    (
        400,
        "/fapi/v1/order",
        -1021,
        "Timestamp for this request is outside of the recvWindow.",
        ccxt.InvalidNonce,
    ),
    (
        400,
        "/fapi/v1/order",
        -1022,
        "Signature for this request is not valid.",
        ccxt.AuthenticationError,
    ),
    (400, "/fapi/v1/order", -1015, "Too many new orders.", ccxt.RateLimitExceeded),
    (400, "/fapi/v1/order", -4116, "ClientOrderId is duplicated.", ccxt.InvalidOrder),
    (400, "/fapi/v1/order", -2022, "ReduceOnly Order is rejected.", ccxt.InvalidOrder),
    (
        400,
        "/fapi/v1/order",
        -4164,
        "Order's notional must be no smaller than 100",
        ccxt.InvalidOrder,
    ),
    (400, "/fapi/v1/order", -5022, "Post Only order will be rejected.", ccxt.OrderNotFillable),
    (
        400,
        "/fapi/v1/order",
        -2021,
        "Order would immediately trigger.",
        ccxt.OrderImmediatelyFillable,
    ),
    (
        400,
        "/fapi/v1/marginType",
        -4046,
        "No need to change margin type.",
        ccxt.MarginModeAlreadySet,
    ),
    (400, "/fapi/v1/order", -2023, "User in liquidation mode now.", ccxt.OperationFailed),
    (400, "/fapi/v1/order", -1121, "Invalid symbol.", ccxt.BadSymbol),
    (
        500,
        "/fapi/v1/order",
        -1000,
        "An unknown error occured while processing the request.",
        ccxt.OperationFailed,
    ),
    (
        503,
        "/fapi/v1/order",
        -1007,
        "Timeout waiting for response from backend server.",
        ccxt.RequestTimeout,
    ),
    (400, "/sapi/v1/margin/order", -3041, "Balance is not enough", ccxt.InsufficientFunds),
]


@pytest.mark.parametrize(("status", "path", "code", "msg", "expected"), SPEC_TABLE)
def test_binance_codes_map_by_path_at_a_local_url(
    status: int, path: str, code: int, msg: str, expected: type[BaseException]
) -> None:
    exc = raised(local_client(), status, path, {"code": code, "msg": msg})
    assert type(exc) is expected, f"{code} gave {type(exc).__name__}"
    assert venue_code(exc) == code
    assert reason_of(exc) == f"{expected.__name__}: {msg}"


def test_without_the_fix_a_local_url_loses_the_linear_table() -> None:
    plain = ccxt.binanceusdm()
    for key, url in list(plain.urls["api"].items()):
        if isinstance(url, str):
            plain.urls["api"][key] = LOCAL + "/fapi/v1"
    exc = raised(plain, 400, "/fapi/v1/order", {"code": -2019, "msg": "Margin is insufficient."})
    assert type(exc) is ccxt.ExchangeError


def test_rate_limit_statuses_and_non_json_bodies() -> None:
    client = local_client()
    assert type(raised(client, 429, "/fapi/v1/order", {"code": -1003, "msg": "Too many"})) is (
        ccxt.DDoSProtection
    )
    assert type(raised(client, 418, "/fapi/v1/order", "banned")) is ccxt.DDoSProtection


def test_the_real_hosts_are_not_local_and_the_gateway_is() -> None:
    assert not is_local(ccxt.binanceusdm())
    assert is_local(local_client())


@pytest.mark.parametrize(
    ("exc", "places_order", "outcome", "resync", "limited"),
    [
        (ccxt.RequestTimeout("t"), True, Outcome.UNKNOWN, False, False),
        (ccxt.RequestTimeout("t"), False, Outcome.TRANSIENT, False, False),
        (ccxt.ExchangeNotAvailable("503"), True, Outcome.UNKNOWN, False, False),
        (ccxt.NetworkError("refused"), True, Outcome.UNKNOWN, False, False),
        (ccxt.OperationFailed('{"code":-1000}'), True, Outcome.UNKNOWN, False, False),
        (ccxt.BadResponse("garbled"), False, Outcome.TRANSIENT, False, False),
        (ccxt.DDoSProtection("429"), True, Outcome.TRANSIENT, False, True),
        (ccxt.RateLimitExceeded('{"code":-1015}'), True, Outcome.TRANSIENT, False, True),
        (ccxt.InvalidNonce('{"code":-1021}'), True, Outcome.TRANSIENT, True, False),
        (ccxt.InsufficientFunds('{"code":-2019}'), True, Outcome.TERMINAL, False, False),
        (ccxt.OrderNotFound('{"code":-2013}'), False, Outcome.TERMINAL, False, False),
        (ccxt.AuthenticationError("bad key"), False, Outcome.TERMINAL, False, False),
        (ccxt.ExchangeError('{"code":-1021,"msg":"x"}'), True, Outcome.TRANSIENT, True, False),
    ],
)
def test_classification(
    exc: BaseException, places_order: bool, outcome: Outcome, resync: bool, limited: bool
) -> None:
    failure = classify(exc, places_order=places_order)
    assert (failure.outcome, failure.resync_clock, failure.rate_limited) == (
        outcome,
        resync,
        limited,
    )
