"""Reconstruct an account's equity and gross notional on a time grid, vectorised with numpy.

The account's state is known at checkpoints (just after each event that changed it); prices
are known at their own ticks. At grid time ``t`` the state is the last checkpoint with
``ts_ms <= t`` and each price is the last tick with ``ts_ms <= t`` (NaN before the first
tick). Before the first checkpoint the first checkpoint's state is used (the run's opening
state, valued at the prices of the time). An amount that is zero contributes zero even while
its price is still NaN; a non-zero amount without a price yet makes the point NaN.

Values are floats: the exact ledger amounts are converted once when checkpoints are built
and nothing here is written back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from xmargin.core.errors import DataError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
GRID_PART = 65_536


@dataclass(frozen=True, slots=True, eq=False)
class PriceTrack:
    """A price series: ``ts_ms`` non-decreasing, ``price`` finite; the last tick at a time wins."""

    ts_ms: IntArray
    price: FloatArray

    def __post_init__(self) -> None:
        ts = np.asarray(self.ts_ms, dtype=np.int64)
        price = np.asarray(self.price, dtype=np.float64)
        if ts.ndim != 1 or ts.shape != price.shape:
            raise DataError("ts_ms and price must be 1-D arrays of one length", source="track")
        if ts.size > 1 and bool(np.any(np.diff(ts) < 0)):
            raise DataError("timestamps must not decrease", source="track", field="ts_ms")
        if not bool(np.all(np.isfinite(price))):
            raise DataError("prices must be finite", source="track", field="price")
        object.__setattr__(self, "ts_ms", ts)
        object.__setattr__(self, "price", price)

    def at(self, times_ms: IntArray) -> FloatArray:
        """Return the last price with ``ts <= t`` for each ``t``; NaN before the first tick."""
        index = np.searchsorted(self.ts_ms, times_ms, side="right") - 1
        values = self.price[np.maximum(index, 0)] if self.price.size else np.zeros(index.shape)
        return np.where(index >= 0, values, np.nan)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """An account's state just after an event at ``ts_ms``.

    ``cash[asset]`` is the balance; ``positions[instrument] = (size, cost)`` with ``cost``
    the cost basis Σ open quantity × entry price, so unrealised PnL is size × mark − cost;
    ``liabilities[asset]`` is loan principal plus accrued interest.
    """

    ts_ms: int
    cash: Mapping[str, float]
    positions: Mapping[str, tuple[float, float]]
    liabilities: Mapping[str, float]


def equity_on_grid(
    grid_ms: npt.ArrayLike,
    checkpoints: Sequence[Checkpoint],
    marks: Mapping[str, PriceTrack],
    asset_prices: Mapping[str, PriceTrack],
    quote: str,
) -> FloatArray:
    """Return Σ cash × price − Σ liability × price + Σ (size × mark − cost) at each grid time.

    Asset prices are in ``quote`` (whose price is 1). Raises ``DataError`` when checkpoints
    are missing or out of order, or a non-zero amount has no price track.
    """
    grid, state = _state_index(grid_ms, checkpoints)
    cash = _columns(checkpoints, lambda c: c.cash)
    owed = _columns(checkpoints, lambda c: c.liabilities)
    costs = _columns(checkpoints, lambda c: {k: v[1] for k, v in c.positions.items()})
    sizes = _columns(checkpoints, _sizes)
    total = np.zeros(grid.shape, dtype=np.float64)
    for part in _parts(len(grid)):
        at, here = state[part], total[part]
        price = _Prices(grid[part], asset_prices, quote, "asset_prices")
        mark = _Prices(grid[part], marks, None, "marks")
        for asset, held in cash.items():
            here += price.value(asset, held[at])
        for asset, liability in owed.items():
            here -= price.value(asset, liability[at])
        for instrument, size in sizes.items():
            here += mark.value(instrument, size[at]) - costs[instrument][at]
    return total


def gross_notional_on_grid(
    grid_ms: npt.ArrayLike,
    checkpoints: Sequence[Checkpoint],
    marks: Mapping[str, PriceTrack],
    asset_prices: Mapping[str, PriceTrack],
    quote: str,
) -> FloatArray:
    """Return Σ |size| × mark + Σ liability × price at each grid time, in ``quote``.

    Cash holdings do not count: a fully funded spot holding is not leverage, a borrowed one
    counts through its liability. Raises ``DataError`` as :func:`equity_on_grid` does.
    """
    grid, state = _state_index(grid_ms, checkpoints)
    owed = _columns(checkpoints, lambda c: c.liabilities)
    sizes = _columns(checkpoints, _sizes)
    total = np.zeros(grid.shape, dtype=np.float64)
    for part in _parts(len(grid)):
        at, here = state[part], total[part]
        price = _Prices(grid[part], asset_prices, quote, "asset_prices")
        mark = _Prices(grid[part], marks, None, "marks")
        for asset, liability in owed.items():
            here += price.value(asset, np.abs(liability[at]))
        for instrument, size in sizes.items():
            here += mark.value(instrument, np.abs(size[at]))
    return total


def _parts(length: int) -> list[slice]:
    """The grid in parts of ``GRID_PART`` points: the arrays of one part are all that is
    held besides the result (every value is computed point by point, so the same)."""
    return [slice(start, start + GRID_PART) for start in range(0, length, GRID_PART)]


def _state_index(
    grid_ms: npt.ArrayLike, checkpoints: Sequence[Checkpoint]
) -> tuple[IntArray, IntArray]:
    """Return the grid as int64 and, per grid time, the index of the checkpoint in force."""
    grid = np.asarray(grid_ms, dtype=np.int64)
    if grid.ndim != 1:
        raise DataError("the grid must be a 1-D array", source="grid")
    if not checkpoints:
        raise DataError("no checkpoints to value", source="checkpoints")
    times = np.fromiter((c.ts_ms for c in checkpoints), dtype=np.int64, count=len(checkpoints))
    if bool(np.any(np.diff(times) < 0)):
        raise DataError("checkpoints are not in time order", source="checkpoints", field="ts_ms")
    state = np.searchsorted(times, grid, side="right") - 1
    return grid, np.maximum(state, 0)


def _sizes(checkpoint: Checkpoint) -> dict[str, float]:
    return {instrument: size for instrument, (size, _) in checkpoint.positions.items()}


def _columns(
    checkpoints: Sequence[Checkpoint], field: Callable[[Checkpoint], Mapping[str, float]]
) -> dict[str, FloatArray]:
    """Return one array per key of ``field`` over the checkpoints; a missing key is zero."""
    rows = [field(c) for c in checkpoints]
    keys = sorted({key for row in rows for key in row})
    return {
        key: np.fromiter((row.get(key, 0.0) for row in rows), np.float64, count=len(rows))
        for key in keys
    }


class _Prices:
    """Prices of named tracks on one grid, computed once per name; ``unit`` is worth 1."""

    def __init__(
        self, grid: IntArray, tracks: Mapping[str, PriceTrack], unit: str | None, source: str
    ) -> None:
        self._grid = grid
        self._tracks = tracks
        self._unit = unit
        self._source = source
        self._cache: dict[str, FloatArray] = {}

    def value(self, name: str, amount: FloatArray) -> FloatArray:
        """Return amount × price, zero wherever the amount is zero (even if the price is NaN)."""
        if name == self._unit:
            return amount
        if name not in self._cache:
            track = self._tracks.get(name)
            if track is None:
                if bool(np.any(amount != 0)):
                    raise DataError(
                        f"{name} has a non-zero amount but no price track",
                        source=self._source,
                        field=name,
                    )
                return np.zeros(amount.shape, dtype=np.float64)
            self._cache[name] = track.at(self._grid)
        return np.where(amount != 0, amount * self._cache[name], 0.0)
