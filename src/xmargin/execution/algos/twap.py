"""TWAP: split the parent into equal slices sent at equal intervals over a duration."""

from __future__ import annotations

from dataclasses import dataclass

from xmargin.execution.algos.base import NANOS_PER_SECOND, AlgoParams, ExecAlgorithm, Listener
from xmargin.model.orders import Order, OrderType, TimeInForce


@dataclass(frozen=True)
class TwapParams(AlgoParams):
    duration_s: int = 3600
    slices: int = 12


class Twap(ExecAlgorithm):
    """Slice ``i`` (0 … ``slices − 1``) goes at ``start + i × duration / slices``.

    Each slice is an immediate-or-cancel market order for the remaining quantity divided by
    the slices left (rounded down to the lot; the last slice sends everything left), so a
    slice that fills only in part, or is denied, rolls into the later ones. Done after the
    last slice's order has closed, or when the parent is filled.
    """

    name = "twap"
    description = "TWAP: equal slices at equal intervals over a duration"
    Params = TwapParams

    def __init__(self, algo_id: str, params: TwapParams, listener: Listener | None = None) -> None:
        super().__init__(algo_id, params, listener)
        if params.slices < 1 or params.duration_s <= 0:
            raise ValueError(f"{algo_id}: slices and duration_s must be positive")
        self.sent_slices = 0

    def begin(self) -> None:
        p: TwapParams = self.params
        self._slice()
        if p.slices > 1:
            interval = p.duration_s * NANOS_PER_SECOND // p.slices
            self.ctx.set_timer("slice", interval_ns=interval)

    def on_timer(self, name: str, ts_ns: int) -> None:
        super().on_timer(name, ts_ns)
        if name == "slice" and not self.done:
            self._slice()

    def _slice(self) -> None:
        p: TwapParams = self.params
        left = p.slices - self.sent_slices
        if left <= 0:
            return
        self.sent_slices += 1
        if self.sent_slices == p.slices:
            self.ctx.cancel_timer("slice")
        remaining = self.remaining
        quantity = remaining if left == 1 else self.lot(remaining / left)
        if quantity >= self.min_size():
            self.child(quantity, OrderType.MARKET, time_in_force=TimeInForce.IOC)
        else:
            self._maybe_finish()

    def on_child_closed(self, order: Order) -> None:
        self._maybe_finish()

    def _maybe_finish(self) -> None:
        working = any(not o.status.is_closed for o in self.children)
        if self.filled >= self.params.quantity or (
            self.sent_slices >= self.params.slices and not working
        ):
            self.ctx.cancel_timer("slice")
            self.finish()
