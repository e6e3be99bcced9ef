"""Binance's error codes, messages and HTTP statuses, as the gateway answers them.

The messages are Binance's own text: clients and peers match on it (ccxt maps ``-4046`` and
filter failures by message; Hummingbot matches ``-2013``/``Order does not exist``). Every
answer is JSON ``{"code": .., "msg": ..}``: a non-JSON 4xx looks retryable to ccxt.
"""

from __future__ import annotations


class BinanceError(Exception):
    """A request the venue refuses: the JSON body and HTTP status Binance would send."""

    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(f"{code} {msg}")
        self.code = code
        self.msg = msg
        self.status = status
        self.retry_after: int | None = None

    def body(self) -> dict[str, object]:
        return {"code": self.code, "msg": self.msg}


def unknown_error() -> BinanceError:
    return BinanceError(-1000, "An unknown error occurred while processing the request.", 500)


def backend_timeout() -> BinanceError:
    return BinanceError(
        -1007,
        "Timeout waiting for response from backend server. Send status unknown; "
        "execution status unknown.",
        503,
    )


def too_many_requests(limit: int) -> BinanceError:
    return BinanceError(
        -1003,
        f"Too many requests; current limit of IP(127.0.0.1) is {limit} requests per minute. "
        "Please use the websocket for live updates to avoid polling the API.",
        429,
    )


def too_many_orders(limit: int, interval: str) -> BinanceError:
    return BinanceError(
        -1015, f"Too many new orders; current limit is {limit} orders per {interval}.", 429
    )


def outside_recv_window() -> BinanceError:
    return BinanceError(-1021, "Timestamp for this request is outside of the recvWindow.")


def bad_signature() -> BinanceError:
    return BinanceError(-1022, "Signature for this request is not valid.")


def missing(name: str) -> BinanceError:
    return BinanceError(
        -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def invalid(name: str) -> BinanceError:
    return BinanceError(-1130, f"Data sent for parameter '{name}' is not valid.")


def bad_recv_window() -> BinanceError:
    return BinanceError(-1131, "recvWindow must be less than 60000")


def bad_symbol() -> BinanceError:
    return BinanceError(-1121, "Invalid symbol.")


def bad_precision() -> BinanceError:
    return BinanceError(-1111, "Precision is over the maximum defined for this asset.")


def bad_tick() -> BinanceError:
    return BinanceError(-4014, "Price not increased by tick size.")


def bad_quantity() -> BinanceError:
    return BinanceError(-4003, "Quantity less than or equal to zero.")


def bad_side() -> BinanceError:
    return BinanceError(-1117, "Invalid side.")


def bad_order_type() -> BinanceError:
    return BinanceError(-1116, "Invalid orderType.")


def bad_time_in_force() -> BinanceError:
    return BinanceError(-1115, "Invalid timeInForce.")


def use_algo_api() -> BinanceError:
    return BinanceError(
        -4120,
        "Order type not supported for this endpoint. Please use the Algo Order API endpoints "
        "instead.",
    )


def key_format() -> BinanceError:
    return BinanceError(-2014, "API-key format invalid.", 401)


def rejected_key() -> BinanceError:
    return BinanceError(-2015, "Invalid API-key, IP, or permissions for action.", 401)


def unknown_order() -> BinanceError:
    return BinanceError(-2011, "Unknown order sent.")


def no_such_order() -> BinanceError:
    return BinanceError(-2013, "Order does not exist.")


def margin_insufficient() -> BinanceError:
    return BinanceError(-2019, "Margin is insufficient.")


def would_trigger() -> BinanceError:
    return BinanceError(-2021, "Order would immediately trigger.")


def reduce_only_rejected() -> BinanceError:
    return BinanceError(-2022, "ReduceOnly Order is rejected.")


def in_liquidation() -> BinanceError:
    return BinanceError(-2023, "User in liquidation mode now.")


def duplicate_client_id() -> BinanceError:
    return BinanceError(-4116, "ClientOrderId is duplicated.")


def bad_client_id() -> BinanceError:
    return BinanceError(-4015, "Client order id is not valid.")


def min_notional(notional: str) -> BinanceError:
    return BinanceError(
        -4164,
        f"Order's notional must be no smaller than {notional} (unless you choose reduce only).",
    )


def post_only_rejected() -> BinanceError:
    return BinanceError(
        -5022,
        "Due to the order could not be executed as maker, the Post Only order will be rejected. "
        "The order will not be recorded in the order history",
    )


def bad_leverage(leverage: str) -> BinanceError:
    return BinanceError(-4028, f"Leverage {leverage} is not valid")


def margin_type_unchanged() -> BinanceError:
    return BinanceError(-4046, "No need to change margin type.")


def listen_key_missing() -> BinanceError:
    return BinanceError(-1125, "This listenKey does not exist.")


def path_not_found(method: str, path: str) -> BinanceError:
    return BinanceError(-5000, f"Path {path}, Method {method} is invalid", 404)


def venue_rejection(reason: str) -> BinanceError:
    """The Binance error for a simulated venue's rejection reason."""
    if reason.startswith("insufficient margin"):
        return margin_insufficient()
    if reason.startswith("reduce-only"):
        return reduce_only_rejected()
    if reason.startswith("order would immediately trigger"):
        return would_trigger()
    if reason.startswith("the account is being liquidated"):
        return in_liquidation()
    return BinanceError(
        -1000, f"An unknown error occurred while processing the request. ({reason})"
    )
