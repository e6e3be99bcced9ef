"""What strategies ask of the risk engine: stops, sizing, fences; and the orders it sends.

``RiskEngine`` inherits these. Orders the risk engine sends on a strategy's behalf (a stop
firing, a venue stop leg, a fence closing a strategy out) or on its own (the liquidation
buffer) are marked as its own while they pass the pre-trade check: they skip the rules, but
not the halt, which only the kill switch's flattening passes.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import Any

from xmargin.model.orders import Order, OrderSide, OrderType
from xmargin.risk.books import StrategyBooks
from xmargin.risk.desk import EquityTerms, RiskDesk
from xmargin.risk.fences import Fences
from xmargin.risk.settings import RiskSettings
from xmargin.risk.sizing import KELLY, SizeRequest, Sizing, position_size
from xmargin.risk.state import TradingState, TradingStateMachine
from xmargin.risk.stops import OcoGroup, StopGroup, StopManager

HALTED_REASON = "trading is halted: only cancels are allowed until trading is resumed"


class StrategyControls:
    """The stop, sizing and fence requests of strategies, and the risk engine's own orders."""

    settings: RiskSettings
    machine: TradingStateMachine
    desk: RiskDesk | None
    books: StrategyBooks
    stops: StopManager | None
    fences: Fences | None
    _terms: dict[str, EquityTerms]
    _sending: bool
    _extras: bool

    # -- orders the risk engine sends ----------------------------------------------------

    def _send(
        self, account: str, symbol: str, side: OrderSide, quantity: Decimal, **options: Any
    ) -> Order:
        assert self.desk is not None
        self._sending = True
        try:
            return self.desk.submit_risk_order(account, symbol, side, quantity, **options)
        finally:
            self._sending = False

    def _send_stop(
        self,
        account: str,
        symbol: str,
        side: OrderSide,
        quantity: Decimal,
        strategy: str,
        order_type: OrderType,
        trigger: Decimal | None,
    ) -> Order:
        return self._send(
            account,
            symbol,
            side,
            quantity,
            strategy=strategy,
            order_type=order_type,
            trigger_price=trigger,
        )

    def _send_reduction(
        self, account: str, symbol: str, side: OrderSide, quantity: Decimal
    ) -> Order:
        return self._send(account, symbol, side, quantity)

    def _send_fence(
        self,
        account: str,
        symbol: str,
        side: OrderSide,
        quantity: Decimal,
        strategy: str,
        reduce_only: bool,
    ) -> Order:
        lot = self.desk.instrument_spec(account, symbol).size_increment if self.desk else None
        if lot is not None:
            quantity = (quantity / lot).to_integral_value(rounding=ROUND_DOWN) * lot
        return self._send(
            account, symbol, side, quantity, strategy=strategy, reduce_only=reduce_only
        )

    # -- sizing -------------------------------------------------------------------------

    def size(
        self,
        strategy: str,
        account: str,
        symbol: str,
        side: OrderSide,
        *,
        stop: Decimal | None = None,
        method: str = KELLY,
        volatility: Decimal | None = None,
    ) -> Sizing:
        """Size a new position for ``strategy`` (see ``risk.sizing``).

        Equity is the strategy's budget (collateral + PnL) when it is fenced with a
        collateral, else the account's equity from the venue's model.
        """
        assert self.desk is not None
        desk = self.desk
        spec = desk.instrument_spec(account, symbol)
        price = desk.price_of(account, symbol)
        equity = desk.margin_summary(account).equity
        fence = self.fences.fences.get(strategy) if self.fences is not None else None
        if fence is not None and fence.settings.collateral is not None:
            pnl, _ = self.fences.measure(fence, self._terms) if self.fences else (0.0, 0.0)
            equity = min(equity, fence.settings.collateral + Decimal(repr(round(pnl, 8))))
        request = SizeRequest(
            equity=equity,
            price=price,
            venue_cap=desk.max_order_quantity(account, symbol, side, price),
            lot=spec.size_increment,
            min_size=spec.min_size,
            contract_size=spec.contract_size,
            stop=stop,
            volatility=volatility,
        )
        return position_size(self.settings.sizing, request, self.books.book(strategy).stats, method)

    # -- stops (see ``risk.stops``) ----------------------------------------------------

    def _stop_manager(self) -> StopManager:
        if self.stops is None:
            raise RuntimeError("the risk engine is not attached to a kernel yet")
        if self.machine.state is TradingState.HALTED:
            raise ValueError(f"{HALTED_REASON} (no stops are placed)")
        self._extras = True
        return self.stops

    def protect(self, strategy: str, account: str, symbol: str, **levels: Any) -> StopGroup:
        return self._stop_manager().protect(strategy, account, symbol, **levels)

    def bracket(self, strategy: str, entry: Order, **levels: Any) -> StopGroup:
        return self._stop_manager().bracket(strategy, entry, **levels)

    def oco(self, orders: list[Order]) -> OcoGroup:
        return self._stop_manager().oco(orders)

    def cancel_protection(self, group: StopGroup) -> None:
        if self.stops is not None:
            self.stops.cancel(group)

    def unfence(self, strategy: str) -> None:
        """Let a fenced strategy trade again (an explicit command, like ``resume``)."""
        if self.fences is not None:
            self.fences.unfence(strategy, self._terms)
