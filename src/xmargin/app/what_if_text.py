"""Parse ``--what-if`` text such as ``buy 2 BTC/USDT:USDT @ 60000``."""

from __future__ import annotations

import re

from xmargin.core.errors import ConfigError
from xmargin.margin.what_if import HypotheticalOrder
from xmargin.model.numbers import NumberError, parse_positive
from xmargin.model.orders import OrderSide

_PATTERN = re.compile(
    r"^\s*(?P<side>buy|sell)\s+(?P<qty>\S+)\s+(?P<symbol>\S+)(?:\s*@\s*(?P<price>\S+))?\s*$",
    re.IGNORECASE,
)


def parse_what_if(text: str) -> HypotheticalOrder:
    """Parse ``SIDE QTY SYMBOL [@ PRICE]``; the price defaults to the current mark."""
    where = f"--what-if {text!r}"
    match = _PATTERN.match(text)
    if match is None:
        raise ConfigError("expected 'buy|sell QTY SYMBOL [@ PRICE]'", where=where)
    try:
        quantity = parse_positive(match["qty"], what="quantity")
        price = parse_positive(match["price"], what="price") if match["price"] else None
    except NumberError as exc:
        raise ConfigError(str(exc), where=where) from None
    return HypotheticalOrder(OrderSide(match["side"].lower()), quantity, match["symbol"], price)
