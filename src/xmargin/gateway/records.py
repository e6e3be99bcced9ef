"""What the venue remembers per account in Binance's terms: orders by id and client id, algo
orders in their own namespace, trades and income. Fed by the kernel's message bus.

Order ids are integers per venue; the simulated exchange keys orders by an internal id
(``gw-<n>``), so two accounts may use the same client order id, and a client id may be
reused once its order is closed (Binance checks duplicates among open orders only).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from xmargin.core.clock import NANOS_PER_MILLI
from xmargin.model.events import (
    FundingSettled,
    Liquidated,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderTriggered,
)
from xmargin.model.numbers import ZERO
from xmargin.model.orders import Order, OrderSide, OrderStatus

UserListener = Callable[[str, object, "OrderRecord | AlgoRecord | None"], None]
EntryOf = Callable[[str, str], Decimal | None]


@dataclass
class OrderRecord:
    """A regular order as Binance reports it; ``order`` is the simulated exchange's."""

    order_id: int
    client_id: str
    account: str
    order: Order
    wire_type: str
    time_in_force: str
    working_type: str
    time_ms: int
    update_ms: int
    cum_quote: Decimal = ZERO
    reason: str = ""
    algo: AlgoRecord | None = None


@dataclass
class AlgoRecord:
    """A conditional order of the Algo Service (``/fapi/v1/algoOrder``)."""

    algo_id: int
    client_algo_id: str
    account: str
    order: Order
    wire_type: str
    working_type: str
    time_ms: int
    update_ms: int
    status: str = "NEW"
    reason: str = ""
    actual: OrderRecord | None = None


@dataclass(frozen=True)
class TradeRecord:
    trade_id: int
    order_id: int
    symbol: str
    side: str
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    commission: Decimal
    commission_asset: str
    realized_pnl: Decimal
    maker: bool
    time_ms: int


@dataclass(frozen=True)
class IncomeRecord:
    symbol: str
    income_type: str
    income: Decimal
    asset: str
    time_ms: int
    tran_id: int
    trade_id: str = ""


@dataclass
class AccountRecords:
    orders: dict[int, OrderRecord] = field(default_factory=dict)
    algos: dict[int, AlgoRecord] = field(default_factory=dict)
    trades: list[TradeRecord] = field(default_factory=list)
    income: list[IncomeRecord] = field(default_factory=list)
    latest: dict[str, OrderRecord] = field(default_factory=dict)
    latest_algo: dict[str, AlgoRecord] = field(default_factory=dict)

    def open_by_client_id(self, client_id: str) -> OrderRecord | None:
        """The open order with this client id (only the latest one can be open)."""
        record = self.latest.get(client_id)
        return None if record is None or record.order.status.is_closed else record

    def by_client_id(self, client_id: str) -> OrderRecord | None:
        """The latest order with this client id, as Binance answers ``origClientOrderId``."""
        record = self.latest.get(client_id)
        return record if record is not None and record.order_id in self.orders else None

    def algo_by_client_id(self, client_id: str) -> AlgoRecord | None:
        record = self.latest_algo.get(client_id)
        return record if record is not None and record.algo_id in self.algos else None

    def forget_order(self, record: OrderRecord, previous: OrderRecord | None) -> None:
        """Drop a rejected order (Binance keeps none); its client id names ``previous`` again."""
        del self.orders[record.order_id]
        if previous is None:
            self.latest.pop(record.client_id, None)
        else:
            self.latest[record.client_id] = previous

    def forget_algo(self, record: AlgoRecord, previous: AlgoRecord | None) -> None:
        del self.algos[record.algo_id]
        if previous is None:
            self.latest_algo.pop(record.client_algo_id, None)
        else:
            self.latest_algo[record.client_algo_id] = previous


class Records:
    """Every served account's records, kept current from the venue's events."""

    def __init__(
        self, accounts: list[str], symbol_id: Callable[[str], str], entry_of: EntryOf
    ) -> None:
        self.accounts = {a: AccountRecords() for a in accounts}
        self._symbol_id = symbol_id
        self._entry_of = entry_of
        self._entries: dict[tuple[str, str], Decimal | None] = {}
        self._by_internal: dict[str, OrderRecord | AlgoRecord] = {}
        self._next_order = 1_000_000
        self._next_algo = 4_000_000
        self._next_trade = 1
        self._next_tran = 1
        self._internal = 0
        self.listeners: list[UserListener] = []

    def internal_id(self) -> str:
        self._internal += 1
        return f"gw-{self._internal}"

    def add_order(self, record: OrderRecord) -> None:
        records = self.accounts[record.account]
        records.orders[record.order_id] = record
        records.latest[record.client_id] = record
        self._by_internal[record.order.client_order_id] = record

    def add_algo(self, record: AlgoRecord) -> None:
        records = self.accounts[record.account]
        records.algos[record.algo_id] = record
        records.latest_algo[record.client_algo_id] = record
        self._by_internal[record.order.client_order_id] = record

    def next_order_id(self) -> int:
        self._next_order += 1
        return self._next_order

    def next_algo_id(self) -> int:
        self._next_algo += 1
        return self._next_algo

    # -- the bus ------------------------------------------------------------------------------

    def on_event(self, event: object) -> None:
        account = getattr(event, "account", None)
        if account not in self.accounts:
            return
        ms = getattr(event, "ts_event", 0) // NANOS_PER_MILLI
        if isinstance(event, FundingSettled):
            self._income(account, event.instrument, "FUNDING_FEE", -event.amount, event.asset, ms)
            self._tell(account, event, None)
            return
        if isinstance(event, Liquidated):
            self._tell(account, event, self._liquidation(event, ms))
            self._note_entry(account, event.instrument)
            return
        internal = getattr(event, "client_order_id", None)
        record = self._by_internal.get(internal) if internal else None
        if record is None:
            return
        if isinstance(record, AlgoRecord):
            record = self._algo_event(record, event, ms)
            if record is None:
                return
        record.update_ms = ms
        if isinstance(event, OrderFilled):
            self._fill(record, event, ms)
            self._note_entry(account, event.instrument)
        elif isinstance(event, (OrderRejected, OrderCanceled, OrderExpired)):
            record.reason = event.reason
        self._tell(account, event, record)
        if record.algo is not None and record.order.status.is_closed:
            record.algo.status = "FINISHED"
            record.algo.update_ms = ms
            self._tell(account, event, record.algo)

    def _algo_event(self, algo: AlgoRecord, event: object, ms: int) -> OrderRecord | None:
        """Before it triggers an algo order has no regular order; on trigger it gets one."""
        algo.update_ms = ms
        if isinstance(event, OrderTriggered):
            algo.status = "TRIGGERED"
            actual = OrderRecord(
                self.next_order_id(),
                f"autoalgo-{algo.algo_id}",
                algo.account,
                algo.order,
                "MARKET" if algo.wire_type.endswith("_MARKET") else "LIMIT",
                "GTC",
                algo.working_type,
                ms,
                ms,
                algo=algo,
            )
            algo.actual = actual
            self.add_order(actual)
            self._tell(algo.account, event, algo)
            return None
        if isinstance(event, OrderCanceled):
            algo.status = "CANCELED"
        elif isinstance(event, (OrderRejected, OrderExpired)):
            algo.status = "REJECTED" if isinstance(event, OrderRejected) else "EXPIRED"
            algo.reason = event.reason
        self._tell(algo.account, event, algo)
        return None

    def _note_entry(self, account: str, instrument: str) -> None:
        """Remember the entry after each fill: a liquidation's PnL is from the entry before."""
        self._entries[(account, instrument)] = self._entry_of(account, instrument)

    def _liquidation(self, event: Liquidated, ms: int) -> OrderRecord:
        """A liquidation fill as Binance reports it: an ``autoclose-`` market order, its trade,
        the realised PnL from the entry before, and the clearance fee as INSURANCE_CLEAR."""
        side = OrderSide.SELL if event.size > 0 else OrderSide.BUY
        quantity = abs(event.size)
        order = Order(f"autoclose-{ms}-{self._next_trade}", event.instrument, side, quantity)
        order.transition(OrderStatus.SUBMITTED)
        order.fill(quantity, event.price)
        order_id = self.next_order_id()
        record = OrderRecord(
            order_id,
            order.client_order_id,
            event.account,
            order,
            "LIQUIDATION",
            "IOC",
            "CONTRACT_PRICE",
            ms,
            ms,
            cum_quote=quantity * event.price,
        )
        self.accounts[event.account].orders[order_id] = record
        self.accounts[event.account].latest[record.client_id] = record
        entry = self._entries.get((event.account, event.instrument))
        realized = ZERO if entry is None else event.size * (event.price - entry)
        settle = self._settle(event.instrument)
        trade_id = self._trade(record, side, quantity, event.price, ZERO, settle, realized, ms)
        if realized:
            self._income(
                event.account, event.instrument, "REALIZED_PNL", realized, settle, ms, str(trade_id)
            )
        if event.fee:
            self._income(
                event.account,
                event.instrument,
                "INSURANCE_CLEAR",
                -event.fee,
                settle,
                ms,
                str(trade_id),
            )
        return record

    @staticmethod
    def _settle(instrument: str) -> str:
        _, _, rest = instrument.partition(":")
        return rest.split("-")[0] if rest else instrument.split("/")[1]

    def _trade(
        self,
        record: OrderRecord,
        side: OrderSide,
        quantity: Decimal,
        price: Decimal,
        fee: Decimal,
        fee_asset: str,
        realized: Decimal,
        ms: int,
        maker: bool = False,
    ) -> int:
        trade_id = self._next_trade
        self._next_trade += 1
        self.accounts[record.account].trades.append(
            TradeRecord(
                trade_id,
                record.order_id,
                self._symbol_id(record.order.instrument),
                side.value.upper(),
                price,
                quantity,
                quantity * price,
                fee,
                fee_asset,
                realized,
                maker,
                ms,
            )
        )
        return trade_id

    def _fill(self, record: OrderRecord, event: OrderFilled, ms: int) -> None:
        record.cum_quote += event.quantity * event.price
        trade_id = self._trade(
            record,
            event.side,
            event.quantity,
            event.price,
            event.fee,
            event.fee_asset,
            event.realized_pnl,
            ms,
            event.liquidity == "maker",
        )
        if event.realized_pnl:
            self._income(
                record.account,
                event.instrument,
                "REALIZED_PNL",
                event.realized_pnl,
                event.fee_asset,
                ms,
                str(trade_id),
            )
        if event.fee:
            self._income(
                record.account,
                event.instrument,
                "COMMISSION",
                -event.fee,
                event.fee_asset,
                ms,
                str(trade_id),
            )

    def _income(
        self,
        account: str,
        instrument: str,
        kind: str,
        amount: Decimal,
        asset: str,
        ms: int,
        trade_id: str = "",
    ) -> None:
        self.accounts[account].income.append(
            IncomeRecord(
                self._symbol_id(instrument), kind, amount, asset, ms, self._next_tran, trade_id
            )
        )
        self._next_tran += 1

    def _tell(self, account: str, event: object, record: OrderRecord | AlgoRecord | None) -> None:
        for listener in self.listeners:
            listener(account, event, record)
