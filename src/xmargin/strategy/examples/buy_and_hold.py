"""Buy (or sell) once and hold: a fixed quantity, or a leverage multiple of the account equity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from xmargin.model.market_data import Bar
from xmargin.model.orders import OrderSide
from xmargin.strategy.base import Strategy


@dataclass(frozen=True)
class BuyAndHoldParams:
    instrument: str
    quantity: Decimal = Decimal(0)
    leverage: Decimal = Decimal(0)
    side: str = "buy"
    enter_at: str = ""
    flatten_on_stop: bool = False


class BuyAndHold(Strategy):
    """Enter with one market order at the first bar (or the first bar opening at ``enter_at``).

    Size: ``quantity``, or when ``leverage`` is set, ``leverage × equity / price`` rounded
    down to the lot and capped at what the venue's margin model accepts with the fee paid.
    Hold until the end; optionally flatten on stop.
    """

    name = "buy_and_hold"
    description = "one market order at the first bar (or at a given time), then hold"
    Params = BuyAndHoldParams

    def __init__(self, strategy_id: str, params: BuyAndHoldParams) -> None:
        super().__init__(strategy_id, params)
        if (params.quantity > 0) == (params.leverage > 0):
            raise ValueError(f"{strategy_id}: give exactly one of quantity and leverage")
        if params.side not in ("buy", "sell"):
            raise ValueError(f"{strategy_id}: side must be buy or sell, got {params.side!r}")
        self._enter_ns = 0
        if params.enter_at:
            try:
                moment = datetime.fromisoformat(params.enter_at.replace("Z", "+00:00"))
            except ValueError:
                raise ValueError(
                    f"params.enter_at: {params.enter_at!r} — expected an ISO date or time such "
                    'as "2025-03-05T12:00:00Z"'
                ) from None
            self._enter_ns = int(moment.timestamp()) * 1_000_000_000
        self._entered = False

    def subscriptions(self) -> tuple[tuple[str, str], ...]:
        return (("bar", self.params.instrument),)

    def on_bar(self, bar: Bar) -> None:
        if self._entered or bar.ts_open < self._enter_ns:
            return
        self._entered = True
        params = self.params
        quantity = params.quantity
        side = OrderSide(params.side)
        if params.leverage > 0:
            equity = self.ctx.margin().equity
            spec = self.ctx.instrument(params.instrument)
            wanted = spec.round_qty(params.leverage * equity / spec.make_price(bar.close))
            quantity = min(wanted, self.ctx.max_order_quantity(params.instrument, side))
        if quantity > 0:
            self.ctx.order(params.instrument, side, quantity)

    def on_stop(self) -> None:
        if self.params.flatten_on_stop:
            self.ctx.target_position(self.params.instrument, Decimal(0))
