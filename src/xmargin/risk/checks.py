"""Pre-trade checks: one small class per rule, run on every order in every environment.

Each rule returns ``None`` to allow or a reason with the numbers to deny. Rules that need
the account's margin model (margin buffer, liquidation distance, leverage) first try a
cheap float bound that proves the order safe; only orders near a limit pay for the exact
Decimal what-if, which is the same code the venue uses to decide.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from decimal import Decimal
from typing import Protocol

from xmargin.margin.base import MarginModel, MarginReport
from xmargin.margin.snapshot import AccountSnapshot
from xmargin.model.instruments import Instrument, InstrumentKind
from xmargin.model.numbers import ZERO
from xmargin.model.orders import Order
from xmargin.portfolio.ledger import AccountBook
from xmargin.risk.settings import PerInstrument, RiskSettings
from xmargin.risk.state import TradingState

# A float bound is trusted only this far from a limit; closer, the exact check decides.
SCREEN_MARGIN = 0.9
MAX_MAINTENANCE_RATE = 0.5


class TradingView(Protocol):
    """What the risk engine may read of the trading system (the kernel's desk implements it)."""

    def now_ns(self) -> int: ...
    def book(self, account: str) -> AccountBook: ...
    def instrument_spec(self, account: str, symbol: str) -> Instrument: ...
    def mark_of(self, account: str, symbol: str) -> Decimal: ...
    def mark_float(self, account: str, symbol: str) -> float: ...
    def model_of(self, account: str) -> MarginModel: ...
    def snapshot(self, account: str, also: tuple[str, ...] = ()) -> AccountSnapshot: ...
    def float_equity(self, account: str) -> tuple[float, float]: ...


def _fmt(value: Decimal) -> str:
    """Money: two decimals (six significant digits below 1)."""
    return f"{value:.6g}" if abs(value) < 1 else f"{value:,.2f}"


def _ratio(value: Decimal) -> str:
    """A multiple or a percentage: up to four decimals, so a boundary is never rounded away."""
    text = f"{value.quantize(Decimal('0.0001')):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


class OrderCheck:
    """One order under check: its numbers before and after, computed once and only if asked.

    ``pending`` is the signed quantity of the account's working orders in the instrument
    that passed before it and have not filled yet: "before" is the position once they fill,
    so several orders sent at once are checked together.
    """

    def __init__(
        self,
        order: Order,
        view: TradingView,
        state: TradingState,
        equity: Callable[[], tuple[float, float]] | None = None,
        pending: Decimal = ZERO,
    ) -> None:
        self.order = order
        self.view = view
        self.state = state
        self._equity_source = equity
        self.spec = view.instrument_spec(order.account, order.instrument)
        self.mark = view.mark_of(order.account, order.instrument)
        self.price = order.price or order.trigger_price or self.mark
        book = view.book(order.account)
        if self.spec.kind is InstrumentKind.SPOT:
            self.held = book.balance(self.spec.base)
        else:
            held = book.positions.get(order.instrument)
            self.held = held.size if held is not None else ZERO
        self.pending = pending
        self.before = self.held + pending
        self.after = self.before + order.signed_quantity
        self.reduces = abs(self.after) <= abs(self.before) and self.after * self.before >= 0
        self._equity_f: tuple[float, float] | None = None
        self._after_snapshot: AccountSnapshot | None = None
        self._report: MarginReport | None = None

    @property
    def notional(self) -> Decimal:
        return self.order.quantity * self.price * self.spec.contract_size

    @property
    def position_notional_after(self) -> Decimal:
        return abs(self.after) * self.mark * self.spec.contract_size

    def float_equity(self) -> tuple[float, float]:
        """(equity, gross notional) of the account before the order, in floats."""
        if self._equity_f is None:
            source = self._equity_source
            self._equity_f = source() if source else self.view.float_equity(self.order.account)
        return self._equity_f

    def gross_after_f(self) -> float:
        _, gross = self.float_equity()
        return gross + (float(abs(self.after)) - float(abs(self.held))) * float(self.mark)

    def model(self) -> MarginModel:
        return self.view.model_of(self.order.account)

    def after_snapshot(self) -> AccountSnapshot:
        if self._after_snapshot is None:
            before = self.view.snapshot(self.order.account, also=(self.spec.base,))
            self._after_snapshot = self.model().apply_fill(
                before, self.order.instrument, self.after - self.held, self.price
            )
        return self._after_snapshot

    def report_after(self) -> MarginReport:
        """The account's margin after the order fills (no liquidation prices: cheap)."""
        if self._report is None:
            self._report = self.model().summary(self.after_snapshot())
        return self._report


class Rule(ABC):
    """A pre-trade rule: ``check`` denies with a reason; ``sent`` hears of orders let through."""

    name = ""

    @abstractmethod
    def check(self, order: OrderCheck) -> str | None: ...

    def sent(self, order: OrderCheck) -> None:  # noqa: B027 (optional hook)
        """Called for every order that passed all rules."""


class NothingWhileHalted(Rule):
    """While HALTED nothing but cancels (and the kill switch's own flattening) is allowed."""

    name = "halted"

    def check(self, order: OrderCheck) -> str | None:
        if order.state is TradingState.HALTED:
            return "trading is halted: only cancels are allowed until trading is resumed"
        return None


class ReduceOnlyWhileReducing(Rule):
    """While REDUCING only orders that shrink a position are allowed."""

    name = "reducing"

    def check(self, order: OrderCheck) -> str | None:
        if order.state is TradingState.REDUCING and not order.reduces:
            return (
                f"trading is reducing: the order would take the position from "
                f"{order.before} to {order.after}"
            )
        return None


class _PerInstrumentLimit(Rule):
    def __init__(self, limit: PerInstrument) -> None:
        self.limit = limit


class MaxOrderQuantity(_PerInstrumentLimit):
    name = "max_order_quantity"

    def check(self, order: OrderCheck) -> str | None:
        limit = self.limit.for_instrument(order.order.instrument)
        if limit is not None and order.order.quantity > limit:
            return f"quantity {order.order.quantity} exceeds the limit {limit}"
        return None


class MaxOrderNotional(_PerInstrumentLimit):
    name = "max_order_notional"

    def check(self, order: OrderCheck) -> str | None:
        limit = self.limit.for_instrument(order.order.instrument)
        if limit is not None and order.notional > limit:
            return f"notional {_fmt(order.notional)} exceeds the limit {_fmt(limit)}"
        return None


class MaxPositionNotional(_PerInstrumentLimit):
    name = "max_position_notional"

    def check(self, order: OrderCheck) -> str | None:
        limit = self.limit.for_instrument(order.order.instrument)
        if limit is None or order.reduces:
            return None
        notional = order.position_notional_after
        if notional > limit:
            return f"position notional after the order {_fmt(notional)} exceeds {_fmt(limit)}"
        return None


class InstrumentLeverageCap(_PerInstrumentLimit):
    """Position notional after the order over the account's equity."""

    name = "max_instrument_leverage"

    def check(self, order: OrderCheck) -> str | None:
        limit = self.limit.for_instrument(order.order.instrument)
        if limit is None or order.reduces:
            return None
        equity_f, _ = order.float_equity()
        if (
            equity_f > 0
            and float(order.position_notional_after) < SCREEN_MARGIN * float(limit) * equity_f
        ):
            return None
        equity = order.report_after().equity
        notional = order.position_notional_after
        if equity <= 0 or notional > limit * equity:
            leverage = "∞" if equity <= 0 else _ratio(notional / equity)
            return f"{order.order.instrument} leverage after the order {leverage}× exceeds {limit}×"
        return None


class PortfolioLeverageCap(Rule):
    """Gross notional of every position over the account's equity, after the order."""

    name = "max_leverage"

    def __init__(self, limit: Decimal) -> None:
        self.limit = limit

    def check(self, order: OrderCheck) -> str | None:
        if order.reduces:
            return None
        equity_f, _ = order.float_equity()
        if equity_f > 0 and order.gross_after_f() < SCREEN_MARGIN * float(self.limit) * equity_f:
            return None
        report = order.report_after()
        gross = sum((row.notional for row in report.exposures), ZERO)
        equity = report.equity
        if equity <= 0 or gross > self.limit * equity:
            leverage = "∞" if equity <= 0 else _ratio(gross / equity)
            return f"account leverage after the order {leverage}× exceeds {self.limit}×"
        return None


class MarginBuffer(Rule):
    """Post-trade equity at least ``buffer`` × the venue's initial requirement."""

    name = "margin_buffer"

    def __init__(self, buffer: Decimal) -> None:
        self.buffer = buffer

    def check(self, order: OrderCheck) -> str | None:
        if order.reduces:
            return None
        equity_f, _ = order.float_equity()
        # The initial requirement never exceeds the gross notional (leverage ≥ 1).
        if equity_f > 0 and order.gross_after_f() * float(self.buffer) < SCREEN_MARGIN * equity_f:
            return None
        report = order.report_after()
        required = self.buffer * report.initial_margin_required
        if report.equity < required:
            return (
                f"equity after the order {_fmt(report.equity)} is below {self.buffer} × the "
                f"initial requirement {_fmt(report.initial_margin_required)} = {_fmt(required)}"
            )
        return None


class LiquidationDistance(Rule):
    """The post-trade liquidation price at least ``distance`` (a fraction) away from the mark."""

    name = "min_liquidation_distance"

    def __init__(self, distance: Decimal) -> None:
        self.distance = distance

    def check(self, order: OrderCheck) -> str | None:
        if order.reduces or order.after == 0:
            return None
        equity_f, gross_f = order.float_equity()
        gross_after = order.gross_after_f()
        if gross_after > 0:
            # A loss of the whole cushion needs at least this relative move of any one price.
            cushion = equity_f - MAX_MAINTENANCE_RATE * gross_after
            if cushion > 0 and cushion / gross_after * SCREEN_MARGIN > float(self.distance):
                return None
        del gross_f
        model = order.model()
        snapshot = order.after_snapshot()
        price = model.liquidation_price(snapshot, order.order.instrument)
        if price is None:
            return None
        distance = abs(order.mark - price) / order.mark
        if distance < self.distance:
            return (
                f"liquidation price after the order {_fmt(price)} is {_ratio(distance * 100)} % "
                f"from the mark {_fmt(order.mark)}, less than {_ratio(self.distance * 100)} %"
            )
        return None


class PriceBand(Rule):
    """A limit (or trigger) price within ``band`` (a fraction) of the mark."""

    name = "price_band"

    def __init__(self, band: Decimal) -> None:
        self.band = band

    def check(self, order: OrderCheck) -> str | None:
        price = order.order.price or order.order.trigger_price
        if price is None:
            return None
        deviation = abs(price - order.mark) / order.mark
        if deviation > self.band:
            return (
                f"price {price} is {_ratio(deviation * 100)} % from the mark {_fmt(order.mark)}, "
                f"outside the ±{_ratio(self.band * 100)} % band"
            )
        return None


class OrderRate(Rule):
    """At most ``limit`` orders in any rolling 60 seconds."""

    name = "max_orders_per_minute"
    WINDOW_NS = 60 * 1_000_000_000

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._sent: deque[int] = deque()

    def check(self, order: OrderCheck) -> str | None:
        now = order.view.now_ns()
        sent = self._sent
        while sent and sent[0] <= now - self.WINDOW_NS:
            sent.popleft()
        if len(sent) >= self.limit:
            return f"{len(sent)} orders in the last minute; the limit is {self.limit}"
        return None

    def sent(self, order: OrderCheck) -> None:
        self._sent.append(order.view.now_ns())


def build_checks(settings: RiskSettings) -> list[Rule]:
    """The rules a configuration switches on, cheapest first."""
    checks: list[Rule] = [NothingWhileHalted(), ReduceOnlyWhileReducing()]
    checks += [
        MaxOrderQuantity(settings.max_order_quantity),
        MaxOrderNotional(settings.max_order_notional),
        MaxPositionNotional(settings.max_position_notional),
    ]
    if settings.price_band is not None:
        checks.append(PriceBand(settings.price_band))
    checks.append(InstrumentLeverageCap(settings.max_instrument_leverage))
    if settings.max_leverage is not None:
        checks.append(PortfolioLeverageCap(settings.max_leverage))
    if settings.margin_buffer is not None:
        checks.append(MarginBuffer(settings.margin_buffer))
    if settings.min_liquidation_distance is not None:
        checks.append(LiquidationDistance(settings.min_liquidation_distance))
    if settings.max_orders_per_minute is not None:
        checks.append(OrderRate(settings.max_orders_per_minute))
    return checks
