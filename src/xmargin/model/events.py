"""Events: immutable facts (past-tense names). State changes only by applying them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from xmargin.model.orders import OrderSide, OrderType


@dataclass(frozen=True, slots=True)
class OrderSubmitted:
    ts_event: int
    account: str
    client_order_id: str
    instrument: str
    side: OrderSide
    order_type: OrderType
    quantity: Decimal
    price: Decimal | None
    strategy: str = ""
    reduce_only: bool = False


@dataclass(frozen=True, slots=True)
class OrderDenied:
    """The risk engine refused an order before it reached the venue."""

    ts_event: int
    account: str
    client_order_id: str
    instrument: str
    rule: str
    reason: str
    strategy: str = ""


@dataclass(frozen=True, slots=True)
class CommandDenied:
    """The risk engine refused a venue command other than an order (``command``: ``cancel``,
    ``modify``, ``borrow``, ``repay``, ``transfer`` or ``set_leverage``) before it left."""

    ts_event: int
    account: str
    command: str
    rule: str
    reason: str
    strategy: str = ""
    client_order_id: str | None = None
    instrument: str | None = None
    asset: str | None = None
    amount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class OrderAccepted:
    ts_event: int
    account: str
    client_order_id: str
    venue_order_id: str


@dataclass(frozen=True, slots=True)
class OrderRejected:
    """The venue refused an order."""

    ts_event: int
    account: str
    client_order_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class OrderTriggered:
    ts_event: int
    account: str
    client_order_id: str
    trigger_price: Decimal


@dataclass(frozen=True, slots=True)
class OrderModified:
    ts_event: int
    account: str
    client_order_id: str
    quantity: Decimal
    price: Decimal | None
    trigger_price: Decimal | None


@dataclass(frozen=True, slots=True)
class OrderCancelRejected:
    """A cancel reached the venue too late (the order had filled or ended) or for no order."""

    ts_event: int
    account: str
    client_order_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class OrderModifyRejected:
    """A modify reached the venue after the order had ended, or for no order."""

    ts_event: int
    account: str
    client_order_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class OrderCanceled:
    ts_event: int
    account: str
    client_order_id: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class OrderExpired:
    ts_event: int
    account: str
    client_order_id: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class OrderFilled:
    ts_event: int
    account: str
    client_order_id: str
    instrument: str
    side: OrderSide
    quantity: Decimal
    price: Decimal
    fee: Decimal
    fee_asset: str
    liquidity: str
    realized_pnl: Decimal
    strategy: str = ""
    trade_id: str = ""

    def fee_in_quote(self) -> Decimal:
        """The fee in the instrument's quote: one taken in a spot pair's base asset (a spot
        buy on Binance) is valued at the fill price."""
        base = self.instrument.split("/", maxsplit=1)[0]
        spot = ":" not in self.instrument
        return self.fee * self.price if self.fee_asset == base and spot else self.fee


@dataclass(frozen=True, slots=True)
class FundingSettled:
    """Funding paid (positive) or received (negative) by one position."""

    ts_event: int
    account: str
    instrument: str
    rate: Decimal
    mark_price: Decimal
    position_size: Decimal
    amount: Decimal
    asset: str


@dataclass(frozen=True, slots=True)
class InterestCharged:
    ts_event: int
    account: str
    asset: str
    principal: Decimal
    hourly_rate: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class LoanRequested:
    """A borrow was asked for; the venue has not answered yet (the loan is pending)."""

    ts_event: int
    account: str
    asset: str
    amount: Decimal
    loan_id: str


@dataclass(frozen=True, slots=True)
class LoanBorrowed:
    """A pending loan was confirmed: the asset is credited and interest starts."""

    ts_event: int
    account: str
    asset: str
    amount: Decimal
    loan_id: str
    first_hour_interest: Decimal


@dataclass(frozen=True, slots=True)
class LoanFailed:
    """A pending loan was refused (over the borrow limit, or not enough collateral)."""

    ts_event: int
    account: str
    asset: str
    amount: Decimal
    loan_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class LoanRepaid:
    ts_event: int
    account: str
    asset: str
    interest_paid: Decimal
    principal_paid: Decimal


@dataclass(frozen=True, slots=True)
class TransferCompleted:
    ts_event: int
    from_account: str
    to_account: str
    asset: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class TransferRejected:
    ts_event: int
    from_account: str
    to_account: str
    asset: str
    amount: Decimal
    reason: str


@dataclass(frozen=True, slots=True)
class Liquidated:
    """A position (or asset) closed by the venue's liquidation engine."""

    ts_event: int
    account: str
    instrument: str
    size: Decimal
    price: Decimal
    fee: Decimal
    stage: str
    trigger_ts_ms: int
    margin_ratio: Decimal | None


@dataclass(frozen=True, slots=True)
class InsuranceFundCovered:
    """The venue's insurance fund absorbed an account's negative balance after liquidation."""

    ts_event: int
    account: str
    asset: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class CollateralConverted:
    """The venue sold a coin for the account's negative quote balance (FTX, spec A.6)."""

    ts_event: int
    account: str
    instrument: str
    quantity: Decimal
    price: Decimal
    fee: Decimal
    fee_asset: str


@dataclass(frozen=True, slots=True)
class MarginStateChanged:
    ts_event: int
    account: str
    previous: str
    current: str
    margin_ratio: Decimal | None


@dataclass(frozen=True, slots=True)
class TradingStateChanged:
    """The risk engine moved trading between ACTIVE, REDUCING and HALTED."""

    ts_event: int
    previous: str
    current: str
    reason: str
    scope: str = "portfolio"


@dataclass(frozen=True, slots=True)
class BreakerTripped:
    """A circuit breaker fired: what it measured, its limit, and what it did."""

    ts_event: int
    breaker: str
    action: str
    value: Decimal
    limit: Decimal
    detail: str


@dataclass(frozen=True, slots=True)
class BookFlattened:
    """After a halt, every position of the accounts is confirmed closed."""

    ts_event: int
    accounts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StopTriggered:
    """A protective stop (stop-loss, take-profit or trailing) fired on the mark price."""

    ts_event: int
    account: str
    instrument: str
    kind: str
    trigger_price: Decimal
    mark_price: Decimal
    strategy: str


@dataclass(frozen=True, slots=True)
class StrategyFenced:
    """A strategy broke its budget: its orders are blocked and its positions reduced."""

    ts_event: int
    strategy: str
    budget: str
    value: Decimal
    limit: Decimal


BALANCE_CHANGES = (
    OrderFilled,
    FundingSettled,
    InterestCharged,
    Liquidated,
    LoanBorrowed,
    LoanRepaid,
    TransferCompleted,
    InsuranceFundCovered,
    CollateralConverted,
)
"""The events after which an account's balances, positions or loans may differ."""


def accounts_touched(event: object) -> tuple[str, ...]:
    """The accounts whose books an event changes (both sides of a transfer)."""
    if isinstance(event, TransferCompleted):
        return (event.from_account, event.to_account)
    account = getattr(event, "account", None)
    return (account,) if isinstance(account, str) else ()
