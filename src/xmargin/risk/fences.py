"""Position fences: a budget per strategy, and a fence around the one that breaks it.

A budget is a collateral (the capital the strategy trades with), a maximum loss and a maximum
leverage (its gross notional over collateral + PnL). A strategy alone on its account (its own
sub-account, see ``sub_account`` in the run config) is measured by the account's equity;
strategies sharing an account by their own fills (``books``). A breach fences the strategy:
a ``StrategyFenced`` event, its open orders canceled, its stops dropped and its positions
closed; from then on the ``fence`` rule denies its orders while the others keep trading. The
leverage limit is also checked before each of its orders. A fence holds until ``unfence``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Protocol

from xmargin.core.errors import ConfigError
from xmargin.model.events import StrategyFenced
from xmargin.model.orders import Order, OrderSide
from xmargin.portfolio.ledger import AccountBook
from xmargin.risk.books import StrategyBooks
from xmargin.risk.checks import OrderCheck, Rule
from xmargin.risk.settings import FenceSettings

# (account, symbol, side, quantity, strategy, reduce-only) → the order sent
FenceSend = Callable[[str, str, OrderSide, Decimal, str, bool], Order]


class FenceDesk(Protocol):
    def book(self, account: str) -> AccountBook: ...
    def strategy_accounts(self) -> dict[str, str]: ...
    def all_open_orders(self) -> list[Order]: ...
    def cancel_order(self, order: Order) -> None: ...
    def publish(self, event: object) -> None: ...


class Equity(Protocol):
    def equity_and_gross(self) -> tuple[float, float]: ...


class Fence:
    """One strategy's budget and whether it is fenced."""

    def __init__(self, settings: FenceSettings, account: str, own_account: bool) -> None:
        self.settings = settings
        self.strategy = settings.strategy
        self.account = account
        self.own_account = own_account
        self.start_equity = 0.0
        self.collateral = float(settings.collateral) if settings.collateral is not None else 0.0
        self.max_loss = float(settings.max_loss) if settings.max_loss is not None else None
        self.max_leverage = (
            float(settings.max_leverage) if settings.max_leverage is not None else None
        )
        self.fenced = False
        self.reason = ""
        self.base_pnl = 0.0  # PnL when the budget was last (re)started
        self.pending: dict[tuple[str, str], Decimal] = {}  # orders sent, not yet filled


class Fences:
    """Every strategy's fence: watched each step, checked before each of its orders."""

    def __init__(
        self,
        settings: tuple[FenceSettings, ...],
        desk: FenceDesk,
        books: StrategyBooks,
        send: FenceSend,
        drop_stops: Callable[[str], None],
    ) -> None:
        self.settings = settings
        self.desk = desk
        self.books = books
        self.send = send
        self.drop_stops = drop_stops
        self.fences: dict[str, Fence] = {}

    def attach(self, terms: Mapping[str, Equity]) -> None:
        """Find each fenced strategy's account (call once the strategies are added)."""
        accounts = self.desk.strategy_accounts()
        for settings in self.settings:
            account = accounts.get(settings.strategy)
            if account is None:
                known = ", ".join(sorted(accounts)) or "none"
                raise ConfigError(
                    f"fence for unknown strategy {settings.strategy!r} (strategies: {known})",
                    where="risk.fences",
                )
            own = list(accounts.values()).count(account) == 1
            fence = Fence(settings, account, own)
            if own:
                fence.start_equity = terms[account].equity_and_gross()[0]
                if settings.collateral is None:
                    fence.collateral = fence.start_equity
            self.fences[settings.strategy] = fence

    def measure(self, fence: Fence, terms: Mapping[str, Equity]) -> tuple[float, float]:
        """(PnL, gross notional) of a fenced strategy at current marks."""
        if fence.own_account:
            equity, gross = terms[fence.account].equity_and_gross()
            return equity - fence.start_equity - fence.base_pnl, gross
        book = self.books.book(fence.strategy)
        return book.pnl() - fence.base_pnl, book.gross()

    def on_step(self, ts: int, terms: Mapping[str, Equity]) -> None:
        for fence in self.fences.values():
            if fence.fenced:
                continue
            pnl, gross = self.measure(fence, terms)
            if fence.max_loss is not None and pnl <= -fence.max_loss:
                self.fence(fence, "max_loss", -pnl, fence.max_loss, ts)
                continue
            equity = fence.collateral + pnl
            limit = fence.max_leverage
            if limit is not None and gross > 0 and (equity <= 0 or gross > limit * equity):
                leverage = gross / equity if equity > 0 else float("inf")
                self.fence(fence, "max_leverage", leverage, limit, ts)

    def fence(self, fence: Fence, budget: str, value: float, limit: float, ts: int) -> None:
        """Fence ``fence.strategy``: event, cancel its orders, drop its stops, close it out."""
        fence.fenced = True
        fence.reason = f"{budget} {_number(value)} reached its limit {_number(limit)}"
        self.desk.publish(
            StrategyFenced(ts, fence.strategy, budget, _number(value), _number(limit))
        )
        for order in self.desk.all_open_orders():
            if order.strategy_id == fence.strategy:
                self.desk.cancel_order(order)
        self.drop_stops(fence.strategy)
        for (account, symbol), size in self._positions(fence):
            held = self.desk.book(account).positions.get(symbol)
            account_size = held.size if held is not None else Decimal(0)
            reduce_only = account_size * size > 0 and abs(account_size) >= abs(size)
            side = OrderSide.SELL if size > 0 else OrderSide.BUY
            self.send(account, symbol, side, abs(size), fence.strategy, reduce_only)

    def _positions(self, fence: Fence) -> list[tuple[tuple[str, str], Decimal]]:
        if fence.own_account:
            book = self.desk.book(fence.account)
            return [((fence.account, p.instrument), p.size) for p in book.open_positions()]
        return self.books.book(fence.strategy).open_legs()

    def unfence(self, strategy: str, terms: Mapping[str, Equity]) -> None:
        """Lift a fence; the loss budget counts again from the PnL now."""
        fence = self.fences[strategy]
        fence.base_pnl += self.measure(fence, terms)[0]
        fence.fenced = False
        fence.reason = ""

    def sent(self, strategy: str, key: tuple[str, str], signed: Decimal) -> None:
        fence = self.fences.get(strategy)
        if fence is not None:
            fence.pending[key] = fence.pending.get(key, Decimal(0)) + signed

    def done(self, strategy: str, key: tuple[str, str], gone: Decimal) -> None:
        """``gone`` of a pending order filled or ended."""
        fence = self.fences.get(strategy)
        if fence is not None and key in fence.pending:
            left = fence.pending[key] - gone
            if left:
                fence.pending[key] = left
            else:
                del fence.pending[key]

    def denial(
        self,
        strategy: str,
        key: tuple[str, str],
        signed: Decimal,
        price: Any,
        multiplier: Decimal,
        terms: Mapping[str, Equity],
    ) -> str | None:
        """Why ``strategy`` may not send an order of ``signed`` units, or None."""
        fence = self.fences.get(strategy)
        if fence is None:
            return None
        if fence.fenced:
            return f"strategy {strategy} is fenced: {fence.reason}"
        limit = fence.max_leverage
        if limit is None:
            return None
        if fence.own_account:
            position = self.desk.book(fence.account).positions.get(key[1])
            held = position.size if position is not None else Decimal(0)
        else:
            leg = self.books.book(strategy).legs.get(key)
            held = leg.exact if leg is not None else Decimal(0)
        before = held + fence.pending.get(key, Decimal(0))
        after = before + signed
        if abs(after) <= abs(before) and after * before >= 0:
            return None
        pnl, gross = self.measure(fence, terms)
        gross_after = gross + float((abs(after) - abs(held)) * price * multiplier)
        equity = fence.collateral + pnl
        if equity > 0 and gross_after <= limit * equity:
            return None
        leverage = _number(gross_after / equity) if equity > 0 else "∞"
        return (
            f"strategy {strategy} leverage after the order {leverage}× exceeds its budget "
            f"{_number(limit)}× (gross {gross_after:,.2f} on equity {equity:,.2f})"
        )


def _number(value: float) -> Decimal:
    return Decimal(repr(round(value, 6)))


class FenceRule(Rule):
    """A fenced strategy's orders are denied; the others are held to their leverage budget."""

    name = "fence"

    def __init__(self, fences: Fences, terms: Callable[[], Mapping[str, Equity]]) -> None:
        self.fences = fences
        self.terms = terms

    def check(self, order: OrderCheck) -> str | None:
        request = order.order
        if request.strategy_id not in self.fences.fences:
            return None
        return self.fences.denial(
            request.strategy_id,
            (request.account, request.instrument),
            request.signed_quantity,
            order.mark,
            order.spec.contract_size,
            self.terms(),
        )

    def sent(self, order: OrderCheck) -> None:
        request = order.order
        if not request.order_type.has_trigger:
            key = (request.account, request.instrument)
            self.fences.sent(request.strategy_id, key, request.signed_quantity)
