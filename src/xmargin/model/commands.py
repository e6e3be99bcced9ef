"""Commands: immutable requests (imperative names). They may be refused; events record outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from xmargin.model.orders import OrderSide, OrderType, TimeInForce, TriggerSource


@dataclass(frozen=True, slots=True)
class SubmitOrder:
    ts_event: int
    account: str
    client_order_id: str
    instrument: str
    side: OrderSide
    quantity: Decimal
    order_type: OrderType = OrderType.MARKET
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    trigger_source: TriggerSource = TriggerSource.LAST
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    post_only: bool = False
    strategy_id: str = ""


@dataclass(frozen=True, slots=True)
class CancelOrder:
    ts_event: int
    account: str
    client_order_id: str
    strategy_id: str = ""


@dataclass(frozen=True, slots=True)
class ModifyOrder:
    ts_event: int
    account: str
    client_order_id: str
    quantity: Decimal | None = None
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    strategy_id: str = ""


@dataclass(frozen=True, slots=True)
class Borrow:
    ts_event: int
    account: str
    asset: str
    amount: Decimal
    request_id: str = ""
    strategy_id: str = ""


@dataclass(frozen=True, slots=True)
class Repay:
    ts_event: int
    account: str
    asset: str
    amount: Decimal
    request_id: str = ""
    strategy_id: str = ""


@dataclass(frozen=True, slots=True)
class Transfer:
    ts_event: int
    from_account: str
    to_account: str
    asset: str
    amount: Decimal
    request_id: str = ""
    strategy_id: str = ""


@dataclass(frozen=True, slots=True)
class SetLeverage:
    ts_event: int
    account: str
    instrument: str
    leverage: Decimal
    strategy_id: str = ""


VenueCommand = CancelOrder | ModifyOrder | Borrow | Repay | Transfer | SetLeverage
"""Every request to a venue other than a new order; each passes the risk hook first."""

COMMAND_NAMES: dict[type, str] = {
    CancelOrder: "cancel",
    ModifyOrder: "modify",
    Borrow: "borrow",
    Repay: "repay",
    Transfer: "transfer",
    SetLeverage: "set_leverage",
}
"""How a ``CommandDenied`` event names each kind of command."""
