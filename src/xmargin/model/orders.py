"""Orders and their strict life cycle: every status change goes through one transition table."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from xmargin.core.errors import IllegalTransitionError
from xmargin.model.numbers import ZERO


class OrderSide(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        return 1 if self is OrderSide.BUY else -1

    @property
    def opposite(self) -> OrderSide:
        return OrderSide.SELL if self is OrderSide.BUY else OrderSide.BUY


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP_MARKET = "stop_market"
    STOP_LIMIT = "stop_limit"
    TAKE_PROFIT_MARKET = "take_profit_market"
    TAKE_PROFIT_LIMIT = "take_profit_limit"

    @property
    def has_trigger(self) -> bool:
        return self not in (OrderType.MARKET, OrderType.LIMIT)

    @property
    def has_limit_price(self) -> bool:
        return self in (OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT_LIMIT)


class TimeInForce(StrEnum):
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"


class TriggerSource(StrEnum):
    LAST = "last"
    MARK = "mark"


class OrderStatus(StrEnum):
    INITIALIZED = "initialized"
    DENIED = "denied"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    TRIGGERED = "triggered"
    PENDING_UPDATE = "pending_update"
    PENDING_CANCEL = "pending_cancel"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"

    @property
    def is_closed(self) -> bool:
        return self in _CLOSED

    @property
    def is_open(self) -> bool:
        return self in _OPEN


S = OrderStatus
_CLOSED = frozenset({S.DENIED, S.REJECTED, S.FILLED, S.CANCELED, S.EXPIRED})
_OPEN = frozenset({S.ACCEPTED, S.TRIGGERED, S.PARTIALLY_FILLED, S.PENDING_UPDATE, S.PENDING_CANCEL})
_WORKING = frozenset(
    {S.CANCELED, S.EXPIRED, S.PENDING_UPDATE, S.PENDING_CANCEL, S.PARTIALLY_FILLED, S.FILLED}
)
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.INITIALIZED: frozenset({S.DENIED, S.SUBMITTED}),
    S.SUBMITTED: frozenset({S.ACCEPTED, S.REJECTED, S.CANCELED, S.PARTIALLY_FILLED, S.FILLED}),
    S.ACCEPTED: _WORKING | {S.TRIGGERED, S.REJECTED},
    S.TRIGGERED: _WORKING | {S.REJECTED},
    S.PENDING_UPDATE: _WORKING | {S.ACCEPTED, S.TRIGGERED},
    S.PENDING_CANCEL: frozenset({S.CANCELED, S.PARTIALLY_FILLED, S.FILLED, S.ACCEPTED}),
    S.PARTIALLY_FILLED: _WORKING,
    S.DENIED: frozenset(),
    S.REJECTED: frozenset(),
    S.FILLED: frozenset(),
    S.CANCELED: frozenset(),
    S.EXPIRED: frozenset(),
}


class Order:
    """An order as the trader sees it; mutated only by :meth:`transition` and :meth:`fill`."""

    __slots__ = (
        "account",
        "avg_fill_price",
        "client_order_id",
        "filled_quantity",
        "instrument",
        "order_type",
        "post_only",
        "price",
        "quantity",
        "reduce_only",
        "side",
        "status",
        "strategy_id",
        "time_in_force",
        "trigger_price",
        "trigger_source",
        "ts_init",
        "venue_order_id",
    )

    def __init__(
        self,
        client_order_id: str,
        instrument: str,
        side: OrderSide,
        quantity: Decimal,
        order_type: OrderType = OrderType.MARKET,
        *,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
        trigger_source: TriggerSource = TriggerSource.LAST,
        time_in_force: TimeInForce = TimeInForce.GTC,
        reduce_only: bool = False,
        post_only: bool = False,
        account: str = "",
        strategy_id: str = "",
        ts_init: int = 0,
    ) -> None:
        if quantity <= 0:
            raise ValueError(f"order {client_order_id}: quantity must be positive, got {quantity}")
        if order_type.has_limit_price and (price is None or price <= 0):
            raise ValueError(
                f"order {client_order_id}: a {order_type} order needs a positive price"
            )
        if order_type.has_trigger and (trigger_price is None or trigger_price <= 0):
            raise ValueError(f"order {client_order_id}: a {order_type} order needs a trigger price")
        if post_only and order_type is not OrderType.LIMIT:
            raise ValueError(f"order {client_order_id}: post-only applies to limit orders only")
        self.client_order_id = client_order_id
        self.instrument = instrument
        self.side = side
        self.quantity = quantity
        self.order_type = order_type
        self.price = price
        self.trigger_price = trigger_price
        self.trigger_source = trigger_source
        self.time_in_force = time_in_force
        self.reduce_only = reduce_only
        self.post_only = post_only
        self.account = account
        self.strategy_id = strategy_id
        self.ts_init = ts_init
        self.status = OrderStatus.INITIALIZED
        self.filled_quantity = ZERO
        self.avg_fill_price = ZERO
        self.venue_order_id = ""

    @property
    def leaves_quantity(self) -> Decimal:
        return self.quantity - self.filled_quantity

    @property
    def signed_quantity(self) -> Decimal:
        return self.quantity if self.side is OrderSide.BUY else -self.quantity

    def transition(self, status: OrderStatus) -> None:
        """Move to ``status``; a move the table does not allow raises ``IllegalTransitionError``."""
        if status not in TRANSITIONS[self.status]:
            raise IllegalTransitionError(
                f"order {self.client_order_id}: "
                f"{self.status.value} -> {status.value} is not allowed"
            )
        self.status = status

    def fill(self, quantity: Decimal, price: Decimal) -> None:
        """Record a fill of ``quantity`` at ``price`` and move to (partially) filled."""
        if quantity <= 0 or quantity > self.leaves_quantity:
            raise IllegalTransitionError(
                f"order {self.client_order_id}: fill of {quantity} with {self.leaves_quantity} left"
            )
        total = self.filled_quantity + quantity
        self.avg_fill_price = (
            self.avg_fill_price * self.filled_quantity + price * quantity
        ) / total
        self.filled_quantity = total
        self.transition(OrderStatus.FILLED if total == self.quantity else S.PARTIALLY_FILLED)

    def __repr__(self) -> str:
        return (
            f"Order({self.client_order_id}, {self.side.value} {self.quantity} {self.instrument} "
            f"{self.order_type.value}, {self.status.value})"
        )
