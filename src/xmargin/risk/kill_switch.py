"""The kill switch: on a halt, cancel every open order, flatten, and confirm the book is flat.

Flattening is by reduce-only market orders at once, or by TWAP: each position in
``twap_slices`` equal reduce-only market orders ``twap_interval_s`` apart (the last takes the
remainder). Once no position is left a ``BookFlattened`` event confirms it. These orders,
owned by the risk engine, are the only ones that pass while trading is HALTED.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_DOWN, Decimal

from xmargin.model.events import BookFlattened
from xmargin.model.orders import Order, OrderSide
from xmargin.risk.desk import RiskDesk
from xmargin.risk.settings import KillSwitchSettings

SECOND_NS = 1_000_000_000

Slice = tuple[int, str, str, OrderSide, Decimal]  # due, account, symbol, side, quantity


class KillSwitch:
    """Cancel-all and flatten on a halt; the engine calls ``on_step`` while it is busy."""

    def __init__(
        self,
        settings: KillSwitchSettings,
        send: Callable[[str, str, OrderSide, Decimal], Order],
    ) -> None:
        self.settings = settings
        self.send = send
        self.desk: RiskDesk | None = None
        self.slices: list[Slice] = []
        self.awaiting_flat = False
        self.orders: list[Order] = []

    @property
    def busy(self) -> bool:
        return self.awaiting_flat or bool(self.slices)

    def engage(self, ts: int) -> None:
        """Cancel every open order, then flatten every position (market or TWAP)."""
        desk = self.desk
        assert desk is not None
        for order in desk.all_open_orders():
            desk.cancel_order(order)
        settings = self.settings
        if not settings.flatten:
            return
        for account, symbol, size in desk.open_derivative_positions():
            side = OrderSide.SELL if size > 0 else OrderSide.BUY
            if settings.method == "market":
                self.orders.append(self.send(account, symbol, side, abs(size)))
                continue
            lot = desk.instrument_spec(account, symbol).size_increment
            count = settings.twap_slices
            piece = (abs(size) / count / lot).to_integral_value(rounding=ROUND_DOWN) * lot
            for k in range(count):
                quantity = piece if k < count - 1 else abs(size) - piece * (count - 1)
                due = ts + k * settings.twap_interval_s * SECOND_NS
                if quantity > 0:
                    self.slices.append((due, account, symbol, side, quantity))
        self.awaiting_flat = True
        self.on_step(ts)

    def on_step(self, ts: int) -> None:
        """Send the TWAP slices that are due; confirm the book flat once it is."""
        desk = self.desk
        assert desk is not None
        if self.slices:
            due = [item for item in self.slices if item[0] <= ts]
            self.slices = [item for item in self.slices if item[0] > ts]
            for _, account, symbol, side, quantity in due:
                self.orders.append(self.send(account, symbol, side, quantity))
        if self.awaiting_flat and not self.slices and not desk.open_derivative_positions():
            self.awaiting_flat = False
            desk.publish(BookFlattened(ts, desk.account_ids()))

    def reset(self) -> None:
        """Trading resumed: stop flattening."""
        self.slices.clear()
        self.awaiting_flat = False
