"""VWAP: slice the parent in proportion to the volume usually traded in each time bucket."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from xmargin.execution.algos.base import NANOS_PER_SECOND, AlgoParams, ExecAlgorithm, Listener
from xmargin.model.market_data import Bar
from xmargin.model.orders import Order, OrderType, TimeInForce


class VolumeProfile:
    """The share of a period's volume (a day by default) traded in each bucket of it,
    learned from historical bars: ``add`` each bar, then read ``weights``."""

    def __init__(self, bucket_s: int = 3600, period_s: int = 86400) -> None:
        if bucket_s <= 0 or period_s % bucket_s:
            raise ValueError("the period must be a whole number of buckets")
        self.bucket_ns = bucket_s * NANOS_PER_SECOND
        self.period_ns = period_s * NANOS_PER_SECOND
        self.volume = [0.0] * (period_s // bucket_s)

    def bucket(self, ts_ns: int) -> int:
        return (ts_ns % self.period_ns) // self.bucket_ns

    def add(self, bar: Bar) -> None:
        self.volume[self.bucket(bar.ts_open)] += bar.volume

    def weights(self) -> tuple[float, ...]:
        total = sum(self.volume)
        if total <= 0:
            return tuple(1.0 for _ in self.volume)
        return tuple(v / total for v in self.volume)


@dataclass(frozen=True)
class VwapParams(AlgoParams):
    duration_s: int = 6 * 3600
    bucket_s: int = 3600
    profile: str = ""
    learn_bars: int = 0


class Vwap(ExecAlgorithm):
    """One slice per bucket over ``duration_s`` from the start (the first at once, the
    others at bucket boundaries). Slice ``j`` gets ``remaining × w_j / Σ_{k ≥ j} w_k``,
    ``w`` the bucket-of-day weights of ``profile`` (comma-separated, one per bucket of the
    day; equal when empty) or learned by a ``VolumeProfile`` from the first
    ``learn_bars`` bars the algorithm hears before it begins. Slices are immediate-or-cancel
    market orders; the last sends everything left.
    """

    name = "vwap"
    description = "VWAP: slices in proportion to the historical volume profile"
    Params = VwapParams

    def __init__(
        self,
        algo_id: str,
        params: VwapParams,
        listener: Listener | None = None,
        profile: VolumeProfile | None = None,
    ) -> None:
        super().__init__(algo_id, params, listener)
        if params.duration_s <= 0 or params.learn_bars < 0:
            raise ValueError(f"{algo_id}: duration_s must be positive, learn_bars >= 0")
        self.profile = profile or VolumeProfile(params.bucket_s)
        if params.profile:
            weights = [float(w) for w in params.profile.split(",")]
            if len(weights) != len(self.profile.volume) or min(weights) < 0:
                raise ValueError(
                    f"{algo_id}: profile needs {len(self.profile.volume)} non-negative weights"
                )
            self.profile.volume = weights
        self.schedule: list[tuple[int, Decimal]] = []
        self._learned = 0
        self._current = 0

    def on_start(self) -> None:
        if self.params.learn_bars == 0:
            super().on_start()

    def on_bar(self, bar: Bar) -> None:
        if self.started_ns is not None or bar.instrument != self.params.instrument:
            return
        if self._learned < self.params.learn_bars:
            self.profile.add(bar)
            self._learned += 1
            return
        super().on_bar(bar)

    def begin(self) -> None:
        p: VwapParams = self.params
        start = self.ctx.now_ns
        end = start + p.duration_s * NANOS_PER_SECOND
        weights = [Decimal(repr(v)) for v in self.profile.volume]
        if sum(weights) <= 0:
            weights = [Decimal(1)] * len(weights)
        bucket_ns = self.profile.bucket_ns
        times = [start]
        boundary = start - start % bucket_ns + bucket_ns
        while boundary < end:
            times.append(boundary)
            boundary += bucket_ns
        self.schedule = [(t, weights[self.profile.bucket(t)]) for t in times]
        self._slice(0)
        for index, (t, _) in enumerate(self.schedule[1:], start=1):
            self.ctx.set_timer(f"slice-{index}", at_ns=t)

    def on_timer(self, name: str, ts_ns: int) -> None:
        super().on_timer(name, ts_ns)
        if name.startswith("slice-") and not self.done:
            self._slice(int(name.removeprefix("slice-")))

    def _slice(self, index: int) -> None:
        ahead = sum((w for _, w in self.schedule[index:]), Decimal(0))
        last = index == len(self.schedule) - 1
        remaining = self.remaining
        if last or ahead <= 0:
            quantity = remaining if last else self.lot(remaining / (len(self.schedule) - index))
        else:
            share = self.schedule[index][1] / ahead
            quantity = self.lot(remaining * share)
        self._current = index
        if quantity >= self.min_size():
            self.child(quantity, OrderType.MARKET, time_in_force=TimeInForce.IOC)
        elif last:
            self.finish()

    def on_child_closed(self, order: Order) -> None:
        working = any(not o.status.is_closed for o in self.children)
        if self.filled >= self.params.quantity or (
            self._current == len(self.schedule) - 1 and not working
        ):
            self.finish()
