"""What the risk engine reads and does through the kernel, and the float equity it watches."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from xmargin.margin.base import MarginReport
from xmargin.model.orders import Order, OrderSide, OrderType
from xmargin.risk.checks import TradingView

RISK_STRATEGY = "risk"


class RiskDesk(TradingView, Protocol):
    """What the risk engine may do (the kernel's ``TradingDesk`` implements it)."""

    def account_ids(self) -> tuple[str, ...]: ...
    def equity_terms(self, account: str) -> EquityTerms: ...
    def all_open_orders(self) -> list[Order]: ...
    def find_order(self, account: str, client_order_id: str) -> Order | None: ...
    def cancel_order(self, order: Order) -> None: ...
    def modify_order(
        self, order: Order, quantity: Decimal | None, trigger_price: Decimal | None
    ) -> None: ...
    def submit_risk_order(
        self,
        account: str,
        symbol: str,
        side: OrderSide,
        quantity: Decimal,
        *,
        strategy: str = RISK_STRATEGY,
        order_type: OrderType = OrderType.MARKET,
        trigger_price: Decimal | None = None,
        reduce_only: bool = True,
    ) -> Order: ...
    def open_derivative_positions(self) -> list[tuple[str, str, Decimal]]: ...
    def last_seen(self) -> dict[str, int]: ...
    def asset_prices(self, assets: Iterable[str]) -> dict[str, float]: ...
    def publish(self, event: object) -> None: ...
    def market_state(self, account: str, symbol: str) -> Any: ...
    def native_stops(self, account: str) -> bool: ...
    def margin_summary(self, account: str) -> MarginReport: ...
    def taker_fee(self, account: str) -> Decimal: ...
    def strategy_accounts(self) -> dict[str, str]: ...
    def price_of(self, account: str, symbol: str) -> Decimal: ...
    def max_order_quantity(
        self, account: str, symbol: str, side: OrderSide, price: Decimal | None
    ) -> Decimal: ...


@dataclass
class EquityTerms:
    """An account's equity as floats: ``cash + Σ size × price − cost + Σ amount × price``.

    ``legs`` hold live market states (with ``mark`` and ``last`` attributes), so evaluating
    the equity at current prices is a few multiplications; the terms change only on events.
    """

    cash: float
    legs: list[tuple[Any, float, float]]

    def value(self) -> float:
        """Equity at the marks (the venue's valuation)."""
        total = self.cash
        for market, size, cost in self.legs:
            total += size * (market.mark or market.last) - cost
        return total

    def live_value(self) -> float:
        """Equity at the freshest prices: the last trade where there is one, else the mark."""
        total = self.cash
        for market, size, cost in self.legs:
            total += size * (market.last or market.mark) - cost
        return total

    def equity_and_gross(self) -> tuple[float, float]:
        """Equity and gross notional (derivatives and borrowed assets) at the marks."""
        gross = 0.0
        for market, size, _ in self.legs:
            if market.spec.is_derivative or size < 0:
                gross += abs(size) * (market.mark or market.last)
        return self.value(), gross
