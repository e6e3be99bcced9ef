"""A read-only sequence of an array's Python values, converted a window of items at a time.

``array.tolist()`` of a year of 1-minute curve points builds half a million Python objects
at once; this converts ``WINDOW`` of them at a time (the same exact values), so a forward
pass over the curve holds one window.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, overload

WINDOW = 16_384


class SupportsWindows(Protocol):
    """An array: a length, and slices with ``tolist`` (a numpy array)."""

    def __len__(self) -> int: ...
    def __getitem__(self, index: slice, /) -> Any: ...


class WindowedValues(Sequence[Any]):
    """``values[i]`` is ``array.tolist()[i]``, read through a moving window."""

    def __init__(self, array: SupportsWindows, window: int = WINDOW) -> None:
        self._array = array
        self._length = len(array)
        self._window = window
        self._start = 0
        self._values: list[Any] = []

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...
    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return list(self._array[index].tolist())
        position = index + self._length if index < 0 else index
        if not 0 <= position < self._length:
            raise IndexError(f"index {index} is out of range for {self._length} values")
        offset = position - self._start
        if not 0 <= offset < len(self._values):
            self._start = position
            self._values = list(self._array[position : position + self._window].tolist())
            offset = 0
        return self._values[offset]
