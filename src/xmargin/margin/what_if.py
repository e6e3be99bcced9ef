"""What-if: the account after hypothetical orders fill, through the same model as the real thing."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from xmargin.core.errors import ConfigError
from xmargin.margin.base import MarginModel
from xmargin.margin.snapshot import AccountSnapshot
from xmargin.model.instruments import InstrumentKind, parse_symbol
from xmargin.model.orders import OrderSide


@dataclass(frozen=True, slots=True)
class HypotheticalOrder:
    """An order assumed to fill completely at ``price`` (the current mark when ``None``)."""

    side: OrderSide
    quantity: Decimal
    instrument: str
    price: Decimal | None = None

    def __str__(self) -> str:
        at = f" @ {self.price}" if self.price is not None else ""
        return f"{self.side.value} {self.quantity} {self.instrument}{at}"


def reference_price(model: MarginModel, account: AccountSnapshot, instrument: str) -> Decimal:
    """Return the price a hypothetical order without a limit fills at: the mark, or spot price."""
    held = account.position(instrument)
    if held is not None:
        return held.mark_price
    spec = parse_symbol(instrument)
    if spec.kind is InstrumentKind.SPOT:
        return account.price_of(spec.base, model.quote) / account.price_of(spec.quote, model.quote)
    raise ConfigError(f"no mark price for {instrument}: give one with '@ PRICE'")


def apply_orders(
    model: MarginModel, account: AccountSnapshot, orders: tuple[HypotheticalOrder, ...]
) -> AccountSnapshot:
    """Fill each order in turn (taker fee of the model) and return the resulting snapshot."""
    for order in orders:
        if not model.knows(order.instrument):
            raise ConfigError(f"{model.venue} has no parameters for {order.instrument}")
        price = (
            order.price
            if order.price is not None
            else reference_price(model, account, order.instrument)
        )
        account = model.apply_fill(
            account, order.instrument, order.quantity * order.side.sign, price
        )
    return account


def is_acceptable(model: MarginModel, before: AccountSnapshot, after: AccountSnapshot) -> bool:
    """Return whether the venue would accept moving from ``before`` to ``after``.

    New exposure needs a non-negative initial gap afterwards; a change that leaves the
    gap no worse (a pure reduction) is always accepted.
    """
    gap_after = model.initial_gap(after)
    return gap_after >= 0 or gap_after >= model.initial_gap(before)
