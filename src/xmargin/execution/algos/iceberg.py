"""Iceberg: a large limit order shown a small piece at a time."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from xmargin.execution.algos.base import AlgoParams, ExecAlgorithm, Listener
from xmargin.model.orders import Order, OrderType


@dataclass(frozen=True)
class IcebergParams(AlgoParams):
    price: Decimal = Decimal(0)
    display: Decimal = Decimal(0)
    max_failures: int = 3


class Iceberg(ExecAlgorithm):
    """Rest one limit child of ``min(display, remaining)`` at ``price``; when it has filled
    completely, rest the next. A child that closes unfilled (rejected, denied, canceled) is
    replaced, up to ``max_failures`` in a row; then the algorithm stops. Done when the
    parent is filled.
    """

    name = "iceberg"
    description = "iceberg: a limit order shown a display quantity at a time"
    Params = IcebergParams

    def __init__(
        self, algo_id: str, params: IcebergParams, listener: Listener | None = None
    ) -> None:
        super().__init__(algo_id, params, listener)
        if params.price <= 0 or params.display <= 0:
            raise ValueError(f"{algo_id}: price and display must be positive")
        self._failures = 0

    def begin(self) -> None:
        self._show()

    def _show(self) -> None:
        quantity = min(self.params.display, self.remaining)
        if quantity <= 0:
            self.finish()
            return
        self.child(quantity, OrderType.LIMIT, price=self.params.price)

    def on_child_closed(self, order: Order) -> None:
        if self.filled >= self.params.quantity:
            self.finish()
            return
        if order.filled_quantity < order.quantity:
            self._failures += 1
            if self._failures >= self.params.max_failures:
                self.finish()
                return
        else:
            self._failures = 0
        self._show()
