"""Parse and apply ``--what-if`` text such as ``buy 2 BTC/USDT:USDT @ 60000``."""

from __future__ import annotations

import re

from xmargin.app.account_file import check_value
from xmargin.core.errors import ConfigError, DataError
from xmargin.margin.base import CrossMarginModel
from xmargin.margin.snapshot import AccountSnapshot
from xmargin.margin.what_if import HypotheticalOrder, apply_orders, reference_price
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


def apply_what_ifs(
    model: CrossMarginModel, before: AccountSnapshot, texts: tuple[str, ...]
) -> tuple[tuple[HypotheticalOrder, ...], AccountSnapshot]:
    """Parse every ``--what-if`` and fill them in turn; each mistake names its ``--what-if``."""
    orders = tuple(parse_what_if(text) for text in texts)
    after = before
    for text, order in zip(texts, orders, strict=True):
        where = f"--what-if {text!r}"
        try:
            if model.knows(order.instrument):
                price = order.price or reference_price(model, after, order.instrument)
                check_value(order.quantity, price, model.quote, where, "a notional")
            after = apply_orders(model, after, (order,))
        except (ConfigError, DataError) as exc:
            if isinstance(exc, ConfigError) and exc.where is not None:
                raise
            raise ConfigError(str(exc), where=where) from None
    return orders, after
